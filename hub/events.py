"""The event outbox: the one way services tell browsers that something changed.

``publish`` writes an Event row in the caller's transaction and, once that
transaction commits, sends it once to each audience group over the channel
layer. A broadcast that fails (Redis away) loses nothing: clients catch up
from the outbox by ``last_event_id`` when they reconnect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import models, transaction

from hub import access
from hub.audit import target_type
from hub.models import Event

if TYPE_CHECKING:
    from agencies.models import User

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "hub.event"

# Apps above the domain (messaging) react to events without the domain importing them:
# a listener runs inside the publishing transaction, so what it writes commits or rolls back with it.
Listener = Callable[[Event, models.Model, "User | None"], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> Listener:
    """Register ``listener(event, target, actor)`` for every published event (from an AppConfig.ready)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def publish(
    verb: str,
    target: models.Model,
    *,
    audience: Iterable[str] | None = None,
    payload: dict[str, Any] | None = None,
    actor: User | None = None,
) -> Event:
    """Record ``verb`` on ``target`` for ``audience`` (default: ``hub.access.audience(target)``).

    ``actor`` is passed to the listeners only (so that nobody is notified of their own step).
    """
    groups = sorted(set(audience) if audience is not None else access.audience(target))
    event = Event.objects.create(
        verb=verb,
        target_type=target_type(target),
        target_id=str(target.pk),
        audience=groups,
        payload=payload or {},
    )
    for listener in _listeners:
        listener(event, target, actor)
    transaction.on_commit(lambda: broadcast(event), robust=True)
    return event


def broadcast(event: Event) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    # One event loop for all groups: from sync code every async_to_sync call starts a loop of its own,
    # and the Redis layer opens a new connection for each loop.
    async_to_sync(_send_to_groups)(layer, event, {"type": MESSAGE_TYPE, "event": event.as_message()})


async def _send_to_groups(layer: Any, event: Event, message: dict[str, Any]) -> None:
    for group in event.audience:
        try:
            # The group rides along: each websocket process hands the event to its sockets of that group.
            await layer.group_send(group, {**message, "group": group})
        except Exception:  # the outbox row stays; clients replay it on reconnect
            logger.warning("Broadcast of event %s to %s failed", event.pk, group, exc_info=True)
