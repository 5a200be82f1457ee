"""What the dashboard page, its exports and the API share: the target from the URL, the actor's
right to see it, and the period and agency from the query string.

The scope is checked before the query string is read, so a stranger learns nothing from a form
error: anything but the actor's own agency or round table is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.shortcuts import get_object_or_404

from agencies.models import Agency, Workspace
from reporting.figures import Dashboard, Scope, figures_of, resolve_scope
from reporting.filters import FigureFilterForm

if TYPE_CHECKING:
    from hub.access import Actor

WORKSPACE = "workspace"
AGENCY = "agency"


@dataclass
class Loaded:
    target: Workspace | Agency
    scope: Scope
    form: FigureFilterForm
    dashboard: Dashboard | None  # None when the query string is invalid: ``form.errors`` says why


def load(actor: Actor, kind: str, pk: int, query: Any) -> Loaded:
    target: Workspace | Agency = (
        get_object_or_404(Workspace, pk=pk) if kind == WORKSPACE else get_object_or_404(Agency, pk=pk)
    )
    scope = resolve_scope(actor, target)
    agencies = Agency.objects.filter(pk__in=scope.member_ids) if scope.is_workspace else None
    form = FigureFilterForm(query, agencies=agencies)
    board = None
    if form.is_valid():
        if form.chosen_agency is not None:
            scope = scope.narrowed_to(form.chosen_agency)
        board = figures_of(scope, form.period)
    return Loaded(target=target, scope=scope, form=form, dashboard=board)
