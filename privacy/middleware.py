"""Opens the read-access log's collector for each request and writes it after a successful answer."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from privacy import reads


class ReadAccessLogMiddleware:
    """One collector per request (``privacy.reads.note`` feeds it); one INSERT when the answer is 2xx.

    It sits after the authentication middleware; API calls authenticate inside the view, and DRF
    hands the user on to the underlying request, so it is known here by the time the answer is.
    A failed write fails the request: a read that cannot be logged must not leave unlogged.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        collector, token = reads.open_collector()
        try:
            response = self.get_response(request)
            reads.flush(collector, request, response)
            return response
        finally:
            reads.close_collector(token)
