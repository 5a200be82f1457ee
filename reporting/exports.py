"""A dashboard's tables as CSV and XLSX files, for the reports a county writes about its round table.

Every file starts with a short heading (what the figures are about, the period, the agency filter,
the day of the export and, for a round table, what "<5" and "–" mean), then the tables of
``reporting.tables``: all of them, or the one named by ``?table=``. In a CSV file the tables follow
each other, each under its title and after a blank line; in an XLSX file each table has a sheet of
its own, with the heading on top, so a sheet copied elsewhere still says what it shows.

A cell is written as its value, a number a spreadsheet can sum, or as its display text where it has
no value. A suppressed cell never has one (``reporting.tables``), so these files print "<5" or "–"
for it and cannot leak the number; ``Figure.cases`` is not part of any table.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import formats
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from hub.exports import SHEET_NAME_LENGTH, Sheet, csv_response, xlsx_response
from reporting.figures import Dashboard
from reporting.tables import TABLE_KEYS, Table, tables

# A figure's name cut to fewer letters than this says nothing; the sheet is named by the figure alone.
SHORTEST_FIGURE_NAME = 8

Line = list[Any]


class TableChoiceForm(forms.Form):
    """``?table=``: one table of the dashboard by its key; empty or absent for all of them."""

    table = forms.ChoiceField(
        label=gettext_lazy("Table"), required=False, choices=[("", "")] + [(key, key) for key in TABLE_KEYS]
    )

    @property
    def table_key(self) -> str:
        key: str = self.cleaned_data.get("table") or ""
        return key


def chosen_tables(dashboard: Dashboard, table_key: str = "") -> list[Table]:
    found = tables(dashboard)
    return [table for table in found if table.key == table_key] if table_key else found


def _day(value: Any) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def heading(dashboard: Dashboard) -> list[Line]:
    scope, period = dashboard.scope, dashboard.period
    lines: list[Line] = [
        [_("Round table") if scope.is_workspace else _("Agency"), scope.name],
        [_("Period"), f"{_day(period.start)} – {_day(period.end)}"],
    ]
    if scope.filtered_by is not None:
        lines.append([_("Agency filter"), scope.agency_names.get(scope.filtered_by, "")])
    lines.append([_("Exported on"), _day(dashboard.today)])
    if scope.suppress:
        lines.append(
            [
                _(
                    "“<5” stands for one to four persons (or their referrals, seats or outcomes); “–” for no "
                    "value, or for a value hidden because it rests on fewer than five persons or would give "
                    "a hidden number away."
                )
            ]
        )
    return lines


def table_lines(table: Table) -> list[Line]:
    """The table's header and rows: values where there are any, else the display ("<5", "–", a unit)."""
    return [list(table.columns)] + [
        [row.label, *(cell.display if cell.value is None else cell.value for cell in row.cells)] for row in table.rows
    ]


def filename(dashboard: Dashboard, extension: str, table_key: str = "") -> str:
    """``kennzahlen-<scope>-<start>-<end>[-<agency>][-<table>].<extension>``, ASCII only."""
    scope, period = dashboard.scope, dashboard.period
    parts = [
        slugify(pgettext("export file name", "figures")) or "figures",
        slugify(scope.name) or scope.kind,
        period.start.isoformat(),
        period.end.isoformat(),
    ]
    if scope.filtered_by is not None:
        parts.append(slugify(scope.agency_names.get(scope.filtered_by, "")) or str(scope.filtered_by))
    if table_key:
        parts.append(slugify(table_key.replace(".", "-")))
    return f"{'-'.join(parts)}.{extension}"


def csv_export(dashboard: Dashboard, table_key: str = "") -> StreamingHttpResponse:
    first, *lines = heading(dashboard)
    for table in chosen_tables(dashboard, table_key):
        lines += [[], [table.title], *table_lines(table)]
    return csv_response(filename(dashboard, "csv", table_key), first, lines)


def sheet_name(dashboard: Dashboard, table: Table) -> str:
    """A tab shows 31 characters: where the title is longer, the figure's name gives way to the
    series' ("Gesendete Überwei…, Nach Status"), which tells a figure's tables apart; where the
    series' name is too long for that, the figure's name alone (the sheet's title line says all)."""
    figure = dashboard.figures.get(table.figure)
    if figure is None:
        return table.title
    series = table.columns[0]
    name = f"{figure.label}, {series}"
    room = SHEET_NAME_LENGTH - len(series) - len("…, ")
    if len(name) <= SHEET_NAME_LENGTH:
        return name
    if room < SHORTEST_FIGURE_NAME:
        return figure.label
    return f"{figure.label[:room].rstrip()}…, {series}"


def xlsx_export(dashboard: Dashboard, table_key: str = "") -> HttpResponse:
    top = heading(dashboard)
    sheets = []
    for table in chosen_tables(dashboard, table_key):
        header, *rows = table_lines(table)
        name = sheet_name(dashboard, table)
        sheets.append(Sheet(name=name, header=header, rows=rows, preamble=[*top, [], [table.title]]))
    return xlsx_response(filename(dashboard, "xlsx", table_key), sheets)
