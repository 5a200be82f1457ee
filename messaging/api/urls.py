from django.urls import path
from rest_framework.routers import DefaultRouter

from messaging.api import comments, meetings, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("notifications", views.NotificationViewSet, basename="notification")
meetings.register(router)

urlpatterns = [
    *router.urls,
    path(
        "notification-preferences/me/",
        views.NotificationPreferenceView.as_view(),
        name="notification-preference",
    ),
    path("referrals/<int:pk>/comments/", comments.ReferralCommentsView.as_view(), name="referral-comments"),
    path("persons/<int:pk>/comments/", comments.PersonCommentsView.as_view(), name="person-comments"),
    path("listings/<int:pk>/comments/", comments.ListingCommentsView.as_view(), name="listing-comments"),
    path("comments/<int:pk>/", comments.CommentDetailView.as_view(), name="comment-detail"),
    path("agenda-items/<int:pk>/comments/", meetings.AgendaItemCommentsView.as_view(), name="agenda-item-comments"),
]
