"""Reads on persons and their case data, scoped by ``hub.access`` and minimised by data category.

A receiving agency sees only the categories its active shares cover; ``person_fields``
and ``profile_fields`` are the one place that turns categories into visible fields, for
pages and API alike.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, ExpressionWrapper, F, IntegerField, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from agencies.models import Agency
from hub import access
from privacy import reads
from referrals.models import (
    CATEGORY_FIELDS,
    PROFILE_CATEGORY_FIELDS,
    CaseFile,
    Category,
    CEFRLevel,
    Consent,
    Enrollment,
    EnrollmentStatus,
    Household,
    Measure,
    Person,
    Plan,
    PlanStatus,
    PlanStep,
    Profile,
    QualificationKind,
    RecognitionProcedure,
    RecognitionStatus,
    Referral,
    ReferralStatusChange,
    ResponsibilityTransfer,
    Share,
)
from referrals.services import ACTIVE_ENROLLMENT, OPEN_FOR_ANSWER, OPEN_STEP_STATUSES, TERMINAL, inbox_filter

if TYPE_CHECKING:
    from hub.access import Actor


@dataclass(frozen=True)
class PersonView:
    """A person as one actor may see them: the record plus the categories they may read."""

    person: Person
    categories: frozenset[str]

    def may_see(self, category: str) -> bool:
        return category in self.categories

    @property
    def fields(self) -> dict[str, Any]:
        return person_fields(self.person, self.categories)


def person_list(actor: Actor) -> QuerySet[Person]:
    # The key last: namesakes keep their places from one page to the next.
    ordering = ("last_name", "first_name", "pk")
    return access.visible(actor, Person).select_related("responsible_agency", "household").order_by(*ordering)


def person_view(actor: Actor, pk: object) -> PersonView:
    """The person with the categories the actor may see; 404 when not visible at all.

    Every page built on it names the person, so it notes a read of their identity; a page showing
    more notes what it shows."""
    person = access.get_visible_or_404(actor, Person, pk=pk)
    reads.note(person.pk, {Category.IDENTITY})
    return PersonView(person=person, categories=access.person_categories(actor, person))


def visible_field_names(categories: frozenset[str] | set[str]) -> set[str]:
    return {field for category, fields in CATEGORY_FIELDS.items() if category in categories for field in fields}


def person_fields(person: Person, categories: frozenset[str] | set[str]) -> dict[str, Any]:
    """The person's fields of the given categories only; everything else is left out, not blanked."""
    return {field: getattr(person, field) for field in sorted(visible_field_names(categories))}


def profile_fields(profile: Profile, categories: frozenset[str] | set[str]) -> dict[str, Any]:
    return {
        field: getattr(profile, field)
        for category, fields in PROFILE_CATEGORY_FIELDS.items()
        if category in categories
        for field in fields
    }


# Persons, consents, shares and referrals for the pages (persons and inbox UI) -------------


def person_referrals(actor: Actor, person: Person) -> QuerySet[Referral]:
    """The person's referrals the actor's agencies sent or received, with their status history."""
    history = ReferralStatusChange.objects.select_related("actor", "agency").order_by("at", "id")
    return (
        access.visible(actor, Referral)
        .filter(person=person)
        .select_related("from_agency", "to_agency", "measure")
        .prefetch_related(Prefetch("history", queryset=history))
        .order_by("-created_at")
    )


def person_consents(actor: Actor, person: Person) -> QuerySet[Consent]:
    return (
        access.visible(actor, Consent)
        .filter(person=person)
        .select_related("recorded_by", "recorded_by_agency", "revoked_by")
        .prefetch_related("recipients")
        .order_by("-recorded_at")
    )


def valid_consents(actor: Actor, person: Person) -> QuerySet[Consent]:
    """The person's consents valid today, for choosing the basis of a share or referral."""
    today = timezone.localdate()
    return person_consents(actor, person).filter(
        Q(valid_until=None) | Q(valid_until__gte=today), revoked_at=None, valid_from__lte=today
    )


def person_shares(actor: Actor, person: Person) -> QuerySet[Share]:
    return (
        access.visible(actor, Share)
        .filter(person=person)
        .select_related("from_agency", "to_agency", "consent", "created_by")
        .order_by("-created_at")
    )


def person_by_reference(actor: Actor, reference: str) -> Person | None:
    return access.visible(actor, Person).filter(reference__iexact=reference.strip()).first()


def visible_households(actor: Actor) -> QuerySet[Household]:
    return access.visible(actor, Household).order_by("name")


def partner_agencies(actor: Actor) -> QuerySet[Agency]:
    """Agencies the actor can see other than their own: the possible recipients of consents, shares, referrals."""
    return access.visible(actor, Agency).exclude(pk__in=access.agency_ids(actor)).order_by("name")


def visible_person_ids(actor: Actor, person_ids: set[int]) -> set[int]:
    """Which of these persons the actor may see at all, in one query (identity travels with every share)."""
    if not person_ids:
        return set()
    return set(access.visible(actor, Person).filter(pk__in=person_ids).values_list("pk", flat=True))


def referral_list(actor: Actor) -> QuerySet[Referral]:
    return access.visible(actor, Referral).select_related("person", "from_agency", "to_agency", "measure")


def referral_detail(actor: Actor, pk: int | str) -> Referral:
    """One referral the actor's agencies sent or received; 404 otherwise."""
    try:
        referral = referral_list(actor).get(pk=pk)
    except (Referral.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    reads.note(referral.person_id, {reads.REFERRALS})
    return referral


def referral_history(referral: Referral) -> QuerySet[ReferralStatusChange]:
    return referral.history.select_related("actor", "agency").order_by("at", "id")


# The inbox: what the actor's agencies must answer, what they wait for, what is due, what closed.

RECENTLY_CLOSED_DAYS = 30


def inbox_incoming(actor: Actor) -> QuerySet[Referral]:
    own = access.agency_ids(actor)
    return (
        referral_list(actor)
        .filter(to_agency_id__in=own, status__in=OPEN_FOR_ANSWER)
        .order_by("answer_due_on", "sent_at", "pk")
    )


def inbox_outgoing(actor: Actor) -> QuerySet[Referral]:
    own = access.agency_ids(actor)
    return (
        referral_list(actor)
        .filter(from_agency_id__in=own, status__in=OPEN_FOR_ANSWER)
        .order_by("answer_due_on", "sent_at", "pk")
    )


def inbox_due(actor: Actor, today: datetime.date | None = None) -> QuerySet[Referral]:
    """Open referrals of the actor's agencies, either side, whose answer is due today or overdue."""
    today = today or timezone.localdate()
    return (
        referral_list(actor)
        .filter(inbox_filter(access.agency_ids(actor)), answer_due_on__lte=today)
        .order_by("answer_due_on", "pk")
    )


def inbox_recently_closed(actor: Actor) -> QuerySet[Referral]:
    """Outgoing referrals closed lately: the sender always learns how it ended."""
    since = timezone.now() - datetime.timedelta(days=RECENTLY_CLOSED_DAYS)
    return (
        referral_list(actor)
        .filter(from_agency_id__in=access.agency_ids(actor), status__in=TERMINAL, closed_at__gte=since)
        .order_by("-closed_at", "-pk")
    )


@dataclass(frozen=True)
class InboxCounts:
    to_answer: int
    overdue: int


def inbox_counts(actor: Actor) -> InboxCounts:
    """Counts for the navigation badge and the dashboard, in one query."""
    own = access.agency_ids(actor)
    if not own:
        return InboxCounts(0, 0)
    counts = Referral.objects.filter(inbox_filter(own)).aggregate(
        to_answer=Count("pk", filter=Q(to_agency_id__in=own)),
        overdue=Count("pk", filter=Q(answer_due_on__lt=timezone.localdate())),
    )
    return InboxCounts(to_answer=counts["to_answer"], overdue=counts["overdue"])


# Profiling, plans, measures, transfers and recognition -----------------------------------

REVIEW_WITHIN_DAYS = 14


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@dataclass(frozen=True)
class ProfileView:
    """One profile version as the actor may see it: only the parts of their categories, labelled."""

    profile: Profile
    fields: dict[str, Any]

    def shows(self, field: str) -> bool:
        return field in self.fields

    @property
    def language_rows(self) -> list[dict[str, Any]]:
        return [{**row, "level_label": _label(CEFRLevel, row.get("level"))} for row in self.fields.get("languages", [])]

    @property
    def qualification_rows(self) -> list[dict[str, Any]]:
        return [
            {
                **row,
                "kind_label": _label(QualificationKind, row.get("kind")),
                "recognition_label": _label(RecognitionStatus, row.get("recognition")),
            }
            for row in self.fields.get("qualifications", [])
        ]

    @property
    def work_rows(self) -> list[dict[str, Any]]:
        return list(self.fields.get("work_experience", []))


def profile_versions(actor: Actor, person: Person) -> list[ProfileView]:
    """Every version of the person's profile, newest first, minimised to the actor's categories."""
    categories = access.person_categories(actor, person)
    versions = (
        access.visible(actor, Profile).filter(person=person).select_related("created_by", "agency").order_by("-version")
    )
    found = [ProfileView(profile, profile_fields(profile, categories)) for profile in versions]
    if found:
        reads.note(person.pk, categories & set(PROFILE_CATEGORY_FIELDS))
    return found


def profile_detail(actor: Actor, pk: int | str) -> ProfileView:
    profile = access.get_visible_or_404(actor, Profile, pk=pk)
    categories = access.person_categories(actor, profile.person)
    reads.note(profile.person_id, {Category.IDENTITY} | (categories & set(PROFILE_CATEGORY_FIELDS)))
    return ProfileView(profile, profile_fields(profile, categories))


def profile_list(actor: Actor) -> QuerySet[Profile]:
    return (
        access.visible(actor, Profile).select_related("person", "created_by", "agency").order_by("person", "-version")
    )


def sees_any(actor: Actor, person: Person, categories: set[str] | frozenset[str]) -> bool:
    return bool(access.person_categories(actor, person) & set(categories))


# Plans and their progress


def plan_list(actor: Actor) -> QuerySet[Plan]:
    steps = PlanStep.objects.select_related("owner_agency").order_by("position", "id")
    return (
        access.visible(actor, Plan)
        .select_related("person", "agency", "created_by")
        .prefetch_related(Prefetch("steps", queryset=steps))
        .order_by("-created_at", "-pk")
    )


def plan_detail(actor: Actor, pk: int | str) -> Plan:
    try:
        plan = plan_list(actor).get(pk=pk)
    except (Plan.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    reads.note(plan.person_id, {Category.IDENTITY, Category.PLAN})
    return plan


def person_plans(actor: Actor, person: Person) -> QuerySet[Plan]:
    reads.note(person.pk, {Category.PLAN})
    return plan_list(actor).filter(person=person)


@dataclass(frozen=True)
class PlanProgress:
    """Progress controlling: the open steps past their due date, and the next open step of the chain."""

    late: list[PlanStep]
    next: PlanStep | None

    def is_late(self, step: PlanStep) -> bool:
        return step in self.late


def plan_progress(plan: Plan, today: datetime.date | None = None) -> PlanProgress:
    """Reads the plan's steps as ``plan_list`` prefetched them, so a page of plans costs no extra query."""
    today = today or timezone.localdate()
    steps = sorted(plan.steps.all(), key=lambda step: (step.position, step.pk))
    open_steps = [step for step in steps if step.status in OPEN_STEP_STATUSES]
    late = [step for step in open_steps if step.due_on is not None and step.due_on < today]
    upcoming = [step for step in open_steps if step not in late]
    return PlanProgress(late=late, next=upcoming[0] if upcoming else None)


def plans_due_for_review(actor: Actor, today: datetime.date | None = None) -> QuerySet[Plan]:
    """Open plans of the actor's agencies whose review is within the next two weeks or overdue."""
    today = today or timezone.localdate()
    return (
        plan_list(actor)
        .filter(
            agency_id__in=access.agency_ids(actor),
            review_on__lte=today + datetime.timedelta(days=REVIEW_WITHIN_DAYS),
        )
        .exclude(status=PlanStatus.CLOSED)
        .order_by("review_on", "pk")
    )


def late_steps(actor: Actor, today: datetime.date | None = None) -> QuerySet[PlanStep]:
    """Open steps past their due date, of plans the actor's agencies keep or steps they own."""
    today = today or timezone.localdate()
    own = access.agency_ids(actor)
    return (
        access.visible(actor, PlanStep)
        .filter(Q(plan__agency_id__in=own) | Q(owner_agency_id__in=own))
        .filter(status__in=OPEN_STEP_STATUSES, due_on__lt=today)
        .exclude(plan__status=PlanStatus.CLOSED)
        .select_related("plan", "plan__person", "owner_agency")
        .order_by("due_on", "pk")
    )


def plan_step_detail(actor: Actor, pk: int | str) -> PlanStep:
    try:
        step = access.visible(actor, PlanStep).select_related("plan", "plan__person", "owner_agency").get(pk=pk)
    except (PlanStep.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    reads.note(step.plan.person_id, {Category.IDENTITY, Category.PLAN})
    return step


def working_agencies(actor: Actor) -> QuerySet[Agency]:
    """The agencies the actor sees (their own and their round tables'): owners of steps, targets of transfers."""
    return access.visible(actor, Agency).order_by("name")


# Measures and enrolments


def measure_catalogue(actor: Actor) -> QuerySet[Measure]:
    """The offers with their seats taken, free seats and waiting list, counted in the same query."""
    return (
        access.visible(actor, Measure)
        .select_related("provider")
        .annotate(
            enrolled_count=Count("enrollments", filter=Q(enrollments__status=EnrollmentStatus.ENROLLED)),
            waitlist_count=Count("enrollments", filter=Q(enrollments__status=EnrollmentStatus.WAITLISTED)),
        )
        .annotate(free_seats=ExpressionWrapper(F("seats") - F("enrolled_count"), output_field=IntegerField()))
        .order_by("starts_on", "title", "pk")
    )


def measure_detail(actor: Actor, pk: int | str) -> Measure:
    try:
        return measure_catalogue(actor).get(pk=pk)
    except (Measure.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def measure_providers(actor: Actor) -> QuerySet[Agency]:
    """The providers of the offers in the catalogue, which names them anyway: for choosing one in a filter."""
    return Agency.objects.filter(pk__in=access.visible(actor, Measure).values("provider_id")).order_by("name")


def measure_provider_agencies(actor: Actor) -> list[Agency]:
    """The course providers whose offers the actor maintains (asked of the policy for each own agency)."""
    own = Agency.objects.filter(pk__in=access.agency_ids(actor)).order_by("name")
    return [agency for agency in own if access.can(actor, "change", Measure(provider=agency))]


@dataclass(frozen=True)
class EnrollmentRow:
    """An enrolment as the actor sees it: the person's name only where the actor may see the person."""

    enrollment: Enrollment
    person_name: str | None
    may_cancel: bool
    may_complete: bool

    @property
    def person_label(self) -> str:
        return self.person_name or self.enrollment.person.reference


def enrollment_list(actor: Actor) -> QuerySet[Enrollment]:
    return (
        access.visible(actor, Enrollment)
        .select_related("measure", "measure__provider", "person", "requested_by_agency")
        .order_by("measure", "status", "waitlist_position", "created_at", "pk")
    )


def enrollment_detail(actor: Actor, pk: int | str) -> Enrollment:
    try:
        return enrollment_list(actor).get(pk=pk)
    except (Enrollment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def measure_enrollments(actor: Actor, measure: Measure) -> list[EnrollmentRow]:
    """The enrolments of a measure the actor may see: all for the provider, the own persons' for others."""
    enrollments = list(
        enrollment_list(actor).filter(measure=measure).order_by("status", "waitlist_position", "created_at", "pk")
    )
    names = visible_person_ids(actor, {enrollment.person_id for enrollment in enrollments})
    # Who takes part is plan data; the name shows only where the actor sees the person anyway.
    reads.note([enrollment.person_id for enrollment in enrollments], {Category.PLAN})
    reads.note(names, {Category.IDENTITY})
    # The provider may cancel and complete every enrolment of its offers (hub.access): asked once, not per row.
    provider = access.can(actor, "change", measure)
    rows = []
    for enrollment in enrollments:
        enrollment.measure = measure
        active = enrollment.status in ACTIVE_ENROLLMENT
        rows.append(
            EnrollmentRow(
                enrollment=enrollment,
                person_name=str(enrollment.person) if enrollment.person_id in names else None,
                may_cancel=active and (provider or access.can(actor, "cancel", enrollment)),
                may_complete=enrollment.status == EnrollmentStatus.ENROLLED and provider,
            )
        )
    return rows


def enrollable_persons(actor: Actor, measure: Measure | None = None) -> QuerySet[Person]:
    """Persons whose files the actor's agencies hold and who are not enrolled or waiting for ``measure`` yet."""
    agencies = access.agency_ids(actor, *access.CASE_ROLES)
    persons = access.visible(actor, Person).filter(
        pk__in=CaseFile.objects.filter(agency_id__in=agencies, closed_at=None).values("person_id")
    )
    if measure is not None:
        persons = persons.exclude(
            pk__in=Enrollment.objects.filter(measure=measure, status__in=ACTIVE_ENROLLMENT).values("person_id")
        )
    return persons.order_by("last_name", "first_name", "pk")


# Transfers of responsibility and recognition procedures


def transfer_list(actor: Actor) -> QuerySet[ResponsibilityTransfer]:
    return (
        access.visible(actor, ResponsibilityTransfer)
        .select_related("person", "from_agency", "to_agency", "proposed_by", "decided_by")
        .order_by("-proposed_at", "-pk")
    )


def transfer_detail(actor: Actor, pk: int | str) -> ResponsibilityTransfer:
    try:
        transfer = transfer_list(actor).get(pk=pk)
    except (ResponsibilityTransfer.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    reads.note(transfer.person_id, {reads.TRANSFERS})
    return transfer


def recognition_list(actor: Actor) -> QuerySet[RecognitionProcedure]:
    return (
        access.visible(actor, RecognitionProcedure)
        .select_related("person", "agency", "created_by")
        .order_by("-created_at", "-pk")
    )


def recognition_detail(actor: Actor, pk: int | str) -> RecognitionProcedure:
    try:
        recognition = recognition_list(actor).get(pk=pk)
    except (RecognitionProcedure.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    reads.note(recognition.person_id, {Category.IDENTITY, Category.EDUCATION})
    return recognition
