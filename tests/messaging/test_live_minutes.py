"""Minutes written live reach the agencies at the meeting over the websocket, and nobody else: bob
(social office, invited) hears cora write; carol (youth office, at the round table but not invited)
and olga (outsider) do not. The event carries ids and the version only: no text, no name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from messaging.meetings import services
from messaging.models import AgendaItem
from tests.conftest import World
from tests.messaging.meeting_helpers import amina, held_meeting, item_on
from tests.messaging.test_consumer import TIMEOUT, connect, hello, newest_event_id

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

MINUTES = "Frau Haddad hat den B1-Kurs bestanden; Wohnungssuche läuft."


def agenda_item_with_a_case(world: World) -> AgendaItem:
    """An item of a held meeting that names Amina, whom only the jobcenter holds."""
    meeting = held_meeting(world)
    return item_on(world, meeting, person=amina(world))


async def next_event(communicator: Any, verb: str) -> dict[str, Any]:
    while True:
        message = await communicator.receive_json_from(timeout=TIMEOUT)
        if message["type"] == "event" and message["event"]["verb"] == verb:
            return dict(message["event"])


async def test_minutes_reach_the_invited_agencies_without_text_or_names(world: World) -> None:
    item = await sync_to_async(agenda_item_with_a_case)(world)
    bob, bob_connected = await connect(world.bob)
    carol, carol_connected = await connect(world.carol)
    olga, olga_connected = await connect(world.olga)
    assert bob_connected and carol_connected and olga_connected
    start = await sync_to_async(newest_event_id)()
    for communicator in (bob, carol, olga):
        await hello(communicator, start)

    await sync_to_async(services.agenda_item_update_minutes)(
        actor=world.cora, item=item, minutes=MINUTES, expected_version=0
    )

    event = await next_event(bob, "agenda_item.minutes_updated")
    assert event["target"] == {"type": "messaging.agendaitem", "id": str(item.pk)}
    assert event["payload"] == {"meeting": item.meeting_id, "item": item.pk, "version": 1}
    sent = json.dumps(event, ensure_ascii=False)
    for secret in ("Haddad", "Amina", "B1-Kurs", "Wohnungssuche", MINUTES, "Cora", "Cramer"):
        assert secret not in sent, secret
    assert await carol.receive_nothing(timeout=0.5)
    assert await olga.receive_nothing(timeout=0.5)
    for communicator in (bob, carol, olga):
        await communicator.disconnect()


async def test_a_reader_who_reconnects_catches_up_on_the_minutes(world: World) -> None:
    item = await sync_to_async(agenda_item_with_a_case)(world)
    start = await sync_to_async(newest_event_id)()
    await sync_to_async(services.agenda_item_update_minutes)(
        actor=world.cora, item=item, minutes=MINUTES, expected_version=0
    )
    await sync_to_async(services.agenda_item_update_minutes)(
        actor=world.cora, item=item, minutes=MINUTES + " Nachtrag.", expected_version=1
    )
    bob, _ = await connect(world.bob)
    replayed = [
        message["event"]
        for message in await hello(bob, start)
        if message["type"] == "event" and message["event"]["verb"] == "agenda_item.minutes_updated"
    ]
    assert [event["payload"]["version"] for event in replayed] == [1, 2]
    carol, _ = await connect(world.carol)
    assert not [message for message in await hello(carol, start) if message["type"] == "event"]
    await bob.disconnect()
    await carol.disconnect()
