"""Concurrent writes to a meeting, on PostgreSQL with real connections.

Two coordinators save the minutes of the same item from the same version at the same moment: one
text is saved, the other writer gets the conflict with the current text, and nothing is lost
silently. Two carry-overs at once move each open action item exactly once.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection, connections
from django.utils import timezone

from agencies import services as agency_services
from agencies.models import User
from hub import access
from messaging.meetings import services
from messaging.models import ActionItem, ActionItemStatus, AgendaItem
from tests.conftest import World, make_user
from tests.messaging.meeting_helpers import held_meeting, item_on, make_meeting

pytestmark = pytest.mark.django_db(transaction=True)

BARRIER_TIMEOUT = 30
ROUNDS = 10


def race(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(len(calls), timeout=BARRIER_TIMEOUT)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            result = call()
            with lock:
                results.append(result)
        except BaseException as exc:  # reported by the test, not lost in the thread
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    connection.close()
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BARRIER_TIMEOUT * 2)
    close_old_connections()
    return results, errors


def fresh(user: User) -> User:
    copy = User.objects.get(pk=user.pk)
    access.memberships(copy)
    return copy


def second_coordinator(world: World) -> User:
    cleo = make_user("cleo", "Cleo", "Conrad")
    agency_services.staff_create(actor=None, agency=world.jobcenter, user=cleo, roles=["coordinator"])
    return cleo


def write(actor: User, item: AgendaItem, text: str, version: int) -> Callable[[], AgendaItem]:
    def call() -> AgendaItem:
        return services.agenda_item_update_minutes(actor=actor, item=item, minutes=text, expected_version=version)

    return call


def test_two_writers_of_the_same_minutes_lose_nothing(world: World) -> None:
    cleo = second_coordinator(world)
    meeting = make_meeting(world, days=0)
    for round_ in range(ROUNDS):
        item = item_on(world, meeting)
        first, second = f"Cora, Runde {round_}", f"Cleo, Runde {round_}"
        results, errors = race([write(fresh(world.cora), item, first, 0), write(fresh(cleo), item, second, 0)])
        assert len(results) == 1 and len(errors) == 1, errors
        conflict = errors[0]
        assert isinstance(conflict, services.MinutesConflict)
        item.refresh_from_db()
        assert item.version == 1 and item.minutes == results[0].minutes
        # The loser is told the text that won, so it can merge instead of overwriting.
        assert conflict.current_version == 1 and conflict.current_minutes == item.minutes
        assert {item.minutes, conflict.current_minutes} <= {first, second}


def test_two_carry_overs_at_once_move_each_item_once(world: World) -> None:
    # The next meeting is planned before the items of the last one are written, so they are still open.
    following = make_meeting(world, days=14)
    past = held_meeting(world, days=-14)
    for index in range(5):
        services.action_item_create(
            actor=world.cora,
            meeting=past,
            title=f"Aufgabe {index}",
            owner_agency=world.social_office,
            due_on=timezone.localdate() + datetime.timedelta(days=index),
        )
    cleo = second_coordinator(world)
    results, errors = race(
        [
            lambda: services.action_items_carry_over(actor=fresh(world.cora), meeting=following),
            lambda: services.action_items_carry_over(actor=fresh(cleo), meeting=following),
        ]
    )
    assert not errors, errors
    assert sorted(len(moved) for moved in results) == [0, 5]
    assert ActionItem.objects.filter(meeting=following).count() == 5
    assert not ActionItem.objects.filter(meeting=past, status=ActionItemStatus.OPEN).exists()
