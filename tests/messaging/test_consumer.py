"""The websocket: who may connect, which events reach whom, catch-up, and the end of access."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.utils import timezone

from agencies import services
from agencies.models import User
from hub.asgi import application
from hub.models import Event
from messaging.consumers import CLOSE_ACCESS_ENDED
from tests.conftest import World

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

TIMEOUT = 5


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def connect(user: User | None, origin: str = "http://testserver") -> tuple[WebsocketCommunicator, bool]:
    headers = [(b"origin", origin.encode()), (b"host", b"testserver")]
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    return communicator, connected


async def hello(communicator: WebsocketCommunicator, last_event_id: int) -> list[dict[str, Any]]:
    """Send hello and collect what comes until "ready" (or "reload")."""
    await communicator.send_json_to({"type": "hello", "last_event_id": last_event_id})
    received = []
    while True:
        message = await communicator.receive_json_from(timeout=TIMEOUT)
        received.append(message)
        if message["type"] in {"ready", "reload"}:
            return received


def newest_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


async def test_anonymous_visitors_are_refused(world: World) -> None:
    _, connected = await connect(None)
    assert not connected


async def test_a_foreign_origin_is_refused_even_with_a_session(world: World) -> None:
    _, connected = await connect(world.alice, origin="https://evil.example")
    assert not connected


async def test_members_hear_their_workspace_outsiders_do_not(world: World) -> None:
    alice, connected = await connect(world.alice)
    olga, olga_connected = await connect(world.olga)
    assert connected and olga_connected
    start = await sync_to_async(newest_event_id)()
    await hello(alice, start)
    await hello(olga, start)
    await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose="Neu")
    message = await alice.receive_json_from(timeout=TIMEOUT)
    assert message["type"] == "event" and message["event"]["verb"] == "workspace.updated"
    assert message["event"]["target"] == {"type": "agencies.workspace", "id": str(world.workspace.pk)}
    assert await olga.receive_nothing(timeout=0.5)
    await alice.disconnect()
    await olga.disconnect()


async def test_catch_up_replays_what_was_missed_in_order_and_only_what_the_user_may_hear(world: World) -> None:
    start = await sync_to_async(newest_event_id)()
    for purpose in ("eins", "zwei", "drei"):
        await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose=purpose)
    alice, _ = await connect(world.alice)
    received = await hello(alice, start)
    events = [m["event"] for m in received if m["type"] == "event"]
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len([e for e in events if e["verb"] == "workspace.updated"]) == 3
    assert received[-1] == {"type": "ready", "last_event_id": await sync_to_async(newest_event_id)()}
    audiences = await sync_to_async(lambda: {e.id: e.audience for e in Event.objects.filter(id__in=ids)})()
    groups = {f"workspace.{world.workspace.pk}", f"agency.{world.jobcenter.pk}", f"user.{world.alice.pk}"}
    assert all(groups.intersection(audiences[i]) for i in ids)
    await alice.disconnect()


async def test_a_page_older_than_the_outbox_is_told_to_reload(world: World) -> None:
    await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose="eins")
    old = timezone.now() - datetime.timedelta(hours=settings.HUB_EVENT_RETENTION_HOURS + 1)
    await sync_to_async(lambda: Event.objects.filter(id__lte=newest_event_id() - 1).update(created_at=old))()
    from django.core.management import call_command

    await sync_to_async(call_command)("prune_events")
    alice, _ = await connect(world.alice)
    assert await hello(alice, 0) == [{"type": "reload"}]
    await alice.disconnect()


async def test_deactivation_closes_the_socket(world: World) -> None:
    alice, _ = await connect(world.alice)
    await hello(alice, await sync_to_async(newest_event_id)())
    staff = await sync_to_async(world.staff)(world.alice)
    await sync_to_async(services.staff_deactivate)(actor=world.adam, staff=staff)
    output = await alice.receive_output(timeout=TIMEOUT)
    assert output == {"type": "websocket.close", "code": CLOSE_ACCESS_ENDED}


async def test_leaving_a_workspace_leaves_its_group(world: World) -> None:
    from agencies.models import WorkspaceMembership

    carol, _ = await connect(world.carol)
    await hello(carol, await sync_to_async(newest_event_id)())
    membership = await sync_to_async(WorkspaceMembership.objects.get)(
        workspace=world.workspace, agency=world.youth_office
    )
    await sync_to_async(services.workspace_remove_agency)(actor=world.cora, membership=membership)
    revoked = await carol.receive_json_from(timeout=TIMEOUT)
    assert revoked["event"]["verb"] == "access.revoked"
    await sync_to_async(services.workspace_update)(actor=world.cora, workspace=world.workspace, purpose="geheim")
    assert await carol.receive_nothing(timeout=0.5)
    await carol.disconnect()


async def test_logout_closes_the_socket_within_the_recheck(world: World, settings: Any) -> None:
    settings.HUB_WS_RECHECK_SECONDS = 0.2
    cookie = await sync_to_async(session_cookie)(world.alice)
    headers = [
        (b"origin", b"http://testserver"),
        (b"host", b"testserver"),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]
    alice = WebsocketCommunicator(application, "/ws/", headers=headers)
    assert (await alice.connect(timeout=TIMEOUT))[0]
    await sync_to_async(SessionStore(session_key=cookie).delete)()
    output = await alice.receive_output(timeout=TIMEOUT)
    assert output == {"type": "websocket.close", "code": CLOSE_ACCESS_ENDED}


async def test_bad_hello_is_answered_not_fatal(world: World) -> None:
    alice, _ = await connect(world.alice)
    await alice.send_json_to({"type": "hello", "last_event_id": "zwölf"})
    assert (await alice.receive_json_from(timeout=TIMEOUT))["type"] == "error"
    assert (await hello(alice, await sync_to_async(newest_event_id)()))[-1]["type"] == "ready"
    await alice.disconnect()
