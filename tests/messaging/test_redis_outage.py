"""Redis goes away during activity and comes back: no write is lost, and every event arrives.

Runs against a Redis server of its own on a spare port, so that stopping it disturbs no other test.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers

from agencies import services
from agencies.models import Workspace
from tests.conftest import World
from tests.messaging.test_consumer import connect, hello, newest_event_id

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

REDIS = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS is not None
        self.process = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the test's Redis did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def outage_redis(settings: Any) -> Iterator[RedisServer]:
    if REDIS is None:
        pytest.fail("redis-server is not installed; the outage test needs its own Redis")
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


async def test_events_written_while_redis_was_down_arrive_after_reconnecting(
    world: World, outage_redis: RedisServer
) -> None:
    alice, connected = await connect(world.alice)
    assert connected
    seen = await sync_to_async(newest_event_id)()
    await hello(alice, seen)

    outage_redis.stop()
    purposes = [f"Stand {number}" for number in range(5)]
    for purpose in purposes:  # each write commits; its live broadcast fails and is only logged
        await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose=purpose)
    stored = await sync_to_async(lambda: Workspace.objects.get(pk=world.workspace.pk).purpose)()
    assert stored == purposes[-1]
    await alice.disconnect()

    outage_redis.start()
    channel_layers.backends.clear()  # the old connections died with the server
    alice, connected = await connect(world.alice)
    assert connected
    received = await hello(alice, seen)
    replayed = [message["event"] for message in received if message["type"] == "event"]
    assert [event["verb"] for event in replayed] == ["workspace.updated"] * len(purposes)
    assert [event["id"] for event in replayed] == sorted(event["id"] for event in replayed)

    # And live delivery works again once Redis is back.
    await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose="wieder da")
    live = await alice.receive_json_from(timeout=5)
    assert live["type"] == "event" and live["event"]["id"] > replayed[-1]["id"]
    await alice.disconnect()


async def test_an_open_socket_gets_what_it_missed_from_the_outbox(
    world: World, outage_redis: RedisServer, settings: Any
) -> None:
    """Even a socket that stayed open through the outage is brought up to date by the periodic check."""
    settings.HUB_WS_RECHECK_SECONDS = 0.2
    alice, connected = await connect(world.alice)
    assert connected
    await hello(alice, await sync_to_async(newest_event_id)())
    outage_redis.stop()
    for purpose in ("während", "des", "Ausfalls"):
        await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose=purpose)
    outage_redis.start()
    verbs = [(await alice.receive_json_from(timeout=5))["event"]["verb"] for _ in range(3)]
    assert verbs == ["workspace.updated"] * 3
    await alice.disconnect()
