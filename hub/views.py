"""The shell's own pages: the dashboard. Everything it shows comes through selectors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agencies import selectors

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from agencies.models import User


class HubRequest(HttpRequest):
    """A request behind ``login_required``, as the middleware leaves it (for the type checker)."""

    user: User
    htmx: HtmxDetails


@login_required
def dashboard(request: HubRequest) -> HttpResponse:
    actor = request.user
    memberships = [staff for staff in selectors.my_memberships(actor) if staff.is_active]
    workspaces = selectors.workspace_list(actor).filter(is_archived=False)
    return render(
        request,
        "hub/dashboard.html",
        {"memberships": memberships, "workspaces": workspaces},
    )
