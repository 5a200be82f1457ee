"""API of round-table meetings: meetings with invitations and attendance, the agenda with minutes
written live, decisions, action items with the overview of what an agency owes, the approval of the
minutes with its versions, and comments on agenda items.

Reads come from ``messaging.meetings.selectors`` (scoped by ``hub.access``): a meeting the caller's
agencies are not invited to answers 404, also for a member agency of the round table. Cases appear by
case reference; ``case_name`` is filled only where the caller may see the person anyway. Writes go
through ``messaging.meetings.services``.

Minutes are saved with the version they were based on. When someone else changed them since, the
answer is **409 Conflict** (not 400): the request was valid, but the state moved. Its body holds the
message under ``minutes`` and the text and version that are current now (``current_minutes``,
``current_version``), so a client can show both texts instead of losing one.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from agencies.api.serializers import AgencyBriefSerializer, UserBriefSerializer
from agencies.models import Agency, Staff, User, Workspace
from housing.api.serializers import ScopedIdField
from hub import access
from hub.api import (
    BAD_REQUEST,
    FORBIDDEN,
    NOT_FOUND,
    AccessPolicy,
    HubAPIMixin,
    StrictInputMixin,
    request_actor,
    with_scopes,
)
from messaging.api.comments import CommentInputSerializer, CommentSerializer, TargetCommentsView
from messaging.meetings import selectors, services
from messaging.meetings.filters import ActionItemFilterSet, MeetingFilterSet
from messaging.models import (
    AGENDA_TEXT_MAX_LENGTH,
    MINUTES_MAX_LENGTH,
    ActionItem,
    AgendaItem,
    Attendance,
    Decision,
    Meeting,
    MinutesVersion,
)
from referrals.models import Category, Consent, LegalBasis, Person, Referral, Urgency

# Serializers: output --------------------------------------------------------------------------


class MeetingSerializer(serializers.ModelSerializer[Meeting]):
    workspace_name = serializers.CharField(source="workspace.name", read_only=True)
    agenda_count = serializers.IntegerField(read_only=True, help_text=_("Number of agenda items."))
    open_action_count = serializers.IntegerField(read_only=True, help_text=_("Number of open action items."))

    class Meta:
        model = Meeting
        fields = [
            "id",
            "workspace",
            "workspace_name",
            "title",
            "starts_at",
            "ends_at",
            "place",
            "video_url",
            "status",
            "cancel_reason",
            "minutes_status",
            "agenda_count",
            "open_action_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MeetingDetailSerializer(MeetingSerializer):
    invited_agencies = AgencyBriefSerializer(many=True, read_only=True)
    may_run = serializers.SerializerMethodField(
        help_text=_("You coordinate the round table: you order the agenda, write and approve the minutes.")
    )
    may_propose = serializers.SerializerMethodField(help_text=_("You may propose agenda items."))

    class Meta(MeetingSerializer.Meta):
        fields = [*MeetingSerializer.Meta.fields, "invited_agencies", "may_run", "may_propose"]
        read_only_fields = fields

    def get_may_run(self, meeting: Meeting) -> bool:
        return access.can(self.context["request"].user, "change", meeting)

    def get_may_propose(self, meeting: Meeting) -> bool:
        return access.can(self.context["request"].user, "propose", meeting)


class AttendanceSerializer(serializers.ModelSerializer[Attendance]):
    user = UserBriefSerializer(read_only=True)
    agency = AgencyBriefSerializer(read_only=True)

    class Meta:
        model = Attendance
        fields = ["id", "user", "agency", "present", "note", "recorded_at"]
        read_only_fields = fields


class CaseFieldsMixin(serializers.Serializer[Any]):
    """A linked case as the caller may see it: always the reference, the name only where visible."""

    case_reference = serializers.CharField(read_only=True, help_text=_("The case reference of the person, or empty."))
    case_name = serializers.CharField(
        read_only=True, help_text=_("The person's name, only if your agency may see the person; else empty.")
    )
    case_label = serializers.CharField(read_only=True)
    referral_reference = serializers.CharField(read_only=True, allow_null=True)


class DecisionSerializer(serializers.ModelSerializer[Decision]):
    recorded_by = UserBriefSerializer(read_only=True)
    referral_reference = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("The referral this decision created.")
    )

    class Meta:
        model = Decision
        fields = ["id", "agenda_item", "text", "referral_reference", "recorded_by", "created_at"]
        read_only_fields = fields


class ActionItemSerializer(CaseFieldsMixin, serializers.ModelSerializer[ActionItem]):
    owner_agency = AgencyBriefSerializer(read_only=True)
    owner = UserBriefSerializer(read_only=True, allow_null=True)
    is_overdue = serializers.BooleanField(read_only=True, default=False)

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "meeting",
            "agenda_item",
            "decision",
            "title",
            "owner_agency",
            "owner",
            "due_on",
            "status",
            "is_overdue",
            "note",
            "case_reference",
            "case_name",
            "case_label",
            "referral_reference",
            "carried_over_from",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AgendaItemSerializer(CaseFieldsMixin, serializers.ModelSerializer[AgendaItem]):
    proposer_agency = AgencyBriefSerializer(read_only=True)
    proposed_by = UserBriefSerializer(read_only=True)
    minutes_updated_by = UserBriefSerializer(read_only=True, allow_null=True)
    version = serializers.IntegerField(
        read_only=True, help_text=_("The version of the minutes; send it back when you save them.")
    )

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "meeting",
            "position",
            "title",
            "description",
            "proposer_agency",
            "proposed_by",
            "case_reference",
            "case_name",
            "case_label",
            "referral_reference",
            "minutes",
            "version",
            "minutes_updated_by",
            "minutes_updated_at",
            "created_at",
        ]
        read_only_fields = fields


class AgendaItemFullSerializer(AgendaItemSerializer):
    decisions = DecisionSerializer(many=True, read_only=True)
    action_items = ActionItemSerializer(many=True, read_only=True)

    class Meta(AgendaItemSerializer.Meta):
        fields = [*AgendaItemSerializer.Meta.fields, "decisions", "action_items"]
        read_only_fields = fields


class MinutesVersionSerializer(serializers.ModelSerializer[MinutesVersion]):
    created_by = UserBriefSerializer(read_only=True)

    class Meta:
        model = MinutesVersion
        fields = ["id", "number", "status", "reason", "content", "created_by", "created_at"]
        read_only_fields = fields


ConflictSerializer = inline_serializer(
    "MinutesConflict",
    fields={
        "minutes": serializers.ListField(child=serializers.CharField()),
        "current_version": serializers.IntegerField(),
        "current_minutes": serializers.CharField(),
    },
)
CONFLICT = OpenApiResponse(
    response=ConflictSerializer,
    description=_(
        "The minutes changed since your version; nothing was saved. The current text and version are returned."
    ),
)


# Serializers: input ---------------------------------------------------------------------------


class MeetingWriteSerializer(StrictInputMixin, serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200, required=False)
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    place = serializers.CharField(max_length=200, required=False, allow_blank=True)
    video_url = serializers.URLField(max_length=500, required=False, allow_blank=True)


class MeetingCreateSerializer(MeetingWriteSerializer):
    workspace = ScopedIdField(scope="workspaces", help_text=_("A round table you coordinate."))
    title = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField()
    invited_agencies = serializers.ListField(
        child=ScopedIdField(scope="agencies"),
        required=False,
        max_length=100,
        help_text=_("Member agencies to invite; without it, every member agency is invited."),
    )


class ReasonSerializer(StrictInputMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AgencyInputSerializer(StrictInputMixin, serializers.Serializer[Any]):
    agency = ScopedIdField(scope="agencies")


class AttendanceInputSerializer(StrictInputMixin, serializers.Serializer[Any]):
    user = ScopedIdField(scope="users", help_text=_("A staff member of an invited agency."))
    present = serializers.BooleanField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ProposalSerializer(StrictInputMixin, serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=AGENDA_TEXT_MAX_LENGTH, required=False, allow_blank=True)
    person = ScopedIdField(
        scope="persons", required=False, allow_null=True, help_text=_("A person you may see; shown by case reference.")
    )
    referral = ScopedIdField(scope="referrals", required=False, allow_null=True)


class AgendaItemUpdateSerializer(StrictInputMixin, serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=AGENDA_TEXT_MAX_LENGTH, required=False, allow_blank=True)


class MinutesInputSerializer(StrictInputMixin, serializers.Serializer[Any]):
    minutes = serializers.CharField(max_length=MINUTES_MAX_LENGTH, allow_blank=True, trim_whitespace=False)
    version = serializers.IntegerField(
        min_value=0, help_text=_("The version your text is based on, as you last read it.")
    )


class ReorderSerializer(StrictInputMixin, serializers.Serializer[Any]):
    order = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=500,
        help_text=_("Every agenda item's id, once, in the new order."),
    )


class ActionItemFieldsSerializer(StrictInputMixin, serializers.Serializer[Any]):
    title = serializers.CharField(max_length=300)
    owner_agency = ScopedIdField(scope="agencies", help_text=_("An agency taking part in the meeting."))
    owner = ScopedIdField(scope="users", required=False, allow_null=True)
    due_on = serializers.DateField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ActionItemCreateSerializer(ActionItemFieldsSerializer):
    meeting = ScopedIdField(scope="meetings")
    agenda_item = ScopedIdField(scope="agenda_items", required=False, allow_null=True)
    referral = ScopedIdField(scope="referrals", required=False, allow_null=True)
    person = ScopedIdField(scope="persons", required=False, allow_null=True)


class ActionItemUpdateSerializer(StrictInputMixin, serializers.Serializer[Any]):
    title = serializers.CharField(max_length=300, required=False)
    owner_agency = ScopedIdField(scope="agencies", required=False)
    owner = ScopedIdField(scope="users", required=False, allow_null=True)
    due_on = serializers.DateField(required=False)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ActionItemStatusSerializer(StrictInputMixin, serializers.Serializer[Any]):
    status = serializers.ChoiceField(
        choices=sorted(services.SETTABLE_STATUSES),
        help_text=_("done or open (the owner agency); cancelled (the coordinator)."),
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class DecisionReferralSerializer(StrictInputMixin, serializers.Serializer[Any]):
    """A referral of the agenda item's person; the legal-basis rules of referrals apply unchanged."""

    to_agency = ScopedIdField(scope="agencies")
    reason = serializers.CharField(max_length=4000)
    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), max_length=20)
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices)
    answer_due_on = serializers.DateField()
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    consent = ScopedIdField(scope="consents", required=False, allow_null=True)
    basis_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class DecisionInputSerializer(StrictInputMixin, serializers.Serializer[Any]):
    text = serializers.CharField(max_length=AGENDA_TEXT_MAX_LENGTH)
    referral = DecisionReferralSerializer(required=False, help_text=_("Refer the item's person in the same step."))
    action_item = ActionItemFieldsSerializer(required=False, help_text=_("Create an action item in the same step."))


class CorrectionSerializer(StrictInputMixin, serializers.Serializer[Any]):
    item = serializers.IntegerField(min_value=1)
    minutes = serializers.CharField(max_length=MINUTES_MAX_LENGTH, allow_blank=True)


class CorrectSerializer(StrictInputMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)
    corrections = serializers.ListField(child=CorrectionSerializer(), allow_empty=False, max_length=500)


# Views ----------------------------------------------------------------------------------------


class MeetingAPIViewSet[M: Any](HubAPIMixin, viewsets.GenericViewSet[M]):
    permission_classes = [IsAuthenticated, AccessPolicy]
    lookup_value_regex = "[0-9]+"
    lookup_value_converter = "int"

    def scopes(self) -> dict[str, QuerySet[Any]]:
        """What ids in a request body may name: only rows the caller may see (any other reads as nonexistent)."""
        actor = request_actor(self.request)
        staff = access.visible(actor, Staff).filter(is_active=True).values("user_id")
        return {
            "workspaces": access.visible(actor, Workspace),
            "agencies": access.visible(actor, Agency),
            "persons": access.visible(actor, Person),
            "referrals": access.visible(actor, Referral),
            "consents": access.visible(actor, Consent),
            "users": User.objects.filter(is_active=True, pk__in=staff),
            "meetings": access.visible(actor, Meeting),
            "agenda_items": access.visible(actor, AgendaItem),
        }

    def get_serializer_context(self) -> dict[str, Any]:
        return with_scopes(self, super().get_serializer_context())

    def validated(self, serializer_class: type[Any], data: Any = None) -> dict[str, Any]:
        serializer = serializer_class(
            data=self.request.data if data is None else data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return cast(dict[str, Any], serializer.validated_data)


@extend_schema(tags=["meetings"])
@extend_schema_view(
    list=extend_schema(summary=_("Meetings your agencies are invited to or coordinate, newest first")),
    retrieve=extend_schema(summary=_("One meeting"), responses={200: MeetingDetailSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Plan a meeting of a round table you coordinate; open action items move to it"),
        request=MeetingCreateSerializer,
        responses={201: MeetingDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary=_("Change date, place or video link (the coordinator)"),
        request=MeetingWriteSerializer,
        responses={200: MeetingDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    cancel=extend_schema(
        summary=_("Cancel a planned meeting (the coordinator)"),
        request=ReasonSerializer,
        responses={200: MeetingDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    hold=extend_schema(
        summary=_("Record that the meeting took place (the coordinator)"),
        request=None,
        responses={200: MeetingDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    close=extend_schema(
        summary=_("Close a held meeting whose minutes are approved (the coordinator)"),
        request=None,
        responses={200: MeetingDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    reorder=extend_schema(
        summary=_("Order the agenda (the coordinator)"),
        request=ReorderSerializer,
        responses={200: AgendaItemSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    circulate=extend_schema(
        summary=_("Circulate the draft minutes (the coordinator)"),
        request=None,
        responses={200: MinutesVersionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    approve=extend_schema(
        summary=_("Approve the circulated minutes; they are locked afterwards (the coordinator)"),
        request=None,
        responses={200: MinutesVersionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    correct=extend_schema(
        summary=_("Correct approved minutes as a new version, with the reason (the coordinator)"),
        request=CorrectSerializer,
        responses={200: MinutesVersionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    versions=extend_schema(
        summary=_("The circulated, approved and corrected versions of the minutes"),
        responses={200: MinutesVersionSerializer(many=True), 404: NOT_FOUND},
    ),
    carry_over=extend_schema(
        summary=_("Move open action items of earlier meetings into this planned meeting now (the coordinator)"),
        request=None,
        responses={200: ActionItemSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class MeetingViewSet(mixins.ListModelMixin, MeetingAPIViewSet[Meeting]):
    serializer_class = MeetingSerializer
    filterset_class = MeetingFilterSet
    access_actions: ClassVar[dict[str, str]] = {
        "partial_update": "change",
        "cancel": "cancel",
        "hold": "hold",
        "close": "close",
        "reorder": "order_agenda",
        "circulate": "circulate",
        "approve": "approve",
        "correct": "correct",
        "carry_over": "add_action_item",
    }

    def get_queryset(self) -> QuerySet[Meeting]:
        return selectors.meeting_list(request_actor(self.request))

    def answer(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        meeting = selectors.meeting_detail(request_actor(self.request), pk)
        return Response(MeetingDetailSerializer(meeting, context=self.get_serializer_context()).data, status=code)

    def retrieve(self, request: Request, pk: int) -> Response:
        return self.answer(self.get_object().pk)

    def create(self, request: Request) -> Response:
        data = self.validated(MeetingCreateSerializer)
        workspace = data.pop("workspace")
        access.require(request_actor(request), "plan_meeting", workspace)
        meeting = services.meeting_create(actor=request_actor(request), workspace=workspace, **data)
        return self.answer(meeting.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        meeting = self.get_object()
        services.meeting_update(actor=request_actor(request), meeting=meeting, **self.validated(MeetingWriteSerializer))
        return self.answer(meeting.pk)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: int) -> Response:
        meeting = self.get_object()
        services.meeting_cancel(actor=request_actor(request), meeting=meeting, **self.validated(ReasonSerializer))
        return self.answer(meeting.pk)

    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: int) -> Response:
        meeting = self.get_object()
        services.meeting_hold(actor=request_actor(request), meeting=meeting)
        return self.answer(meeting.pk)

    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: int) -> Response:
        meeting = self.get_object()
        services.meeting_close(actor=request_actor(request), meeting=meeting)
        return self.answer(meeting.pk)

    @extend_schema(
        summary=_("The agencies invited"),
        responses={200: AgencyBriefSerializer(many=True), 404: NOT_FOUND},
        methods=["GET"],
    )
    @extend_schema(
        summary=_("Invite an agency of the round table (the coordinator)"),
        request=AgencyInputSerializer,
        responses={201: AgencyBriefSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def invitations(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        meeting = self.get_object()
        if request.method == "POST":
            access.require(actor, "invite", meeting)
            services.meeting_invite(actor=actor, meeting=meeting, **self.validated(AgencyInputSerializer))
        agencies = selectors.meeting_detail(actor, meeting.pk).invited_agencies.all()
        code = status.HTTP_201_CREATED if request.method == "POST" else status.HTTP_200_OK
        return Response(AgencyBriefSerializer(agencies, many=True).data, status=code)

    @extend_schema(
        summary=_("Withdraw an agency's invitation (the coordinator)"),
        request=None,
        responses={204: None, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["delete"], url_path=r"invitations/(?P<agency_id>[0-9]+)", url_name="invitation")
    def invitation(self, request: Request, pk: int, agency_id: str) -> Response:
        actor = request_actor(request)
        meeting = self.get_object()
        access.require(actor, "invite", meeting)
        agency = get_object_or_404(
            selectors.meeting_detail(actor, meeting.pk).invited_agencies.all(), pk=int(agency_id)
        )
        services.meeting_uninvite(actor=actor, meeting=meeting, agency=agency)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("Who took part"), responses={200: AttendanceSerializer(many=True), 404: NOT_FOUND}, methods=["GET"]
    )
    @extend_schema(
        summary=_("Record whether a staff member took part (the coordinator)"),
        request=AttendanceInputSerializer,
        responses={200: AttendanceSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def attendance(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        meeting = self.get_object()
        if request.method == "GET":
            return Response(AttendanceSerializer(selectors.attendance_list(actor, meeting), many=True).data)
        access.require(actor, "attendance", meeting)
        row = services.attendance_record(actor=actor, meeting=meeting, **self.validated(AttendanceInputSerializer))
        return Response(AttendanceSerializer(selectors.attendance_list(actor, meeting).get(pk=row.pk)).data)

    @extend_schema(
        summary=_("The agenda in order, with minutes, decisions and action items; cases pseudonymised"),
        responses={200: AgendaItemFullSerializer(many=True), 404: NOT_FOUND},
        methods=["GET"],
    )
    @extend_schema(
        summary=_("Propose an agenda item (caseworkers and coordinators of an invited agency)"),
        request=ProposalSerializer,
        responses={201: AgendaItemSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def agenda(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        meeting = self.get_object()
        if request.method == "GET":
            return Response(AgendaItemFullSerializer(selectors.agenda(actor, meeting), many=True).data)
        access.require(actor, "propose", meeting)
        item = services.agenda_item_propose(actor=actor, meeting=meeting, **self.validated(ProposalSerializer))
        found = selectors.agenda_item_detail(actor, item.pk)
        return Response(AgendaItemSerializer(found).data, status=status.HTTP_201_CREATED)

    # The agenda comes back whole, unpaginated, like GET agenda.
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def reorder(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        meeting = self.get_object()
        services.agenda_item_reorder(actor=actor, meeting=meeting, **self.validated(ReorderSerializer))
        return Response(AgendaItemSerializer(selectors.agenda(actor, meeting), many=True).data)

    @action(detail=True, methods=["post"])
    def circulate(self, request: Request, pk: int) -> Response:
        version = services.minutes_circulate(actor=request_actor(request), meeting=self.get_object())
        return Response(MinutesVersionSerializer(version).data)

    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: int) -> Response:
        version = services.minutes_approve(actor=request_actor(request), meeting=self.get_object())
        return Response(MinutesVersionSerializer(version).data)

    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: int) -> Response:
        meeting = self.get_object()
        data = self.validated(CorrectSerializer)
        corrections = {row["item"]: row["minutes"] for row in data["corrections"]}
        version = services.minutes_correct(
            actor=request_actor(request), meeting=meeting, corrections=corrections, reason=data["reason"]
        )
        return Response(MinutesVersionSerializer(version).data)

    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request: Request, pk: int) -> Response:
        rows = selectors.minutes_versions(request_actor(request), self.get_object())
        return Response(MinutesVersionSerializer(rows, many=True).data)

    @action(detail=True, methods=["post"], url_path="carry-over", pagination_class=None, filter_backends=[])
    def carry_over(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        moved = services.action_items_carry_over(actor=actor, meeting=self.get_object())
        rows = selectors.with_case_labels(actor, selectors.action_item_list(actor).filter(pk__in=[m.pk for m in moved]))
        return Response(ActionItemSerializer(rows, many=True).data)


@extend_schema(tags=["meetings"])
@extend_schema_view(
    retrieve=extend_schema(
        summary=_("One agenda item with its minutes, decisions and action items"),
        responses={200: AgendaItemFullSerializer, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary=_("Change an agenda item's title or description (the coordinator)"),
        request=AgendaItemUpdateSerializer,
        responses={200: AgendaItemSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    minutes=extend_schema(
        summary=_("Save the minutes of an item, based on the version you read (the coordinator); 409 if it moved"),
        request=MinutesInputSerializer,
        responses={200: AgendaItemSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    ),
)
class AgendaItemViewSet(MeetingAPIViewSet[AgendaItem]):
    serializer_class = AgendaItemSerializer
    access_actions: ClassVar[dict[str, str]] = {"partial_update": "order_agenda", "minutes": "write_minutes"}

    def get_queryset(self) -> QuerySet[AgendaItem]:
        return selectors.agenda_items(request_actor(self.request))

    def show(self, pk: int, serializer: type[serializers.Serializer[Any]] = AgendaItemSerializer) -> Response:
        actor = request_actor(self.request)
        item = selectors.agenda_item_detail(actor, pk)
        if serializer is AgendaItemFullSerializer:
            item = next(found for found in selectors.agenda(actor, item.meeting) if found.pk == pk)
        return Response(serializer(item).data)

    def retrieve(self, request: Request, pk: int) -> Response:
        return self.show(self.get_object().pk, AgendaItemFullSerializer)

    def partial_update(self, request: Request, pk: int) -> Response:
        item = self.get_object()
        services.agenda_item_update(
            actor=request_actor(request), item=item, **self.validated(AgendaItemUpdateSerializer)
        )
        return self.show(item.pk)

    @action(detail=True, methods=["put"])
    def minutes(self, request: Request, pk: int) -> Response:
        item = self.get_object()
        data = self.validated(MinutesInputSerializer)
        try:
            services.agenda_item_update_minutes(
                actor=request_actor(request), item=item, minutes=data["minutes"], expected_version=data["version"]
            )
        except services.MinutesConflict as conflict:
            body = {
                "minutes": conflict.message_dict["minutes"],
                "current_version": conflict.current_version,
                "current_minutes": conflict.current_minutes,
            }
            return Response(body, status=status.HTTP_409_CONFLICT)
        return self.show(item.pk)

    @extend_schema(
        summary=_("The decisions under an agenda item"),
        responses={200: DecisionSerializer(many=True), 404: NOT_FOUND},
        methods=["GET"],
    )
    @extend_schema(
        summary=_(
            "Record a decision (the coordinator), optionally referring the item's person and creating an action item"
        ),
        request=DecisionInputSerializer,
        responses={201: DecisionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def decisions(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        item = self.get_object()
        if request.method == "GET":
            return Response(DecisionSerializer(selectors.decisions_of(actor, item), many=True).data)
        access.require(actor, "decide", item)
        decision = services.decision_record(actor=actor, item=item, **self.validated(DecisionInputSerializer))
        found = selectors.decisions_of(actor, item).get(pk=decision.pk)
        return Response(DecisionSerializer(found).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["meetings"])
@extend_schema_view(
    list=extend_schema(summary=_("Action items of the meetings you see, with the overdue flag")),
    retrieve=extend_schema(summary=_("One action item"), responses={200: ActionItemSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Give an agency of the meeting an action item (the coordinator)"),
        request=ActionItemCreateSerializer,
        responses={201: ActionItemSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary=_("Change an open action item's task, owner or due date (the coordinator)"),
        request=ActionItemUpdateSerializer,
        responses={200: ActionItemSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    set_status=extend_schema(
        summary=_("Report progress: done or open again (the owner agency); cancelled (the coordinator)"),
        request=ActionItemStatusSerializer,
        responses={200: ActionItemSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    overview=extend_schema(
        summary=_("What your agencies owe the round tables: open items, overdue first"),
        responses={200: ActionItemSerializer(many=True)},
    ),
)
class ActionItemViewSet(mixins.ListModelMixin, MeetingAPIViewSet[ActionItem]):
    serializer_class = ActionItemSerializer
    filterset_class = ActionItemFilterSet
    access_actions: ClassVar[dict[str, str]] = {"partial_update": "change", "set_status": "report"}

    def get_queryset(self) -> QuerySet[ActionItem]:
        return selectors.action_item_list(request_actor(self.request))

    def show(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            ActionItemSerializer(selectors.action_item_detail(request_actor(self.request), pk)).data, status=code
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.labelled(self.filter_queryset(self.get_queryset()))

    def labelled(self, queryset: QuerySet[ActionItem]) -> Response:
        page = self.paginate_queryset(queryset)
        rows = selectors.with_case_labels(request_actor(self.request), page if page is not None else queryset)
        data = ActionItemSerializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, pk: int) -> Response:
        return self.show(self.get_object().pk)

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        data = self.validated(ActionItemCreateSerializer)
        meeting = data.pop("meeting")
        if not access.can(actor, "add_action_item", meeting):
            raise PermissionDenied
        item = services.action_item_create(actor=actor, meeting=meeting, **data)
        return self.show(item.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        item = self.get_object()
        services.action_item_update(
            actor=request_actor(request), item=item, **self.validated(ActionItemUpdateSerializer)
        )
        return self.show(item.pk)

    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request: Request, pk: int) -> Response:
        item = self.get_object()
        services.action_item_set_status(
            actor=request_actor(request), item=item, **self.validated(ActionItemStatusSerializer)
        )
        return self.show(item.pk)

    @action(detail=False, methods=["get"])
    def overview(self, request: Request) -> Response:
        return self.labelled(self.filter_queryset(selectors.action_item_overview(request_actor(request))))


@extend_schema(tags=["comments"])
class AgendaItemCommentsView(TargetCommentsView):
    target_model = AgendaItem
    input_serializer = CommentInputSerializer

    @extend_schema(
        summary=_("Comments on an agenda item, oldest first"),
        responses={200: CommentSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=_("Comment on an agenda item (caseworkers and coordinators of the agencies at the meeting)"),
        request=CommentInputSerializer,
        responses={201: CommentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


def register(router: BaseRouter) -> None:
    router.register("meetings", MeetingViewSet, basename="meeting")
    router.register("agenda-items", AgendaItemViewSet, basename="agenda-item")
    router.register("action-items", ActionItemViewSet, basename="action-item")
