"""Services of the housing tool: state, history, audit row, event, and who may not."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone

from housing import selectors, services
from housing.models import (
    HousingRequest,
    LeaseHandover,
    Listing,
    ListingChange,
    ListingStatus,
    RentLimit,
    Reservation,
    ReservationStatus,
    Tenancy,
    TenancyStatus,
)
from hub import access
from hub.models import AuditEntry, Event
from tests.housing.helpers import AREA, Housing, listing_fields, make_household, make_listing

pytestmark = pytest.mark.django_db


def audited(action: str, target: object) -> AuditEntry:
    return AuditEntry.objects.filter(action=action, target_id=str(target.pk)).latest("id")  # type: ignore[attr-defined]


def last_event(verb: str) -> Event:
    return Event.objects.filter(verb=verb).latest("id")


# Listings -------------------------------------------------------------------------------------


def test_a_housing_officer_enters_a_draft_seen_only_by_the_own_agency(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing, publish=False)
    assert listing.status == ListingStatus.DRAFT and listing.reference.startswith("W-")
    assert audited("listing.create", listing).agency_id == w.social_office.pk
    assert last_event("listing.create").audience == [f"agency.{w.social_office.pk}"]
    assert list(ListingChange.objects.filter(listing=listing).values_list("action", flat=True)) == [
        "listing.create",
        "listing.share",
    ]
    # A draft is the owner's alone, even when shared.
    assert access.is_visible(w.bob, listing)
    for persona in (w.alice, w.carol, w.olga, w.rita):
        assert not access.is_visible(persona, listing)


def test_publishing_shows_the_listing_to_the_round_table_only(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    assert listing.status == ListingStatus.AVAILABLE
    for persona in (w.alice, w.bob, w.carol, w.rita, w.adam, w.cora, housing.theo):
        assert access.is_visible(persona, listing), persona
    assert not access.is_visible(w.olga, listing)
    event = last_event("listing.publish")
    assert event.audience == sorted([f"agency.{w.social_office.pk}", f"workspace.{w.workspace.pk}"])
    change = ListingChange.objects.filter(listing=listing).latest("id")
    assert (change.from_status, change.to_status, change.actor) == ("draft", "available", housing.hana)


@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "olga", "rita", "adam", "cora"])
def test_only_housing_officers_enter_listings(housing: Housing, persona: str) -> None:
    actor = housing.world.persona(persona)
    with pytest.raises(PermissionDenied):
        services.listing_create(actor=actor, owner_agency=housing.world.social_office, **listing_fields())
    assert not Listing.objects.exists()


def test_a_housing_officer_enters_flats_only_for_the_own_agency(housing: Housing) -> None:
    with pytest.raises(ValidationError) as error:
        services.listing_create(actor=housing.theo, owner_agency=housing.world.social_office, **listing_fields())
    assert "owner_agency" in error.value.message_dict


@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "rita", "adam", "cora", "theo"])
def test_others_may_not_change_or_publish(housing: Housing, persona: str) -> None:
    listing = make_listing(housing)
    actor = housing.theo if persona == "theo" else housing.world.persona(persona)
    with pytest.raises(PermissionDenied):
        services.listing_update(actor=actor, listing=listing, base_rent=Decimal("1"))
    with pytest.raises(PermissionDenied):
        services.listing_transition(actor=actor, listing=listing, action="withdraw")
    listing.refresh_from_db()
    assert listing.base_rent == Decimal("450.00") and listing.status == ListingStatus.AVAILABLE


def test_the_outsider_does_not_learn_that_a_listing_exists(housing: Housing) -> None:
    listing = make_listing(housing)
    with pytest.raises(Http404):
        services.listing_update(actor=housing.world.olga, listing=listing, title="x")


def test_update_records_the_change_in_history_and_audit(housing: Housing) -> None:
    listing = make_listing(housing)
    services.listing_update(actor=housing.hana, listing=listing, base_rent=Decimal("470.00"), landlord_phone="1")
    listing.refresh_from_db()
    assert listing.base_rent == Decimal("470.00")
    change = ListingChange.objects.filter(listing=listing, action="listing.update").get()
    assert change.changes["base_rent"] == ["450.00", "470.00"]
    assert change.changes["landlord_phone"] == ["…", "…"]
    assert audited("listing.update", listing).changes["base_rent"] == ["450.00", "470.00"]
    assert last_event("listing.update").payload == {"listing": listing.pk}


@pytest.mark.parametrize(
    ("field", "value"),
    [("base_rent", Decimal("-1")), ("running_costs", Decimal("-0.01")), ("heating_costs", Decimal("-5"))],
)
def test_negative_amounts_are_refused_and_nothing_changes(housing: Housing, field: str, value: Decimal) -> None:
    listing = make_listing(housing)
    before = ListingChange.objects.count()
    with pytest.raises(ValidationError) as error:
        services.listing_update(actor=housing.hana, listing=listing, **{field: value})
    assert field in error.value.message_dict
    listing.refresh_from_db()
    assert getattr(listing, field) >= 0
    assert ListingChange.objects.count() == before
    with pytest.raises(ValidationError):
        services.listing_create(
            actor=housing.hana, owner_agency=housing.world.social_office, **listing_fields(**{field: value})
        )


def test_the_status_machine_refuses_steps_out_of_order(housing: Housing) -> None:
    listing = make_listing(housing)
    with pytest.raises(ValidationError) as error:
        services.listing_transition(actor=housing.hana, listing=listing, action="publish")
    assert "action" in error.value.message_dict
    listing = services.listing_transition(actor=housing.hana, listing=listing, action="withdraw", note="Schaden")
    assert listing.status == ListingStatus.WITHDRAWN
    listing = services.listing_transition(actor=housing.hana, listing=listing, action="reopen")
    assert listing.status == ListingStatus.DRAFT
    assert services.allowed_listing_actions(housing.hana, listing) == ["publish", "withdraw", "end"]
    assert services.allowed_listing_actions(housing.world.bob, listing) == []


def test_sharing_with_an_agency_and_unsharing_ends_its_view(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing, share=False)
    assert not access.is_visible(w.alice, listing)
    share = services.listing_share(actor=housing.hana, listing=listing, agency=w.jobcenter)
    assert access.is_visible(w.alice, listing) and not access.is_visible(w.carol, listing)
    assert f"agency.{w.jobcenter.pk}" in last_event("listing.share").audience
    with pytest.raises(ValidationError):
        services.listing_share(actor=housing.hana, listing=listing, agency=w.jobcenter)
    # The outsider's agency is unknown to the social office: it shares no workspace with it.
    with pytest.raises(ValidationError) as error:
        services.listing_share(actor=housing.hana, listing=listing, agency=w.immigration)
    assert "agency" in error.value.message_dict
    services.listing_unshare(actor=housing.hana, share=share)
    assert not access.is_visible(w.alice, listing)
    assert f"agency.{w.jobcenter.pk}" in last_event("listing.unshare").audience
    assert audited("listing.unshare", listing).changes["shared_with"] == [{"agency": w.jobcenter.pk}, None]


# Rent limits ----------------------------------------------------------------------------------


def test_the_jobcenter_maintains_the_rent_limits(housing: Housing) -> None:
    w = housing.world
    limit = services.rent_limit_create(
        actor=w.adam,
        comparison_area="Vergleichsraum Land",
        household_size=2,
        max_gross_cold_rent=Decimal("500.00"),
        valid_from=timezone.localdate(),
    )
    assert limit.agency == w.jobcenter
    assert audited("rent_limit.create", limit).agency_id == w.jobcenter.pk
    assert f"workspace.{w.workspace.pk}" in last_event("rent_limit.created").audience
    services.rent_limit_update(actor=housing.theo, rent_limit=limit, max_gross_cold_rent=Decimal("520.00"))
    limit.refresh_from_db()
    assert limit.max_gross_cold_rent == Decimal("520.00")
    # Everyone reads the table; it holds no personal data.
    assert access.is_visible(w.olga, limit)


@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "olga", "rita", "cora", "hana"])
def test_others_may_not_maintain_rent_limits(housing: Housing, persona: str) -> None:
    actor = housing.hana if persona == "hana" else housing.world.persona(persona)
    limit = RentLimit.objects.get(comparison_area=AREA, household_size=1)
    with pytest.raises(PermissionDenied):
        services.rent_limit_create(
            actor=actor,
            comparison_area="X",
            household_size=1,
            max_gross_cold_rent=Decimal("1"),
            valid_from=timezone.localdate(),
        )
    with pytest.raises(PermissionDenied):
        services.rent_limit_update(actor=actor, rent_limit=limit, max_gross_cold_rent=Decimal("1"))
    with pytest.raises(PermissionDenied):
        services.rent_limit_delete(actor=actor, rent_limit=limit)
    assert RentLimit.objects.filter(pk=limit.pk, max_gross_cold_rent=Decimal("450.00")).exists()


def test_a_duplicate_or_negative_rent_limit_is_refused(housing: Housing) -> None:
    existing = RentLimit.objects.get(comparison_area=AREA, household_size=2)
    with pytest.raises(ValidationError) as error:
        services.rent_limit_create(
            actor=housing.theo,
            comparison_area=AREA,
            household_size=2,
            max_gross_cold_rent=Decimal("600"),
            valid_from=existing.valid_from,
        )
    assert "valid_from" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.rent_limit_create(
            actor=housing.theo,
            comparison_area=AREA,
            household_size=2,
            max_gross_cold_rent=Decimal("-600"),
            valid_from=timezone.localdate(),
        )
    assert "max_gross_cold_rent" in error.value.message_dict


def test_each_listing_shows_the_household_sizes_within_the_limits(housing: Housing) -> None:
    cheap = make_listing(
        housing, base_rent=Decimal("300.00"), running_costs=Decimal("100.00"), heating_costs=Decimal("80.00")
    )
    dear = make_listing(housing, base_rent=Decimal("700.00"))
    hot = make_listing(housing, heating_costs=Decimal("140.00"))
    sizes = selectors.sizes_within_limits([cheap, dear, hot])
    assert sizes[cheap.pk] == [1, 2, 3, 4, 5]
    assert sizes[dear.pk] == [5]
    assert sizes[hot.pk] == [4, 5]  # 590 € is fine from 3 persons, 140 € heating only from 4
    newer = services.rent_limit_create(
        actor=housing.theo,
        comparison_area=AREA,
        household_size=2,
        max_gross_cold_rent=Decimal("600.00"),
        valid_from=timezone.localdate(),
    )
    assert 2 in selectors.sizes_within_limits([make_listing(housing)])[Listing.objects.latest("pk").pk]
    assert newer.pk


# Reservations, allocation, tenancies -----------------------------------------------------------


def test_reserve_allocate_move_in_and_out(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    household = make_household(w.bob, w.social_office, size=3)
    reservation = services.reservation_create(actor=housing.hana, listing=listing, household=household)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.RESERVED and reservation.household_size == 3
    assert reservation.expires_at > timezone.now() + datetime.timedelta(days=6)
    assert f"agency.{w.social_office.pk}" in last_event("reservation.create").audience
    assert audited("reservation.create", reservation).changes["status"] == ["available", "reserved"]
    # The caseworker holding the household sees its reservation; the other round-table members do not.
    assert access.is_visible(w.bob, reservation)
    assert not access.is_visible(w.alice, reservation) and not access.is_visible(w.olga, reservation)

    tenancy = services.tenancy_allocate(actor=housing.hana, reservation=reservation)
    listing.refresh_from_db()
    reservation.refresh_from_db()
    assert listing.status == ListingStatus.ALLOCATED and reservation.status == ReservationStatus.ALLOCATED
    assert tenancy.lease_holder == "county" and tenancy.rent_limit == Decimal("640.00")
    assert tenancy.gross_cold_rent == Decimal("590.00")

    tenancy = services.tenancy_move_in(actor=housing.hana, tenancy=tenancy, move_in=timezone.localdate())
    assert tenancy.status == TenancyStatus.ACTIVE
    with pytest.raises(ValidationError) as error:
        services.tenancy_move_out(
            actor=housing.hana, tenancy=tenancy, move_out=timezone.localdate() - datetime.timedelta(days=1)
        )
    assert "move_out" in error.value.message_dict
    tenancy.refresh_from_db()
    assert tenancy.status == TenancyStatus.ACTIVE and tenancy.move_out is None

    tenancy = services.tenancy_move_out(
        actor=housing.hana, tenancy=tenancy, move_out=timezone.localdate() + datetime.timedelta(days=30)
    )
    listing.refresh_from_db()
    assert tenancy.status == TenancyStatus.ENDED and listing.status == ListingStatus.AVAILABLE
    actions = list(ListingChange.objects.filter(listing=listing).values_list("action", flat=True))
    assert actions[-4:] == ["reservation.create", "tenancy.allocate", "tenancy.move_in", "tenancy.move_out"]
    for action in ("tenancy.allocate", "tenancy.move_in", "tenancy.move_out"):
        assert audited(action, tenancy)


def test_a_flat_is_never_reserved_or_allocated_twice(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    first = make_household(w.bob, w.social_office, name="Haddad")
    second = make_household(w.bob, w.social_office, name="Karimi")
    reservation = services.reservation_create(actor=housing.hana, listing=listing, household=first)
    with pytest.raises(ValidationError) as error:
        services.reservation_create(actor=housing.hana, listing=listing, household=second)
    assert error.value.message_dict["listing"][0] == str(services.TAKEN)
    services.tenancy_allocate(actor=housing.hana, reservation=reservation)
    with pytest.raises(ValidationError):
        services.reservation_create(actor=housing.hana, listing=listing, household=second)
    assert Reservation.objects.filter(listing=listing).count() == 1
    assert Tenancy.objects.filter(listing=listing).count() == 1


@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "olga", "rita", "adam", "cora", "theo"])
def test_only_the_owner_housing_office_reserves_and_allocates(housing: Housing, persona: str) -> None:
    w = housing.world
    actor = housing.theo if persona == "theo" else w.persona(persona)
    listing = make_listing(housing)
    household = make_household(w.bob, w.social_office)
    expected = Http404 if persona == "olga" else PermissionDenied
    with pytest.raises(expected):
        services.reservation_create(actor=actor, listing=listing, household=household)
    reservation = services.reservation_create(actor=housing.hana, listing=listing, household=household)
    with pytest.raises((PermissionDenied, Http404)):
        services.tenancy_allocate(actor=actor, reservation=reservation)
    with pytest.raises((PermissionDenied, Http404)):
        services.reservation_release(actor=actor, reservation=reservation)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ACTIVE


def test_a_household_the_officer_cannot_see_is_refused(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    household = make_household(w.alice, w.jobcenter)
    with pytest.raises(ValidationError) as error:
        services.reservation_create(actor=housing.hana, listing=listing, household=household)
    assert "household" in error.value.message_dict


def test_release_makes_the_flat_available_again(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    reservation = services.reservation_create(
        actor=housing.hana, listing=listing, household=make_household(w.bob, w.social_office)
    )
    reservation = services.reservation_release(actor=housing.hana, reservation=reservation, note="Absage")
    listing.refresh_from_db()
    assert reservation.status == ReservationStatus.RELEASED and listing.status == ListingStatus.AVAILABLE
    assert audited("reservation.release", reservation).changes["status"] == ["reserved", "available"]
    with pytest.raises(ValidationError):
        services.reservation_release(actor=housing.hana, reservation=reservation)


def test_bad_reservation_dates_are_refused(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    household = make_household(w.bob, w.social_office)
    for expires_at in (timezone.now() - datetime.timedelta(hours=1), timezone.now() + datetime.timedelta(days=90)):
        with pytest.raises(ValidationError) as error:
            services.reservation_create(actor=housing.hana, listing=listing, household=household, expires_at=expires_at)
        assert "expires_at" in error.value.message_dict
    listing.refresh_from_db()
    assert listing.status == ListingStatus.AVAILABLE and not Reservation.objects.exists()


def test_lapsed_reservations_are_released_by_the_command(housing: Housing) -> None:
    w = housing.world
    lapsing = make_listing(housing)
    running = make_listing(housing)
    household = make_household(w.bob, w.social_office)
    old = services.reservation_create(
        actor=housing.hana,
        listing=lapsing,
        household=household,
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    kept = services.reservation_create(actor=housing.hana, listing=running, household=household)
    Reservation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    call_command("expire_reservations")
    old.refresh_from_db()
    kept.refresh_from_db()
    lapsing.refresh_from_db()
    assert old.status == ReservationStatus.EXPIRED and old.ended_by is None
    assert kept.status == ReservationStatus.ACTIVE
    assert lapsing.status == ListingStatus.AVAILABLE
    entry = audited("reservation.expire", old)
    assert entry.actor is None and entry.actor_label == "system"
    assert f"agency.{w.social_office.pk}" in last_event("reservation.expire").audience
    assert services.expire_reservations() == 0


def test_a_lapsed_reservation_cannot_be_allocated(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    reservation = services.reservation_create(
        actor=housing.hana, listing=listing, household=make_household(w.bob, w.social_office)
    )
    Reservation.objects.filter(pk=reservation.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(ValidationError) as error:
        services.tenancy_allocate(actor=housing.hana, reservation=reservation)
    assert "expires_at" in error.value.message_dict
    assert not Tenancy.objects.exists()


def test_allocation_over_the_limit_needs_the_jobcenters_approval(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing, base_rent=Decimal("700.00"))  # 840 € gross cold, limit for 3 is 640 €
    household = make_household(w.alice, w.jobcenter, size=3)
    request = services.housing_request_create(actor=w.alice, household=household, listing=listing)
    reservation = services.housing_request_accept(actor=housing.hana, request=request)
    with pytest.raises(ValidationError) as error:
        services.tenancy_allocate(actor=housing.hana, reservation=reservation)
    assert "640.00" in error.value.message_dict["approval"][0]
    assert not Tenancy.objects.exists()
    for actor in (w.alice, housing.hana, w.rita, w.bob):
        with pytest.raises(PermissionDenied):
            services.over_limit_approve(actor=actor, listing=listing, household=household, reason="x")
    with pytest.raises(ValidationError) as error:
        services.over_limit_approve(actor=housing.theo, listing=listing, household=household, reason=" ")
    assert "reason" in error.value.message_dict
    approval = services.over_limit_approve(
        actor=housing.theo, listing=listing, household=household, reason="Kein anderer Wohnraum"
    )
    assert approval.rent_limit == Decimal("640.00") and approval.gross_cold_rent == Decimal("840.00")
    assert audited("listing.approve_over_limit", approval).agency_id == w.jobcenter.pk
    tenancy = services.tenancy_allocate(actor=housing.hana, reservation=reservation)
    assert tenancy.approval == approval


def test_no_approval_is_recorded_for_a_flat_within_the_limit(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    household = make_household(w.alice, w.jobcenter, size=3)
    with pytest.raises(ValidationError) as error:
        services.over_limit_approve(actor=housing.theo, listing=listing, household=household, reason="x")
    assert "listing" in error.value.message_dict


def test_lease_handover_keeps_the_tenancy_and_its_history(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    household = make_household(w.bob, w.social_office)
    tenancy = services.tenancy_allocate(
        actor=housing.hana,
        reservation=services.reservation_create(actor=housing.hana, listing=listing, household=household),
        move_in=timezone.localdate(),
    )
    tenancy = services.tenancy_move_in(actor=housing.hana, tenancy=tenancy, move_in=timezone.localdate())
    for actor in (w.bob, housing.theo, w.alice):
        with pytest.raises((PermissionDenied, Http404)):
            services.tenancy_handover(actor=actor, tenancy=tenancy)
    with pytest.raises(ValidationError) as error:
        services.tenancy_handover(actor=housing.hana, tenancy=tenancy, to_holder="county")
    assert "to_holder" in error.value.message_dict
    # Responsibility moves to the jobcenter: its housing officer now records the handover.
    for person in household.members.all():
        type(person).objects.filter(pk=person.pk).update(responsible_agency=w.jobcenter)
    access.forget(housing.theo)
    handover = services.tenancy_handover(actor=housing.theo, tenancy=tenancy, note="Eigener Mietvertrag")
    tenancy.refresh_from_db()
    assert (handover.from_holder, handover.to_holder) == ("county", "tenant")
    assert tenancy.lease_holder == "tenant" and tenancy.status == TenancyStatus.ACTIVE
    assert LeaseHandover.objects.filter(tenancy=tenancy).count() == 1
    change = ListingChange.objects.filter(listing=listing, action="tenancy.handover").get()
    assert change.changes["lease_holder"] == ["county", "tenant"] and change.actor == housing.theo
    assert audited("tenancy.handover", handover).agency_id == w.jobcenter.pk
    # A lease the tenant holds leaves with them: the listing ends at the move-out.
    services.tenancy_move_out(
        actor=housing.hana, tenancy=tenancy, move_out=timezone.localdate() + datetime.timedelta(days=365)
    )
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ENDED


# Requests ---------------------------------------------------------------------------------------


def test_a_caseworker_requests_a_shared_flat_for_a_client(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    household = make_household(w.alice, w.jobcenter, size=2)
    request = services.housing_request_create(
        actor=w.alice, household=household, listing=listing, districts=["Nordhorn-Mitte", " "]
    )
    assert request.to_agency == w.social_office and request.requesting_agency == w.jobcenter
    assert request.household_size == 2 and request.districts == ["Nordhorn-Mitte"]
    assert sorted(last_event("housing_request.created").audience) == sorted(
        [f"agency.{w.jobcenter.pk}", f"agency.{w.social_office.pk}"]
    )
    assert access.is_visible(housing.hana, request) and not access.is_visible(w.carol, request)
    with pytest.raises(ValidationError):
        services.housing_request_create(actor=w.alice, household=household, listing=listing)
    # The housing office may reserve for a household it cannot see otherwise, because it was asked.
    reservation = services.housing_request_accept(actor=housing.hana, request=request)
    request.refresh_from_db()
    assert request.status == "accepted" and reservation.request == request
    assert access.is_visible(w.alice, reservation)


@pytest.mark.parametrize("persona", ["bob", "carol", "rita", "adam", "olga"])
def test_who_may_not_request_a_flat(housing: Housing, persona: str) -> None:
    w = housing.world
    listing = make_listing(housing)
    household = make_household(w.alice, w.jobcenter)
    with pytest.raises((PermissionDenied, ValidationError, Http404)):
        services.housing_request_create(actor=w.persona(persona), household=household, listing=listing)
    assert not HousingRequest.objects.exists()


def test_withdraw_and_decline_requests(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    household = make_household(w.alice, w.jobcenter)
    request = services.housing_request_create(actor=w.alice, household=household, listing=listing)
    with pytest.raises(PermissionDenied):
        services.housing_request_withdraw(actor=housing.hana, request=request)
    with pytest.raises(PermissionDenied):
        services.housing_request_decline(actor=w.alice, request=request, note="nein")
    with pytest.raises(ValidationError) as error:
        services.housing_request_decline(actor=housing.hana, request=request, note="")
    assert "note" in error.value.message_dict
    request = services.housing_request_decline(actor=housing.hana, request=request, note="Zu klein")
    assert request.status == "declined" and request.decision_note == "Zu klein"
    with pytest.raises(PermissionDenied):
        services.housing_request_withdraw(actor=w.alice, request=request)
    assert audited("housing_request.decline", request)


# Selectors --------------------------------------------------------------------------------------


def test_occupancy_per_district_is_one_query(housing: Housing, django_assert_num_queries: object) -> None:
    make_listing(housing, district="Nordhorn-Mitte")
    make_listing(housing, district="Nordhorn-Mitte")
    make_listing(housing, district="Neuenhaus")
    make_listing(housing, district="Neuenhaus", publish=False)
    w = housing.world
    access.memberships(w.alice)
    with django_assert_num_queries(1):  # type: ignore[operator]
        rows = selectors.occupancy_by_district(w.alice)
    assert [(r.district, r.total, r.available) for r in rows] == [("Neuenhaus", 1, 1), ("Nordhorn-Mitte", 2, 2)]
    assert selectors.occupancy_by_district(w.olga) == []


def test_matching_ranks_with_reasons(housing: Housing) -> None:
    w = housing.world
    household = make_household(w.bob, w.social_office, size=3)
    best = make_listing(housing, district="Neuenhaus")
    cheaper_elsewhere = make_listing(housing, base_rent=Decimal("400.00"))
    too_dear = make_listing(housing, district="Neuenhaus", base_rent=Decimal("800.00"))
    make_listing(housing, rooms=Decimal("1"))  # too small for three
    make_listing(housing, accessibility=0, district="Neuenhaus", publish=False)  # a draft
    profile = selectors.match_profile(w.bob, household, districts=["Neuenhaus"])
    assert profile.household_size == 3
    found = list(selectors.match_listings(w.bob, profile))
    assert [listing.pk for listing in found] == [best.pk, cheaper_elsewhere.pk, too_dear.pk]
    assert [getattr(listing, "score") for listing in found] == [95, 65, 55]  # noqa: B009 (an annotation)
    reasons = {r.code: r for r in selectors.match_reasons(found[2], profile)}
    assert not reasons["rent_limit"].met and "640.00 €" in reasons["rent_limit"].text
    assert reasons["district"].met and reasons["rooms"].met
    needs_wheelchair = selectors.match_profile(w.bob, household, accessibility_need=2)
    assert list(selectors.match_listings(w.bob, needs_wheelchair)) == []
    assert list(selectors.match_listings(w.olga, profile)) == []
