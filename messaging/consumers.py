"""The hub's one websocket: live events for the browser, with catch-up after a dropped connection.

Protocol (JSON):

- client → server ``{"type": "hello", "last_event_id": N}`` after connecting: the consumer
  replays, in order, the outbox events after N that the user may still hear, then answers
  ``{"type": "ready", "last_event_id": M}``; or ``{"type": "reload"}`` when events after N
  were pruned already (the page is too old to catch up).
- server → client ``{"type": "event", "event": {"id", "verb", "target", "payload", "at"}}``
  for each live event. Events carry ids and states only; the page refetches what it shows
  through the normal, permission-checked views.

Groups come from ``hub.access.groups_for`` at connect time and again whenever an ``access.*``
event arrives. Everything periodic is done once per server process (per event loop) by the
``Ticker``, every ``HUB_WS_RECHECK_SECONDS``, with a fixed number of queries whatever the number
of sockets: sockets whose session ended (logout, expiry) or whose account was deactivated
close; sockets of users whose access may have changed (found from the outbox and the users'
own workspace grants) recompute their groups, leave the lost ones and close when nothing is
left; and every socket gets the outbox events the live broadcast did not bring (gap repair).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import datetime
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db.models import Q
from django.utils import timezone

from agencies.models import WorkspaceUserObjectPermission
from hub import access
from hub.events import MESSAGE_TYPE
from hub.models import Event

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 5
REPLAY_LIMIT = 1000
DELIVERED_MEMORY = 2000

# Close codes of the application range: the client does not retry 4401/4403.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_ACCESS_ENDED = 4403

# The outbox rows that can change what ``access.groups_for`` answers: every write that adds or ends
# a membership or a workspace grant goes through an agencies service that publishes one of these.
STAFF_TARGET = "agencies.staff"  # staff.created (also on invitation acceptance), staff.updated, access.revoked
WORKSPACE_MEMBERSHIP_TARGET = "agencies.workspacemembership"  # workspace.agency_added, access.revoked
WORKSPACE_CREATED = "workspace.created"  # grants the coordinating agency its new workspace
# An event is written inside its transaction and becomes visible at commit: the outbox is read back
# this far before the previous tick, so that a transaction still open then is not overlooked.
COMMIT_SLACK_SECONDS = 10
# An id missing between two outbox rows is a transaction still open, or one rolled back: the
# gap repair does not move past it until it shows up or is this old.
HOLE_SECONDS = 10
ENCODED_MEMORY = 512


def interval() -> float:
    return float(getattr(settings, "HUB_WS_RECHECK_SECONDS", RECHECK_SECONDS))


# One JSON text per event and process: a thousand sockets hearing the same event send the same text.
_encoded: OrderedDict[int, str] = OrderedDict()


def encoded(event: dict[str, Any]) -> str:
    event_id = int(event["id"])
    text = _encoded.get(event_id)
    if text is None:
        text = json.dumps({"type": "event", "event": event})
        _encoded[event_id] = text
        if len(_encoded) > ENCODED_MEMORY:
            _encoded.popitem(last=False)
    return text


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
        # Wall-clock time at which the groups were last read from the database (see Ticker.affected),
        # and the workspaces granted to the user alone at that time.
        self.groups_as_of = 0.0
        self.granted: frozenset[int] = frozenset()
        await self.accept()
        if not await self.sync_groups():
            return
        ticker().add(self)

    async def disconnect(self, code: int) -> None:
        ticker().discard(self)
        for group in getattr(self, "groups_joined", set()):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # the socket is gone either way; a layer that is down forgets it too
                logger.warning("Leaving %s failed while the socket closed", group, exc_info=True)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels hops to the one shared sync thread before every handler to close stale database
        # connections. A live event needs no database (the access.* resync goes through
        # database_sync_to_async, which closes them itself), and with a thousand sockets that hop per
        # socket and event queued every delivery behind the other sockets' database work.
        if message.get("type") == MESSAGE_TYPE:
            await self.hub_event(message)
            return
        await super().dispatch(message)

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
            await self.send(text_data=encoded(event))
        self.newest_seen = max(self.newest_seen or 0, newest)
        await self.send_json({"type": "ready", "last_event_id": newest})

    async def hub_event(self, message: dict[str, Any]) -> None:
        """One event from the outbox broadcast (``hub.events.MESSAGE_TYPE``)."""
        event = message["event"]
        if not self.first_delivery(event["id"]):
            return
        if str(event.get("verb", "")).startswith("access.") and not await self.sync_groups():
            return
        await self.send(text_data=encoded(event))

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
        return await self.apply_groups(await database_sync_to_async(self.allowed_groups)())

    async def apply_groups(self, allowed: set[str] | None) -> bool:
        if allowed is None:
            ticker().discard(self)
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
        self.groups_as_of = time.time()
        session: SessionBase | None = self.scope.get("session")
        if session is None or session.session_key is None or not session.exists(session.session_key):
            return None
        user = get_user_model().objects.filter(pk=self.user_id, is_active=True).first()
        if user is None:
            return None
        self.granted = user_grants({self.user_id})[self.user_id]
        groups = access.groups_for(user)
        return groups or None

    @property
    def session_key(self) -> str | None:
        session: SessionBase | None = self.scope.get("session")
        return None if session is None else session.session_key

    async def repair(self, batch: Batch) -> None:
        """Send what the live broadcast missed (Redis away, a dropped message): the outbox is the truth."""
        mark = self.newest_seen
        if mark is None or mark < batch.scanned_from:
            return  # said hello while the batch was read: the next one covers it
        if batch.oldest is not None and mark < batch.oldest - 1:
            self.newest_seen = None  # the page is told once; it reloads and comes back with a new socket
            await self.send_json({"type": "reload"})
            return
        start = bisect.bisect_right(batch.ids, mark)
        if batch.truncated and start == 0:
            self.newest_seen = None  # too far behind to replay message by message: reload the page
            await self.send_json({"type": "reload"})
            return
        for row in batch.rows[start:]:
            if not self.groups_joined.isdisjoint(row.audience) and self.first_delivery(row.id):
                await self.send(text_data=encoded(row.message))
        self.newest_seen = max(mark, batch.safe_mark)

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


# The per-process check ------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    id: int
    audience: frozenset[str]
    message: dict[str, Any]


@dataclass
class Batch:
    """The outbox after the lowest mark of the process's sockets, read once for all of them."""

    scanned_from: int
    rows: list[Row]
    ids: list[int]
    oldest: int | None
    truncated: bool
    safe_mark: int  # sockets move their mark up to here: below it no transaction can still commit


@dataclass(frozen=True)
class AccessEvent:
    id: int
    users: frozenset[int]
    groups: frozenset[str]


@dataclass
class State:
    """What one tick reads from the database, in one trip to the sync thread."""

    live_sessions: set[str]
    active_users: set[int]
    user_grants: dict[int, frozenset[int]]
    access_events: list[AccessEvent]
    read_at: float
    batch: Batch | None = None


def live_session_keys(sessions: dict[str, SessionBase]) -> set[str]:
    """The keys whose session still exists and has not expired (an expired one logs out at the next request)."""
    if not sessions:
        return set()
    stores = list(sessions.values())
    if all(isinstance(store, DatabaseSessionStore) for store in stores):
        model = DatabaseSessionStore.get_model_class()
        return set(
            model.objects.filter(session_key__in=list(sessions), expire_date__gt=timezone.now()).values_list(
                "session_key", flat=True
            )
        )
    # Engines without a table answer one by one; the hub uses the database engine.
    return {key for key, store in sessions.items() if store.exists(key)}


def user_grants(user_ids: set[int]) -> dict[int, frozenset[int]]:
    """The workspaces granted to each user alone (``hub.access``'s exceptional grant), in one query."""
    grants: dict[int, set[int]] = {user_id: set() for user_id in user_ids}
    for user_id, workspace_id in WorkspaceUserObjectPermission.objects.filter(
        user_id__in=user_ids, permission__codename=access.VIEW_WORKSPACE
    ).values_list("user_id", "content_object_id"):
        grants[user_id].add(workspace_id)
    return {user_id: frozenset(ids) for user_id, ids in grants.items()}


def access_event(verb: str, target_type: str, audience: list[str], payload: dict[str, Any]) -> AccessEvent | None:
    """Whose groups an outbox row may change: users by id, and the sockets in some groups."""
    users = frozenset(int(name.split(".", 1)[1]) for name in audience if name.startswith("user."))
    if target_type == STAFF_TARGET:
        return AccessEvent(0, users, frozenset())
    if target_type == WORKSPACE_MEMBERSHIP_TARGET:
        agency = payload.get("agency") if isinstance(payload, dict) else None
        groups = {f"agency.{agency}"} if agency is not None else {g for g in audience if g.startswith("agency.")}
        return AccessEvent(0, users, frozenset(groups))
    if verb == WORKSPACE_CREATED:
        return AccessEvent(0, users, frozenset(g for g in audience if g.startswith("agency.")))
    if verb.startswith("access."):
        return AccessEvent(0, users, frozenset(audience))
    return None


def read_state(
    sessions: dict[str, SessionBase], user_ids: set[int], access_since: float, scan_from: int | None
) -> State:
    """The tick's queries; their number does not depend on the number of sockets."""
    live = live_session_keys(sessions)
    active = set(get_user_model().objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
    grants = user_grants(user_ids)
    relevant = (
        Q(verb__startswith="access.")
        | Q(target_type__in=[STAFF_TARGET, WORKSPACE_MEMBERSHIP_TARGET])
        | Q(verb=WORKSPACE_CREATED)
    )
    since = datetime.datetime.fromtimestamp(access_since, tz=datetime.UTC)
    found = []
    for event_id, verb, target, audience, payload in (
        Event.objects.filter(relevant, created_at__gt=since)
        .order_by("id")
        .values_list("id", "verb", "target_type", "audience", "payload")
    ):
        changes = access_event(verb, target, audience, payload)
        if changes is not None:
            found.append(AccessEvent(event_id, changes.users, changes.groups))
    read_at = time.time()
    state = State(live, active, grants, found, read_at)
    if scan_from is not None:
        oldest = Event.objects.order_by("id").values_list("id", flat=True).first()
        rows = [
            Row(event.id, frozenset(event.audience), event.as_message())
            for event in Event.objects.filter(id__gt=scan_from).order_by("id")[:REPLAY_LIMIT]
        ]
        state.batch = Batch(scan_from, rows, [row.id for row in rows], oldest, len(rows) == REPLAY_LIMIT, scan_from)
    return state


def recompute_groups(user_ids: set[int]) -> tuple[dict[int, set[str]], dict[int, frozenset[int]], float]:
    """``groups_for`` of each user (empty for inactive accounts), their own grants, and when they were read."""
    started = time.time()
    groups: dict[int, set[str]] = dict.fromkeys(user_ids, set())
    for user in get_user_model().objects.filter(pk__in=user_ids, is_active=True):
        groups[user.pk] = access.groups_for(user)
    return groups, user_grants(user_ids), started


@dataclass
class Ticker:
    """The sockets of one event loop and the one task that checks them all."""

    sockets: set[HubConsumer] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    last_read_at: float | None = None
    # Access events already read, with the time of the first read: a socket whose groups were read
    # after that time has them in its groups already.
    first_read: dict[int, float] = field(default_factory=dict)
    holes: dict[int, float] = field(default_factory=dict)
    scanned_to: int | None = None

    def add(self, socket: HubConsumer) -> None:
        self.sockets.add(socket)
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self.run())

    def discard(self, socket: HubConsumer) -> None:
        self.sockets.discard(socket)
        if self.sockets:
            return
        # No task is left sleeping on a loop that may end (each test runs on a loop of its own);
        # a tick that closed the last socket finishes by itself.
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()
        self.task = None
        loop = asyncio.get_running_loop()
        if _tickers.get(loop) is self:
            del _tickers[loop]

    async def run(self) -> None:
        while self.sockets:
            await asyncio.sleep(interval())
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database away for a moment: the next tick tries again
                logger.exception("The websocket check failed")

    async def tick(self) -> None:
        sockets = list(self.sockets)
        if not sockets:
            return
        sessions = {s.session_key: s.scope["session"] for s in sockets if s.session_key is not None}
        user_ids = {s.user_id for s in sockets}
        # Events older than the previous read were seen by it, unless their transaction was still open.
        access_since = (self.last_read_at or min(s.groups_as_of for s in sockets)) - COMMIT_SLACK_SECONDS
        marks = [s.newest_seen for s in sockets if s.newest_seen is not None]
        holes = [hole - 1 for hole in self.holes]
        scan_from = min(marks + holes) if marks else None
        state = await database_sync_to_async(read_state)(sessions, user_ids, access_since, scan_from)
        self.last_read_at = state.read_at

        # 1. Sessions and accounts.
        alive = []
        for socket in sockets:
            if socket.session_key in state.live_sessions and socket.user_id in state.active_users:
                alive.append(socket)
            else:
                await self.close(socket)

        # 2. Groups, for the sockets whose user may have gained or lost some.
        stale = self.affected(alive, state)
        if stale:
            groups, grants, read_at = await database_sync_to_async(recompute_groups)({s.user_id for s in stale})
            for socket in stale:
                if socket not in self.sockets:
                    continue  # closed meanwhile: joining now would leave a group behind
                socket.groups_as_of, socket.granted = read_at, grants[socket.user_id]
                try:
                    if not await socket.apply_groups(groups[socket.user_id] or None):
                        alive.remove(socket)
                except Exception:  # the layer is away; the socket stays on its old groups until the next tick
                    logger.warning("Changing the groups of a socket failed", exc_info=True)

        # 3. Gap repair, with the groups as they are now.
        if state.batch is not None:
            self.settle_holes(state.batch)
            for socket in alive:
                if socket in self.sockets:
                    await socket.repair(state.batch)

    def affected(self, sockets: list[HubConsumer], state: State) -> list[HubConsumer]:
        for event in state.access_events:
            self.first_read.setdefault(event.id, state.read_at)
        current = {event.id for event in state.access_events}
        self.first_read = {k: v for k, v in self.first_read.items() if k in current}
        stale = []
        for socket in sockets:
            if state.user_grants.get(socket.user_id, socket.granted) != socket.granted or any(
                self.first_read[event.id] >= socket.groups_as_of
                and (socket.user_id in event.users or not socket.groups_joined.isdisjoint(event.groups))
                for event in state.access_events
            ):
                stale.append(socket)
        return stale

    def settle_holes(self, batch: Batch) -> None:
        """Note ids missing among the rows; the safe mark stops below the ones that may still commit."""
        now = time.monotonic()
        present = set(batch.ids)
        for hole in list(self.holes):
            if hole in present or now - self.holes[hole] > HOLE_SECONDS:
                del self.holes[hole]
        if batch.ids:
            low = max(batch.scanned_from, self.scanned_to or batch.scanned_from)
            high = batch.ids[-1]
            if high - low <= 10 * REPLAY_LIMIT:
                for missing in set(range(low + 1, high + 1)) - present:
                    self.holes.setdefault(missing, now)
            self.scanned_to = max(self.scanned_to or high, high)
        newest = batch.ids[-1] if batch.ids else batch.scanned_from
        batch.safe_mark = min([newest] + [hole - 1 for hole in self.holes])

    async def close(self, socket: HubConsumer) -> None:
        self.discard(socket)
        with contextlib.suppress(Exception):
            await socket.close(code=CLOSE_ACCESS_ENDED)


_tickers: dict[asyncio.AbstractEventLoop, Ticker] = {}


def ticker() -> Ticker:
    """The ticker of the running event loop (a server process has one; each test has its own)."""
    loop = asyncio.get_running_loop()
    found = _tickers.get(loop)
    if found is None:
        found = _tickers[loop] = Ticker()
    return found
