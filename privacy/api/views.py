"""API of data protection: the read-access log search, the deletion log, the retention preview, legal
holds and a person's request of access. The same rules as the pages (``privacy.views``): the officer's
routes answer 403 to everyone who is no data-protection officer, and show their own agencies' reads only.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.api.serializers import AgencyBriefSerializer, UserBriefSerializer
from hub import access
from hub.api import BAD_REQUEST, FORBIDDEN, NOT_FOUND, HubAPIMixin, StrictInputMixin, request_actor
from privacy import retention, selectors, services
from privacy.filters import ReadAccessFilterSet
from privacy.models import DeletionLogEntry, LegalHold, ReadAccess
from referrals.models import Person


class OfficerOnly(IsAuthenticated):
    """Data-protection officers only; the others get 403 before anything is read."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not super().has_permission(request, view):
            return False
        if not access.dpo_agencies(request.user):
            raise PermissionDenied
        return True


class ReadAccessSerializer(serializers.ModelSerializer[ReadAccess]):
    user = UserBriefSerializer(read_only=True, allow_null=True)
    agency = AgencyBriefSerializer(read_only=True, allow_null=True)
    person_reference = serializers.CharField(read_only=True, allow_null=True, help_text=_("The case reference."))

    class Meta:
        model = ReadAccess
        fields = ["id", "at", "user", "agency", "person", "person_reference", "categories", "purpose", "method"]
        read_only_fields = fields


@extend_schema(
    tags=["data protection"],
    summary=_("Reads of a person (?reference=) or by a staff member (?user=) of your agency; 90 days unless ?since="),
    responses={200: ReadAccessSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
)
class ReadAccessListView(HubAPIMixin, generics.ListAPIView[ReadAccess]):
    """The read-access log of your agency's staff, for data-protection officers: name a person by
    case reference or a staff member; every search is recorded in the audit log."""

    permission_classes = [OfficerOnly]
    serializer_class = ReadAccessSerializer
    filterset_class = ReadAccessFilterSet

    def get_queryset(self) -> QuerySet[ReadAccess]:
        if getattr(self, "swagger_fake_view", False):
            return ReadAccess.objects.none()
        return selectors.read_log(request_actor(self.request))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        search = ReadAccessFilterSet(request.query_params, queryset=self.get_queryset(), request=request)
        if not search.form.is_valid():
            raise APIValidationError(search.form.errors)
        if not search.has_subject:
            raise APIValidationError({"reference": [_("Name a case reference or a staff member (user).")]})
        services.read_log_evaluated(actor=request_actor(request), search=search.form.cleaned_data, output="api")
        page = self.paginate_queryset(search.qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class DeletionLogSerializer(serializers.ModelSerializer[DeletionLogEntry]):
    class Meta:
        model = DeletionLogEntry
        fields = ["id", "at", "run_id", "rule", "record_type", "record_id", "action", "count", "details"]
        read_only_fields = fields


@extend_schema(
    tags=["data protection"],
    summary=_("The deletion log of the retention job (no personal data)"),
    responses={200: DeletionLogSerializer(many=True), 403: FORBIDDEN},
)
class DeletionLogListView(HubAPIMixin, generics.ListAPIView[DeletionLogEntry]):
    """What the retention job removed: rule, record type and id, time and counts, no personal data."""

    permission_classes = [OfficerOnly]
    serializer_class = DeletionLogSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[DeletionLogEntry]:
        if getattr(self, "swagger_fake_view", False):
            return DeletionLogEntry.objects.none()
        return selectors.deletion_log(request_actor(self.request))


class RulePreviewSerializer(serializers.Serializer[Any]):
    rule = serializers.CharField()
    description = serializers.CharField()
    days = serializers.IntegerField(help_text=_("The retention period in days."))
    count = serializers.IntegerField(help_text=_("How many records the rule would remove now."))
    ids = serializers.ListField(child=serializers.IntegerField(), help_text=_("The first ids."))


@extend_schema(
    tags=["data protection"],
    summary=_("What the retention job would remove now, per rule (a dry run: nothing changes)"),
    responses={200: RulePreviewSerializer(many=True), 403: FORBIDDEN},
)
class RetentionPreviewView(HubAPIMixin, APIView):
    """Each retention rule with its period and what it would remove if the job ran now."""

    permission_classes = [OfficerOnly]

    def get(self, request: Request) -> Response:
        rows = [
            {"rule": p.rule.name, "description": str(p.rule.label), "days": p.rule.days, "count": p.count, "ids": p.ids}
            for p in retention.preview()
        ]
        return Response(RulePreviewSerializer(rows, many=True).data)


class LegalHoldSerializer(serializers.ModelSerializer[LegalHold]):
    person_reference = serializers.CharField(source="person.reference", read_only=True)
    agency = AgencyBriefSerializer(read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = LegalHold
        fields = ["id", "person", "person_reference", "agency", "reason", "placed_at", "lifted_at", "is_active"]
        read_only_fields = fields


class LegalHoldCreateSerializer(StrictInputMixin, serializers.Serializer[LegalHold]):
    reference = serializers.CharField(max_length=20, help_text=_("The person's case reference."))
    reason = serializers.CharField(max_length=200, help_text=_("A file number or short reason, without personal data."))


@extend_schema(tags=["data protection"])
class LegalHoldListView(HubAPIMixin, generics.ListAPIView[LegalHold]):
    """Legal holds: while one is active, retention leaves the person's data alone."""

    permission_classes = [OfficerOnly]
    serializer_class = LegalHoldSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[LegalHold]:
        if getattr(self, "swagger_fake_view", False):
            return LegalHold.objects.none()
        return selectors.legal_holds(request_actor(self.request))

    @extend_schema(
        summary=_("The active legal holds your agency placed"),
        responses={200: LegalHoldSerializer(many=True), 403: FORBIDDEN},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=_("Place a legal hold: retention leaves the person's data alone until it is lifted"),
        request=LegalHoldCreateSerializer,
        responses={201: LegalHoldSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    def post(self, request: Request) -> Response:
        actor = request_actor(request)
        body = LegalHoldCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reference = body.validated_data["reference"].strip()
        person = access.visible(actor, Person).filter(reference__iexact=reference).first()
        if person is None or not access.can(actor, "legal_hold", person):
            raise APIValidationError({"reference": [_("Your agency sees no person with this case reference.")]})
        hold = services.legal_hold_place(actor=actor, person=person, reason=body.validated_data["reason"])
        return Response(LegalHoldSerializer(hold).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["data protection"],
    summary=_("Lift a legal hold"),
    request=None,
    responses={200: LegalHoldSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
)
class LegalHoldLiftView(HubAPIMixin, APIView):
    """Lift a hold your agency placed; retention applies to the person again."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        hold = access.get_visible_or_404(actor, LegalHold, pk=pk)
        return Response(LegalHoldSerializer(services.legal_hold_lift(actor=actor, hold=hold)).data)


@extend_schema(
    tags=["data protection"],
    summary=_("Everything your agency may see of a person, for their request of access (art. 15 GDPR)"),
    responses={200: OpenApiTypes.OBJECT, 403: FORBIDDEN, 404: NOT_FOUND},
)
class SubjectAccessView(HubAPIMixin, APIView):
    """Everything the hub stores about a person that your agency may see, with your agency's reads of
    it, for the person's request of access. Caseworkers and coordinators holding the file and
    data-protection officers may ask; every answer is audited."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        person = access.get_visible_or_404(actor, Person, pk=pk)
        answer = services.subject_access_answer(actor=actor, person=person, output="api")
        return Response(answer.as_json())
