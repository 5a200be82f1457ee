from django.urls import include, path

from messaging import views

# Where each kind of comment target lives; its thread and form hang below it.
COMMENT_TARGET_PATHS = {
    "referral": "referrals",
    "person": "persons",
    "listing": "housing",
    "agenda_item": "agenda-items",
}

urlpatterns = [
    path("", include("messaging.meetings.urls")),
    path("", include("messaging.meetings.action_urls")),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("notifications/read-all/", views.notification_read_all, name="notification-read-all"),
    path("notifications/preferences/", views.notification_preferences, name="notification-preferences"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment-edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment-delete"),
] + [
    pattern
    for kind, prefix in COMMENT_TARGET_PATHS.items()
    for pattern in (
        path(f"{prefix}/<int:pk>/comments/", views.comment_thread, {"kind": kind}, name=f"comment-thread-{kind}"),
        path(f"{prefix}/<int:pk>/comments/new/", views.comment_create, {"kind": kind}, name=f"comment-create-{kind}"),
    )
]
