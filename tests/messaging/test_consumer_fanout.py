"""Live events reach the sockets of a process from one layer channel: once each, in order, only in their groups.

Most tests hand ``Ticker.fan_out`` the message a broadcast brings, so that what is checked is the
fan-out alone; the last one runs the whole path on a Redis of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.sessions import InstanceSessionWrapper

from agencies import services
from hub.events import MESSAGE_TYPE
from messaging import consumers
from messaging.consumers import HubConsumer, encoded, ticker
from tests.conftest import World
from tests.messaging.test_consumer import TIMEOUT, hello, newest_event_id, session_cookie
from tests.messaging.test_consumer_ticks import close_all, open_socket, open_sockets, received_events
from tests.messaging.test_redis_outage import REDIS, RedisServer, free_port

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def manual_ticks(settings: Any) -> None:
    settings.HUB_WS_RECHECK_SECONDS = 3600  # no tick interferes; gap repair is not what is tested here


@pytest.fixture(autouse=True)
def fresh_texts() -> None:
    consumers._encoded.clear()  # the tests reuse made-up event ids


def event(event_id: int, verb: str = "referral.accepted") -> dict[str, Any]:
    return {
        "id": event_id,
        "verb": verb,
        "target": {"type": "referrals.referral", "id": "1"},
        "payload": {},
        "at": "2026-11-25T12:00:00+00:00",
    }


def broadcast(group: str, event_id: int, verb: str = "referral.accepted") -> None:
    """What ``hub.events`` sends to one group, as the process's channel receives it."""
    ticker().fan_out({"type": MESSAGE_TYPE, "group": group, "event": event(event_id, verb)})


def consumers_of(user_pk: int) -> list[HubConsumer]:
    return [socket for socket in ticker().sockets if socket.user_id == user_pk]


async def test_one_message_reaches_every_socket_of_the_group_once_and_in_order(world: World) -> None:
    sockets = await open_sockets([world.alice, world.adam], 4)
    group = f"agency.{world.jobcenter.pk}"  # alice and adam both work there
    base = 10**9
    for offset in range(3):
        broadcast(group, base + offset)
    for socket in sockets:
        assert [e["id"] for e in await received_events(socket)] == [base, base + 1, base + 2]
    await close_all(sockets)


async def test_the_process_listens_with_one_channel_and_the_sockets_with_none(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = get_channel_layer()
    assert layer is not None
    joined: list[tuple[str, str]] = []
    group_add = layer.group_add

    async def recording(group: str, channel: str) -> None:
        joined.append((group, channel))
        await group_add(group, channel)

    monkeypatch.setattr(layer, "group_add", recording)
    sockets = await open_sockets([world.alice, world.adam], 3)
    groups = set().union(*(socket.groups_joined for socket in ticker().sockets))
    assert sorted(joined) == sorted((group, ticker().channel) for group in groups)  # once per group
    assert ticker().subscribed == groups
    for socket in ticker().sockets:
        assert socket.channel_layer is None
        # Live events skip the session middleware, which has nothing to do for them.
        assert not isinstance(getattr(socket.send_frame, "__self__", None), InstanceSessionWrapper)
    await close_all(sockets)


async def test_an_event_for_several_of_a_sockets_groups_arrives_once(world: World) -> None:
    (alice,) = await open_sockets([world.alice], 1)
    base = 10**9
    groups = [f"agency.{world.jobcenter.pk}", f"user.{world.alice.pk}", f"workspace.{world.workspace.pk}"]
    assert set(groups) <= consumers_of(world.alice.pk)[0].groups_joined
    for group in groups:
        broadcast(group, base)
    broadcast(groups[1], base + 1)
    assert [e["id"] for e in await received_events(alice)] == [base, base + 1]
    await alice.disconnect()


async def test_a_socket_that_left_a_group_hears_nothing_from_it_and_the_last_one_unsubscribes(world: World) -> None:
    alice, adam = await open_sockets([world.alice, world.adam], 1)
    group = f"user.{world.alice.pk}"
    consumer = consumers_of(world.alice.pk)[0]
    await consumer.apply_groups(consumer.groups_joined - {group})
    broadcast(group, 10**9)
    broadcast(f"agency.{world.jobcenter.pk}", 10**9 + 1)
    assert [e["id"] for e in await received_events(alice)] == [10**9 + 1]
    assert [e["id"] for e in await received_events(adam)] == [10**9 + 1]
    # Nobody here is in alice's group now: the process no longer listens to it.
    assert group not in ticker().members and group not in ticker().subscribed
    await close_all([alice, adam])


async def test_a_client_that_does_not_read_holds_up_only_its_own_socket(world: World) -> None:
    alice, adam = await open_sockets([world.alice, world.adam], 1)
    slow = consumers_of(world.alice.pk)[0]
    server_send = slow.send_frame
    gate = asyncio.Event()

    async def stuck(message: dict[str, Any]) -> None:
        await gate.wait()  # as uvicorn's send waits while the transport's buffer is full
        await server_send(message)

    slow.send_frame = stuck
    group = f"agency.{world.jobcenter.pk}"
    base = 10**9
    broadcast(group, base)
    slow.send_frame = server_send  # the next sends would not wait; they still queue behind the first
    broadcast(group, base + 1)
    broadcast(group, base + 2)
    assert [e["id"] for e in await received_events(adam)] == [base, base + 1, base + 2]
    assert await alice.receive_nothing(timeout=0.1)
    gate.set()
    assert [e["id"] for e in await received_events(alice)] == [base, base + 1, base + 2]
    assert slow.backlog is None and slow.sender is None  # sends at once again
    broadcast(group, base + 3)
    assert [e["id"] for e in await received_events(alice)] == [base + 3]
    await close_all([alice, adam])


async def test_live_events_during_a_hello_come_after_its_replay_and_ready(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await open_socket(await sync_to_async(session_cookie)(world.alice))
    while not consumers_of(world.alice.pk):  # accepted before its groups are read
        await asyncio.sleep(0.01)
    consumer = consumers_of(world.alice.pk)[0]
    gate = asyncio.Event()
    base = 10**9

    async def slow_catch_up(last_event_id: int) -> tuple[list[dict[str, Any]], int]:
        await gate.wait()
        return [event(base)], base

    monkeypatch.setattr(consumer, "catch_up", slow_catch_up)
    await alice.send_json_to({"type": "hello", "last_event_id": 0})
    await asyncio.sleep(0.05)
    broadcast(f"user.{world.alice.pk}", base + 1)
    broadcast(f"user.{world.alice.pk}", base)  # also replayed: sent once
    assert await alice.receive_nothing(timeout=0.1)
    gate.set()
    received = [await alice.receive_json_from(timeout=TIMEOUT) for _ in range(3)]
    assert [(m["type"], m.get("event", {}).get("id")) for m in received] == [
        ("event", base),
        ("ready", None),
        ("event", base + 1),
    ]
    assert await alice.receive_nothing(timeout=0.1)
    await alice.disconnect()


async def test_an_access_event_rereads_the_groups_before_what_follows(world: World) -> None:
    (alice,) = await open_sockets([world.alice], 1)
    consumer = consumers_of(world.alice.pk)[0]
    workspace = f"workspace.{world.workspace.pk}"
    consumer.groups_joined = consumer.groups_joined | {"workspace.999999"}  # stale: not granted any more
    ticker().members.setdefault("workspace.999999", set()).add(consumer)
    base = 10**9
    broadcast(f"user.{world.alice.pk}", base, verb="access.revoked")
    broadcast("workspace.999999", base + 1)  # arrives while the groups are read again: not for her now
    broadcast(workspace, base + 2)
    received = [(e["id"], e["verb"]) for e in await received_events(alice)]
    assert received == [(base, "access.revoked"), (base + 2, "referral.accepted")]
    assert "workspace.999999" not in consumer.groups_joined and workspace in consumer.groups_joined
    await alice.disconnect()


@pytest.fixture
def own_redis(settings: Any) -> Iterator[RedisServer]:
    if REDIS is None:
        pytest.fail("redis-server is not installed; the fan-out test needs its own Redis")
    server = RedisServer(free_port())
    server.start()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{server.port}/0"]},
        }
    }
    channel_layers.backends.clear()
    yield server
    server.stop()
    channel_layers.backends.clear()


async def test_through_redis_one_subscription_per_group_and_process(world: World, own_redis: RedisServer) -> None:
    sockets = await open_sockets([world.alice, world.adam], 5)
    client = redis.Redis(port=own_redis.port)
    group = f"agency.{world.jobcenter.pk}"
    # One subscriber (this process) to the group, and one channel for the whole process.
    assert client.pubsub_numsub(f"asgi__group__{group}") == [(f"asgi__group__{group}".encode(), 1)]
    assert len([c for c in client.pubsub_channels() if b"specific" in c]) == 1
    await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose="live")
    newest = await sync_to_async(newest_event_id)()
    for socket in sockets:
        message = await socket.receive_json_from(timeout=TIMEOUT)
        assert message["type"] == "event" and message["event"]["id"] == newest
        assert await socket.receive_nothing(timeout=0.05)  # sent to several of their groups, heard once
    assert consumers._encoded[newest] == encoded({**message["event"]})
    await close_all(sockets)
    await asyncio.sleep(0)
    assert client.pubsub_numsub(f"asgi__group__{group}") == [(f"asgi__group__{group}".encode(), 0)]


async def test_hello_after_a_live_event_does_not_send_it_again(world: World) -> None:
    (alice,) = await open_sockets([world.alice], 1)
    start = await sync_to_async(newest_event_id)()
    await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose="eins")
    live = await alice.receive_json_from(timeout=TIMEOUT)
    replayed = await hello(alice, start)
    assert live["type"] == "event" and [m["type"] for m in replayed] == ["ready"]
    await alice.disconnect()
