"""Builders for the housing tests, on top of the shared personas.

The personas hold no housing role, so these add two colleagues (not personas, so the access
matrix keeps its columns): hana, housing officer of the social office, which rents the county's
flats; and theo, housing officer of the jobcenter, which maintains the rent limits.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from agencies import services as agency_services
from agencies.models import User
from housing import services
from housing.models import Listing, RentLimit
from referrals import services as case_services
from referrals.models import Household, Person
from tests.conftest import World, make_user

AREA = "Vergleichsraum Stadt"
# Household size -> gross cold rent limit, heating limit, living space
LIMITS = {
    1: ("450.00", "90.00", "50"),
    2: ("540.00", "110.00", "60"),
    3: ("640.00", "130.00", "75"),
    4: ("750.00", "150.00", "85"),
    5: ("850.00", "170.00", "95"),
}


@dataclass
class Housing:
    world: World
    hana: User
    theo: User


def make_housing(world: World) -> Housing:
    hana = make_user("hana", "Hana", "Hoffmann")
    agency_services.staff_create(actor=None, agency=world.social_office, user=hana, roles=["housing_officer"])
    theo = make_user("theo", "Theo", "Thiele")
    agency_services.staff_create(actor=None, agency=world.jobcenter, user=theo, roles=["housing_officer"])
    return Housing(world=world, hana=hana, theo=theo)


def make_limits(housing: Housing, area: str = AREA) -> list[RentLimit]:
    valid_from = timezone.localdate() - datetime.timedelta(days=365)
    return [
        services.rent_limit_create(
            actor=housing.theo,
            comparison_area=area,
            household_size=size,
            max_gross_cold_rent=Decimal(rent),
            max_heating_costs=Decimal(heating),
            max_living_space=Decimal(space),
            valid_from=valid_from,
        )
        for size, (rent, heating, space) in LIMITS.items()
    ]


def listing_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "3-Zimmer-Wohnung",
        "street": "Lindenallee 4",
        "postcode": "48529",
        "city": "Nordhorn",
        "district": "Nordhorn-Mitte",
        "comparison_area": AREA,
        "rooms": Decimal("3"),
        "living_space": Decimal("72.5"),
        "floor": 1,
        "has_lift": False,
        "accessibility": 0,
        "base_rent": Decimal("450.00"),
        "running_costs": Decimal("140.00"),
        "heating_costs": Decimal("95.00"),
        "available_from": timezone.localdate(),
        "lease_holder": "county",
        "landlord_name": "Kreiswohnbau",
        "landlord_phone": "05921 1234",
    }
    fields.update(overrides)
    return fields


def make_listing(housing: Housing, *, publish: bool = True, share: bool = True, **overrides: Any) -> Listing:
    """A flat of the social office, shared with the round table (jobcenter, social and youth office)."""
    listing = services.listing_create(
        actor=housing.hana, owner_agency=housing.world.social_office, **listing_fields(**overrides)
    )
    if share:
        services.listing_share(actor=housing.hana, listing=listing, workspace=housing.world.workspace)
    if publish:
        listing = services.listing_transition(actor=housing.hana, listing=listing, action="publish")
    return listing


def make_household(actor: User, agency: Any, size: int = 3, name: str = "Haddad") -> Household:
    """A household of ``size`` persons whose files ``agency`` holds (``actor`` is its caseworker)."""
    household = case_services.household_create(actor=actor, name=f"Familie {name}")
    for number in range(size):
        person = case_services.person_create(
            actor=actor,
            agency=agency,
            first_name=f"Person{number}",
            last_name=name,
            birth_date=datetime.date(1985 + number, 1, 1),
            nationality="syrisch",
        )
        case_services.person_update(actor=actor, person=person, household=household)
    return household


def members(household: Household) -> list[Person]:
    return list(Person.objects.filter(household=household))


def jpeg_bytes(width: int = 2400, height: int = 1800, *, exif: bool = True) -> bytes:
    image = Image.new("RGB", (width, height), (120, 160, 200))
    out = io.BytesIO()
    if exif:
        info = Image.Exif()
        info[0x010F] = "PhoneMaker"  # camera make
        info[0x013B] = "Private Owner"  # artist
        image.save(out, format="JPEG", exif=info.tobytes())
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


def jpeg_upload(name: str = "wohnung.jpg", **kwargs: Any) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(**kwargs), content_type="image/jpeg")
