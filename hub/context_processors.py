from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from hub import access


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the layout needs to build the navigation for the current user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from agencies.models import Role

    return {
        "last_event_id": getattr(request, "last_event_id", None),
        "nav_is_agency_admin": bool(access.agency_ids(user, Role.AGENCY_ADMIN)),
        "nav_has_membership": bool(access.memberships(user)),
    }
