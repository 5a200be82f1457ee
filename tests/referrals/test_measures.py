"""The measure catalogue: offers by course providers, seats, the waiting list in its order, enrolment rights."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies import services as agency_services
from agencies.models import Agency, AgencyKind, User
from hub import access
from hub.models import AuditEntry, Event
from referrals import selectors, services
from referrals.models import Enrollment, EnrollmentStatus, Measure, Person
from tests.conftest import Case, World, make_user

pytestmark = pytest.mark.django_db

START = timezone.localdate() + datetime.timedelta(days=30)


def make_provider(world: World) -> tuple[Agency, User]:
    """The adult-education centre (a course provider) and vera, its caseworker. It holds no person's file."""
    vhs = agency_services.agency_create(
        actor=None,
        name="Volkshochschule Musterstadt",
        short_name="VHS",
        kind=AgencyKind.COURSE_PROVIDER,
        city="Nordhorn",
    )
    vera = make_user("vera", "Vera", "Vogel")
    agency_services.staff_create(actor=None, agency=vhs, user=vera, roles=["caseworker"])
    return vhs, vera


def make_person(actor: User, agency: Agency, first_name: str, last_name: str = "Test") -> Person:
    return services.person_create(
        actor=actor,
        agency=agency,
        first_name=first_name,
        last_name=last_name,
        birth_date=datetime.date(1995, 1, 1),
        nationality="syrisch",
    )


def make_measure(vera: User, vhs: Agency, seats: int = 2, **overrides: Any) -> Measure:
    fields: dict[str, Any] = {
        "title": "Integrationskurs B1",
        "kind": "integration_course",
        "languages": "Deutsch, Arabisch",
        "location": "Nordhorn",
        "starts_on": START,
        "seats": seats,
    } | overrides
    return services.measure_create(actor=vera, provider=vhs, **fields)


@pytest.fixture
def provider(world: World) -> tuple[Agency, User]:
    return make_provider(world)


# Offers -----------------------------------------------------------------------------------


def test_course_provider_staff_offer_and_change_measures(world: World, provider: tuple[Agency, User]) -> None:
    vhs, vera = provider
    measure = make_measure(vera, vhs)
    assert measure.provider == vhs and measure.is_open
    assert AuditEntry.objects.filter(action="measure.create", target_id=str(measure.pk), agency_id=vhs.pk).exists()
    assert Event.objects.filter(verb="measure.created", target_id=str(measure.pk)).exists()
    services.measure_update(actor=vera, measure=measure, seats=12, location="Lingen")
    measure.refresh_from_db()
    assert (measure.seats, measure.location) == (12, "Lingen")


@pytest.mark.parametrize("persona", ["alice", "bob", "rita", "adam", "cora", "olga"])
def test_others_may_not_offer_or_change_measures(world: World, provider: tuple[Agency, User], persona: str) -> None:
    vhs, vera = provider
    measure = make_measure(vera, vhs)
    actor = world.persona(persona)
    with pytest.raises(PermissionDenied):
        make_measure(actor, vhs)
    with pytest.raises(PermissionDenied):  # the catalogue is visible to every member, so 403, not 404
        services.measure_update(actor=actor, measure=measure, seats=1)


def test_a_provider_offers_only_for_its_own_agency(world: World, provider: tuple[Agency, User]) -> None:
    vhs, vera = provider
    other = agency_services.agency_create(actor=None, name="Bildungswerk", kind=AgencyKind.COURSE_PROVIDER)
    with pytest.raises(ValidationError) as excinfo:
        make_measure(vera, other)
    assert "provider" in excinfo.value.message_dict


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"ends_on": START - datetime.timedelta(days=1)}, "ends_on"),
        ({"seats": 0}, "seats"),
        ({"kind": "yoga"}, "kind"),
        ({"title": ""}, "title"),
        ({"description": "x" * 4001}, "description"),
    ],
)
def test_bad_offers_are_refused_with_field_messages(
    world: World, provider: tuple[Agency, User], fields: dict[str, Any], error: str
) -> None:
    vhs, vera = provider
    with pytest.raises(ValidationError) as excinfo:
        make_measure(vera, vhs, **fields)
    assert error in excinfo.value.message_dict
    assert not Measure.objects.exists()


# Enrolment --------------------------------------------------------------------------------


def test_enrolment_takes_a_seat_then_the_waiting_list_in_order(
    world: World, case: Case, provider: tuple[Agency, User]
) -> None:
    vhs, vera = provider
    measure = make_measure(vera, vhs, seats=2)
    persons = [case.person] + [make_person(world.alice, world.jobcenter, name) for name in ("Bilal", "Chadi", "Dana")]
    results = [services.enrollment_request(actor=world.alice, measure=measure, person=p) for p in persons]
    assert [(e.status, e.waitlist_position) for e in results] == [
        ("enrolled", None),
        ("enrolled", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    assert results[0].requested_by_agency == world.jobcenter
    event = Event.objects.filter(verb="enrollment.created").latest("id")
    assert set(event.audience) == {f"agency.{vhs.pk}", f"agency.{world.jobcenter.pk}"}
    with pytest.raises(ValidationError) as excinfo:
        services.enrollment_request(actor=world.alice, measure=measure, person=persons[3])
    assert "person" in excinfo.value.message_dict


def test_cancelling_a_seat_promotes_the_first_waiting_and_the_order_holds(
    world: World, case: Case, provider: tuple[Agency, User]
) -> None:
    vhs, vera = provider
    measure = make_measure(vera, vhs, seats=1)
    persons = [case.person] + [make_person(world.alice, world.jobcenter, n) for n in ("Bilal", "Chadi", "Dana")]
    seat, first, second, third = (
        services.enrollment_request(actor=world.alice, measure=measure, person=p) for p in persons
    )
    services.enrollment_cancel(actor=world.alice, enrollment=second)  # the requesting agency may cancel
    services.enrollment_cancel(actor=vera, enrollment=seat)  # and so may the provider
    first.refresh_from_db()
    third.refresh_from_db()
    assert (first.status, first.waitlist_position) == ("enrolled", None)
    assert (third.status, third.waitlist_position) == ("waitlisted", 3)
    assert AuditEntry.objects.filter(action="enrollment.promote", target_id=str(first.pk)).exists()
    late = services.enrollment_request(actor=world.alice, measure=measure, person=persons[0])
    assert (late.status, late.waitlist_position) == ("waitlisted", 4)
    waiting = Enrollment.objects.filter(measure=measure, status="waitlisted").order_by("waitlist_position")
    assert [e.person for e in waiting] == [persons[3], persons[0]]
    with pytest.raises(ValidationError):
        services.enrollment_cancel(actor=world.alice, enrollment=seat)  # ended already


def test_more_seats_go_to_the_waiting_list_first_and_seats_cannot_drop_below_those_taken(
    world: World, case: Case, provider: tuple[Agency, User]
) -> None:
    vhs, vera = provider
    measure = make_measure(vera, vhs, seats=1)
    persons = [case.person, make_person(world.alice, world.jobcenter, "Bilal")]
    _, waiting = (services.enrollment_request(actor=world.alice, measure=measure, person=p) for p in persons)
    services.measure_update(actor=vera, measure=measure, seats=3)
    waiting.refresh_from_db()
    assert waiting.status == "enrolled"
    with pytest.raises(ValidationError) as excinfo:
        services.measure_update(actor=vera, measure=measure, seats=1)
    assert "seats" in excinfo.value.message_dict


def test_a_closed_measure_takes_no_enrolment(world: World, case: Case, provider: tuple[Agency, User]) -> None:
    vhs, vera = provider
    measure = make_measure(vera, vhs, is_open=False)
    with pytest.raises(ValidationError) as excinfo:
        services.enrollment_request(actor=world.alice, measure=measure, person=case.person)
    assert "measure" in excinfo.value.message_dict


@pytest.mark.parametrize(
    ("persona", "error"),
    [("rita", PermissionDenied), ("adam", PermissionDenied), ("bob", Http404), ("olga", Http404), ("vera", Http404)],
)
def test_only_holders_enrol_their_persons(
    world: World, case: Case, provider: tuple[Agency, User], persona: str, error: type
) -> None:
    vhs, vera = provider
    measure = make_measure(vera, vhs)
    actor = vera if persona == "vera" else world.persona(persona)
    with pytest.raises(error):
        services.enrollment_request(actor=actor, measure=measure, person=case.person)
    assert not Enrollment.objects.exists()


def test_only_the_provider_records_completion(world: World, case: Case, provider: tuple[Agency, User]) -> None:
    vhs, vera = provider
    measure = make_measure(vera, vhs, seats=1)
    seat = services.enrollment_request(actor=world.alice, measure=measure, person=case.person)
    waiting = services.enrollment_request(
        actor=world.alice, measure=measure, person=make_person(world.alice, world.jobcenter, "Bilal")
    )
    with pytest.raises(PermissionDenied):
        services.enrollment_complete(actor=world.alice, enrollment=seat)
    with pytest.raises(Http404):
        services.enrollment_complete(actor=world.bob, enrollment=seat)
    with pytest.raises(ValidationError):
        services.enrollment_complete(actor=vera, enrollment=waiting)
    services.enrollment_complete(actor=vera, enrollment=seat)
    seat.refresh_from_db()
    assert seat.status == EnrollmentStatus.COMPLETED
    assert AuditEntry.objects.filter(action="enrollment.complete", agency_id=vhs.pk).exists()


def test_the_provider_sees_references_not_names(world: World, case: Case, provider: tuple[Agency, User]) -> None:
    vhs, vera = provider
    measure = make_measure(vera, vhs)
    services.enrollment_request(actor=world.alice, measure=measure, person=case.person)
    [row] = selectors.measure_enrollments(vera, selectors.measure_detail(vera, measure.pk))
    assert row.person_name is None and row.person_label == case.person.reference
    assert row.may_cancel and row.may_complete
    [row] = selectors.measure_enrollments(world.alice, selectors.measure_detail(world.alice, measure.pk))
    assert row.person_name == "Amina Haddad" and row.may_cancel and not row.may_complete
    assert selectors.measure_enrollments(world.bob, selectors.measure_detail(world.bob, measure.pk)) == []


def test_catalogue_counts_free_seats_and_filters(world: World, case: Case, provider: tuple[Agency, User]) -> None:
    vhs, vera = provider
    full = make_measure(vera, vhs, seats=1, title="Aktivierung Arabisch", kind="activation")
    later = make_measure(vera, vhs, seats=5, starts_on=START + datetime.timedelta(days=60))
    services.enrollment_request(actor=world.alice, measure=full, person=case.person)
    services.enrollment_request(
        actor=world.alice, measure=full, person=make_person(world.alice, world.jobcenter, "Bilal")
    )
    catalogue: dict[int, Any] = {m.pk: m for m in selectors.measure_catalogue(world.carol)}
    assert (catalogue[full.pk].free_seats, catalogue[full.pk].waitlist_count) == (0, 1)
    assert catalogue[later.pk].free_seats == 5
    client = Client()
    client.force_login(world.carol)
    url = reverse("measure-list")
    assert list(client.get(url, {"free_seats": "true"}).context["page_obj"]) == [catalogue[later.pk]]
    assert list(client.get(url, {"kind": "activation"}).context["page_obj"]) == [catalogue[full.pk]]
    after = (START + datetime.timedelta(days=1)).isoformat()
    assert list(client.get(url, {"starts_after": after}).context["page_obj"]) == [catalogue[later.pk]]
    assert client.get(url, {"starts_after": "not a date", "kind": "nonsense"}).status_code == 200


# Pages ------------------------------------------------------------------------------------


def test_enrol_page_gives_a_seat_or_a_waiting_place(world: World, case: Case, provider: tuple[Agency, User]) -> None:
    vhs, vera = provider
    measure = make_measure(vera, vhs, seats=1)
    other = make_person(world.alice, world.jobcenter, "Bilal")
    client = Client()
    client.force_login(world.alice)
    url = reverse("measure-enrol", args=[measure.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Amina" in page.content.decode()
    response = client.post(url, {"person": case.person.pk}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("measure-detail", args=[measure.pk])
    assert [m.level_tag for m in response.context["messages"]] == ["success"]  # a seat
    response = client.post(url, {"person": other.pk}, follow=True)
    [waiting] = list(response.context["messages"])
    assert waiting.level_tag == "info" and "1" in waiting.message  # the waiting list, place 1
    # A person the actor does not hold, or nonsense, is a form error, never a 500.
    bobs = make_person(world.bob, world.social_office, "Sami")
    for data in ({"person": bobs.pk}, {"person": "x"}, {}):
        assert client.post(url, data).status_code == 200
    assert Enrollment.objects.filter(measure=measure).count() == 2


def test_measure_pages_for_provider_and_others(world: World, case: Case, provider: tuple[Agency, User]) -> None:
    vhs, vera = provider
    client = Client()
    client.force_login(vera)
    response = client.post(
        reverse("measure-create"),
        {
            "provider": vhs.pk,
            "title": "Sprachkurs A2",
            "kind": "language_course",
            "starts_on": START.isoformat(),
            "seats": "1",
            "is_open": "on",
        },
    )
    measure = Measure.objects.get(title="Sprachkurs A2")
    assert response.status_code == 302 and response["Location"] == reverse("measure-detail", args=[measure.pk])
    services.enrollment_request(actor=world.alice, measure=measure, person=case.person)
    detail = client.get(reverse("measure-detail", args=[measure.pk])).content.decode()
    assert case.person.reference in detail and "Haddad" not in detail
    assert client.get(reverse("measure-edit", args=[measure.pk])).status_code == 200
    bad = client.post(reverse("measure-edit", args=[measure.pk]), {"title": "", "seats": "0"})
    assert bad.status_code == 200 and bad.context["form"].errors
    enrollment = Enrollment.objects.get(measure=measure)
    assert client.post(reverse("enrollment-complete", args=[enrollment.pk])).status_code == 302
    alice = Client()
    alice.force_login(world.alice)
    assert "Haddad" in alice.get(reverse("measure-detail", args=[measure.pk])).content.decode()
    assert alice.get(reverse("measure-edit", args=[measure.pk])).status_code == 403
    assert alice.get(reverse("measure-create")).status_code == 403
    assert alice.post(reverse("enrollment-complete", args=[enrollment.pk])).status_code == 403
    olga = Client()
    olga.force_login(world.olga)
    assert olga.post(reverse("enrollment-cancel", args=[enrollment.pk])).status_code == 404


# API --------------------------------------------------------------------------------------


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_measure_and_enrollment_api(world: World, case: Case, provider: tuple[Agency, User]) -> None:
    vhs, vera = provider
    body = {
        "provider": vhs.pk,
        "title": "Integrationskurs",
        "kind": "integration_course",
        "starts_on": START,
        "seats": 1,
    }
    assert api(world.alice).post("/api/v1/measures/", body, format="json").status_code == 403
    assert api(vera).post("/api/v1/measures/", {**body, "seats": -1}, format="json").status_code == 400
    assert api(vera).post("/api/v1/measures/", {**body, "group": 1}, format="json").status_code == 400
    created = api(vera).post("/api/v1/measures/", body, format="json")
    assert created.status_code == 201, created.content
    measure_id = created.json()["id"]
    assert created.json()["free_seats"] == 1
    listed = api(world.carol).get("/api/v1/measures/", {"free_seats": "true"}).json()
    assert [m["id"] for m in listed["results"]] == [measure_id]
    assert api(world.alice).patch(f"/api/v1/measures/{measure_id}/", {"seats": 3}, format="json").status_code == 403
    patched = api(vera).patch(f"/api/v1/measures/{measure_id}/", {"seats": 2}, format="json")
    assert patched.status_code == 200 and patched.json()["seats"] == 2

    enrol = {"measure": measure_id, "person": case.person.pk}
    assert api(world.rita).post("/api/v1/enrollments/", enrol, format="json").status_code == 403
    assert api(world.bob).post("/api/v1/enrollments/", enrol, format="json").status_code == 400  # invisible person
    response = api(world.alice).post("/api/v1/enrollments/", enrol, format="json")
    assert response.status_code == 201 and response.json()["status"] == "enrolled"
    enrollment_id = response.json()["id"]
    assert api(world.alice).post("/api/v1/enrollments/", enrol, format="json").status_code == 400
    seen_by_provider = api(vera).get(f"/api/v1/enrollments/{enrollment_id}/").json()
    assert seen_by_provider["person"] == {"id": case.person.pk, "reference": case.person.reference}
    assert api(world.olga).get(f"/api/v1/enrollments/{enrollment_id}/").status_code == 404
    assert api(world.alice).post(f"/api/v1/enrollments/{enrollment_id}/complete/").status_code == 403
    done = api(vera).post(f"/api/v1/enrollments/{enrollment_id}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert api(world.alice).post(f"/api/v1/enrollments/{enrollment_id}/cancel/").status_code == 400


def test_measure_visibility_is_the_whole_catalogue(world: World, provider: tuple[Agency, User]) -> None:
    vhs, vera = provider
    measure = make_measure(vera, vhs)
    for persona in ("alice", "bob", "carol", "olga", "rita"):
        assert access.visible(world.persona(persona), Measure).filter(pk=measure.pk).exists()
