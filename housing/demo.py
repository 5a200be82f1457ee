"""Demo flats for the demo county: a hundred flats of the social office, the jobcenter's rent-limit
table, households with requests, reservations, tenancies and one lease handed over to the tenant.

Rents follow a rural county in Lower Saxony: 5.20–7.00 €/m² base rent in the villages,
6.80–8.60 €/m² in the county town, running costs about 2 €/m², heating about 1.40 €/m².
Seeded, so that every demo looks the same; everything goes through ``housing.services``.
"""

from __future__ import annotations

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from agencies.models import Agency, User, Workspace
from housing import services
from housing.models import (
    HousingRequest,
    LeaseHandover,
    LeaseHolder,
    Listing,
    ListingChange,
    ListingPhoto,
    ListingShare,
    OverLimitApproval,
    RentLimit,
    Reservation,
    Tenancy,
)
from referrals import services as case_services
from referrals.models import CaseFile, Household, Person

TOWN = "Vergleichsraum I – Musterstadt"
NORTH = "Vergleichsraum II – Umland Nord"
SOUTH = "Vergleichsraum III – Umland Süd"

# district: (postcode, comparison area, base rent €/m² from, to)
DISTRICTS = {
    "Musterstadt-Mitte": ("49999", TOWN, 7.20, 8.60),
    "Musterstadt-Nord": ("49999", TOWN, 6.80, 8.10),
    "Musterstadt-Süd": ("49998", TOWN, 6.80, 8.00),
    "Neudorf am See": ("49997", NORTH, 5.80, 7.00),
    "Altenbrück": ("49996", NORTH, 5.40, 6.60),
    "Hohenfeld": ("49995", NORTH, 5.20, 6.40),
    "Birkenau": ("49994", SOUTH, 5.40, 6.70),
    "Kirchdorf": ("49993", SOUTH, 5.20, 6.30),
    "Lindholt": ("49992", SOUTH, 5.30, 6.50),
}
STREETS = [
    "Bahnhofstraße", "Lindenallee", "Am Markt", "Schulstraße", "Kirchweg", "Gartenstraße", "Mühlenweg",
    "Birkenweg", "Am Sportplatz", "Hauptstraße", "Dorfstraße", "Eschweg", "Wiesenstraße", "Am Kanal",
]  # fmt: skip
LANDLORDS = [
    ("Kreiswohnbau Musterland GmbH", "04711 820-700", "vermietung@kreiswohnbau.example"),
    ("Wohnungsgenossenschaft Musterstadt eG", "04711 5566-0", "info@wg-musterstadt.example"),
    ("Familie Hinrichs", "04712 3344", ""),
    ("Gerdes Immobilien", "04711 909090", "kontakt@gerdes-immobilien.example"),
    ("Herr Schoo", "0171 2233445", ""),
]
# Household size: (gross cold rent limit Musterstadt, Umland Nord, Umland Süd, heating, living space)
LIMITS = {
    1: (Decimal("498.00"), Decimal("452.00"), Decimal("440.00"), Decimal("95.00"), Decimal("50")),
    2: (Decimal("594.00"), Decimal("540.00"), Decimal("528.00"), Decimal("115.00"), Decimal("60")),
    3: (Decimal("708.00"), Decimal("642.00"), Decimal("630.00"), Decimal("138.00"), Decimal("75")),
    4: (Decimal("822.00"), Decimal("746.00"), Decimal("731.00"), Decimal("160.00"), Decimal("85")),
    5: (Decimal("936.00"), Decimal("850.00"), Decimal("833.00"), Decimal("182.00"), Decimal("95")),
    6: (Decimal("1050.00"), Decimal("954.00"), Decimal("935.00"), Decimal("204.00"), Decimal("105")),
}
# rooms: (living space from, to)
SIZES = {1: (28, 45), 2: (45, 66), 3: (62, 86), 4: (80, 102), 5: (95, 122)}
CENT = Decimal("0.01")


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def create_demo_rent_limits(jobcenter: Agency, officer: User) -> int:
    """The jobcenter's table, valid since the start of last year."""
    valid_from = timezone.localdate().replace(month=1, day=1) - datetime.timedelta(days=365)
    count = 0
    for size, (town, north, south, heating, space) in LIMITS.items():
        for area, rent in ((TOWN, town), (NORTH, north), (SOUTH, south)):
            services.rent_limit_create(
                actor=officer,
                agency=jobcenter,
                comparison_area=area,
                household_size=size,
                max_gross_cold_rent=rent,
                max_heating_costs=heating,
                max_living_space=space,
                valid_from=valid_from,
            )
            count += 1
    return count


def _household(caseworker: User, agency: Agency, size: int, rng: random.Random) -> Household | None:
    """A household of ``size`` persons the agency holds and no household has yet."""
    persons = list(
        Person.objects.filter(
            household=None,
            merged_into=None,
            case_files__agency=agency,
            case_files__closed_at=None,
        ).order_by("pk")[: size * 3]
    )
    if len(persons) < size:
        return None
    members = rng.sample(persons, size)
    household = case_services.household_create(actor=caseworker, name=f"Familie {members[0].last_name}")
    for person in members:
        case_services.person_update(actor=caseworker, person=person, household=household)
    return household


def create_demo_housing(
    agencies: dict[str, Agency], users: dict[str, User], workspaces: list[Workspace], *, count: int = 100
) -> int:
    """A hundred flats of the social office, shared with the round table, with their life so far."""
    rng = random.Random(2027)  # noqa: S311 (demo data, not security)
    today = timezone.localdate()
    social, jobcenter = agencies["sozialamt"], agencies["jobcenter"]
    housing, kdu = users["sozialamt.housing"], users["jobcenter.housing"]
    create_demo_rent_limits(jobcenter, kdu)
    listings: list[Listing] = []
    names = list(DISTRICTS)
    for index in range(count):
        district = names[index % len(names)]
        postcode, area, low, high = DISTRICTS[district]
        rooms = rng.choices([1, 2, 3, 4, 5], weights=[2, 4, 4, 3, 1])[0]
        space = rng.randint(*SIZES[rooms])
        base = _money(space * rng.uniform(low, high))
        landlord = rng.choice(LANDLORDS)
        county_lease = index % 3 != 2
        floor = rng.choice([0, 0, 1, 1, 2, 3])
        listing = services.listing_create(
            actor=housing,
            owner_agency=social,
            title=f"{rooms}-Zimmer-Wohnung in {district}",
            street=f"{rng.choice(STREETS)} {rng.randint(1, 90)}",
            postcode=postcode,
            city="Musterstadt" if district.startswith("Musterstadt") else district,
            district=district,
            comparison_area=area,
            rooms=Decimal(rooms),
            living_space=Decimal(space),
            floor=floor,
            has_lift=floor > 1 and rng.random() < 0.4,
            accessibility=2 if index % 17 == 0 else (1 if floor == 0 and index % 5 == 0 else 0),
            base_rent=base,
            running_costs=_money(space * rng.uniform(1.7, 2.5)),
            heating_costs=_money(space * rng.uniform(1.1, 1.7)),
            available_from=today + datetime.timedelta(days=rng.randint(-60, 90)),
            lease_holder=LeaseHolder.COUNTY if county_lease else LeaseHolder.PRIVATE_LANDLORD,
            landlord_name=landlord[0],
            landlord_phone=landlord[1],
            landlord_email=landlord[2],
            description="Renoviert, Laminat, Einbauküche vorhanden." if index % 4 == 0 else "",
        )
        for workspace in workspaces:
            services.listing_share(actor=housing, listing=listing, workspace=workspace)
        if index % 20 == 19:
            continue  # a few drafts still being entered
        services.listing_transition(actor=housing, listing=listing, action="publish")
        if index % 33 == 32:
            services.listing_transition(actor=housing, listing=listing, action="withdraw", note="Wasserschaden")
            continue
        listings.append(listing)

    social_worker = users["sozialamt.caseworker"]
    job_worker = users["jobcenter.caseworker"]
    for index, listing in enumerate(listings[:40]):
        size = max(1, min(5, int(listing.rooms) + rng.choice([-1, 0, 0, 1])))
        if index % 4 == 0:
            # The jobcenter's caseworker asks for a flat; the housing office answers with a reservation.
            household = _household(job_worker, jobcenter, size, rng)
            if household is None:
                continue
            request = services.housing_request_create(
                actor=job_worker,
                household=household,
                listing=listing,
                household_size=size,
                districts=[listing.district],
                note="Familie lebt bisher in der Gemeinschaftsunterkunft.",
            )
            reservation = services.housing_request_accept(actor=housing, request=request)
        else:
            household = _household(social_worker, social, size, rng)
            if household is None:
                continue
            reservation = services.reservation_create(
                actor=housing, listing=listing, household=household, household_size=size
            )
        if index % 3 == 0:
            continue  # stays reserved
        limit = services.rent_limit_on(listing.comparison_area, size)
        if not services.within_limit(listing, limit):
            if not CaseFile.objects.filter(person__household=household, agency=jobcenter, closed_at=None).exists():
                services.reservation_release(actor=housing, reservation=reservation, note="Über der KdU-Grenze")
                continue
            services.over_limit_approve(
                actor=kdu,
                listing=listing,
                household=household,
                household_size=size,
                reason="Kein angemessener Wohnraum in der Gemeinde verfügbar; Schulweg der Kinder.",
            )
        tenancy = services.tenancy_allocate(actor=housing, reservation=reservation)
        if index % 2 == 0:
            tenancy = services.tenancy_move_in(
                actor=housing, tenancy=tenancy, move_in=today - datetime.timedelta(days=rng.randint(10, 400))
            )
            if index % 6 == 2 and tenancy.lease_holder == LeaseHolder.COUNTY:
                services.tenancy_handover(
                    actor=housing,
                    tenancy=tenancy,
                    to_holder=LeaseHolder.TENANT,
                    effective_on=today,
                    note="Zuständigkeit ist auf das Jobcenter übergegangen; Mietvertrag direkt mit dem Vermieter.",
                )
    return count


def delete_demo_housing(agencies: list[Agency]) -> None:
    """Remove the demo flats and rent limits (for ``demo_county --reset``); audit rows stay."""
    listings = Listing.objects.filter(owner_agency__in=agencies)
    photos = list(ListingPhoto.objects.filter(listing__in=listings))
    for photo in photos:
        photo.image.delete(save=False)
        photo.thumbnail.delete(save=False)
    LeaseHandover.objects.filter(tenancy__listing__in=listings).delete()
    Tenancy.objects.filter(listing__in=listings).delete()
    OverLimitApproval.objects.filter(listing__in=listings).delete()
    Reservation.objects.filter(listing__in=listings).delete()
    HousingRequest.objects.filter(requesting_agency__in=agencies).delete()
    HousingRequest.objects.filter(to_agency__in=agencies).delete()
    ListingShare.objects.filter(listing__in=listings).delete()
    ListingChange.objects.filter(listing__in=listings).delete()
    ListingPhoto.objects.filter(listing__in=listings).delete()
    listings.delete()
    RentLimit.objects.filter(agency__in=agencies).delete()
