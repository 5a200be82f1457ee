"""The audit log: the one way services record who did what.

Only services call ``record``. The caller's address and request id come from the
request context that ``hub.middleware.RequestContextMiddleware`` sets, so services
stay free of HTTP; management commands and tasks record without an address.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models

from hub.models import AuditEntry

if TYPE_CHECKING:
    from agencies.models import User


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    request_id: str = ""


request_context: ContextVar[RequestContext | None] = ContextVar("hub_request_context", default=None)


def target_type(obj: models.Model) -> str:
    return obj._meta.label_lower


def label_of(target: models.Model) -> str:
    """How the log names an object: a model may offer ``audit_label`` instead of its ``str``, as a
    person does with the case reference, so that the log, which is never changed, holds no names
    that retention would later have to anonymise."""
    label = getattr(target, "audit_label", None)
    return str(label if label is not None else target)[:200]


def record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    agency_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one append-only audit row. ``changes`` maps field names to [old, new]."""
    context = request_context.get() or RequestContext()
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=(actor.get_username() if actor is not None else "system")[:200],
        agency_id=agency_id,
        action=action,
        target_type=target_type(target),
        target_id=str(target.pk),
        target_label=label_of(target),
        changes=changes or {},
        ip_address=context.ip_address,
        request_id=context.request_id,
    )


def diff(instance: models.Model, new_values: dict[str, Any]) -> dict[str, list[Any]]:
    """The [old, new] pairs of the fields that ``new_values`` would change, JSON-safe."""
    changes: dict[str, list[Any]] = {}
    for field, new in new_values.items():
        old = getattr(instance, field)
        if old != new:
            changes[field] = [_jsonable(old), _jsonable(new)]
    return changes


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, models.Model):
        return value.pk
    return str(value)
