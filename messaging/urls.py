from django.urls import include, path

from messaging import views

urlpatterns = [
    path("", include("messaging.meetings.urls")),
    path("", include("messaging.meetings.action_urls")),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("notifications/read-all/", views.notification_read_all, name="notification-read-all"),
    path("notifications/preferences/", views.notification_preferences, name="notification-preferences"),
    path("referrals/<int:pk>/comments/", views.comment_thread_referral, name="comment-thread-referral"),
    path("referrals/<int:pk>/comments/new/", views.comment_create_referral, name="comment-create-referral"),
    path("persons/<int:pk>/comments/", views.comment_thread_person, name="comment-thread-person"),
    path("persons/<int:pk>/comments/new/", views.comment_create_person, name="comment-create-person"),
    path("housing/<int:pk>/comments/", views.comment_thread_listing, name="comment-thread-listing"),
    path("housing/<int:pk>/comments/new/", views.comment_create_listing, name="comment-create-listing"),
    path("agenda-items/<int:pk>/comments/", views.comment_thread_agenda_item, name="comment-thread-agenda_item"),
    path("agenda-items/<int:pk>/comments/new/", views.comment_create_agenda_item, name="comment-create-agenda_item"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment-edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment-delete"),
]
