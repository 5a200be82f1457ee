"""API of the user's own notifications and notification preferences.

A notification belongs to its recipient alone: the queryset is the actor's own rows, so another
user's id answers 404 like a missing one. Writes go through ``messaging.services``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api import BAD_REQUEST, HubAPIMixin, StrictInputMixin, request_actor
from messaging import selectors, services
from messaging.models import Notification, NotificationPreference


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    title = serializers.CharField(source="get_kind_display", read_only=True)
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "verb", "target_type", "target_id", "url", "created_at", "read_at", "is_read"]
        read_only_fields = fields


class PreferenceSerializer(serializers.ModelSerializer[NotificationPreference]):
    class Meta:
        model = NotificationPreference
        fields = [
            "in_app",
            "email_referral_received",
            "email_answer_overdue",
            "email_mentioned",
            "email_action_item_due",
        ]


class PreferenceInputSerializer(StrictInputMixin, serializers.Serializer[Any]):
    in_app = serializers.BooleanField(required=False)
    email_referral_received = serializers.BooleanField(required=False)
    email_answer_overdue = serializers.BooleanField(required=False)
    email_mentioned = serializers.BooleanField(required=False)
    email_action_item_due = serializers.BooleanField(required=False)


ReadAllSerializer = inline_serializer("NotificationReadAll", fields={"marked_read": serializers.IntegerField()})


@extend_schema(tags=["notifications"])
class NotificationViewSet(
    HubAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Notification]
):
    """Your own notifications, unread ones first."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationSerializer
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):  # schema generation runs without a user
            return Notification.objects.none()
        return selectors.notifications_for(request_actor(self.request))

    @extend_schema(summary=_("Mark a notification as read"), request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: int | None = None) -> Response:
        notification = services.notification_mark_read(actor=request_actor(request), notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(summary=_("Mark all your notifications as read"), request=None, responses={200: ReadAllSerializer})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked_read": services.notification_mark_all_read(actor=request_actor(request))})


@extend_schema(tags=["notifications"])
class NotificationPreferenceView(HubAPIMixin, APIView):
    """Your own notification preferences."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary=_("Your notification preferences"), responses={200: PreferenceSerializer})
    def get(self, request: Request) -> Response:
        return Response(PreferenceSerializer(selectors.preference_for(request_actor(request))).data)

    @extend_schema(
        summary=_("Change your notification preferences"),
        request=PreferenceInputSerializer,
        responses={200: PreferenceSerializer, 400: BAD_REQUEST},
    )
    def patch(self, request: Request) -> Response:
        body = PreferenceInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        preference = services.preference_update(actor=request_actor(request), **body.validated_data)
        return Response(PreferenceSerializer(preference).data)
