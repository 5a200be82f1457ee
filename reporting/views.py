"""The dashboard pages: a round table's figures and an agency's own, with period and agency filters.

The page shows each figure as a card, each series as a chart with its table, and links every table
to its CSV and XLSX export with the same query. It follows the live events of the things it counts,
so a referral accepted elsewhere moves the figures in the open page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from agencies.models import Agency, Workspace
from hub import access
from hub.views import HubRequest
from hub.web import list_response
from reporting.charts import chart_of
from reporting.filters import query_string
from reporting.tables import OVERVIEW, tables
from reporting.web import AGENCY, WORKSPACE, load

# Flats and action items are counted as they are today, whatever the period.
CURRENT_FIGURES = frozenset(
    {"flats_available", "flats_reserved", "flats_occupied", "action_items_open", "action_items_overdue"}
)
LIVE_TOPICS = "referral casefile person enrollment planstep listing reservation tenancy actionitem"


@login_required
@require_GET
def index(request: HubRequest) -> HttpResponse:
    """Which figures the user may open: their own agencies' and their round tables'."""
    agencies = Agency.objects.filter(pk__in=access.agency_ids(request.user)).order_by("name")
    workspaces = access.visible(request.user, Workspace).filter(is_archived=False).order_by("name")
    return render(request, "reporting/index.html", {"agencies": agencies, "workspaces": workspaces})


def _figures_page(request: HubRequest, kind: str, pk: int) -> HttpResponse:
    loaded = load(request.user, kind, pk, request.GET)
    context = {"loaded": loaded, "kind": kind, "live_topics": LIVE_TOPICS, "current_figures": CURRENT_FIGURES}
    if loaded.dashboard is not None:
        all_tables = tables(loaded.dashboard)
        context.update(
            {
                "figures": list(loaded.dashboard.figures.values()),
                "overview": next(table for table in all_tables if table.key == OVERVIEW),
                "charted": [(table, chart_of(table)) for table in all_tables if table.key != OVERVIEW],
                "csv_url": reverse(f"reporting-{kind}-csv", args=[pk]),
                "xlsx_url": reverse(f"reporting-{kind}-xlsx", args=[pk]),
                "query": query_string(loaded.form),
            }
        )
    return list_response(request, "reporting/dashboard.html", context)


@login_required
@require_GET
def workspace_figures(request: HubRequest, pk: int) -> HttpResponse:
    return _figures_page(request, WORKSPACE, pk)


@login_required
@require_GET
def agency_figures(request: HubRequest, pk: int) -> HttpResponse:
    return _figures_page(request, AGENCY, pk)
