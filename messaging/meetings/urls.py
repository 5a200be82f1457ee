"""Pages of round-table meetings: list, detail, agenda, attendance, approval and print."""

from django.urls import URLPattern, path, re_path

from messaging.meetings import views

urlpatterns: list[URLPattern] = [
    path("meetings/", views.meeting_list, name="meeting-list"),
    path("meetings/new/", views.meeting_create, name="meeting-create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting-detail"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting-edit"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="meeting-cancel"),
    re_path(r"^meetings/(?P<pk>[0-9]+)/step/(?P<action>hold|close)/$", views.meeting_step, name="meeting-step"),
    path("meetings/<int:pk>/invitations/", views.meeting_invite, name="meeting-invite"),
    path("meetings/<int:pk>/invitations/<int:agency_pk>/delete/", views.meeting_uninvite, name="meeting-uninvite"),
    path("meetings/<int:pk>/attendance/", views.meeting_attendance, name="meeting-attendance"),
    path("meetings/<int:pk>/agenda/new/", views.agenda_item_create, name="agenda-item-create"),
    path("agenda-items/<int:pk>/edit/", views.agenda_item_edit, name="agenda-item-edit"),
    path("agenda-items/<int:pk>/move/", views.agenda_item_move, name="agenda-item-move"),
    path("meetings/<int:pk>/minutes/correct/", views.minutes_correct, name="minutes-correct"),
    path("meetings/<int:pk>/minutes/versions/<int:number>/", views.minutes_version, name="minutes-version"),
    # Only the two one-click steps: the minutes' other pages (the live editor) live beside them.
    re_path(
        r"^meetings/(?P<pk>[0-9]+)/minutes/(?P<action>circulate|approve)/$", views.minutes_step, name="minutes-step"
    ),
    path("meetings/<int:pk>/print/", views.meeting_print, name="meeting-print"),
]
