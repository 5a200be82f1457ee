"""FilterSets shared by the UI lists and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, AgencyKind, Role, Staff, Workspace


class AgencyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=AgencyKind.choices)

    class Meta:
        model = Agency
        fields = ["q", "kind"]

    def search(self, queryset: QuerySet[Agency], name: str, value: str) -> QuerySet[Agency]:
        return queryset.filter(Q(name__icontains=value) | Q(short_name__icontains=value) | Q(city__icontains=value))


class StaffFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    agency = django_filters.NumberFilter(label=_("Agency"), field_name="agency_id")
    role = django_filters.ChoiceFilter(label=_("Role"), choices=Role.choices, method="filter_role")
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Staff
        fields = ["q", "agency", "role", "is_active"]

    def search(self, queryset: QuerySet[Staff], name: str, value: str) -> QuerySet[Staff]:
        return queryset.filter(
            Q(user__first_name__icontains=value)
            | Q(user__last_name__icontains=value)
            | Q(user__username__icontains=value)
            | Q(job_title__icontains=value)
        )

    def filter_role(self, queryset: QuerySet[Staff], name: str, value: str) -> QuerySet[Staff]:
        return queryset.filter(**{f"is_{value}": True})


class WorkspaceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    is_archived = django_filters.BooleanFilter(label=_("Archived"))

    class Meta:
        model = Workspace
        fields = ["q", "is_archived"]

    def search(self, queryset: QuerySet[Workspace], name: str, value: str) -> QuerySet[Workspace]:
        return queryset.filter(Q(name__icontains=value) | Q(purpose__icontains=value))
