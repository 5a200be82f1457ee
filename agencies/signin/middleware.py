"""Session limits and the second factor, checked on every request.

``SessionLimitsMiddleware`` ends sessions past the idle or the absolute limit and records
activity. What counts as activity: every request of the person, also htmx requests they
trigger (a filter, a button), but not the background refetch that ``live.js`` makes when an
event arrives (it sends ``X-Hub-Refresh``): otherwise an open tab would keep a session
alive forever while colleagues work. The websocket does not count either.

``TwoFactorMiddleware`` lets a signed-in session through only when the second factor is
done: a session that skipped the code step (a user with a second factor who signed in some
other way) is logged out, and staff of an agency that requires a second factor and have none
yet reach only the set-up (and logout) until they have set it up. API calls with a token do not
pass through here as signed-in users (DRF authenticates them in the view) and keep working.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from agencies.signin import selectors
from agencies.signin.sessions import ACTIVE_AT, ends_at, idle_ended

LIVE_REFRESH_HEADER = "X-Hub-Refresh"
# Activity is written at most once a minute: a session is not saved on every request for it.
ACTIVITY_RESOLUTION_SECONDS = 60
# Where staff who still have to set up their second factor may go.
SETUP_ROUTES = frozenset(
    {
        "two-factor-setup",
        "two-factor-recovery-codes",
        "two-factor-recovery-codes-download",
        "login",
        "login-code",
        "logout",
        "set_language",
    }
)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class SessionLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session = request.session
            now = time.time()
            end = ends_at(session)
            if end is None or now >= end:
                idle = end is not None and idle_ended(session, now)
                logout(request)
                if end is not None and not _is_api(request):
                    if idle:
                        text = _("You were logged out after %(minutes)s minutes without activity.") % {
                            "minutes": settings.HUB_SESSION_IDLE_MINUTES
                        }
                    else:
                        text = _("You were logged out %(hours)s hours after logging in.") % {
                            "hours": settings.HUB_SESSION_MAX_HOURS
                        }
                    messages.info(request, f"{text} {_('Please log in again.')}")
            elif (
                not request.headers.get(LIVE_REFRESH_HEADER) and now - session[ACTIVE_AT] >= ACTIVITY_RESOLUTION_SECONDS
            ):
                session[ACTIVE_AT] = now
        return self.get_response(request)


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            state = selectors.second_factor_state(user, verified=getattr(user, "otp_device", None) is not None)
            if state is selectors.SecondFactor.CODE_MISSING:
                logout(request)
                if not _is_api(request):
                    messages.info(
                        request, _("Please log in again and confirm with a code from your authenticator app.")
                    )
            elif state is selectors.SecondFactor.SETUP_REQUIRED and not self.setup_allowed(request):
                return self.to_setup(request)
        return self.get_response(request)

    @staticmethod
    def setup_allowed(request: HttpRequest) -> bool:
        try:
            return resolve(request.path_info).url_name in SETUP_ROUTES
        except Resolver404:
            return False

    @staticmethod
    def to_setup(request: HttpRequest) -> HttpResponse:
        if _is_api(request):
            return JsonResponse(
                {"detail": _("Your agency requires two-factor sign-in. Set it up in the hub first.")}, status=403
            )
        if request.headers.get("HX-Request"):
            return HttpResponseClientRedirect(reverse("two-factor-setup"))
        return redirect("two-factor-setup")
