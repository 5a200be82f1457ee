"""FilterSets shared by the housing pages and the API.

They only narrow a queryset the caller already scoped through ``hub.access``; they never widen it.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from housing.models import (
    MAX_HOUSEHOLD_SIZE,
    Accessibility,
    HousingRequest,
    LeaseHolder,
    Listing,
    ListingStatus,
    RentLimit,
    RequestStatus,
    Reservation,
    ReservationStatus,
    Tenancy,
    TenancyStatus,
)
from housing.selectors import within_limit_for
from hub import access

DIRECTION_CHOICES = [("incoming", _("to my housing office")), ("outgoing", _("from my agency"))]


class ListingFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ListingStatus.choices)
    district = django_filters.CharFilter(
        label=_("District"), field_name="district", lookup_expr="iexact", max_length=100
    )
    comparison_area = django_filters.CharFilter(label=_("Comparison area"), lookup_expr="iexact", max_length=100)
    rooms_min = django_filters.NumberFilter(
        label=_("Rooms at least"), field_name="rooms", lookup_expr="gte", min_value=0
    )
    rooms_max = django_filters.NumberFilter(
        label=_("Rooms at most"), field_name="rooms", lookup_expr="lte", min_value=0
    )
    free_from = django_filters.DateFilter(label=_("Free by"), method="filter_free_from")
    accessibility = django_filters.TypedChoiceFilter(
        label=_("Accessibility at least"), choices=Accessibility.choices, coerce=int, method="filter_accessibility"
    )
    within_limit_for = django_filters.NumberFilter(
        label=_("Within the rent limit for a household of"),
        method="filter_within_limit",
        min_value=1,
        max_value=MAX_HOUSEHOLD_SIZE,
    )
    owner_agency = django_filters.NumberFilter(label=_("Managing agency"), field_name="owner_agency_id")

    class Meta:
        model = Listing
        fields = [
            "q",
            "status",
            "district",
            "comparison_area",
            "rooms_min",
            "rooms_max",
            "free_from",
            "accessibility",
            "within_limit_for",
            "owner_agency",
        ]

    def search(self, queryset: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        condition = Q()
        for term in value.split():
            condition &= (
                Q(street__icontains=term)
                | Q(city__icontains=term)
                | Q(district__icontains=term)
                | Q(title__icontains=term)
                | Q(reference__iexact=term)
            )
        return queryset.filter(condition)

    def filter_free_from(self, queryset: QuerySet[Listing], name: str, value: Any) -> QuerySet[Listing]:
        """Available flats that are free on that date at the latest."""
        return queryset.filter(status=ListingStatus.AVAILABLE, available_from__lte=value)

    def filter_accessibility(self, queryset: QuerySet[Listing], name: str, value: Any) -> QuerySet[Listing]:
        return queryset.filter(accessibility__gte=value)

    def filter_within_limit(self, queryset: QuerySet[Listing], name: str, value: Any) -> QuerySet[Listing]:
        return within_limit_for(queryset, int(value))


class RentLimitFilterSet(django_filters.FilterSet):
    comparison_area = django_filters.CharFilter(label=_("Comparison area"), lookup_expr="iexact", max_length=100)
    household_size = django_filters.NumberFilter(label=_("Household size"), min_value=1, max_value=MAX_HOUSEHOLD_SIZE)

    class Meta:
        model = RentLimit
        fields = ["comparison_area", "household_size"]


class HousingRequestFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RequestStatus.choices)
    direction = django_filters.ChoiceFilter(label=_("Direction"), choices=DIRECTION_CHOICES, method="filter_direction")
    household = django_filters.NumberFilter(label=_("Household"), field_name="household_id")
    listing = django_filters.NumberFilter(label=_("Flat"), field_name="listing_id")

    class Meta:
        model = HousingRequest
        fields = ["status", "direction", "household", "listing"]

    def filter_direction(self, queryset: QuerySet[HousingRequest], name: str, value: str) -> QuerySet[HousingRequest]:
        user = getattr(getattr(self, "request", None), "user", None)
        own = access.agency_ids(user) if user is not None else set()
        if value == "incoming":
            return queryset.filter(to_agency_id__in=own)
        return queryset.filter(requesting_agency_id__in=own)


class ReservationFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ReservationStatus.choices)
    listing = django_filters.NumberFilter(label=_("Flat"), field_name="listing_id")
    household = django_filters.NumberFilter(label=_("Household"), field_name="household_id")

    class Meta:
        model = Reservation
        fields = ["status", "listing", "household"]


class TenancyFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TenancyStatus.choices)
    lease_holder = django_filters.ChoiceFilter(label=_("Lease held by"), choices=LeaseHolder.choices)
    listing = django_filters.NumberFilter(label=_("Flat"), field_name="listing_id")
    household = django_filters.NumberFilter(label=_("Household"), field_name="household_id")

    class Meta:
        model = Tenancy
        fields = ["status", "lease_holder", "listing", "household"]
