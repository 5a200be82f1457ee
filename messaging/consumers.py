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

Live events reach the sockets the same way, once per process: the ``Ticker`` subscribes one layer
channel to the groups its sockets need and hands each event's text to the sockets of the group
directly (``Ticker.fan_out``), instead of a layer channel, queue and task wake-up per socket.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import datetime
import json
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Coroutine, Generator
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.sessions import InstanceSessionWrapper
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db.models import Q
from django.utils import timezone

from agencies.models import WorkspaceUserObjectPermission
from agencies.signin.selectors import sign_in_complete
from hub import access
from hub.events import MESSAGE_TYPE
from hub.models import Event

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 5
REPLAY_LIMIT = 1000
# Event ids a socket remembers having passed on. Ids above its mark stay (the gap repair may bring
# them again); of those at or below it only the newest few, for a group's copy arriving late.
RECENT_DELIVERED = 256
DELIVERED_MEMORY = 2000  # the cap, for a socket whose mark stands still (no hello yet, a hole held open)

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


RELOAD = json.dumps({"type": "reload"})
# Sockets take their live events from their process's fan-out (``Ticker.fan_out``), not from a layer
# channel each: consumers name a layer alias that is not configured, so Channels gives them none.
NO_LAYER = "hub.websocket.no-channel-per-socket"

# (event id or None, text, group it came through or None, whether the groups are read again first)
Pending = tuple[int | None, str, str | None, bool]


class Resumed:
    """Awaiting this finishes a coroutine that was started by hand and stopped at ``waiting``."""

    def __init__(self, coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
        self.coroutine = coroutine
        self.waiting = waiting

    def __await__(self) -> Generator[Any, Any, None]:
        waiting = self.waiting
        while True:
            try:
                answer = yield waiting
            except BaseException as error:  # cancellation: passed on to where the coroutine waits
                try:
                    waiting = self.coroutine.throw(error)
                except StopIteration:
                    return
            else:
                try:
                    waiting = self.coroutine.send(answer)
                except StopIteration:
                    return


def start(coroutine: Coroutine[Any, Any, None]) -> Awaitable[None] | None:
    """Run ``coroutine`` up to its first wait: None when it finished, else what finishes it.

    A send to a socket whose client reads (the transport's buffer is below its high-water mark)
    never waits, so the fan-out sends to a thousand sockets without a task each, and a client that
    stops reading holds up only its own socket.
    """
    try:
        waiting = coroutine.send(None)
    except StopIteration:
        return None
    return Resumed(coroutine, waiting)


def server_send(send: Any) -> Any:
    """The server's own ``send`` below Channels' session middleware, for ``websocket.send`` only.

    The middleware acts on ``http.response.start`` alone (it saves the session and sets its
    cookie) but reads the lazy session twice on every message it passes on: a sixth of the
    server's CPU per live delivery at 1,000 sockets.
    """
    while isinstance(getattr(send, "__self__", None), InstanceSessionWrapper):
        send = send.__self__.real_send
    return send


class HubConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = NO_LAYER
    groups_joined: set[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # A session still short of its second factor (or of its required set-up) hears nothing. Accepted
        # first, so that the set-up page's script learns from the close code not to try again.
        if not await database_sync_to_async(sign_in_complete)(user, self.scope["session"]):
            await self.accept()
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
        # Messages waiting for their turn, in order; None while the socket sends at once (see push).
        self.backlog: deque[Pending] | None = None
        self.sender: asyncio.Future[None] | None = None
        self.send_frame = server_send(self.base_send)
        await self.accept()
        allowed = await database_sync_to_async(self.allowed_groups)()
        ticker().add(self)
        await self.apply_groups(allowed)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "sender", None) is not None:
            self.sender.cancel()  # type: ignore[union-attr]
        found = _tickers.get(asyncio.get_running_loop())
        if found is None:
            return
        found.discard(self)
        await found.sync_subscriptions()  # the last socket of a group, or of the process, leaves it

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "hello":
            return
        last_event_id = content.get("last_event_id")
        if not isinstance(last_event_id, int) or isinstance(last_event_id, bool) or last_event_id < 0:
            await self.send_json({"type": "error", "detail": "last_event_id must be a whole number"})
            return
        while self.sender is not None:  # a client that reads slowly gets its earlier messages first
            await asyncio.wait([self.sender])
        self.backlog = deque()  # live events wait behind the replay, as its newest
        try:
            answer = await self.catch_up(last_event_id)
            if answer is None:
                await self.send(text_data=RELOAD)
            else:
                events, newest = answer
                for event in events:
                    if self.first_delivery(int(event["id"])):
                        await self.send(text_data=encoded(event))
                self.newest_seen = max(self.newest_seen or 0, newest)
                await self.send_json({"type": "ready", "last_event_id": newest})
        except BaseException:
            self.backlog = None
            raise
        await self.drain()

    def push(self, event_id: int | None, text: str, group: str | None = None, resync: bool = False) -> None:
        """Send ``text`` after everything before it, without waiting; an event id goes once per socket."""
        if self.backlog is not None or resync:
            if self.backlog is None:  # the groups are read again before the event goes out: a task of its own
                self.backlog = deque()
                self.sender = asyncio.ensure_future(self.drain())
            self.backlog.append((event_id, text, group, resync))  # deduplicated when its turn comes
            return
        if event_id is not None and not self.first_delivery(event_id):
            return
        try:
            rest = start(self.send_frame({"type": "websocket.send", "text": text}))
        except Exception:  # closing: its disconnect follows and cleans up
            logger.debug("A live event did not reach a closing socket", exc_info=True)
            return
        if rest is not None:
            self.backlog = deque()
            self.sender = asyncio.ensure_future(self.drain(rest))

    async def drain(self, first: Awaitable[None] | None = None) -> None:
        """Send the backlog in order until it is empty; the socket then sends at once again."""
        try:
            if first is not None:
                await first
            while self.backlog:
                event_id, text, group, resync = self.backlog.popleft()
                if not resync and group is not None and group not in self.groups_joined:
                    continue  # left since: another of its groups, or the gap repair, may still bring it
                if event_id is not None and not self.first_delivery(event_id):
                    continue
                if resync and not await self.sync_groups():
                    return
                await self.send(text_data=text)
        except Exception:
            logger.debug("Sending to a closing socket failed", exc_info=True)
        finally:
            self.backlog = None
            self.sender = None

    def first_delivery(self, event_id: int) -> bool:
        """An event sent to several of the user's groups arrives once per group; pass it on once."""
        if event_id in self.delivered:
            return False
        delivered = self.delivered
        delivered[event_id] = None
        mark = self.newest_seen or 0
        while len(delivered) > RECENT_DELIVERED:
            oldest = next(iter(delivered))
            if oldest > mark and len(delivered) <= DELIVERED_MEMORY:
                break
            del delivered[oldest]
        return True

    async def sync_groups(self) -> bool:
        """Join and leave groups as the policy says now; close and answer False when access has ended."""
        return await self.apply_groups(await database_sync_to_async(self.allowed_groups)())

    async def apply_groups(self, allowed: set[str] | None) -> bool:
        if allowed is None:
            ticker().discard(self)
            await self.close(code=CLOSE_ACCESS_ENDED)
            return False
        await ticker().join(self, allowed)
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

    def repair(self, batch: Batch) -> None:
        """Send what the live broadcast missed (Redis away, a dropped message): the outbox is the truth."""
        mark = self.newest_seen
        if mark is None or mark < batch.scanned_from:
            return  # said hello while the batch was read: the next one covers it
        if batch.oldest is not None and mark < batch.oldest - 1:
            self.newest_seen = None  # the page is told once; it reloads and comes back with a new socket
            self.push(None, RELOAD)
            return
        start = bisect.bisect_right(batch.ids, mark)
        if batch.truncated and start == 0:
            self.newest_seen = None  # too far behind to replay message by message: reload the page
            self.push(None, RELOAD)
            return
        for row in batch.rows[start:]:
            if not self.groups_joined.isdisjoint(row.audience):
                self.push(row.id, encoded(row.message))
        self.newest_seen = max(mark, batch.safe_mark)

    @database_sync_to_async
    def catch_up(self, last_event_id: int) -> tuple[list[dict[str, object]], int] | None:
        """Events after ``last_event_id`` for the groups joined now, or None when some were pruned."""
        oldest = Event.objects.order_by("id").values_list("id", flat=True).first()
        newest = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
        if oldest is not None and last_event_id < oldest - 1:
            return None
        missed = Event.objects.filter(id__gt=last_event_id).order_by("id")[:REPLAY_LIMIT]
        groups = self.groups_joined
        events = [event.as_message() for event in missed if groups.intersection(event.audience)]
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
    """The sockets of one event loop, the one task that checks them all, and their live events.

    One layer channel per process is subscribed to the union of its sockets' groups; each live
    event arrives once per group and process, is decoded once, and its text goes from here to each
    socket of the group. Joining and leaving a group is a change of ``members`` in memory; the
    layer subscription follows (``sync_subscriptions``) and, when the layer is away, catches up at
    the next tick (the gap repair brings what was missed meanwhile).
    """

    sockets: set[HubConsumer] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    last_read_at: float | None = None
    # Access events already read, with the time of the first read: a socket whose groups were read
    # after that time has them in its groups already.
    first_read: dict[int, float] = field(default_factory=dict)
    holes: dict[int, float] = field(default_factory=dict)
    scanned_to: int | None = None
    members: dict[str, set[HubConsumer]] = field(default_factory=dict)
    channel: str | None = None
    subscribed: set[str] = field(default_factory=set)
    listener: asyncio.Task[None] | None = None
    subscribing: asyncio.Lock = field(default_factory=asyncio.Lock)

    def add(self, socket: HubConsumer) -> None:
        self.sockets.add(socket)
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self.run())

    async def join(self, socket: HubConsumer, allowed: set[str]) -> None:
        """Put ``socket`` into exactly the ``allowed`` groups; returns once the process hears them."""
        for group in socket.groups_joined - allowed:
            self.leave(socket, group)
        for group in allowed - socket.groups_joined:
            self.members.setdefault(group, set()).add(socket)
        socket.groups_joined = allowed
        await self.sync_subscriptions()

    def leave(self, socket: HubConsumer, group: str) -> None:
        members = self.members.get(group)
        if members is not None:
            members.discard(socket)
            if not members:
                del self.members[group]

    def discard(self, socket: HubConsumer) -> None:
        self.sockets.discard(socket)
        for group in getattr(socket, "groups_joined", ()):
            self.leave(socket, group)
        if self.sockets:
            return
        # No task is left sleeping on a loop that may end (each test runs on a loop of its own);
        # a tick that closed the last socket finishes by itself. The layer forgets the process's
        # channel when its receive is cancelled.
        for task in (self.task, self.listener):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        self.task = self.listener = None
        loop = asyncio.get_running_loop()
        if _tickers.get(loop) is self:
            del _tickers[loop]

    async def sync_subscriptions(self) -> None:
        """Subscribe the process's channel to the groups its sockets are in, and to no others."""
        async with self.subscribing:
            layer = get_channel_layer()
            wanted = set(self.members)
            if layer is None or (self.channel is None and not wanted):
                return
            try:
                if self.channel is None:
                    self.channel = await layer.new_channel()
                    self.listener = asyncio.ensure_future(self.listen(layer, self.channel))
                for group in wanted - self.subscribed:
                    await layer.group_add(group, self.channel)
                    self.subscribed.add(group)
                for group in self.subscribed - wanted:
                    await layer.group_discard(group, self.channel)
                    self.subscribed.discard(group)
            except Exception:  # the layer is away: the next tick tries again, the gap repair fills in
                logger.warning("Subscribing the websockets' groups failed", exc_info=True)

    async def listen(self, layer: Any, channel: str) -> None:
        while True:
            try:
                self.fan_out(await layer.receive(channel))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Receiving a live event failed")
                await asyncio.sleep(1)

    def fan_out(self, message: dict[str, Any]) -> None:
        """One event as ``hub.events`` broadcasts it to one group: to each socket of the group here."""
        if message.get("type") != MESSAGE_TYPE:
            return
        group = message.get("group")
        members = self.members.get(group) if isinstance(group, str) else None
        if not members:
            return
        event = message["event"]
        event_id = int(event["id"])
        text = encoded(event)
        resync = str(event.get("verb", "")).startswith("access.")
        for socket in list(members):
            socket.push(event_id, text, group, resync)

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
                    socket.repair(state.batch)

        # 4. Subscriptions that failed while the layer was away.
        if self.subscribed != set(self.members) or self.channel is None:
            await self.sync_subscriptions()

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
