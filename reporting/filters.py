"""The period and agency a dashboard shows, read from the query string alike by the page, its exports
and the API.

A period is either one of the spans counties report on (``PRESETS``) or a start and an end date;
dates given win over the preset. The agency filter offers the scope's agencies only: any other
agency is a form error, not a hint that it exists.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agencies.models import Agency
from reporting.figures import Period

# Monthly series over more than ten years would be unreadable, and such a query is a mistake.
LONGEST_PERIOD_DAYS = 3660
# A period's end needs a next day and a next month (``Period.ends_before``, ``Period.months``),
# which the last days of the calendar do not have.
LATEST_END = datetime.date(9998, 12, 31)


def _quarter_start(day: datetime.date) -> datetime.date:
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


def _this_year(today: datetime.date) -> Period:
    return Period(today.replace(month=1, day=1), today)


def _last_year(today: datetime.date) -> Period:
    return Period(datetime.date(today.year - 1, 1, 1), datetime.date(today.year - 1, 12, 31))


def _this_quarter(today: datetime.date) -> Period:
    return Period(_quarter_start(today), today)


def _last_quarter(today: datetime.date) -> Period:
    end = _quarter_start(today) - datetime.timedelta(days=1)
    return Period(_quarter_start(end), end)


def _last_twelve_months(today: datetime.date) -> Period:
    """This month and the eleven before it."""
    year, month = (today.year, today.month - 11) if today.month == 12 else (today.year - 1, today.month + 1)
    return Period(datetime.date(year, month, 1), today)


PRESETS: dict[str, tuple[Any, Callable[[datetime.date], Period]]] = {
    "this_year": (_("This year so far"), _this_year),
    "last_year": (_("Last year"), _last_year),
    "this_quarter": (_("This quarter so far"), _this_quarter),
    "last_quarter": (_("Last quarter"), _last_quarter),
    "last_12_months": (_("Last 12 months"), _last_twelve_months),
}
DEFAULT_PRESET = "this_year"


class AgencyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.short_name or obj.name)


class FigureFilterForm(forms.Form):
    preset = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[(key, label) for key, (label, _period) in PRESETS.items()],
    )
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Dates take precedence over the chosen period."),
    )
    end = forms.DateField(
        label=pgettext_lazy("end of a period", "To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    agency = AgencyChoiceField(
        label=_("Agency"), required=False, queryset=Agency.objects.none(), empty_label=_("All agencies")
    )

    def __init__(self, data: Any, *, agencies: Any = None, today: datetime.date | None = None) -> None:
        """``agencies``: the agencies a workspace's figures may be narrowed to; ``None`` for one agency's
        own figures, which have no agency filter."""
        super().__init__(data)
        self.today = today or timezone.localdate()
        if agencies is None:
            del self.fields["agency"]
        else:
            agency_field = cast("AgencyChoiceField", self.fields["agency"])
            agency_field.queryset = agencies.order_by("short_name", "name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if self.errors:
            return data
        if start or end:
            start = start or (end or self.today).replace(month=1, day=1)
            end = end or max(self.today, start)
            if end < start:
                self.add_error("end", _("The period ends on or after its start."))
                return data
            if (end - start).days > LONGEST_PERIOD_DAYS:
                self.add_error("start", _("A period covers at most ten years."))
                return data
            if end > LATEST_END:
                field = "end" if data.get("end") else "start"
                self.add_error(field, self.fields[field].error_messages["invalid"])
                return data
            data["period"] = Period(start, end)
            data["preset"] = ""
        else:
            preset = data.get("preset") or DEFAULT_PRESET
            data["preset"] = preset
            data["period"] = PRESETS[preset][1](self.today)
        return data

    @property
    def period(self) -> Period:
        period: Period = self.cleaned_data["period"]
        return period

    @property
    def chosen_agency(self) -> Agency | None:
        return self.cleaned_data.get("agency")


def query_string(form: FigureFilterForm) -> str:
    """The form's valid choice as a query string, for export links and the API."""
    params = {"start": form.period.start.isoformat(), "end": form.period.end.isoformat()}
    if form.chosen_agency is not None:
        params["agency"] = str(form.chosen_agency.pk)
    return urlencode(params)
