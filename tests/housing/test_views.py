"""The housing pages through Django's test client: who sees and does what, form errors that
change nothing, the htmx list, the number of queries, and the German page."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from agencies.models import User
from housing import services
from housing.models import (
    HousingRequest,
    LeaseHandover,
    Listing,
    ListingPhoto,
    ListingShare,
    ListingStatus,
    OverLimitApproval,
    RentLimit,
    RequestStatus,
    Reservation,
    ReservationStatus,
    Tenancy,
    TenancyStatus,
)
from tests.housing.helpers import AREA, Housing, jpeg_bytes, listing_fields, make_household, make_listing

pytestmark = pytest.mark.django_db


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def html_of(response: Any) -> str:
    return str(response.content.decode())


def assert_accessible_layout(html: str, url: str) -> None:
    assert '<html lang="de">' in html, url
    assert '<main id="main"' in html, url
    assert html.count("<h1") == 1, url
    # The CSP forbids inline styles and scripts.
    assert "style=" not in html and "<style" not in html, url
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, url


def form_body(**overrides: Any) -> dict[str, Any]:
    body = {key: str(value) for key, value in listing_fields().items() if key != "has_lift"}
    body["available_from"] = timezone.localdate().isoformat()
    body.update(overrides)
    return body


def reserved(housing: Housing, listing: Listing) -> Reservation:
    """Alice (jobcenter) asks for the flat for her household; hana (social office) accepts."""
    household = make_household(housing.world.alice, housing.world.jobcenter, size=3)
    request = services.housing_request_create(actor=housing.world.alice, household=household, listing=listing)
    return services.housing_request_accept(actor=housing.hana, request=request)


# Every page -----------------------------------------------------------------------------------


def test_every_page_renders_with_the_accessible_layout(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    services.photo_add(
        actor=housing.hana,
        listing=listing,
        photo=SimpleUploadedFile("k.jpg", jpeg_bytes(64, 48), content_type="image/jpeg"),
    )
    reservation = reserved(housing, listing)
    tenancy = services.tenancy_allocate(actor=housing.hana, reservation=reservation)
    limit = RentLimit.objects.first()
    assert limit is not None
    household = make_household(w.bob, w.social_office, size=2, name="Nasser")
    request = HousingRequest.objects.get()
    pages = {
        housing.hana: [
            reverse("housing-listing-list"),
            reverse("housing-listing-create"),
            reverse("housing-listing-detail", args=[listing.pk]),
            reverse("housing-listing-edit", args=[listing.pk]),
            reverse("housing-photo-add", args=[listing.pk]),
            reverse("housing-share-create", args=[listing.pk]),
            reverse("housing-occupancy"),
            reverse("housing-rent-limit-list"),
            reverse("housing-request-list"),
            reverse("housing-tenancy-move-in", args=[tenancy.pk]),
            reverse("housing-tenancy-handover", args=[tenancy.pk]),
        ],
        housing.theo: [
            reverse("housing-rent-limit-create"),
            reverse("housing-rent-limit-edit", args=[limit.pk]),
            reverse("housing-rent-limit-delete", args=[limit.pk]),
            reverse("housing-approval-create", args=[listing.pk]),
        ],
        w.alice: [
            reverse("housing-listing-list"),
            reverse("housing-listing-detail", args=[listing.pk]),
            reverse("housing-match", args=[request.household_id]),
            reverse("housing-request-create"),
            reverse("housing-request-list"),
        ],
        w.bob: [reverse("housing-match", args=[household.pk])],
    }
    for user, urls in pages.items():
        client = client_for(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (user.username, url)
            assert_accessible_layout(html_of(response), url)


def test_the_main_navigation_leads_to_the_flats(housing: Housing) -> None:
    html = html_of(client_for(housing.world.alice).get(reverse("dashboard")))
    assert f'href="{reverse("housing-listing-list")}"' in html
    html = html_of(client_for(housing.world.alice).get(reverse("housing-occupancy")))
    assert f'<a href="{reverse("housing-listing-list")}" aria-current="page">' in html


# The list -------------------------------------------------------------------------------------


def test_the_list_shows_rents_in_german_and_the_sizes_within_the_limit(housing: Housing) -> None:
    listing = make_listing(housing, base_rent=Decimal("1450.00"), running_costs=Decimal("140.50"))
    cheap = make_listing(housing, street="Birkenweg 2")
    html = html_of(client_for(housing.world.alice).get(reverse("housing-listing-list")))
    assert "1.590,50 €" in html and "1.450,00 €" in html and "140,50 €" in html and "95,00 €" in html
    assert "590,00 €" in html
    assert "Filtern" in html  # the page speaks German
    assert listing.available_from.strftime("%d.%m.%Y") in html
    # 590 € gross cold and 95 € heating keep the limits for 3, 4 and 5 persons, not for 1 or 2.
    row = html.split(cheap.reference)[1].split("</tr>")[0]
    assert "3 persons" in row or "3 Personen" in row
    assert "2 persons" not in row and "2 Personen" not in row


def test_the_list_filters_and_answers_htmx_with_the_results_only(housing: Housing) -> None:
    make_listing(housing, district="Nordhorn-Mitte", rooms=Decimal("3"))
    make_listing(housing, street="Am Deich 1", district="Blanke", rooms=Decimal("1"), base_rent=Decimal("900"))
    make_listing(housing, street="Zukunft 9", available_from=timezone.localdate() + datetime.timedelta(days=40))
    client = client_for(housing.world.alice)
    url = reverse("housing-listing-list")

    def streets(params: dict[str, Any]) -> set[str]:
        html = html_of(client.get(url, params))
        return {s for s in ("Lindenallee 4", "Am Deich 1", "Zukunft 9") if s in html}

    assert streets({}) == {"Lindenallee 4", "Am Deich 1", "Zukunft 9"}
    assert streets({"district": "Blanke"}) == {"Am Deich 1"}
    assert streets({"rooms_min": "2"}) == {"Lindenallee 4", "Zukunft 9"}
    assert streets({"free_from": timezone.localdate().isoformat()}) == {"Lindenallee 4", "Am Deich 1"}
    assert streets({"within_limit_for": "3"}) == {"Lindenallee 4", "Zukunft 9"}

    response = client.get(url, {"district": "Blanke"}, headers={"HX-Request": "true"})
    partial = html_of(response)
    assert response.status_code == 200 and "<html" not in partial and "Am Deich 1" in partial
    assert 'hx-swap-oob="innerHTML"' in partial  # the result count follows
    assert "HX-Request" in response["Vary"]


def test_the_list_costs_the_same_number_of_queries_for_few_and_many_flats(housing: Housing) -> None:
    client = client_for(housing.world.alice)
    url = reverse("housing-listing-list")
    make_listing(housing)
    client.get(url)  # warm the session and caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for number in range(12):
        make_listing(housing, street=f"Gartenweg {number}", comparison_area=f"Raum {number % 3}")
    assert queries() == few


# The detail page and who may see it ------------------------------------------------------------


def test_a_flat_not_shared_with_the_agency_does_not_exist_for_it(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    draft = make_listing(housing, publish=False)
    for url in (
        reverse("housing-listing-detail", args=[listing.pk]),
        reverse("housing-listing-edit", args=[listing.pk]),
        reverse("comment-thread-listing", args=[listing.pk]),
    ):
        assert client_for(w.olga).get(url).status_code == 404, url
    assert client_for(w.olga).post(reverse("housing-listing-step", args=[listing.pk, "withdraw"])).status_code == 404
    # A draft is the owner's alone, even when it is shared already.
    assert client_for(w.alice).get(reverse("housing-listing-detail", args=[draft.pk])).status_code == 404
    assert "Lindenallee" not in html_of(client_for(w.olga).get(reverse("housing-listing-list")))


def test_who_sees_a_flat_but_does_not_manage_it_gets_403_for_its_steps(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    alice = client_for(w.alice)
    assert alice.get(reverse("housing-listing-edit", args=[listing.pk])).status_code == 403
    assert alice.post(reverse("housing-listing-step", args=[listing.pk, "withdraw"])).status_code == 403
    assert alice.get(reverse("housing-photo-add", args=[listing.pk])).status_code == 403
    assert alice.get(reverse("housing-share-create", args=[listing.pk])).status_code == 403
    assert alice.get(reverse("housing-listing-reserve", args=[listing.pk])).status_code == 403
    assert alice.get(reverse("housing-approval-create", args=[listing.pk])).status_code == 403
    assert client_for(w.rita).get(reverse("housing-request-create"), {"listing": listing.pk}).status_code == 403
    listing.refresh_from_db()
    assert listing.status == ListingStatus.AVAILABLE


def test_the_detail_shows_the_landlord_and_the_history_only_to_the_managing_agency(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    url = reverse("housing-listing-detail", args=[listing.pk])
    own = html_of(client_for(housing.hana).get(url))
    assert "Kreiswohnbau" in own and "05921 1234" in own
    assert 'id="shares"' in own and 'id="history-title"' in own
    assert reverse("housing-listing-step", args=[listing.pk, "withdraw"]) in own
    shared = html_of(client_for(w.alice).get(url))
    assert "Kreiswohnbau" not in shared and "05921 1234" not in shared
    assert 'id="shares"' not in shared and 'id="history-title"' not in shared
    assert reverse("housing-listing-step", args=[listing.pk, "withdraw"]) not in shared
    # Alice does case work: she may ask for the flat; rita (read-only) may not.
    assert f"{reverse('housing-request-create')}?listing={listing.pk}" in shared
    assert "?listing=" not in html_of(client_for(w.rita).get(url))


# Entering and editing -------------------------------------------------------------------------


def test_a_housing_officer_enters_a_flat(housing: Housing) -> None:
    client = client_for(housing.hana)
    page = html_of(client.get(reverse("housing-listing-create")))
    assert 'step="0.01"' in page and 'type="date"' in page
    # Only the officer's own housing office is offered.
    assert housing.world.social_office.name in page and housing.world.jobcenter.name not in page
    response = client.post(reverse("housing-listing-create"), form_body(owner_agency=housing.world.social_office.pk))
    listing = Listing.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("housing-listing-detail", args=[listing.pk])
    assert listing.status == ListingStatus.DRAFT and listing.base_rent == Decimal("450.00")
    assert listing.created_by == housing.hana


@pytest.mark.parametrize(
    ("field", "value"),
    [("base_rent", "-5.00"), ("heating_costs", "-0.01"), ("running_costs", "abc"), ("rooms", "0")],
)
def test_a_bad_value_shows_an_error_and_saves_nothing(housing: Housing, field: str, value: str) -> None:
    client = client_for(housing.hana)
    response = client.post(
        reverse("housing-listing-create"), form_body(owner_agency=housing.world.social_office.pk, **{field: value})
    )
    html = html_of(response)
    assert response.status_code == 200
    assert 'class="error-summary"' in html and f'href="#id_{field}"' in html
    assert f'aria-describedby="id_{field}_error' in html or f"id_{field}_error" in html
    assert not Listing.objects.exists()


def test_a_foreign_agency_cannot_be_chosen_as_the_managing_one(housing: Housing) -> None:
    response = client_for(housing.hana).post(
        reverse("housing-listing-create"), form_body(owner_agency=housing.world.jobcenter.pk)
    )
    assert response.status_code == 200 and not Listing.objects.exists()


def test_editing_a_flat_and_a_negative_rent_on_edit(housing: Housing) -> None:
    listing = make_listing(housing)
    client = client_for(housing.hana)
    url = reverse("housing-listing-edit", args=[listing.pk])
    assert "Lindenallee 4" in html_of(client.get(url))
    response = client.post(url, form_body(base_rent="-1"))
    assert response.status_code == 200
    listing.refresh_from_db()
    assert listing.base_rent == Decimal("450.00")
    response = client.post(url, form_body(base_rent="480.00", title="Frisch renoviert"))
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.base_rent == Decimal("480.00") and listing.title == "Frisch renoviert"


def test_status_steps_are_buttons_of_the_managing_officer(housing: Housing) -> None:
    listing = make_listing(housing, publish=False)
    client = client_for(housing.hana)
    detail = reverse("housing-listing-detail", args=[listing.pk])
    html = html_of(client.get(detail))
    assert reverse("housing-listing-step", args=[listing.pk, "publish"]) in html
    assert reverse("housing-listing-step", args=[listing.pk, "reopen"]) not in html
    response = client.post(reverse("housing-listing-step", args=[listing.pk, "publish"]))
    assert response.status_code == 302 and response["Location"] == detail
    listing.refresh_from_db()
    assert listing.status == ListingStatus.AVAILABLE
    # A step the state machine refuses is a message, not an error page.
    response = client.post(reverse("housing-listing-step", args=[listing.pk, "reopen"]), follow=True)
    assert response.status_code == 200 and 'class="message message-error"' in html_of(response)
    assert client.post(reverse("housing-listing-step", args=[listing.pk, "explode"])).status_code == 404
    assert client.get(reverse("housing-listing-step", args=[listing.pk, "withdraw"])).status_code == 405


# Photos and shares ----------------------------------------------------------------------------


def test_photos_are_uploaded_shown_and_deleted(housing: Housing) -> None:
    listing = make_listing(housing)
    client = client_for(housing.hana)
    url = reverse("housing-photo-add", args=[listing.pk])
    assert 'enctype="multipart/form-data"' in html_of(client.get(url))
    upload = SimpleUploadedFile("kueche.jpg", jpeg_bytes(640, 480), content_type="image/jpeg")
    response = client.post(url, {"photo": upload, "caption": "Küche mit Fenster"})
    assert response.status_code == 302
    photo = ListingPhoto.objects.get()
    detail = html_of(client.get(reverse("housing-listing-detail", args=[listing.pk])))
    assert f'src="{reverse("listing-photo-thumbnail", args=[photo.pk])}"' in detail
    assert 'alt="Küche mit Fenster"' in detail
    assert f'href="{reverse("listing-photo", args=[photo.pk])}"' in detail
    # The round table sees the photo, the outsider does not.
    assert client_for(housing.world.alice).get(reverse("listing-photo", args=[photo.pk])).status_code == 200
    assert client_for(housing.world.olga).get(reverse("listing-photo", args=[photo.pk])).status_code == 404
    # Only the managing officer deletes.
    assert client_for(housing.world.alice).post(reverse("housing-photo-delete", args=[photo.pk])).status_code == 403
    assert client.post(reverse("housing-photo-delete", args=[photo.pk])).status_code == 302
    assert not ListingPhoto.objects.exists()


def test_a_photo_without_caption_has_a_descriptive_alt_text(housing: Housing) -> None:
    listing = make_listing(housing)
    services.photo_add(
        actor=housing.hana,
        listing=listing,
        photo=SimpleUploadedFile("x.jpg", jpeg_bytes(64, 48), content_type="image/jpeg"),
    )
    detail = html_of(client_for(housing.world.alice).get(reverse("housing-listing-detail", args=[listing.pk])))
    assert re.search(r'alt="[^"]*Lindenallee 4"', detail)


def test_a_pdf_is_no_photo(housing: Housing) -> None:
    listing = make_listing(housing)
    pdf = SimpleUploadedFile("grundriss.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF", content_type="image/jpeg")
    response = client_for(housing.hana).post(reverse("housing-photo-add", args=[listing.pk]), {"photo": pdf})
    html = html_of(response)
    assert response.status_code == 200 and 'class="error-summary"' in html and 'href="#id_photo"' in html
    assert not ListingPhoto.objects.exists()


def test_sharing_and_unsharing(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing, share=False)
    client = client_for(housing.hana)
    assert client_for(w.alice).get(reverse("housing-listing-detail", args=[listing.pk])).status_code == 404
    url = reverse("housing-share-create", args=[listing.pk])
    # Neither or both: the form says so and nothing is shared.
    response = client.post(url, {"agency": w.jobcenter.pk, "workspace": w.workspace.pk})
    assert response.status_code == 200 and not ListingShare.objects.exists()
    # An agency the officer shares nothing with is no choice.
    response = client.post(url, {"agency": w.immigration.pk})
    assert response.status_code == 200 and not ListingShare.objects.exists()
    assert client.post(url, {"agency": w.jobcenter.pk}).status_code == 302
    share = ListingShare.objects.get()
    assert client_for(w.alice).get(reverse("housing-listing-detail", args=[listing.pk])).status_code == 200
    assert client_for(w.carol).get(reverse("housing-listing-detail", args=[listing.pk])).status_code == 404
    # Who does not manage the flat does not even see the share.
    assert client_for(w.alice).post(reverse("housing-share-delete", args=[share.pk])).status_code == 404
    assert client.post(reverse("housing-share-delete", args=[share.pk])).status_code == 302
    assert client_for(w.alice).get(reverse("housing-listing-detail", args=[listing.pk])).status_code == 404


# Requests, reservations, allocation, tenancy --------------------------------------------------


def test_a_caseworker_requests_a_flat_and_the_housing_office_accepts(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    household = make_household(w.alice, w.jobcenter, size=3)
    alice = client_for(w.alice)
    url = reverse("housing-request-create") + f"?listing={listing.pk}&household={household.pk}"
    page = html_of(alice.get(url))
    assert f'<option value="{household.pk}" selected>' in page
    response = alice.post(url, {"household": household.pk, "accessibility_need": "0", "note": "Dringend"})
    assert response.status_code == 302
    request = HousingRequest.objects.get()
    assert request.listing == listing and request.to_agency == w.social_office and request.household_size == 3
    # The same request twice is refused with a message on the form.
    response = alice.post(url, {"household": household.pk, "accessibility_need": "0"})
    assert response.status_code == 200 and HousingRequest.objects.count() == 1

    hana = client_for(housing.hana)
    incoming = html_of(hana.get(reverse("housing-request-list")))
    assert request.household.reference in incoming
    assert reverse("housing-request-accept", args=[request.pk]) in incoming
    # The requesting side does not answer its own request.
    assert alice.get(reverse("housing-request-accept", args=[request.pk])).status_code == 403
    assert client_for(w.olga).get(reverse("housing-request-accept", args=[request.pk])).status_code == 404
    past = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    response = hana.post(reverse("housing-request-accept", args=[request.pk]), {"expires_at": past})
    assert response.status_code == 200 and not Reservation.objects.exists()
    assert 'href="#id_expires_at"' in html_of(response)  # the service's refusal lands on the field
    until = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    response = hana.post(reverse("housing-request-accept", args=[request.pk]), {"expires_at": until})
    assert response.status_code == 302
    reservation = Reservation.objects.get()
    assert (
        reservation.status == ReservationStatus.ACTIVE
        and timezone.localdate(reservation.expires_at).isoformat() == until
    )
    request.refresh_from_db()
    listing.refresh_from_db()
    assert request.status == RequestStatus.ACCEPTED and listing.status == ListingStatus.RESERVED


def test_a_request_for_any_flat_goes_to_a_housing_office(housing: Housing) -> None:
    w = housing.world
    make_listing(housing)
    household = make_household(w.alice, w.jobcenter, size=2)
    alice = client_for(w.alice)
    page = html_of(alice.get(reverse("housing-request-create")))
    assert w.social_office.name in page  # it has a housing officer
    body = {
        "household": household.pk,
        "to_agency": w.social_office.pk,
        "accessibility_need": "1",
        "districts": "Nordhorn-Mitte, Blanke",
    }
    assert alice.post(reverse("housing-request-create"), body).status_code == 302
    request = HousingRequest.objects.get()
    assert request.listing is None and request.districts == ["Nordhorn-Mitte", "Blanke"]
    listing = Listing.objects.get()
    # The housing office answers with a flat of its choice.
    response = client_for(housing.hana).post(
        reverse("housing-request-accept", args=[request.pk]),
        {"listing": listing.pk, "expires_at": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()},
    )
    assert response.status_code == 302 and Reservation.objects.get().listing == listing


def test_declining_needs_a_reason_and_the_requester_withdraws(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    first = services.housing_request_create(
        actor=w.alice, household=make_household(w.alice, w.jobcenter), listing=listing
    )
    hana = client_for(housing.hana)
    url = reverse("housing-request-decline", args=[first.pk])
    assert hana.post(url, {"note": ""}).status_code == 200
    first.refresh_from_db()
    assert first.status == RequestStatus.OPEN
    assert hana.post(url, {"note": "Zu klein"}).status_code == 302
    first.refresh_from_db()
    assert first.status == RequestStatus.DECLINED and first.decision_note == "Zu klein"

    second = services.housing_request_create(
        actor=w.alice, household=make_household(w.alice, w.jobcenter, name="Omar"), listing=listing
    )
    assert hana.post(reverse("housing-request-withdraw", args=[second.pk])).status_code == 403
    assert client_for(w.alice).post(reverse("housing-request-withdraw", args=[second.pk])).status_code == 302
    second.refresh_from_db()
    assert second.status == RequestStatus.WITHDRAWN


def test_reserve_release_and_allocate_within_the_limit(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    household = make_household(w.bob, w.social_office, size=3)
    hana = client_for(housing.hana)
    url = reverse("housing-listing-reserve", args=[listing.pk])
    until = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    assert hana.post(url, {"household": household.pk, "expires_at": until}).status_code == 302
    reservation = Reservation.objects.get()
    detail = html_of(hana.get(reverse("housing-listing-detail", args=[listing.pk])))
    assert reservation.household.reference in detail
    assert reverse("housing-reservation-allocate", args=[reservation.pk]) in detail
    # Bob sees the flat through the workspace, but reservations are the housing officer's.
    assert client_for(w.alice).post(reverse("housing-reservation-release", args=[reservation.pk])).status_code == 404
    assert hana.post(reverse("housing-reservation-release", args=[reservation.pk])).status_code == 302
    reservation.refresh_from_db()
    listing.refresh_from_db()
    assert reservation.status == ReservationStatus.RELEASED and listing.status == ListingStatus.AVAILABLE

    assert hana.post(url, {"household": household.pk, "expires_at": until}).status_code == 302
    again = Reservation.objects.get(status=ReservationStatus.ACTIVE)
    allocate = reverse("housing-reservation-allocate", args=[again.pk])
    assert "640,00 €" in html_of(hana.get(allocate))  # the limit for 3 persons
    response = hana.post(allocate, {"lease_holder": "county", "move_in": ""})
    assert response.status_code == 302
    tenancy = Tenancy.objects.get()
    listing.refresh_from_db()
    assert tenancy.status == TenancyStatus.ALLOCATED and listing.status == ListingStatus.ALLOCATED


def test_above_the_limit_the_jobcenter_approves_before_the_allocation(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing, base_rent=Decimal("600.00"))  # 740 € gross cold, the limit for 3 is 640 €
    reservation = reserved(housing, listing)
    hana = client_for(housing.hana)
    allocate = reverse("housing-reservation-allocate", args=[reservation.pk])
    page = html_of(hana.get(allocate))
    assert "740,00 €" in page and "640,00 €" in page
    assert reverse("housing-approval-create", args=[listing.pk]) not in page  # hana is no jobcenter
    response = hana.post(allocate, {"lease_holder": "county"})
    assert response.status_code == 200 and 'class="error-summary"' in html_of(response)
    assert not Tenancy.objects.exists()

    theo = client_for(housing.theo)
    detail = html_of(theo.get(reverse("housing-listing-detail", args=[listing.pk])))
    assert reverse("housing-approval-create", args=[listing.pk]) in detail
    url = reverse("housing-approval-create", args=[listing.pk]) + f"?household={reservation.household_id}"
    assert (
        theo.post(url, {"household": reservation.household_id, "reason": "", "agency": w.jobcenter.pk}).status_code
        == 200
    )
    assert not OverLimitApproval.objects.exists()
    body = {"household": reservation.household_id, "reason": "Kein anderer Wohnraum", "agency": w.jobcenter.pk}
    assert theo.post(url, body).status_code == 302
    assert OverLimitApproval.objects.get().household_id == reservation.household_id
    assert escape(
        gettext("The flat is above the rent limit, and the jobcenter has approved the costs for this household.")
    ) in html_of(hana.get(allocate))
    assert hana.post(allocate, {"lease_holder": "county"}).status_code == 302
    assert Tenancy.objects.get().approval is not None


def test_move_in_move_out_and_handover(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    tenancy = services.tenancy_allocate(actor=housing.hana, reservation=reserved(housing, listing))
    hana = client_for(housing.hana)
    today = timezone.localdate()
    assert client_for(w.alice).get(reverse("housing-tenancy-move-in", args=[tenancy.pk])).status_code == 403
    assert client_for(w.olga).get(reverse("housing-tenancy-move-in", args=[tenancy.pk])).status_code == 404
    response = hana.post(reverse("housing-tenancy-move-in", args=[tenancy.pk]), {"move_in": today.isoformat()})
    assert response.status_code == 302
    tenancy.refresh_from_db()
    assert tenancy.status == TenancyStatus.ACTIVE and tenancy.move_in == today

    handover = reverse("housing-tenancy-handover", args=[tenancy.pk])
    before = (today - datetime.timedelta(days=3)).isoformat()
    response = hana.post(handover, {"to_holder": "tenant", "effective_on": before})
    assert response.status_code == 200 and not LeaseHandover.objects.exists()
    assert hana.post(handover, {"to_holder": "tenant", "effective_on": today.isoformat()}).status_code == 302
    tenancy.refresh_from_db()
    assert tenancy.lease_holder == "tenant"
    detail = html_of(hana.get(reverse("housing-listing-detail", args=[listing.pk])))
    assert "Handovers of the lease" in detail or "Übergaben" in detail

    move_out = reverse("housing-tenancy-move-out", args=[tenancy.pk])
    response = hana.post(move_out, {"move_out": (today - datetime.timedelta(days=1)).isoformat()})
    html = html_of(response)
    assert response.status_code == 200 and 'href="#id_move_out"' in html
    tenancy.refresh_from_db()
    assert tenancy.status == TenancyStatus.ACTIVE and tenancy.move_out is None
    assert hana.post(move_out, {"move_out": (today + datetime.timedelta(days=30)).isoformat()}).status_code == 302
    tenancy.refresh_from_db()
    listing.refresh_from_db()
    # The tenant took the lease along: the listing ends.
    assert tenancy.status == TenancyStatus.ENDED and listing.status == ListingStatus.ENDED


# Rent limits, occupancy, matching -------------------------------------------------------------


def test_rent_limits_are_kept_by_the_jobcenter(housing: Housing) -> None:
    w = housing.world
    page = html_of(client_for(w.alice).get(reverse("housing-rent-limit-list")))
    assert AREA in page and "640,00 €" in page and "<caption" in page
    assert reverse("housing-rent-limit-create") not in page
    assert client_for(w.alice).get(reverse("housing-rent-limit-create")).status_code == 403
    assert client_for(housing.hana).get(reverse("housing-rent-limit-create")).status_code == 403

    theo = client_for(housing.theo)
    body = {
        "agency": w.jobcenter.pk,
        "comparison_area": "Umland",
        "household_size": "2",
        "max_gross_cold_rent": "-1",
        "valid_from": timezone.localdate().isoformat(),
    }
    count = RentLimit.objects.count()
    assert theo.post(reverse("housing-rent-limit-create"), body).status_code == 200
    assert RentLimit.objects.count() == count
    assert theo.post(reverse("housing-rent-limit-create"), {**body, "max_gross_cold_rent": "500.00"}).status_code == 302
    limit = RentLimit.objects.get(comparison_area="Umland")
    edit = reverse("housing-rent-limit-edit", args=[limit.pk])
    assert client_for(w.alice).get(edit).status_code == 403
    assert theo.post(edit, {**body, "max_gross_cold_rent": "520.00"}).status_code == 302
    limit.refresh_from_db()
    assert limit.max_gross_cold_rent == Decimal("520.00")
    assert client_for(w.alice).post(reverse("housing-rent-limit-delete", args=[limit.pk])).status_code == 403
    assert theo.post(reverse("housing-rent-limit-delete", args=[limit.pk])).status_code == 302
    assert not RentLimit.objects.filter(pk=limit.pk).exists()


def test_occupancy_per_district_is_an_accessible_table(housing: Housing) -> None:
    make_listing(housing)
    make_listing(housing, street="Am Deich 1", district="Blanke")
    reserved(housing, make_listing(housing, street="Marktplatz 3"))
    make_listing(housing, street="Entwurf 1", publish=False)
    html = html_of(client_for(housing.hana).get(reverse("housing-occupancy")))
    assert "<caption" in html and '<th scope="row">' in html and "<meter" in html
    row = html.split("Nordhorn-Mitte</a></th>")[1].split("</tr>")[0]
    cells = re.findall(r'<td class="numeric">(?:<a [^>]*>)?(\d+)', row)
    assert cells == ["1", "1", "0", "0", "2"]  # available, reserved, allocated, withdrawn or ended, total
    assert 'value="1"' in row and "50 %" in row
    assert "style=" not in html
    assert "Lindenallee" not in html_of(client_for(housing.world.olga).get(reverse("housing-occupancy")))


def test_the_match_page_ranks_flats_with_reasons(housing: Housing) -> None:
    w = housing.world
    make_listing(housing)
    make_listing(housing, street="Teuer 1", base_rent=Decimal("800.00"))
    household = make_household(w.alice, w.jobcenter, size=3)
    alice = client_for(w.alice)
    url = reverse("housing-match", args=[household.pk])
    html = html_of(alice.get(url))
    assert html.index("Lindenallee 4") < html.index("Teuer 1")
    assert "reason-met" in html and "reason-unmet" in html
    assert f"?listing={Listing.objects.get(street='Lindenallee 4').pk}&amp;household={household.pk}" in html
    narrowed = html_of(alice.get(url, {"districts": "Blanke", "household_size": "2"}, headers={"HX-Request": "true"}))
    assert "<html" not in narrowed and "Nordhorn-Mitte" in narrowed
    assert client_for(w.olga).get(url).status_code == 404
    # The person's page leads here.
    person = household.members.first()
    assert person is not None
    assert url in html_of(alice.get(reverse("person-detail", args=[person.pk])))
