"""Pages of the round table's work: live minutes, decisions and action items."""

from django.urls import URLPattern, path

from messaging.meetings import action_views as views

urlpatterns: list[URLPattern] = [
    path("meetings/<int:pk>/minutes/", views.minutes_editor, name="meeting-minutes"),
    path("agenda-items/<int:pk>/minutes/", views.agenda_item_minutes, name="agenda-item-minutes"),
    path("agenda-items/<int:pk>/decisions/new/", views.decision_create, name="decision-create"),
    path("meetings/<int:pk>/action-items/new/", views.action_item_create, name="action-item-create"),
    path("meetings/<int:pk>/carry-over/", views.action_items_carry_over, name="action-items-carry-over"),
    path("action-items/", views.action_item_overview, name="action-item-overview"),
    path("action-items/<int:pk>/", views.action_item_detail, name="action-item-detail"),
    path("action-items/<int:pk>/edit/", views.action_item_edit, name="action-item-edit"),
    path("action-items/<int:pk>/status/", views.action_item_status, name="action-item-status"),
]
