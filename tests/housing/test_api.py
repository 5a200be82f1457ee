"""The housing API: field messages on bad input, scoping, photos, matching, constant query counts."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import User
from housing import services
from housing.models import Listing, ListingPhoto, ListingStatus, Tenancy
from tests.housing.helpers import Housing, jpeg_upload, listing_fields, make_household, make_listing

pytestmark = pytest.mark.django_db


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(**overrides: Any) -> dict[str, Any]:
    data = {
        key: str(value) if isinstance(value, Decimal | datetime.date) else value
        for key, value in listing_fields().items()
    }
    data.update(overrides)
    return data


def test_a_housing_officer_creates_and_publishes_through_the_api(housing: Housing) -> None:
    client = api(housing.hana)
    response = client.post(reverse("api:listing-list"), body(), format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "draft" and created["owner_agency"]["id"] == housing.world.social_office.pk
    assert created["gross_cold_rent"] == "590.00" and created["within_limits_for"] == [3, 4, 5]
    assert created["landlord"]["name"] == "Kreiswohnbau" and created["allowed_actions"] == [
        "publish",
        "withdraw",
        "end",
    ]
    url = reverse("api:listing-transition", args=[created["id"]])
    assert client.post(url, {"action": "publish"}, format="json").json()["status"] == "available"
    share = client.post(
        reverse("api:listing-shares", args=[created["id"]]), {"workspace": housing.world.workspace.pk}, format="json"
    )
    assert share.status_code == 201
    seen = api(housing.world.alice).get(reverse("api:listing-detail", args=[created["id"]])).json()
    # The landlord's contact is the managing agency's business.
    assert seen["landlord"] is None and seen["can_manage"] is False


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"base_rent": "-100.00"}, "base_rent"),
        ({"living_space": "0"}, "living_space"),
        ({"lease_holder": "tenant"}, "lease_holder"),
        ({"available_from": "gestern"}, "available_from"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_listing_input_answers_400_with_field_messages(
    housing: Housing, overrides: dict[str, Any], field: str
) -> None:
    response = api(housing.hana).post(reverse("api:listing-list"), body(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Listing.objects.exists()


def test_a_pdf_posing_as_a_photo_answers_400(housing: Housing) -> None:
    listing = make_listing(housing)
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("foto.jpg", b"%PDF-1.7 not a photo", content_type="image/jpeg")
    url = reverse("api:listing-photos", args=[listing.pk])
    response = api(housing.hana).post(url, {"photo": fake}, format="multipart")
    assert response.status_code == 400 and "photo" in response.json()
    assert not ListingPhoto.objects.exists()
    response = api(housing.hana).post(url, {"photo": jpeg_upload(width=640, height=480)}, format="multipart")
    assert response.status_code == 201
    photo = response.json()
    assert photo["url"] == reverse("listing-photo", args=[photo["id"]])
    assert api(housing.world.olga).get(url).status_code == 404
    delete = reverse("api:listing-photo", args=[listing.pk, photo["id"]])
    assert api(housing.world.bob).delete(delete).status_code == 403
    assert api(housing.hana).delete(delete).status_code == 204


def test_move_out_before_move_in_answers_400_and_changes_nothing(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    reservation = services.reservation_create(
        actor=housing.hana, listing=listing, household=make_household(w.bob, w.social_office)
    )
    tenancy = services.tenancy_allocate(actor=housing.hana, reservation=reservation)
    client = api(housing.hana)
    today = timezone.localdate()
    assert (
        client.post(reverse("api:tenancy-move-in", args=[tenancy.pk]), {"move_in": today}, format="json").status_code
        == 200
    )
    response = client.post(
        reverse("api:tenancy-move-out", args=[tenancy.pk]),
        {"move_out": (today - datetime.timedelta(days=3)).isoformat()},
        format="json",
    )
    assert response.status_code == 400 and "move_out" in response.json()
    tenancy.refresh_from_db()
    assert tenancy.move_out is None and tenancy.status == "active"
    handover = client.post(reverse("api:tenancy-handover", args=[tenancy.pk]), {"to_holder": "tenant"}, format="json")
    assert handover.status_code == 200 and handover.json()["lease_holder"] == "tenant"
    assert len(handover.json()["handovers"]) == 1


def test_reservation_and_allocation_through_the_api(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing, base_rent=Decimal("700.00"))
    household = make_household(w.bob, w.social_office)
    client = api(housing.hana)
    response = client.post(
        reverse("api:reservation-list"), {"listing": listing.pk, "household": household.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    second = client.post(
        reverse("api:reservation-list"), {"listing": listing.pk, "household": household.pk}, format="json"
    )
    assert second.status_code == 400 and second.json()["listing"][0] == str(services.TAKEN)
    allocate = client.post(reverse("api:reservation-allocate", args=[response.json()["id"]]), {}, format="json")
    assert allocate.status_code == 400 and "approval" in allocate.json()
    assert not Tenancy.objects.exists()
    listing.refresh_from_db()
    assert listing.status == ListingStatus.RESERVED


def test_rent_limits_api_refuses_negative_amounts(housing: Housing) -> None:
    client = api(housing.theo)
    payload = {
        "comparison_area": "Land",
        "household_size": 1,
        "max_gross_cold_rent": "-1",
        "valid_from": timezone.localdate().isoformat(),
    }
    response = client.post(reverse("api:rent-limit-list"), payload, format="json")
    assert response.status_code == 400 and "max_gross_cold_rent" in response.json()
    payload["max_gross_cold_rent"] = "480.00"
    assert client.post(reverse("api:rent-limit-list"), payload, format="json").status_code == 201
    assert api(housing.world.alice).post(reverse("api:rent-limit-list"), payload, format="json").status_code == 403


def queries(client: APIClient, url: str) -> tuple[int, Any]:
    # The first request loads the user's memberships, which the user object then keeps.
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), response.json()


def test_the_listing_list_costs_the_same_for_3_and_30_flats(housing: Housing) -> None:
    for _ in range(3):
        listing = make_listing(housing)
        services.photo_add(actor=housing.hana, listing=listing, photo=jpeg_upload(width=64, height=48))
    client = api(housing.world.alice)
    few, data = queries(client, reverse("api:listing-list"))
    assert data["count"] == 3 and len(data["results"][0]["photos"]) == 1
    for _ in range(27):
        listing = make_listing(housing)
        services.photo_add(actor=housing.hana, listing=listing, photo=jpeg_upload(width=64, height=48))
    many, data = queries(client, reverse("api:listing-list"))
    assert data["count"] == 30
    assert few == many


def test_matching_answers_ranked_flats_with_reasons_at_constant_cost(housing: Housing) -> None:
    w = housing.world
    household = make_household(w.bob, w.social_office, size=3)
    make_listing(housing, district="Neuenhaus")
    make_listing(housing, base_rent=Decimal("800.00"))
    client = api(w.bob)
    url = reverse("api:housing-match-list") + f"?household={household.pk}&districts=Neuenhaus"
    few, data = queries(client, url)
    assert data["count"] == 2
    top = data["results"][0]
    assert top["score"] == 95 and top["listing"]["district"] == "Neuenhaus"
    assert {reason["code"] for reason in top["reasons"]} >= {"rooms", "rent_limit", "district", "available_from"}
    for _ in range(20):
        make_listing(housing)
    many, data = queries(client, url)
    assert data["count"] == 22 and few == many
    assert api(w.olga).get(url).status_code == 400  # a household the outsider cannot see reads as nonexistent
    assert client.get(reverse("api:housing-match-list")).status_code == 400


def test_occupancy_and_history_endpoints(housing: Housing) -> None:
    listing = make_listing(housing, district="Neuenhaus")
    data = api(housing.world.alice).get(reverse("api:listing-occupancy")).json()
    assert data == [
        {"district": "Neuenhaus", "total": 1, "available": 1, "reserved": 0, "allocated": 0, "withdrawn_or_ended": 0}
    ]
    assert api(housing.world.alice).get(reverse("api:listing-history", args=[listing.pk])).status_code == 403
    history = api(housing.hana).get(reverse("api:listing-history", args=[listing.pk])).json()
    assert [row["action"] for row in history] == ["listing.create", "listing.share", "listing.publish"]
