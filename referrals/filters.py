"""FilterSets shared by the UI lists and the API for persons and referrals.

They only narrow a queryset the caller already scoped through ``hub.access``; they
never widen it. Filters that depend on the actor ("my agencies") read the request's user.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub import access
from referrals.models import (
    Consent,
    Enrollment,
    EnrollmentStatus,
    Measure,
    MeasureKind,
    Person,
    Plan,
    PlanStatus,
    Profile,
    RecognitionDecision,
    RecognitionProcedure,
    Referral,
    ReferralStatus,
    ResponsibilityTransfer,
    Share,
    TransferStatus,
    Urgency,
)
from referrals.services import OPEN_FOR_ANSWER

DIRECTION_INCOMING = "incoming"
DIRECTION_OUTGOING = "outgoing"
DIRECTION_CHOICES = [(DIRECTION_INCOMING, _("incoming")), (DIRECTION_OUTGOING, _("outgoing"))]


def _actor_agency_ids(filterset: django_filters.FilterSet) -> set[int]:
    request = getattr(filterset, "request", None)
    user = getattr(request, "user", None)
    return access.agency_ids(user) if user is not None else set()


class PersonFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    responsible_agency = django_filters.NumberFilter(label=_("Responsible agency"), field_name="responsible_agency_id")
    nationality = django_filters.CharFilter(label=_("Nationality"), lookup_expr="icontains", max_length=100)

    class Meta:
        model = Person
        fields = ["q", "responsible_agency", "nationality"]

    def search(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        condition = Q()
        for term in value.split():
            condition &= (
                Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(reference__iexact=term.strip())
            )
        return queryset.filter(condition)


class ReferralFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ReferralStatus.choices)
    direction = django_filters.ChoiceFilter(label=_("Direction"), choices=DIRECTION_CHOICES, method="filter_direction")
    urgency = django_filters.ChoiceFilter(label=_("Urgency"), choices=Urgency.choices)
    overdue = django_filters.BooleanFilter(label=_("Answer overdue"), method="filter_overdue")
    agency = django_filters.NumberFilter(label=_("Agency"), method="filter_agency")

    class Meta:
        model = Referral
        fields = ["status", "direction", "urgency", "overdue", "agency"]

    def filter_direction(self, queryset: QuerySet[Referral], name: str, value: str) -> QuerySet[Referral]:
        own = _actor_agency_ids(self)
        if value == DIRECTION_INCOMING:
            return queryset.filter(to_agency_id__in=own)
        if value == DIRECTION_OUTGOING:
            return queryset.filter(from_agency_id__in=own)
        return queryset

    def filter_overdue(self, queryset: QuerySet[Referral], name: str, value: bool | None) -> QuerySet[Referral]:
        late = Q(status__in=OPEN_FOR_ANSWER, answer_due_on__lt=timezone.localdate())
        if value is None:
            return queryset
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_agency(self, queryset: QuerySet[Referral], name: str, value: Any) -> QuerySet[Referral]:
        """The other side or either side: a referral from or to that agency."""
        return queryset.filter(Q(from_agency_id=value) | Q(to_agency_id=value))


class ConsentFilterSet(django_filters.FilterSet):
    person = django_filters.NumberFilter(label=_("Person"), field_name="person_id")
    is_revoked = django_filters.BooleanFilter(
        label=_("Revoked"), field_name="revoked_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = Consent
        fields = ["person", "is_revoked"]


class ShareFilterSet(django_filters.FilterSet):
    person = django_filters.NumberFilter(label=_("Person"), field_name="person_id")
    is_active = django_filters.BooleanFilter(label=_("Active"), field_name="ended_at", lookup_expr="isnull")

    class Meta:
        model = Share
        fields = ["person", "is_active"]


# Profiling, plans, measures, transfers and recognition -----------------------------------


class MeasureFilterSet(django_filters.FilterSet):
    """Expects the annotated catalogue of ``referrals.selectors.measure_catalogue`` (free seats)."""

    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=MeasureKind.choices)
    free_seats = django_filters.BooleanFilter(label=_("Free seats"), method="filter_free_seats")
    starts_after = django_filters.DateFilter(label=_("Starts on or after"), field_name="starts_on", lookup_expr="gte")
    provider = django_filters.NumberFilter(label=_("Provider"), field_name="provider_id")
    is_open = django_filters.BooleanFilter(label=_("Open for enrolment"))

    class Meta:
        model = Measure
        fields = ["q", "kind", "free_seats", "starts_after", "provider", "is_open"]

    def search(self, queryset: QuerySet[Measure], name: str, value: str) -> QuerySet[Measure]:
        return queryset.filter(
            Q(title__icontains=value)
            | Q(description__icontains=value)
            | Q(languages__icontains=value)
            | Q(location__icontains=value)
            | Q(provider__name__icontains=value)
        )

    def filter_free_seats(self, queryset: QuerySet[Measure], name: str, value: bool | None) -> QuerySet[Measure]:
        if value is None:
            return queryset
        # The catalogue annotates free_seats; a Q keeps the type checker from looking for a column.
        free = Q(free_seats__gt=0)
        return queryset.filter(free) if value else queryset.exclude(free)


class PlanFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=PlanStatus.choices)
    person = django_filters.NumberFilter(label=_("Person"), field_name="person_id")

    class Meta:
        model = Plan
        fields = ["q", "status", "person"]

    def search(self, queryset: QuerySet[Plan], name: str, value: str) -> QuerySet[Plan]:
        condition = Q()
        for term in value.split():
            condition &= (
                Q(person__first_name__icontains=term)
                | Q(person__last_name__icontains=term)
                | Q(person__reference__iexact=term)
            )
        return queryset.filter(condition)


class ProfileFilterSet(django_filters.FilterSet):
    person = django_filters.NumberFilter(label=_("Person"), field_name="person_id")

    class Meta:
        model = Profile
        fields = ["person"]


class EnrollmentFilterSet(django_filters.FilterSet):
    measure = django_filters.NumberFilter(label=_("Measure"), field_name="measure_id")
    person = django_filters.NumberFilter(label=_("Person"), field_name="person_id")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=EnrollmentStatus.choices)

    class Meta:
        model = Enrollment
        fields = ["measure", "person", "status"]


class TransferFilterSet(django_filters.FilterSet):
    person = django_filters.NumberFilter(label=_("Person"), field_name="person_id")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TransferStatus.choices)
    direction = django_filters.ChoiceFilter(label=_("Direction"), choices=DIRECTION_CHOICES, method="filter_direction")

    class Meta:
        model = ResponsibilityTransfer
        fields = ["person", "status", "direction"]

    def filter_direction(
        self, queryset: QuerySet[ResponsibilityTransfer], name: str, value: str
    ) -> QuerySet[ResponsibilityTransfer]:
        own = _actor_agency_ids(self)
        if value == DIRECTION_INCOMING:
            return queryset.filter(to_agency_id__in=own)
        if value == DIRECTION_OUTGOING:
            return queryset.filter(from_agency_id__in=own)
        return queryset


class RecognitionFilterSet(django_filters.FilterSet):
    person = django_filters.NumberFilter(label=_("Person"), field_name="person_id")
    decision = django_filters.ChoiceFilter(label=_("Decision"), choices=RecognitionDecision.choices)

    class Meta:
        model = RecognitionProcedure
        fields = ["person", "decision"]
