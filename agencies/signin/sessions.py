"""The session engine: Django's database sessions, ending at the idle or the absolute limit.

A session remembers when its user signed in and when they were last active. The row's
``expire_date`` is the earlier of "last activity + idle limit" and "sign-in + absolute limit",
whoever saves the session and whenever: Django stops loading the row after that time, and the
websocket's ``Ticker`` (``messaging.consumers.live_session_keys``) closes the sockets of it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.dispatch import receiver
from django.http import HttpRequest

SIGNED_IN_AT = "hub_signed_in_at"
ACTIVE_AT = "hub_active_at"


def idle_seconds() -> int:
    return int(settings.HUB_SESSION_IDLE_MINUTES) * 60


def absolute_seconds() -> int:
    return int(settings.HUB_SESSION_MAX_HOURS) * 3600


def ends_at(session: Mapping[str, Any]) -> float | None:
    """When ``session`` ends (Unix time), or None for a session nobody signed in to."""
    signed_in, active = session.get(SIGNED_IN_AT), session.get(ACTIVE_AT)
    if not isinstance(signed_in, int | float) or not isinstance(active, int | float):
        return None
    return min(active + idle_seconds(), signed_in + absolute_seconds())


def idle_ended(session: Mapping[str, Any], now: float) -> bool:
    """Whether the session ended for lack of activity rather than for its age."""
    active = session.get(ACTIVE_AT)
    return isinstance(active, int | float) and now >= active + idle_seconds()


class SessionStore(DatabaseSessionStore):
    def get_session_cookie_age(self) -> int:
        # Only a loaded session is ever saved; reading an unloaded one here would query (also in async code).
        loaded: dict[str, Any] | None = getattr(self, "_session_cache", None)
        end = ends_at(loaded) if loaded is not None else None
        if end is None:
            return super().get_session_cookie_age()
        # Negative once the session is over: the row is then written as expired.
        return int(end - time.time())


# Connected here because every login, also the test client's, imports the session engine first.
@receiver(user_logged_in, dispatch_uid="agencies.signin.stamp_session")
def stamp_session(sender: type, request: HttpRequest | None, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    now = time.time()
    session[SIGNED_IN_AT] = now
    session[ACTIVE_AT] = now
