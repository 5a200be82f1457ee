"""The per-process check of all sockets: a fixed number of queries per tick, and no guarantee weaker.

Each test suppresses the live broadcast where it says so, so that what arrives comes from the
outbox through the tick alone (as when Redis was away), and runs ticks by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from agencies import services
from agencies.models import User, WorkspaceMembership
from hub import access, events
from hub.asgi import application
from messaging import consumers
from messaging.consumers import CLOSE_ACCESS_ENDED, Batch, HubConsumer, Ticker, ticker
from tests.conftest import World
from tests.messaging.test_consumer import TIMEOUT, hello, newest_event_id, session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def manual_ticks(settings: Any) -> None:
    settings.HUB_WS_RECHECK_SECONDS = 3600  # the tests tick by hand


@pytest.fixture
def no_broadcast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Events reach the outbox only, as while Redis is away."""
    monkeypatch.setattr(events, "broadcast", lambda event: None)


async def open_socket(cookie: str) -> WebsocketCommunicator:
    headers = [
        (b"origin", b"http://testserver"),
        (b"host", b"testserver"),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def open_sockets(users: list[User], per_user: int) -> list[WebsocketCommunicator]:
    start = await sync_to_async(newest_event_id)()
    sockets = []
    for user in users:
        cookie = await sync_to_async(session_cookie)(user)
        for _ in range(per_user):
            socket = await open_socket(cookie)
            await hello(socket, start)
            sockets.append(socket)
    return sockets


def consumer_of(user: User) -> HubConsumer:
    return next(socket for socket in ticker().sockets if socket.user_id == user.pk)


class QueryCounter:
    """Counts the queries of the tick's database calls, which run on the sync thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.queries: list[str] = []
        self.calls: dict[str, int] = {}
        for name in ("read_state", "recompute_groups"):
            monkeypatch.setattr(consumers, name, self.counted(name, getattr(consumers, name)))

    def counted(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            with CaptureQueriesContext(connection) as captured:
                result = function(*args)
            self.queries += [query["sql"] for query in captured.captured_queries]
            return result

        return wrapper

    def reset(self) -> None:
        self.queries.clear()
        self.calls.clear()


async def received_events(socket: WebsocketCommunicator) -> list[dict[str, Any]]:
    found = []
    while not await socket.receive_nothing(timeout=0.1):
        message = await socket.receive_json_from(timeout=TIMEOUT)
        if message["type"] == "event":
            found.append(message["event"])
    return found


async def close_all(sockets: list[WebsocketCommunicator]) -> None:
    for socket in sockets:
        await socket.disconnect()


async def test_a_tick_costs_the_same_queries_for_3_and_30_sockets(
    world: World, no_broadcast: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = QueryCounter(monkeypatch)
    users = [world.alice, world.bob, world.carol]
    counts = []
    for per_user in (1, 10):
        sockets = await open_sockets(users, per_user)
        assert len(ticker().sockets) == 3 * per_user
        # The first tick of a process also rechecks the groups against the access events of the
        # last seconds (the world was just made), whose transactions might have been open.
        await ticker().tick()
        await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose="neu")
        counter.reset()
        await ticker().tick()
        counts.append(len(counter.queries))
        assert counter.calls == {"read_state": 1}  # a workspace update changes nobody's groups
        for socket in sockets:  # the gap repair brought the update to every socket from the one outbox query
            assert [event["verb"] for event in await received_events(socket)] == ["workspace.updated"]
        await close_all(sockets)
    assert counts[0] == counts[1], counts


async def test_an_access_change_recomputes_once_per_affected_user(
    world: World, no_broadcast: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sockets = await open_sockets([world.alice, world.carol], 5)
    await ticker().tick()
    counter = QueryCounter(monkeypatch)
    membership = await sync_to_async(WorkspaceMembership.objects.get)(
        workspace=world.workspace, agency=world.youth_office
    )
    await sync_to_async(services.workspace_remove_agency)(actor=world.cora, membership=membership)
    await ticker().tick()
    assert counter.calls == {"read_state": 1, "recompute_groups": 1}
    for socket in ticker().sockets:
        expected = world.carol.pk if socket.user_id == world.carol.pk else None
        assert (f"workspace.{world.workspace.pk}" in socket.groups_joined) == (expected is None)
    counter.reset()
    await ticker().tick()  # the same event does not recompute again
    assert counter.calls == {"read_state": 1}
    await close_all(sockets)


async def test_a_deactivated_membership_closes_within_one_tick_without_the_broadcast(
    world: World, no_broadcast: None
) -> None:
    (alice,) = await open_sockets([world.alice], 1)
    (bob,) = await open_sockets([world.bob], 1)
    staff = await sync_to_async(world.staff)(world.alice)
    await sync_to_async(services.staff_deactivate)(actor=world.adam, staff=staff)
    assert await alice.receive_nothing(timeout=0.2)  # nothing live: the broadcast is suppressed
    await ticker().tick()
    assert await alice.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": CLOSE_ACCESS_ENDED}
    assert [s.user_id for s in ticker().sockets] == [world.bob.pk]
    await bob.disconnect()


async def test_a_removed_workspace_membership_leaves_its_group_within_one_tick_without_the_broadcast(
    world: World, no_broadcast: None
) -> None:
    carol, alice = await open_sockets([world.carol, world.alice], 1)
    membership = await sync_to_async(WorkspaceMembership.objects.get)(
        workspace=world.workspace, agency=world.youth_office
    )
    await sync_to_async(services.workspace_remove_agency)(actor=world.cora, membership=membership)
    await ticker().tick()
    assert f"workspace.{world.workspace.pk}" not in consumer_of(world.carol).groups_joined
    assert [event["verb"] for event in await received_events(carol)] == ["access.revoked"]
    await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose="geheim")
    await ticker().tick()
    assert await received_events(carol) == []
    assert [event["verb"] for event in await received_events(alice)][-1] == "workspace.updated"
    await close_all([carol, alice])


async def test_a_new_workspace_membership_is_joined_within_one_tick_without_the_broadcast(
    world: World, no_broadcast: None
) -> None:
    (olga,) = await open_sockets([world.olga], 1)
    olga_agency = await sync_to_async(lambda: world.staff(world.olga).agency)()
    await sync_to_async(services.workspace_add_agency)(actor=world.cora, workspace=world.workspace, agency=olga_agency)
    await ticker().tick()
    assert f"workspace.{world.workspace.pk}" in consumer_of(world.olga).groups_joined
    await olga.disconnect()


async def test_a_grant_to_the_user_alone_is_followed_within_one_tick(world: World, no_broadcast: None) -> None:
    """Operators grant a workspace to one person by hand (no service, no event): the tick still sees it."""
    (olga,) = await open_sockets([world.olga], 1)
    group = f"workspace.{world.workspace.pk}"
    await ticker().tick()
    assert group not in consumer_of(world.olga).groups_joined
    await sync_to_async(assign_perm)(access.VIEW_WORKSPACE, world.olga, world.workspace)
    await ticker().tick()
    assert group in consumer_of(world.olga).groups_joined
    await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose="für Olga")
    await ticker().tick()
    assert [event["verb"] for event in await received_events(olga)] == ["workspace.updated"]
    await olga.disconnect()


async def test_logout_closes_within_one_tick(world: World) -> None:
    cookie = await sync_to_async(session_cookie)(world.alice)
    alice = await open_socket(cookie)
    other_tab = await open_socket(await sync_to_async(session_cookie)(world.alice))
    await sync_to_async(SessionStore(session_key=cookie).delete)()
    await ticker().tick()
    assert await alice.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": CLOSE_ACCESS_ENDED}
    assert await other_tab.receive_nothing(timeout=0.2)  # another session of the same user stays
    await other_tab.disconnect()


async def test_an_expired_session_closes_within_one_tick(world: World) -> None:
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    cookie = await sync_to_async(session_cookie)(world.alice)
    alice = await open_socket(cookie)
    await sync_to_async(lambda: Session.objects.filter(session_key=cookie).update(expire_date=timezone.now()))()
    await ticker().tick()
    assert await alice.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": CLOSE_ACCESS_ENDED}


async def test_a_deactivated_account_closes_within_one_tick(world: World) -> None:
    (alice,) = await open_sockets([world.alice], 1)
    await sync_to_async(lambda: User.objects.filter(pk=world.alice.pk).update(is_active=False))()
    await ticker().tick()
    assert await alice.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": CLOSE_ACCESS_ENDED}


async def test_gap_repair_of_many_sockets_reads_the_outbox_once_and_keeps_the_order(
    world: World, no_broadcast: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sockets = await open_sockets([world.alice, world.carol, world.olga], 8)
    counter = QueryCounter(monkeypatch)
    for purpose in ("eins", "zwei", "drei"):
        await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose=purpose)
    await ticker().tick()
    outbox_reads = [q for q in counter.queries if 'FROM "hub_event"' in q and '"hub_event"."id" >' in q]
    assert len(outbox_reads) == 1
    for index, socket in enumerate(sockets):
        received = await received_events(socket)
        if index < 16:  # alice and carol sit at the round table; olga does not
            assert [event["verb"] for event in received] == ["workspace.updated"] * 3
            assert [event["id"] for event in received] == sorted(event["id"] for event in received)
        else:
            assert received == []
    await ticker().tick()  # delivered once: the next tick sends nothing again
    for socket in sockets:
        assert await received_events(socket) == []
    await close_all(sockets)


async def test_a_socket_more_than_the_replay_limit_behind_is_told_to_reload(
    world: World, no_broadcast: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    (alice,) = await open_sockets([world.alice], 1)
    start = await sync_to_async(newest_event_id)()
    for purpose in ("eins", "zwei", "drei"):
        await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose=purpose)
    monkeypatch.setattr(consumers, "REPLAY_LIMIT", 2)
    assert consumer_of(world.alice).newest_seen == start
    await ticker().tick()
    assert await alice.receive_json_from(timeout=TIMEOUT) == {"type": "reload"}
    await ticker().tick()  # told once
    assert await alice.receive_nothing(timeout=0.2)
    await alice.disconnect()


async def test_the_gap_repair_stops_below_an_id_whose_transaction_may_still_commit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr(consumers.time, "monotonic", lambda: clock[0])
    checker = Ticker()

    def batch(after: int, ids: list[int]) -> Batch:
        rows = [consumers.Row(i, frozenset(), {"id": i}) for i in ids]
        found = Batch(after, rows, ids, 1, False, after)
        checker.settle_holes(found)
        return found

    assert batch(4, [5, 7, 8]).safe_mark == 5  # 6 is open (or rolled back)
    assert batch(5, [6, 7, 8]).safe_mark == 8  # it committed
    assert batch(8, [10]).safe_mark == 8
    clock[0] += consumers.HOLE_SECONDS + 1
    assert batch(8, [10]).safe_mark == 10  # rolled back: not waited for any longer
