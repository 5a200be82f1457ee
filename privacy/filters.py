"""The read-access log's search, shared by the data-protection officer's page, its CSV export and the API.

It only narrows the log as ``hub.access`` scoped it (the reads of the officer's own agencies). A
search names a person (by case reference) or a staff member: the log is evaluated for a reason,
never browsed as a whole (its evaluation is agreed with the staff council).
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Staff, User
from hub import access
from privacy.models import ReadAccess
from referrals.models import Person

# "Who opened this person's file in the last 90 days": the period a search covers unless told.
DEFAULT_PERIOD_DAYS = 90


def officer_staff(actor: Any) -> QuerySet[Staff]:
    """The staff of the agencies where the actor is data-protection officer, as far as the actor sees them."""
    return (
        access.visible(actor, Staff)
        .filter(agency_id__in=access.dpo_agencies(actor))
        .select_related("user", "agency")
        .order_by("user__last_name", "user__first_name", "pk")
    )


def _staff_users(request: Any) -> QuerySet[User]:
    user = getattr(request, "user", None)
    if user is None:
        return User.objects.none()
    return User.objects.filter(pk__in=officer_staff(user).values("user_id")).order_by("last_name", "first_name")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class StaffFilter(django_filters.ModelChoiceFilter):
    field_class = StaffChoiceField


class ReadAccessForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise ValidationError({"until": _("The end lies before the start.")})
        return data


class ReadAccessFilterSet(django_filters.FilterSet):
    reference = django_filters.CharFilter(label=_("Case reference"), method="by_reference", max_length=20)
    user = StaffFilter(label=_("Staff member"), queryset=_staff_users, field_name="user")
    since = django_filters.DateFilter(label=_("From"), field_name="at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("Until"), field_name="at", lookup_expr="date__lte")

    class Meta:
        model = ReadAccess
        fields = ["reference", "user", "since", "until"]
        form = ReadAccessForm

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # Without a start the search covers the last 90 days.
        if data is not None and not data.get("since"):
            data = data.copy() if isinstance(data, QueryDict) else dict(data)
            data["since"] = (timezone.localdate() - datetime.timedelta(days=DEFAULT_PERIOD_DAYS)).isoformat()
        super().__init__(data, *args, **kwargs)
        for name in ("since", "until"):
            self.form.fields[name].widget.input_type = "date"

    @property
    def has_subject(self) -> bool:
        """Whether the search names a person or a staff member (the log is not browsed as a whole)."""
        if not self.is_bound or not self.form.is_valid():
            return False
        return bool(self.form.cleaned_data.get("reference") or self.form.cleaned_data.get("user"))

    def by_reference(self, queryset: QuerySet[ReadAccess], name: str, value: str) -> QuerySet[ReadAccess]:
        """Reads of the person with this case reference, and of the duplicates merged into them.

        The reference is looked up among all persons, not only the visible ones: the answer is the
        own agency's reads either way, empty for a person it never read, so it tells nothing more."""
        wanted = value.strip()
        persons = Person.objects.filter(Q(reference__iexact=wanted) | Q(merged_into__reference__iexact=wanted))
        return queryset.filter(person_id__in=persons.values("pk"))
