"""The audit log refuses rewriting; the outbox records and broadcasts once per audience group."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.db import DatabaseError, transaction

from agencies import services
from hub import audit, events
from hub.audit import RequestContext, request_context
from hub.models import AuditEntry, Event
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_postgres_refuses_to_update_or_delete_audit_rows(world: World) -> None:
    entry = AuditEntry.objects.first()
    assert entry is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.action != "rewritten"


def test_record_keeps_address_and_request_id_from_the_request_context(world: World) -> None:
    token = request_context.set(RequestContext(ip_address="203.0.113.7", request_id="req-1"))
    try:
        entry = audit.record(
            actor=world.adam, action="test.touch", target=world.jobcenter, agency_id=world.jobcenter.pk
        )
    finally:
        request_context.reset(token)
    assert (entry.ip_address, entry.request_id, entry.actor_label) == ("203.0.113.7", "req-1", "adam")
    assert (entry.target_type, entry.target_id) == ("agencies.agency", str(world.jobcenter.pk))


def test_publish_writes_the_outbox_row_in_the_callers_transaction(world: World) -> None:
    before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish("workspace.updated", world.workspace)
        raise RuntimeError("rolled back")
    assert Event.objects.count() == before


async def _receive(layer, channel: str) -> dict:
    return await asyncio.wait_for(layer.receive(channel), timeout=5)


def test_publish_broadcasts_after_commit_to_each_audience_group_over_redis(
    world: World, django_capture_on_commit_callbacks
) -> None:
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisPubSubChannelLayer"

    async def subscribe() -> str:
        channel = await layer.new_channel()
        await layer.group_add(f"workspace.{world.workspace.pk}", channel)
        return channel

    loop = asyncio.new_event_loop()
    try:
        channel = loop.run_until_complete(subscribe())
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            event = events.publish("workspace.updated", world.workspace, payload={"workspace": world.workspace.pk})
        assert len(callbacks) == 1
        # Broadcast runs its own event loop through async_to_sync; run it in a thread as on_commit would.
        loop.run_until_complete(asyncio.to_thread(callbacks[0]))
        message = loop.run_until_complete(_receive(layer, channel))
        loop.run_until_complete(layer.flush())
    finally:
        loop.close()
    assert message["type"] == "hub.event"
    assert message["event"]["id"] == event.pk
    assert message["event"]["verb"] == "workspace.updated"
    assert message["event"]["payload"] == {"workspace": world.workspace.pk}


def test_events_carry_no_personal_data(world: World) -> None:
    services.staff_deactivate(actor=world.adam, staff=world.staff(world.alice))
    event = Event.objects.filter(verb="access.revoked").latest("id")
    text = str(event.as_message())
    for personal in ("Alice", "Arslan", "alice@example.org"):
        assert personal not in text


def test_the_audit_log_names_a_person_by_case_reference_only(world: World) -> None:
    from referrals.models import Person
    from tests.conftest import make_case

    person = make_case(world).person
    entries = AuditEntry.objects.filter(target_type="referrals.person", target_id=str(person.pk))

    assert entries.exists()
    assert set(entries.values_list("target_label", flat=True)) == {person.reference}
    assert isinstance(person, Person) and person.last_name not in str(list(entries.values_list("changes", flat=True)))
