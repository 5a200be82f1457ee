"""Request-scoped context for the audit log, and no caching of pages with social data."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from hub.audit import RequestContext, request_context
from hub.models import Event


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR is the reverse proxy in production; it sets X-Real-IP, which
    # a client cannot spoof past it.
    return request.META.get("HTTP_X_REAL_IP") or request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Makes the caller's address and a request id available to ``hub.audit.record``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request_context.set(RequestContext(ip_address=client_ip(request), request_id=str(uuid.uuid4())))
        try:
            return self.get_response(request)
        finally:
            request_context.reset(token)


class NoStoreMiddleware:
    """Pages and API answers of an authenticated user are never cached by browsers or proxies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class LiveEventMarkMiddleware:
    """Notes the newest outbox event before a page is built; its websocket catches up from there.

    Read before the view's own queries, so that nothing committed while the page is built
    can fall between what the page shows and what the socket replays.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "GET"
            and request.user.is_authenticated
            and not request.path.startswith("/api/")
            and not request.headers.get("HX-Request")
        ):
            request.last_event_id = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0  # type: ignore[attr-defined]
        return self.get_response(request)
