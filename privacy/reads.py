"""The read-access log's one entry point: code that shows a person's data calls ``note``.

``privacy.middleware.ReadAccessLogMiddleware`` opens a collector for every request; ``note`` adds
person ids and the data categories shown to it, in memory; when the response is successful (2xx)
the middleware writes one row per person in one bulk insert, so logging costs one query per
request however many places note a read. A 4xx or 5xx answer showed nothing and writes nothing.
Outside a request (management commands, tasks, the websocket) ``note`` does nothing: those show
no one a person's data.

The categories are the person's data categories (``referrals.models.Category``) plus the kinds of
record below, which belong to no single category.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

# Kinds of record about a person that a read may reveal besides the data categories.
REFERRALS = "referrals"
CONSENTS = "consents"
TRANSFERS = "transfers"
RECORD_KINDS = {
    REFERRALS: _("Referrals"),
    CONSENTS: _("Consents and shares"),
    TRANSFERS: _("Transfers of responsibility"),
}
IDENTITY = "identity"  # referrals.models.Category.IDENTITY, without importing the models here

SUBJECT_ACCESS = "subject_access"


@dataclass
class Collector:
    """What one request has shown so far: person id → data categories, and the purpose."""

    reads: dict[int, set[str]] = field(default_factory=dict)
    purpose: str = ""

    def add(self, person_ids: Iterable[int], categories: Iterable[str]) -> None:
        shown = set(categories)
        for person_id in person_ids:
            self.reads.setdefault(int(person_id), set()).update(shown)


_collector: ContextVar[Collector | None] = ContextVar("privacy_read_collector", default=None)


def note(person_ids: int | Iterable[int], categories: Iterable[str], *, purpose: str = "") -> None:
    """Record that this request shows these persons' data of ``categories``.

    Call it where the data is revealed, with what is actually shown: a list that names persons
    notes identity, a person's page the categories the actor may see. ``purpose`` replaces the
    purpose derived from the route (its url name) for the whole request.
    """
    collector = _collector.get()
    shown = set(categories)
    if collector is None or not shown:
        return
    ids = [person_ids] if isinstance(person_ids, int) else [pk for pk in person_ids if pk is not None]
    collector.add(ids, shown)
    if purpose:
        collector.purpose = purpose


def open_collector() -> tuple[Collector, Any]:
    collector = Collector()
    return collector, _collector.set(collector)


def close_collector(token: Any) -> None:
    _collector.reset(token)


def pending() -> dict[int, frozenset[str]]:
    """What the current request has noted so far."""
    collector = _collector.get()
    return {pk: frozenset(found) for pk, found in collector.reads.items()} if collector is not None else {}


def flush(collector: Collector, request: HttpRequest, response: HttpResponse) -> int:
    """Write the request's reads, one row per person, in one INSERT, if the answer was a success."""
    if not collector.reads or not 200 <= response.status_code < 300:
        return 0
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    from hub import access
    from hub.audit import request_context
    from privacy.models import ReadAccess

    match = getattr(request, "resolver_match", None)
    purpose = (collector.purpose or (match.view_name if match is not None else "") or request.path)[:120]
    context = request_context.get()
    agency_id = access.acting_agency_id(user)
    rows = [
        ReadAccess(
            user_id=user.pk,
            agency_id=agency_id,
            person_id=person_id,
            categories=sorted(categories),
            purpose=purpose,
            method=request.method or "",
            request_id=context.request_id if context is not None else "",
        )
        for person_id, categories in sorted(collector.reads.items())
    ]
    ReadAccess.objects.bulk_create(rows)
    return len(rows)
