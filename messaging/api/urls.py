from django.urls import path
from rest_framework.routers import DefaultRouter

from messaging.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    *router.urls,
    path(
        "notification-preferences/me/",
        views.NotificationPreferenceView.as_view(),
        name="notification-preference",
    ),
]
