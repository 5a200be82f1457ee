"""Two housing officers reserve the same flat at the same moment, on PostgreSQL with two connections.

Each thread waits at a barrier and then calls ``reservation_create`` in its own transaction
on its own connection: the listing's row lock serialises them, so exactly one reservation
is made and the other officer gets the clear "no longer available" message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, connections

from agencies import services as agency_services
from agencies.models import User
from housing import services
from housing.models import Listing, ListingStatus, Reservation
from hub import access
from referrals.models import Household
from tests.conftest import World, make_user
from tests.housing.helpers import Housing, make_household, make_listing

pytestmark = pytest.mark.django_db(transaction=True)

BARRIER_TIMEOUT = 30
ROUNDS = 10


def race(calls: list[Callable[[], Reservation]]) -> tuple[list[Reservation], list[BaseException]]:
    barrier = threading.Barrier(len(calls), timeout=BARRIER_TIMEOUT)
    results: list[Reservation] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], Reservation]) -> None:
        try:
            barrier.wait()
            reservation = call()
            with lock:
                results.append(reservation)
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


def reserve(actor: User, listing: Listing, household: Household) -> Callable[[], Reservation]:
    def call() -> Reservation:
        return services.reservation_create(actor=actor, listing=listing, household=household)

    return call


def test_two_officers_reserve_the_same_flat_at_once(world: World, housing: Housing) -> None:
    hugo = make_user("hugo", "Hugo", "Hartmann")
    agency_services.staff_create(actor=None, agency=world.social_office, user=hugo, roles=["housing_officer"])
    first = make_household(world.bob, world.social_office, name="Haddad")
    second = make_household(world.bob, world.social_office, name="Karimi")
    for _round in range(ROUNDS):
        listing = make_listing(housing)
        results, errors = race([reserve(fresh(housing.hana), listing, first), reserve(fresh(hugo), listing, second)])
        assert len(results) == 1, errors
        assert len(errors) == 1 and isinstance(errors[0], ValidationError)
        assert errors[0].message_dict["listing"][0] == str(services.TAKEN)
        assert Reservation.objects.filter(listing=listing).count() == 1
        listing.refresh_from_db()
        assert listing.status == ListingStatus.RESERVED


def test_the_database_refuses_a_second_active_reservation(world: World, housing: Housing) -> None:
    """The partial unique constraint holds even for a writer that skipped the lock."""
    from django.db import IntegrityError, transaction

    listing = make_listing(housing)
    household = make_household(world.bob, world.social_office)
    services.reservation_create(actor=housing.hana, listing=listing, household=household)
    first = Reservation.objects.get(listing=listing)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.create(
            listing=listing,
            household=household,
            household_size=1,
            expires_at=first.expires_at,
            reserved_by=housing.hana,
            agency=world.social_office,
        )
