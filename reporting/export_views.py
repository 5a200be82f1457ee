"""The dashboard's tables as CSV and XLSX downloads, for a round table and for one agency.

The target is checked first (``reporting.web.load``: anything the actor may not see is a 404), then
the query string: an invalid period or agency filter, or a table that does not exist, answers 400
with a page naming the field, since a download link cannot show a form error.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from hub.views import HubRequest
from reporting import exports
from reporting.figures import Dashboard
from reporting.web import AGENCY, WORKSPACE, load

Writer = Callable[[Dashboard, str], HttpResponseBase]


def _invalid(request: HubRequest, kind: str, pk: int, checked: list[forms.Form]) -> HttpResponse:
    errors = [
        (form.fields[name].label if name in form.fields else "", message)
        for form in checked
        for name, messages in form.errors.items()
        for message in messages
    ]
    back = reverse("reporting-workspace" if kind == WORKSPACE else "reporting-agency", args=[pk])
    return render(request, "reporting/export_invalid.html", {"errors": errors, "back": back}, status=400)


def _export(request: HubRequest, kind: str, pk: int, write: Writer) -> HttpResponseBase:
    loaded = load(request.user, kind, pk, request.GET)
    choice = exports.TableChoiceForm(request.GET)
    if loaded.dashboard is None or not choice.is_valid():
        return _invalid(request, kind, pk, [loaded.form, choice])
    return write(loaded.dashboard, choice.table_key)


@login_required
@require_GET
def workspace_csv(request: HubRequest, pk: int) -> HttpResponseBase:
    return _export(request, WORKSPACE, pk, exports.csv_export)


@login_required
@require_GET
def workspace_xlsx(request: HubRequest, pk: int) -> HttpResponseBase:
    return _export(request, WORKSPACE, pk, exports.xlsx_export)


@login_required
@require_GET
def agency_csv(request: HubRequest, pk: int) -> HttpResponseBase:
    return _export(request, AGENCY, pk, exports.csv_export)


@login_required
@require_GET
def agency_xlsx(request: HubRequest, pk: int) -> HttpResponseBase:
    return _export(request, AGENCY, pk, exports.xlsx_export)
