"""FilterSets of meetings and action items, shared by the pages and the API.

They only narrow a queryset the caller already scoped through ``hub.access``; they never widen it.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.models import ActionItem, ActionItemStatus, Meeting, MeetingStatus


class MeetingFilterSet(django_filters.FilterSet):
    workspace = django_filters.NumberFilter(label=_("Round table"), field_name="workspace_id")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=MeetingStatus.choices)
    starts_from = django_filters.DateFilter(label=_("From"), field_name="starts_at__date", lookup_expr="gte")
    starts_until = django_filters.DateFilter(label=_("Until"), field_name="starts_at__date", lookup_expr="lte")
    upcoming = django_filters.BooleanFilter(label=_("Upcoming only"), method="filter_upcoming")

    class Meta:
        model = Meeting
        fields = ["workspace", "status", "starts_from", "starts_until", "upcoming"]

    def filter_upcoming(self, queryset: QuerySet[Meeting], name: str, value: Any) -> QuerySet[Meeting]:
        today = timezone.localdate()
        if value:
            return queryset.filter(status=MeetingStatus.PLANNED, starts_at__date__gte=today)
        return queryset.exclude(status=MeetingStatus.PLANNED, starts_at__date__gte=today)


class ActionItemFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ActionItemStatus.choices)
    owner_agency = django_filters.NumberFilter(label=_("Responsible agency"), field_name="owner_agency_id")
    owner = django_filters.NumberFilter(label=_("Responsible person"), field_name="owner_id")
    meeting = django_filters.NumberFilter(label=_("Meeting"), field_name="meeting_id")
    workspace = django_filters.NumberFilter(label=_("Round table"), field_name="meeting__workspace_id")
    overdue = django_filters.BooleanFilter(label=_("Overdue"), field_name="is_overdue")
    due_until = django_filters.DateFilter(label=_("Due by"), field_name="due_on", lookup_expr="lte")

    class Meta:
        model = ActionItem
        fields = ["status", "owner_agency", "owner", "meeting", "workspace", "overdue", "due_until"]
