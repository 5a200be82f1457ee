"""API of first profiling, plans and their steps, measures, enrolments, transfers and recognitions.

The same rules as the persons API (``referrals.api.persons``): reads through
``referrals.selectors`` and ``hub.access`` (an invisible row answers 404, an id in a body
that names one reads as nonexistent, 400); writes validate a strict body and hand it to
``referrals.services``; object actions on a visible row the actor may not act on answer 403.

A profile is minimised like a person: its parts belong to data categories
(``PROFILE_CATEGORY_FIELDS``) and a receiving agency gets only the parts its shares cover;
the others are absent from the object, not null.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from agencies.api.serializers import AgencyBriefSerializer, UserBriefSerializer
from agencies.models import Agency, User
from hub import access
from hub.api import StrictInputMixin, request_actor
from privacy import reads
from referrals import selectors, services
from referrals.api.persons import (
    BAD_REQUEST,
    FORBIDDEN,
    NOT_FOUND,
    CaseViewSet,
    MeasureRefSerializer,
    NotesReads,
    PersonRefSerializer,
    ScopedIdField,
)
from referrals.filters import (
    EnrollmentFilterSet,
    MeasureFilterSet,
    PlanFilterSet,
    ProfileFilterSet,
    RecognitionFilterSet,
    TransferFilterSet,
)
from referrals.models import (
    PROFILE_CATEGORY_FIELDS,
    BenefitScheme,
    Category,
    CEFRLevel,
    Enrollment,
    Measure,
    Plan,
    PlanStep,
    Profile,
    QualificationKind,
    RecognitionProcedure,
    RecognitionStatus,
    ResponsibilityTransfer,
)

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.utils import Direction

# The parts of a profile that follow data categories; the rest (who recorded which version) is always shown.
MINIMISED_PROFILE_FIELDS: tuple[str, ...] = tuple(
    field for fields in PROFILE_CATEGORY_FIELDS.values() for field in fields
)


def _require_case_work(actor: User) -> None:
    """Only caseworkers and coordinators write case data; the others are refused before their input is read."""
    if not access.agency_ids(actor, *access.CASE_ROLES):
        raise PermissionDenied


class PlanCaseViewSet[M: models.Model](CaseViewSet[M]):
    def scopes(self) -> dict[str, QuerySet[Any]]:
        actor = request_actor(self.request)
        return {
            **super().scopes(),
            "plans": access.visible(actor, Plan),
            # Course providers whose offers the actor maintains.
            "providers": Agency.objects.filter(pk__in=[a.pk for a in selectors.measure_provider_agencies(actor)]),
        }

    def body(self, serializer_class: type[serializers.Serializer[Any]], instance: Any = None, **kwargs: Any) -> Any:
        """The request body validated by ``serializer_class`` with the actor's scopes."""
        serializer = serializer_class(instance, data=self.request.data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def answer(self, obj: M, code: int = status.HTTP_200_OK) -> Response:
        """The object re-read through the actor's own scope, as the list shows it."""
        return Response(self.get_serializer(self.refetch(obj.pk)).data, status=code)


# Profiles ---------------------------------------------------------------------------------


class LanguageItemSerializer(StrictInputMixin, serializers.Serializer[Any]):
    language = serializers.CharField(max_length=100)
    level = serializers.ChoiceField(choices=CEFRLevel.choices)


class QualificationItemSerializer(StrictInputMixin, serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=QualificationKind.choices)
    title = serializers.CharField(max_length=200)
    country = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    recognition = serializers.ChoiceField(choices=RecognitionStatus.choices)


class WorkItemSerializer(StrictInputMixin, serializers.Serializer[Any]):
    occupation = serializers.CharField(max_length=200)
    country = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    years = serializers.IntegerField(min_value=0, max_value=services.MAX_YEARS)


def _profile_list(child: serializers.Serializer[Any], help_text: StrOrPromise, **kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=child, max_length=services.MAX_PROFILE_ITEMS, help_text=help_text, **kwargs)


class ProfileSerializer(serializers.ModelSerializer[Profile]):
    """One version of a person's first profiling: only the parts of the categories you may see."""

    person = PersonRefSerializer(read_only=True)
    agency = AgencyBriefSerializer(read_only=True)
    created_by = UserBriefSerializer(read_only=True)
    languages = LanguageItemSerializer(many=True, read_only=True, help_text=_("Category languages."))
    qualifications = QualificationItemSerializer(many=True, read_only=True, help_text=_("Category education."))
    work_experience = WorkItemSerializer(many=True, read_only=True, help_text=_("Category work history."))

    class Meta:
        model = Profile
        fields = ["id", "person", "version", "agency", "created_by", "created_at", *MINIMISED_PROFILE_FIELDS]
        read_only_fields = fields

    def to_representation(self, instance: Profile) -> dict[str, Any]:
        known: dict[int, frozenset[str]] = self.context.get("person_categories", {})
        categories = known.get(instance.person_id)
        if categories is None:
            categories = access.person_categories(self.context["request"].user, instance.person)
        shown = set(selectors.profile_fields(instance, categories))
        reads.note(instance.person_id, [c for c, names in PROFILE_CATEGORY_FIELDS.items() if shown & set(names)])
        data = super().to_representation(instance)
        return {key: value for key, value in data.items() if key not in MINIMISED_PROFILE_FIELDS or key in shown}


class MinimisedProfileSchema(OpenApiSerializerExtension):
    """Tell the schema that the category parts of a profile may be absent."""

    target_class = ProfileSerializer

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        required = [name for name in schema.get("required", []) if name not in MINIMISED_PROFILE_FIELDS]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema


class ProfileCreateSerializer(StrictInputMixin, serializers.Serializer[Profile]):
    """A new version of the profile; the earlier versions stay as they were."""

    person = ScopedIdField(scope="persons", help_text=_("A person whose file your agency holds."))
    languages = _profile_list(LanguageItemSerializer(), _("Languages with their CEFR level."), required=False)
    qualifications = _profile_list(
        QualificationItemSerializer(), _("School, vocational and academic qualifications."), required=False
    )
    work_experience = _profile_list(WorkItemSerializer(), _("Occupations and years worked."), required=False)
    wishes = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    childcare_needs = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    assessment = serializers.CharField(max_length=8000, required=False, allow_blank=True)


@extend_schema(tags=["profiles"])
@extend_schema_view(
    list=extend_schema(summary=_("Profile versions of the persons you can see (filter by ?person=)")),
    retrieve=extend_schema(
        summary=_("One profile version, with the parts of the categories you may see"),
        responses={200: ProfileSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary=_("Record a new version of a person's first profiling (holders of the file)"),
        request=ProfileCreateSerializer,
        responses={201: ProfileSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
)
class ProfileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PlanCaseViewSet[Profile]):
    serializer_class = ProfileSerializer
    filterset_class = ProfileFilterSet

    def get_queryset(self) -> QuerySet[Profile]:
        return selectors.profile_list(request_actor(self.request))

    def show(self, profiles: Iterable[Profile]) -> dict[str, Any]:
        """The serializer context with the categories of every person on the page, in two queries."""
        persons = {profile.person_id: profile.person for profile in profiles}
        return {
            **self.get_serializer_context(),
            "person_categories": access.person_categories_many(request_actor(self.request), persons.values()),
        }

    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        profiles = list(page if page is not None else queryset)
        data = ProfileSerializer(profiles, many=True, context=self.show(profiles)).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, pk: int) -> Response:
        profile = self.get_object()
        return Response(ProfileSerializer(profile, context=self.show([profile])).data)

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        _require_case_work(actor)
        profile = services.profile_create(actor=actor, **self.body(ProfileCreateSerializer))
        profile = self.refetch(profile.pk)
        return Response(ProfileSerializer(profile, context=self.show([profile])).data, status=status.HTTP_201_CREATED)


# Plans and steps --------------------------------------------------------------------------


class PlanStepSerializer(serializers.ModelSerializer[PlanStep]):
    owner_agency = AgencyBriefSerializer(read_only=True)

    def to_representation(self, instance: PlanStep) -> dict[str, Any]:
        # Within a plan the plan noted the read; a step on its own names its plan, loaded with it.
        if PlanStep._meta.get_field("plan").is_cached(instance):
            reads.note(instance.plan.person_id, {Category.PLAN})
        return super().to_representation(instance)

    class Meta:
        model = PlanStep
        fields = ["id", "plan", "position", "kind", "title", "owner_agency", "starts_on", "due_on", "status", "notes"]
        read_only_fields = fields


class PlanSerializer(NotesReads, serializers.ModelSerializer[Plan]):
    """An integration plan with its chain of steps and its progress."""

    read_kinds = frozenset({Category.PLAN})

    person = PersonRefSerializer(read_only=True)
    agency = AgencyBriefSerializer(read_only=True)
    created_by = UserBriefSerializer(read_only=True)
    steps = serializers.SerializerMethodField()
    late_steps = serializers.SerializerMethodField(help_text=_("Ids of the open steps past their due date."))
    next_step = serializers.SerializerMethodField(help_text=_("Id of the next open step of the chain, or null."))

    class Meta:
        model = Plan
        fields = [
            "id",
            "person",
            "agency",
            "goals",
            "plain_summary",
            "status",
            "agreed_on",
            "review_on",
            "created_by",
            "created_at",
            "updated_at",
            "steps",
            "late_steps",
            "next_step",
        ]
        read_only_fields = fields

    @extend_schema_field(PlanStepSerializer(many=True))
    def get_steps(self, plan: Plan) -> Any:
        steps = sorted(plan.steps.all(), key=lambda step: (step.position, step.pk))
        return PlanStepSerializer(steps, many=True).data

    def get_late_steps(self, plan: Plan) -> list[int]:
        return [step.pk for step in selectors.plan_progress(plan).late]

    def get_next_step(self, plan: Plan) -> int | None:
        upcoming = selectors.plan_progress(plan).next
        return upcoming.pk if upcoming is not None else None


class PlanCreateSerializer(StrictInputMixin, serializers.ModelSerializer[Plan]):
    """A new plan (a draft until it is agreed with the person)."""

    person = ScopedIdField(scope="persons", help_text=_("A person whose file your agency holds."))

    class Meta:
        model = Plan
        fields = ["person", "goals", "plain_summary", "review_on"]


class PlanUpdateSerializer(StrictInputMixin, serializers.ModelSerializer[Plan]):
    class Meta:
        model = Plan
        fields = list(services.PLAN_FIELDS)


class PlanAgreeSerializer(StrictInputMixin, serializers.Serializer[Plan]):
    agreed_on = serializers.DateField(help_text=_("The day the person signed the plan."))
    review_on = serializers.DateField(
        required=False, allow_null=True, help_text=_("The review date; required unless the plan has one.")
    )


@extend_schema(tags=["plans"])
@extend_schema_view(
    list=extend_schema(summary=_("Integration plans of the persons you can see (filter by ?person=, ?status=)")),
    retrieve=extend_schema(summary=_("One plan with its steps"), responses={200: PlanSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Open a plan for a person (holders of the file)"),
        request=PlanCreateSerializer,
        responses={201: PlanSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary=_("Change goals, summary or review date"),
        request=PlanUpdateSerializer,
        responses={200: PlanSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    agree=extend_schema(
        summary=_("Record the agreement with the person (signed on a date, with a review date)"),
        request=PlanAgreeSerializer,
        responses={200: PlanSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    close=extend_schema(
        summary=_("Close the plan; it stays readable"),
        request=None,
        responses={200: PlanSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PlanCaseViewSet[Plan]):
    serializer_class = PlanSerializer
    filterset_class = PlanFilterSet
    access_actions: ClassVar[dict[str, str]] = {"partial_update": "change", "agree": "agree", "close": "close"}

    def get_queryset(self) -> QuerySet[Plan]:
        return selectors.plan_list(request_actor(self.request))

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        _require_case_work(actor)
        plan = services.plan_create(actor=actor, **self.body(PlanCreateSerializer))
        return self.answer(plan, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        plan = self.get_object()
        services.plan_update(
            actor=request_actor(request), plan=plan, **self.body(PlanUpdateSerializer, plan, partial=True)
        )
        return self.answer(plan)

    @action(detail=True, methods=["post"])
    def agree(self, request: Request, pk: int) -> Response:
        plan = self.get_object()
        services.plan_agree(actor=request_actor(request), plan=plan, **self.body(PlanAgreeSerializer))
        return self.answer(plan)

    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: int) -> Response:
        plan = self.get_object()
        services.plan_close(actor=request_actor(request), plan=plan)
        return self.answer(plan)


class PlanStepWriteSerializer(StrictInputMixin, serializers.ModelSerializer[PlanStep]):
    owner_agency = ScopedIdField(scope="agencies", help_text=_("The agency responsible for the step."))

    class Meta:
        model = PlanStep
        fields = list(services.STEP_FIELDS)


class PlanStepCreateSerializer(PlanStepWriteSerializer):
    """A new step at the end of the plan's chain."""

    plan = ScopedIdField(scope="plans", help_text=_("The plan the step belongs to."))

    class Meta(PlanStepWriteSerializer.Meta):
        fields = ["plan", *services.STEP_FIELDS]


@extend_schema(tags=["plans"])
@extend_schema_view(
    create=extend_schema(
        summary=_("Add a step to a plan (holders of the file)"),
        request=PlanStepCreateSerializer,
        responses={201: PlanStepSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary=_("Change a step; the agency owning it reports status and notes"),
        request=PlanStepWriteSerializer,
        responses={200: PlanStepSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class PlanStepViewSet(PlanCaseViewSet[PlanStep]):
    serializer_class = PlanStepSerializer
    access_actions: ClassVar[dict[str, str]] = {"partial_update": "change"}

    def get_queryset(self) -> QuerySet[PlanStep]:
        return (
            access.visible(request_actor(self.request), PlanStep)
            .select_related("plan", "plan__person", "owner_agency")
            .order_by("plan", "position", "pk")
        )

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        _require_case_work(actor)
        step = services.plan_step_add(actor=actor, **self.body(PlanStepCreateSerializer))
        return self.answer(step, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        step = self.get_object()
        data = self.body(PlanStepWriteSerializer, step, partial=True)
        services.plan_step_update(actor=request_actor(request), step=step, **data)
        return self.answer(step)


# Measures and enrolments ------------------------------------------------------------------


class MeasureSerializer(serializers.ModelSerializer[Measure]):
    """An offer of the catalogue with its seats and waiting list."""

    provider = AgencyBriefSerializer(read_only=True)
    enrolled_count = serializers.IntegerField(read_only=True, help_text=_("Seats taken."))
    free_seats = serializers.IntegerField(read_only=True, help_text=_("Seats minus seats taken."))
    waitlist_count = serializers.IntegerField(read_only=True, help_text=_("Persons on the waiting list."))

    class Meta:
        model = Measure
        fields = [
            "id",
            "provider",
            *services.MEASURE_FIELDS,
            "created_at",
            "enrolled_count",
            "free_seats",
            "waitlist_count",
        ]
        read_only_fields = fields


class MeasureUpdateSerializer(StrictInputMixin, serializers.ModelSerializer[Measure]):
    class Meta:
        model = Measure
        fields = list(services.MEASURE_FIELDS)


class MeasureCreateSerializer(MeasureUpdateSerializer):
    """A new offer of a course provider you work for."""

    provider = ScopedIdField(scope="providers", help_text=_("A course provider whose offers you maintain."))

    class Meta(MeasureUpdateSerializer.Meta):
        fields = ["provider", *services.MEASURE_FIELDS]


@extend_schema(tags=["measures"])
@extend_schema_view(
    list=extend_schema(summary=_("The catalogue of measures with free seats and waiting lists")),
    retrieve=extend_schema(summary=_("One measure"), responses={200: MeasureSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Offer a measure (staff of course providers)"),
        request=MeasureCreateSerializer,
        responses={201: MeasureSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary=_("Change a measure (its provider); added seats go to the waiting list first"),
        request=MeasureUpdateSerializer,
        responses={200: MeasureSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class MeasureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PlanCaseViewSet[Measure]):
    serializer_class = MeasureSerializer
    filterset_class = MeasureFilterSet
    access_actions: ClassVar[dict[str, str]] = {"partial_update": "change"}

    def get_queryset(self) -> QuerySet[Measure]:
        return selectors.measure_catalogue(request_actor(self.request))

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        access.require(actor, "create", Measure)
        measure = services.measure_create(actor=actor, **self.body(MeasureCreateSerializer))
        return self.answer(measure, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        measure = self.get_object()
        data = self.body(MeasureUpdateSerializer, measure, partial=True)
        services.measure_update(actor=request_actor(request), measure=measure, **data)
        return self.answer(measure)


class EnrollmentSerializer(NotesReads, serializers.ModelSerializer[Enrollment]):
    """A person's seat in a measure or place on its waiting list; the person by case reference."""

    read_kinds = frozenset({Category.PLAN})

    measure = MeasureRefSerializer(read_only=True)
    person = PersonRefSerializer(read_only=True)
    requested_by_agency = AgencyBriefSerializer(read_only=True)

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "measure",
            "person",
            "status",
            "waitlist_position",
            "requested_by_agency",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EnrollmentCreateSerializer(StrictInputMixin, serializers.Serializer[Enrollment]):
    """Enrol a person your agency holds: a free seat if there is one, else the end of the waiting list."""

    measure = ScopedIdField(scope="measures", help_text=_("The measure."))
    person = ScopedIdField(scope="persons", help_text=_("A person whose file your agency holds."))


@extend_schema(tags=["enrollments"])
@extend_schema_view(
    list=extend_schema(summary=_("Enrolments in your offers, and of the persons you work with")),
    retrieve=extend_schema(summary=_("One enrolment"), responses={200: EnrollmentSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Enrol a person: a seat, or the next place on the waiting list"),
        request=EnrollmentCreateSerializer,
        responses={201: EnrollmentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    cancel=extend_schema(
        summary=_("Cancel an enrolment; a freed seat goes to the first one waiting"),
        request=None,
        responses={200: EnrollmentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    complete=extend_schema(
        summary=_("Record that the person completed the measure (the provider)"),
        request=None,
        responses={200: EnrollmentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class EnrollmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PlanCaseViewSet[Enrollment]):
    serializer_class = EnrollmentSerializer
    filterset_class = EnrollmentFilterSet
    access_actions: ClassVar[dict[str, str]] = {"cancel": "cancel", "complete": "complete"}

    def get_queryset(self) -> QuerySet[Enrollment]:
        return selectors.enrollment_list(request_actor(self.request))

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        _require_case_work(actor)
        enrollment = services.enrollment_request(actor=actor, **self.body(EnrollmentCreateSerializer))
        return self.answer(enrollment, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: int) -> Response:
        enrollment = self.get_object()
        services.enrollment_cancel(actor=request_actor(request), enrollment=enrollment)
        return self.answer(enrollment)

    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: int) -> Response:
        enrollment = self.get_object()
        services.enrollment_complete(actor=request_actor(request), enrollment=enrollment)
        return self.answer(enrollment)


# Transfers of responsibility --------------------------------------------------------------


class TransferChecklistSerializer(StrictInputMixin, serializers.Serializer[Any]):
    """What must be settled before the new agency takes over; items left out count as not done."""

    effective_date_confirmed = serializers.BooleanField(required=False, default=False)
    open_measures_reviewed = serializers.BooleanField(required=False, default=False)
    plan_handed_over = serializers.BooleanField(required=False, default=False)
    housing_checked = serializers.BooleanField(required=False, default=False)


class TransferSerializer(NotesReads, serializers.ModelSerializer[ResponsibilityTransfer]):
    read_kinds = frozenset({reads.TRANSFERS})

    person = PersonRefSerializer(read_only=True)
    from_agency = AgencyBriefSerializer(read_only=True)
    to_agency = AgencyBriefSerializer(read_only=True)
    checklist = TransferChecklistSerializer(read_only=True)
    proposed_by = UserBriefSerializer(read_only=True)
    decided_by = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ResponsibilityTransfer
        fields = [
            "id",
            "person",
            "from_agency",
            "to_agency",
            "effective_on",
            "new_benefit_scheme",
            "checklist",
            "note",
            "status",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


class TransferCreateSerializer(StrictInputMixin, serializers.Serializer[ResponsibilityTransfer]):
    """The responsible agency proposes to hand the case over."""

    person = ScopedIdField(scope="persons", help_text=_("A person your agency is responsible for."))
    to_agency = ScopedIdField(scope="agencies", help_text=_("The agency that takes over."))
    effective_on = serializers.DateField()
    new_benefit_scheme = serializers.ChoiceField(choices=BenefitScheme.choices)
    checklist = TransferChecklistSerializer(required=False)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class TransferCompleteSerializer(StrictInputMixin, serializers.Serializer[ResponsibilityTransfer]):
    checklist = TransferChecklistSerializer(
        required=False, help_text=_("The checklist as you confirm it; without it, the proposal's stands.")
    )


@extend_schema(tags=["transfers"])
@extend_schema_view(
    list=extend_schema(summary=_("Transfers of responsibility from or to your agencies")),
    retrieve=extend_schema(summary=_("One transfer"), responses={200: TransferSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Propose a transfer of responsibility (the responsible agency)"),
        request=TransferCreateSerializer,
        responses={201: TransferSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    complete=extend_schema(
        summary=_("Take over (the receiving agency); every checklist item must be done"),
        request=TransferCompleteSerializer,
        responses={200: TransferSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    cancel=extend_schema(
        summary=_("Withdraw the proposal (the proposing agency)"),
        request=None,
        responses={200: TransferSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PlanCaseViewSet[ResponsibilityTransfer]):
    serializer_class = TransferSerializer
    filterset_class = TransferFilterSet
    access_actions: ClassVar[dict[str, str]] = {"complete": "complete", "cancel": "cancel"}

    def get_queryset(self) -> QuerySet[ResponsibilityTransfer]:
        return selectors.transfer_list(request_actor(self.request))

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        _require_case_work(actor)
        data = dict(self.body(TransferCreateSerializer))
        checklist = data.pop("checklist", None)
        transfer = services.transfer_propose(actor=actor, checklist=dict(checklist or {}), **data)
        return self.answer(transfer, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: int) -> Response:
        transfer = self.get_object()
        checklist = self.body(TransferCompleteSerializer).get("checklist")
        services.transfer_complete(
            actor=request_actor(request),
            transfer=transfer,
            checklist=dict(checklist) if checklist is not None else None,
        )
        return self.answer(transfer)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: int) -> Response:
        transfer = self.get_object()
        services.transfer_cancel(actor=request_actor(request), transfer=transfer)
        return self.answer(transfer)


# Recognition procedures -------------------------------------------------------------------


class RecognitionSerializer(NotesReads, serializers.ModelSerializer[RecognitionProcedure]):
    read_kinds = frozenset({Category.EDUCATION})

    person = PersonRefSerializer(read_only=True)
    agency = AgencyBriefSerializer(read_only=True)
    created_by = UserBriefSerializer(read_only=True)

    class Meta:
        model = RecognitionProcedure
        fields = ["id", "person", *services.RECOGNITION_FIELDS, "agency", "created_by", "created_at"]
        read_only_fields = fields


class RecognitionUpdateSerializer(StrictInputMixin, serializers.ModelSerializer[RecognitionProcedure]):
    class Meta:
        model = RecognitionProcedure
        fields = list(services.RECOGNITION_FIELDS)


class RecognitionCreateSerializer(RecognitionUpdateSerializer):
    """A recognition procedure for a foreign qualification of a person your agency holds."""

    person = ScopedIdField(scope="persons", help_text=_("A person whose file your agency holds."))

    class Meta(RecognitionUpdateSerializer.Meta):
        fields = ["person", *services.RECOGNITION_FIELDS]


@extend_schema(tags=["recognitions"])
@extend_schema_view(
    list=extend_schema(summary=_("Recognition procedures of the persons you can see (filter by ?person=)")),
    retrieve=extend_schema(
        summary=_("One recognition procedure"), responses={200: RecognitionSerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary=_("Record a recognition procedure (holders of the file)"),
        request=RecognitionCreateSerializer,
        responses={201: RecognitionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary=_("Record progress: application, decision, gaps, bridging qualification"),
        request=RecognitionUpdateSerializer,
        responses={200: RecognitionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class RecognitionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PlanCaseViewSet[RecognitionProcedure]):
    serializer_class = RecognitionSerializer
    filterset_class = RecognitionFilterSet
    access_actions: ClassVar[dict[str, str]] = {"partial_update": "change"}

    def get_queryset(self) -> QuerySet[RecognitionProcedure]:
        return selectors.recognition_list(request_actor(self.request))

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        _require_case_work(actor)
        recognition = services.recognition_create(actor=actor, **self.body(RecognitionCreateSerializer))
        return self.answer(recognition, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        recognition = self.get_object()
        data = self.body(RecognitionUpdateSerializer, recognition, partial=True)
        services.recognition_update(actor=request_actor(request), recognition=recognition, **data)
        return self.answer(recognition)


def register(router: BaseRouter) -> None:
    """Register this module's viewsets on the app's router."""
    router.register("profiles", ProfileViewSet, basename="profile")
    router.register("plans", PlanViewSet, basename="plan")
    router.register("plan-steps", PlanStepViewSet, basename="plan-step")
    router.register("measures", MeasureViewSet, basename="measure")
    router.register("enrollments", EnrollmentViewSet, basename="enrollment")
    router.register("transfers", TransferViewSet, basename="transfer")
    router.register("recognitions", RecognitionViewSet, basename="recognition")
