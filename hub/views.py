"""The shell's own pages: the dashboard. Everything it shows comes through selectors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agencies import selectors
from messaging.meetings import selectors as meeting_selectors

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from agencies.models import User


class HubRequest(HttpRequest):
    """A request behind ``login_required``, as the middleware leaves it (for the type checker)."""

    user: User
    htmx: HtmxDetails


UPCOMING_MEETINGS = 5


@login_required
def dashboard(request: HubRequest) -> HttpResponse:
    actor = request.user
    memberships = [staff for staff in selectors.my_memberships(actor) if staff.is_active]
    workspaces = selectors.workspace_list(actor).filter(is_archived=False)
    # One query, however many meetings and round tables there are.
    meetings = list(meeting_selectors.upcoming_meetings(actor)[:UPCOMING_MEETINGS]) if memberships else []
    return render(
        request,
        "hub/dashboard.html",
        {"memberships": memberships, "workspaces": workspaces, "upcoming_meetings": meetings},
    )
