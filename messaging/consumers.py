"""The hub's one websocket: live events for the browser, with catch-up after a dropped connection.

Protocol (JSON):

- client → server ``{"type": "hello", "last_event_id": N}`` after connecting: the consumer
  replays, in order, the outbox events after N that the user may still hear, then answers
  ``{"type": "ready", "last_event_id": M}``; or ``{"type": "reload"}`` when events after N
  were pruned already (the page is too old to catch up).
- server → client ``{"type": "event", "event": {"id", "verb", "target", "payload", "at"}}``
  for each live event. Events carry ids and states only; the page refetches what it shows
  through the normal, permission-checked views.

Groups come from ``hub.access.groups_for`` at connect time and again whenever an
``access.*`` event arrives or the periodic check runs (every ``RECHECK_SECONDS``): groups the
user lost are left, new ones joined, and the socket closes when the session ended (logout),
the account was deactivated or no membership is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase

from hub import access
from hub.models import Event

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 5
REPLAY_LIMIT = 1000
DELIVERED_MEMORY = 2000

# Close codes of the application range: the client does not retry 4401/4403.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_ACCESS_ENDED = 4403


class HubConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: set[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id: int = user.pk
        self.groups_joined = set()
        self.delivered: dict[int, None] = {}  # insertion-ordered: the oldest id goes first
        # The highest outbox id this socket has been brought up to; None until the client's hello.
        self.newest_seen: int | None = None
        await self.accept()
        if not await self.sync_groups():
            return
        self.recheck_task = asyncio.ensure_future(self.recheck_forever())

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "recheck_task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for group in getattr(self, "groups_joined", set()):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # the socket is gone either way; a layer that is down forgets it too
                logger.warning("Leaving %s failed while the socket closed", group, exc_info=True)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "hello":
            return
        last_event_id = content.get("last_event_id")
        if not isinstance(last_event_id, int) or isinstance(last_event_id, bool) or last_event_id < 0:
            await self.send_json({"type": "error", "detail": "last_event_id must be a whole number"})
            return
        answer = await self.catch_up(last_event_id)
        if answer is None:
            await self.send_json({"type": "reload"})
            return
        events, newest = answer
        for event in events:
            await self.send_json({"type": "event", "event": event})
        self.newest_seen = max(self.newest_seen or 0, newest)
        await self.send_json({"type": "ready", "last_event_id": newest})

    async def hub_event(self, message: dict[str, Any]) -> None:
        """One event from the outbox broadcast (``hub.events.MESSAGE_TYPE``)."""
        event = message["event"]
        if not self.first_delivery(event["id"]):
            return
        if str(event.get("verb", "")).startswith("access.") and not await self.sync_groups():
            return
        await self.send_json({"type": "event", "event": event})

    def first_delivery(self, event_id: int) -> bool:
        """An event sent to several of the user's groups arrives once per group; pass it on once."""
        if event_id in self.delivered:
            return False
        self.delivered[event_id] = None
        if len(self.delivered) > DELIVERED_MEMORY:
            self.delivered.pop(next(iter(self.delivered)))
        return True

    async def sync_groups(self) -> bool:
        """Join and leave groups as the policy says now; close and answer False when access has ended."""
        allowed = await database_sync_to_async(self.allowed_groups)()
        if allowed is None:
            await self.close(code=CLOSE_ACCESS_ENDED)
            return False
        for group in self.groups_joined - allowed:
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in allowed - self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = allowed
        return True

    def allowed_groups(self) -> set[str] | None:
        """The groups of a user whose session and account are still alive, else None."""
        session: SessionBase | None = self.scope.get("session")
        if session is None or session.session_key is None or not session.exists(session.session_key):
            return None
        user = get_user_model().objects.filter(pk=self.user_id, is_active=True).first()
        if user is None:
            return None
        groups = access.groups_for(user)
        return groups or None

    async def recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(getattr(settings, "HUB_WS_RECHECK_SECONDS", RECHECK_SECONDS))
            if not await self.sync_groups():
                return
            await self.repair_gaps()

    async def repair_gaps(self) -> None:
        """Send what the live broadcast missed (Redis away, a dropped message): the outbox is the truth."""
        if self.newest_seen is None:
            return
        answer = await self.catch_up(self.newest_seen)
        if answer is None:
            await self.send_json({"type": "reload"})
            return
        events, newest = answer
        for event in events:
            await self.send_json({"type": "event", "event": event})
        self.newest_seen = max(self.newest_seen, newest)

    @database_sync_to_async
    def catch_up(self, last_event_id: int) -> tuple[list[dict[str, object]], int] | None:
        """Events after ``last_event_id`` for the groups joined now, or None when some were pruned."""
        oldest = Event.objects.order_by("id").values_list("id", flat=True).first()
        newest = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
        if oldest is not None and last_event_id < oldest - 1:
            return None
        missed = Event.objects.filter(id__gt=last_event_id).order_by("id")[:REPLAY_LIMIT]
        events = [
            event.as_message()
            for event in missed
            if self.groups_joined.intersection(event.audience) and self.first_delivery(event.id)
        ]
        if len(missed) == REPLAY_LIMIT:
            return None  # too far behind to replay message by message: reload the page
        return events, newest
