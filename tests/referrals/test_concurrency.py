"""Enrolling the last seats at the same moment, on PostgreSQL with one connection per thread.

Each thread waits at a barrier and then calls ``enrollment_request`` in its own
transaction on its own connection: the measure's row lock must serialise them, so that
exactly as many get a seat as there are seats and the others queue on the waiting list
in order, without gaps or duplicates.

The threads touch the database only after the barrier, and the test's own connection
is closed before they start: the connection pool (at most 10 by default) then has a
connection for each of the ten threads of the largest race.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection, connections
from django.utils import timezone

from agencies.models import Agency, User
from hub import access
from referrals import services
from referrals.models import Enrollment, EnrollmentStatus, Measure, Person
from tests.conftest import World
from tests.referrals.test_measures import make_measure, make_person, make_provider

pytestmark = pytest.mark.django_db(transaction=True)

BARRIER_TIMEOUT = 30
ROUNDS = 20


def race(calls: list[Callable[[], Enrollment]]) -> tuple[list[Enrollment], list[BaseException]]:
    """Run ``calls`` in as many threads, released together by a barrier; each thread closes its connection."""
    barrier = threading.Barrier(len(calls), timeout=BARRIER_TIMEOUT)
    results: list[Enrollment] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], Enrollment]) -> None:
        try:
            barrier.wait()
            enrollment = call()
            with lock:
                results.append(enrollment)
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
    """A user object of the thread's own: the policy caches memberships on it."""
    copy = User.objects.get(pk=user.pk)
    access.memberships(copy)
    return copy


def enrol(actor: User, measure: Measure, person: Person) -> Callable[[], Enrollment]:
    def call() -> Enrollment:
        return services.enrollment_request(actor=actor, measure=measure, person=person)

    return call


def summary(measure: Measure) -> tuple[int, list[int]]:
    enrollments = Enrollment.objects.filter(measure=measure)
    enrolled = enrollments.filter(status=EnrollmentStatus.ENROLLED).count()
    waiting = enrollments.filter(status=EnrollmentStatus.WAITLISTED)
    return enrolled, sorted(position or 0 for position in waiting.values_list("waitlist_position", flat=True))


@pytest.fixture
def provider(world: World) -> tuple[Agency, User]:
    return make_provider(world)


def test_two_agencies_take_the_last_seat_at_once(world: World, provider: tuple[Agency, User]) -> None:
    """The jobcenter and the social office enrol one person each in a course with one seat, 20 times over."""
    vhs, vera = provider
    amina = make_person(world.alice, world.jobcenter, "Amina")
    samir = make_person(world.bob, world.social_office, "Samir")
    outcomes: dict[int, int] = {}
    for round_number in range(ROUNDS):
        measure = make_measure(vera, vhs, seats=1, title=f"Integrationskurs {round_number}")
        calls = [enrol(fresh(world.alice), measure, amina), enrol(fresh(world.bob), measure, samir)]
        results, errors = race(calls)
        assert errors == [], errors
        assert sorted((e.status, e.waitlist_position) for e in results) == [
            ("enrolled", None),
            ("waitlisted", 1),
        ]
        assert summary(measure) == (1, [1])
        winner = next(e for e in results if e.status == EnrollmentStatus.ENROLLED)
        outcomes[winner.requested_by_agency_id] = outcomes.get(winner.requested_by_agency_id, 0) + 1
    assert sum(outcomes.values()) == ROUNDS


def test_ten_requests_for_three_seats(world: World, provider: tuple[Agency, User]) -> None:
    vhs, vera = provider
    persons = [make_person(world.alice, world.jobcenter, f"Person {n}") for n in range(10)]
    measure = make_measure(vera, vhs, seats=3, starts_on=timezone.localdate() + datetime.timedelta(days=7))
    results, errors = race([enrol(fresh(world.alice), measure, person) for person in persons])
    assert errors == [], errors
    assert len(results) == 10
    assert summary(measure) == (3, [1, 2, 3, 4, 5, 6, 7])
    by_status: dict[str, Any] = {}
    for enrollment in results:
        by_status.setdefault(enrollment.status, []).append(enrollment.waitlist_position)
    assert len(by_status["enrolled"]) == 3 and sorted(by_status["waitlisted"]) == [1, 2, 3, 4, 5, 6, 7]
    # Each person once: the requests did not trip over each other.
    assert Enrollment.objects.filter(measure=measure).values("person").distinct().count() == 10
