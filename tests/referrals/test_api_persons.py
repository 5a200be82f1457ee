"""The persons, households, consents, shares and referrals API.

Who may and who may not; a receiving agency gets only the fields its shares cover (left
out, not blanked); revocation ends access at once; ids the actor cannot see read as
nonexistent; no mass assignment; no 500s; lists at a constant number of queries.
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, cast

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import User
from hub.models import AuditEntry, Event
from referrals import services
from referrals.models import CaseFile, Consent, Household, Person, Referral, ReferralStatus, Share
from tests.conftest import Case, World, make_case, make_world, module_transaction

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("error::django.core.paginator.UnorderedObjectListWarning"),
]

API = "/api/v1"
HUGE_ID = 2**70
SOON = timezone.localdate() + datetime.timedelta(days=14)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

IDENTITY = {"first_name", "last_name", "birth_date", "nationality", "gender", "household"}
CONTACT = {"street", "postcode", "city", "phone", "email"}
RESIDENCE = {"arrival_date", "residence_status", "residence_permit_until", "residence_obligation"}
HEALTH = {"health_notes"}
BENEFITS = {"benefit_scheme", "benefits_since"}
ALWAYS = {"id", "reference", "categories", "responsible_agency", "responsible_since"}
ALL_PERSON_KEYS = ALWAYS | IDENTITY | CONTACT | RESIDENCE | HEALTH | BENEFITS


class Response(Protocol):
    status_code: int

    def json(self) -> Any: ...

    def __getitem__(self, header: str) -> str: ...


@pytest.fixture(scope="module")
def module_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The personas, built once for this module and rolled back at its end (like setUpTestData)."""
    with module_transaction(django_db_blocker), django_db_blocker.unblock():
        yield make_world()


@pytest.fixture
def world(module_world: World, db: None) -> World:
    """Fresh copies of the module's personas, so that no cached memberships cross tests."""
    return module_world.reloaded()


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@functools.cache
def shared_handler() -> Any:
    return APIClient().handler


def client(user: User | None = None) -> APIClient:
    api = APIClient()
    api.handler = shared_handler()
    if user is not None:
        api.force_login(user)
    return api


def as_(world: World, persona: str) -> APIClient:
    return client(None if persona == "anon" else world.persona(persona))


def rows(response: Response) -> list[dict[str, Any]]:
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def ids(response: Response) -> set[int]:
    return {row["id"] for row in rows(response)}


def write_counts() -> tuple[int, int]:
    # Notifications to people (messaging) are not the referral's own events.
    return AuditEntry.objects.count(), Event.objects.exclude(verb__startswith="notification.").count()


def audited(action: str, **lookup: Any) -> AuditEntry:
    return AuditEntry.objects.filter(action=action, **lookup).latest("id")


def published(verb: str) -> Event:
    return Event.objects.filter(verb=verb).latest("id")


def refer(world: World, case: Case, **overrides: Any) -> Referral:
    kwargs: dict[str, Any] = {
        "actor": world.alice,
        "person": case.person,
        "to_agency": world.social_office,
        "reason": "Beratung zur Wohnsituation",
        "categories": ["identity", "contact"],
        "legal_basis": "consent",
        "consent": case.consent,
        "answer_due_on": SOON,
    } | overrides
    return services.referral_create(**kwargs)


def referral_body(world: World, case: Case, **overrides: Any) -> dict[str, Any]:
    return {
        "person": case.person.pk,
        "to_agency": world.social_office.pk,
        "reason": "Beratung zur Wohnsituation",
        "categories": ["identity", "contact"],
        "legal_basis": "consent",
        "consent": case.consent.pk,
        "answer_due_on": SOON.isoformat(),
    } | overrides


def new_person(world: World, actor: User | None = None, **overrides: Any) -> Person:
    kwargs: dict[str, Any] = {
        "actor": actor or world.alice,
        "agency": world.jobcenter,
        "first_name": "Yusuf",
        "last_name": "Demir",
        "birth_date": datetime.date(1985, 2, 3),
        "nationality": "türkisch",
        "health_notes": "Rückenleiden",
    } | overrides
    return services.person_create(**kwargs)


# Anonymous ----------------------------------------------------------------------------------

LISTS = ["/persons/", "/households/", "/consents/", "/shares/", "/referrals/", "/referrals/inbox/"]


@pytest.mark.parametrize("path", LISTS)
def test_anonymous_gets_nothing(world: World, path: str) -> None:
    response = client().get(API + path)
    assert response.status_code == 401
    assert "results" not in response.json()


# Persons: who sees whom ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("alice", 200),
        ("rita", 200),  # read-only colleagues read
        ("adam", 200),
        ("cora", 200),
        ("bob", 404),
        ("carol", 404),
        ("olga", 404),
        ("anon", 401),
    ],
)
def test_person_retrieve(world: World, persona: str, expected: int) -> None:
    case = make_case(world)
    response = as_(world, persona).get(f"{API}/persons/{case.person.pk}/")
    assert response.status_code == expected
    if expected == 200:
        assert set(response.json()) == ALL_PERSON_KEYS
        assert response.json()["health_notes"] == "Diabetes"


def test_person_list_shows_no_foreign_persons_or_counts(world: World) -> None:
    case = make_case(world)
    olgas = new_person(world, actor=world.olga, agency=world.immigration)
    assert ids(as_(world, "alice").get(f"{API}/persons/")) == {case.person.pk}
    assert ids(as_(world, "rita").get(f"{API}/persons/")) == {case.person.pk}
    for persona in ("bob", "carol"):
        body = as_(world, persona).get(f"{API}/persons/").json()
        assert (body["count"], body["results"]) == (0, [])
    assert ids(as_(world, "olga").get(f"{API}/persons/")) == {olgas.pk}
    # Searching for a person of another agency finds nothing either.
    assert as_(world, "olga").get(f"{API}/persons/", {"q": "Haddad"}).json()["count"] == 0
    assert ids(as_(world, "alice").get(f"{API}/persons/", {"q": "amina"})) == {case.person.pk}
    assert ids(as_(world, "alice").get(f"{API}/persons/", {"q": case.person.reference})) == {case.person.pk}


@pytest.mark.parametrize("pk", ["999999", str(HUGE_ID), "abc", "-1", "1.5", "%20"])
def test_person_retrieve_of_odd_ids_is_404(world: World, pk: str) -> None:
    assert as_(world, "alice").get(f"{API}/persons/{pk}/").status_code == 404


# Persons: field minimisation ----------------------------------------------------------------


def test_a_receiver_sees_only_the_categories_of_the_referral(world: World) -> None:
    case = make_case(world)
    bob = as_(world, "bob")
    url = f"{API}/persons/{case.person.pk}/"
    assert bob.get(url).status_code == 404

    refer(world, case)

    body = bob.get(url).json()
    assert set(body) == ALWAYS | IDENTITY | CONTACT
    assert body["categories"] == ["identity", "contact"]
    assert (body["first_name"], body["phone"], body["city"]) == ("Amina", "0170 1234567", "Nordhorn")
    assert body["responsible_agency"]["id"] == world.jobcenter.pk
    for hidden in ("health_notes", "residence_status", "benefit_scheme", "arrival_date"):
        assert hidden not in body
    assert "Diabetes" not in json.dumps(body) and "25 Abs. 2" not in json.dumps(body)
    # The list answers the same minimised object.
    listed = bob.get(f"{API}/persons/").json()
    assert listed["count"] == 1 and listed["results"] == [body]
    # Carol's agency is named in the consent but received nothing: she sees nothing.
    assert as_(world, "carol").get(url).status_code == 404
    # The holder still sees everything.
    assert set(as_(world, "alice").get(url).json()) == ALL_PERSON_KEYS


def test_revoking_consent_ends_the_receivers_access_at_once(world: World) -> None:
    case = make_case(world)
    refer(world, case)
    bob = as_(world, "bob")
    assert bob.get(f"{API}/persons/{case.person.pk}/").status_code == 200

    response = as_(world, "alice").post(f"{API}/consents/{case.consent.pk}/revoke/")
    assert response.status_code == 200, response.json()
    assert response.json()["revoked_at"] and response.json()["valid_today"] is False

    assert bob.get(f"{API}/persons/{case.person.pk}/").status_code == 404
    assert bob.get(f"{API}/persons/").json()["count"] == 0
    assert bob.get(f"{API}/consents/{case.consent.pk}/").status_code == 404
    assert audited("consent.revoke", actor=world.alice).target_id == str(case.consent.pk)
    assert f"agency.{world.social_office.pk}" in published("access.revoked").audience


def test_household_reference_shows_with_identity(world: World) -> None:
    case = make_case(world)
    household = services.household_create(actor=world.alice, name="Familie Haddad")
    services.person_update(actor=world.alice, person=case.person, household=household)
    refer(world, case)
    body = as_(world, "bob").get(f"{API}/persons/{case.person.pk}/").json()
    assert body["household"] == {"id": household.pk, "reference": household.reference}


# Persons: writes ----------------------------------------------------------------------------

PERSON = {
    "first_name": "Lina",
    "last_name": "Haddad",
    "birth_date": "2012-06-01",
    "nationality": "syrisch",
    "phone": "0170 5555",
    "health_notes": "Asthma",
}


def test_caseworker_registers_a_person(world: World) -> None:
    before = write_counts()
    response = as_(world, "alice").post(f"{API}/persons/", {**PERSON, "agency": world.jobcenter.pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == ALL_PERSON_KEYS
    assert body["first_name"] == "Lina" and body["responsible_agency"]["id"] == world.jobcenter.pk
    assert body["reference"].startswith("P-")
    person = Person.objects.get(pk=body["id"])
    assert CaseFile.objects.filter(person=person, agency=world.jobcenter, case_manager=world.alice).exists()
    assert audited("person.create", actor=world.alice).target_id == str(person.pk)
    assert published("person.created").target_id == str(person.pk)
    assert write_counts() == (before[0] + 1, before[1] + 1)


@pytest.mark.parametrize(
    ("persona", "agency", "expected"),
    [
        ("rita", "jobcenter", 403),  # read-only
        ("adam", "jobcenter", 403),  # admin without case work
        ("bob", "jobcenter", 400),  # not his agency: reads as nonexistent
        ("olga", "jobcenter", 400),
        ("alice", "social_office", 400),
        ("olga", "immigration", 201),  # her own agency
        ("cora", "jobcenter", 201),
        ("anon", "jobcenter", 401),
    ],
)
def test_person_create_permissions(world: World, persona: str, agency: str, expected: int) -> None:
    body = {**PERSON, "agency": getattr(world, agency).pk}
    response = as_(world, persona).post(f"{API}/persons/", body, format="json")
    assert response.status_code == expected
    if expected == 400:
        assert "agency" in response.json()
    assert Person.objects.filter(first_name="Lina").exists() is (expected == 201)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"birth_date": "gestern"}, "birth_date"),
        ({"birth_date": None}, "birth_date"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "x" * 151}, "first_name"),
        ({"email": "no address"}, "email"),
        ({"benefit_scheme": "lottery"}, "benefit_scheme"),
        ({"agency": "abc"}, "agency"),
        ({"agency": HUGE_ID}, "agency"),
        ({"agency": True}, "agency"),
        ({"household": 999999}, "household"),
        ({"reference": "P-MINE"}, None),  # read-only: ignored
        ({"merged_into": 1}, "merged_into"),
        ({"case_manager": 1}, "case_manager"),
    ],
)
def test_person_create_bad_input(world: World, overrides: dict[str, Any], field: str | None) -> None:
    body = {**PERSON, "agency": world.jobcenter.pk, **overrides}
    response = as_(world, "alice").post(f"{API}/persons/", body, format="json")
    if field is None:
        assert response.status_code == 201
        assert response.json()["reference"] != "P-MINE"
        return
    assert response.status_code == 400
    assert field in response.json()
    assert not Person.objects.filter(first_name="Lina").exists()


def test_holder_changes_a_person(world: World) -> None:
    case = make_case(world)
    response = as_(world, "alice").patch(
        f"{API}/persons/{case.person.pk}/",
        {"phone": "0170 999", "residence_status": "Niederlassungserlaubnis"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["phone"], response.json()["residence_status"]) == ("0170 999", "Niederlassungserlaubnis")
    case.person.refresh_from_db()
    assert case.person.phone == "0170 999"
    assert set(audited("person.update", actor=world.alice).changes) == {"phone", "residence_status"}
    assert published("person.updated").target_id == str(case.person.pk)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("rita", 403), ("adam", 403), ("bob", 403), ("carol", 404), ("olga", 404), ("anon", 401), ("cora", 200)],
)
def test_person_change_permissions(world: World, persona: str, expected: int) -> None:
    case = make_case(world)
    refer(world, case)  # bob sees the person now, but does not hold the file
    before = write_counts()
    url = f"{API}/persons/{case.person.pk}/"
    assert as_(world, persona).patch(url, {"phone": "1"}, format="json").status_code == expected
    # Refused before the body is read: an invalid body gets the same answer.
    if expected != 200:
        assert as_(world, persona).patch(url, {"birth_date": "x"}, format="json").status_code == expected
        assert write_counts() == before
        assert Person.objects.get(pk=case.person.pk).phone == "0170 1234567"


def test_person_mass_assignment_is_refused(world: World) -> None:
    case = make_case(world)
    api = as_(world, "alice")
    url = f"{API}/persons/{case.person.pk}/"
    before = Person.objects.values().get(pk=case.person.pk)

    # Server-owned fields a client read are ignored ...
    response = api.patch(
        url,
        {"id": 4711, "reference": "P-MINE", "responsible_agency": world.social_office.pk, "categories": ["health"]},
        format="json",
    )
    assert response.status_code == 200
    assert Person.objects.values().get(pk=case.person.pk) == before

    # ... anything else the API does not know is refused.
    bodies: list[dict[str, Any]] = [
        {"merged_into": 1, "phone": "1"},
        {"responsible_agency_id": world.social_office.pk},
        {"case_files": []},
        {"created_at": "2000-01-01T00:00:00Z"},
    ]
    for body in bodies:
        response = api.patch(url, body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()) <= set(body) - {"phone"}
    assert Person.objects.values().get(pk=case.person.pk) == before


def test_person_put_and_delete_are_not_offered(world: World) -> None:
    case = make_case(world)
    api = as_(world, "alice")
    url = f"{API}/persons/{case.person.pk}/"
    assert api.put(url, {**PERSON}, format="json").status_code == 405
    assert api.delete(url).status_code == 405


def test_household_of_a_person_must_be_visible(world: World) -> None:
    case = make_case(world)
    foreign = new_person(world, actor=world.olga, agency=world.immigration)
    hidden = services.household_create(actor=world.olga, name="Verborgen")
    services.person_update(actor=world.olga, person=foreign, household=hidden)
    api = as_(world, "alice")
    response = api.patch(f"{API}/persons/{case.person.pk}/", {"household": hidden.pk}, format="json")
    assert response.status_code == 400 and "household" in response.json()
    own = services.household_create(actor=world.alice, name="Familie Haddad")
    services.person_update(actor=world.alice, person=new_person(world), household=own)
    response = api.patch(f"{API}/persons/{case.person.pk}/", {"household": own.pk}, format="json")
    assert response.status_code == 200 and response.json()["household"]["id"] == own.pk
    response = api.patch(f"{API}/persons/{case.person.pk}/", {"household": None}, format="json")
    assert response.status_code == 200 and response.json()["household"] is None


def test_merge_a_duplicate(world: World) -> None:
    case = make_case(world)
    duplicate = new_person(world, first_name="Amina", last_name="Haddad", birth_date=datetime.date(1990, 4, 12))
    api = as_(world, "alice")
    response = api.post(f"{API}/persons/{case.person.pk}/merge/", {"duplicate": duplicate.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == case.person.pk
    assert api.get(f"{API}/persons/{duplicate.pk}/").status_code == 404
    assert Person.objects.get(pk=duplicate.pk).merged_into_id == case.person.pk
    assert audited("person.merge", actor=world.alice).target_id == str(case.person.pk)
    assert published("person.merged").payload == {"merged": duplicate.pk}


def test_merge_refusals(world: World) -> None:
    case = make_case(world)
    foreign = new_person(world, actor=world.olga, agency=world.immigration)
    url = f"{API}/persons/{case.person.pk}/merge/"
    alice = as_(world, "alice")
    for duplicate in (foreign.pk, 999999, HUGE_ID, "x", None, case.person.pk):
        before = write_counts()
        response = alice.post(url, {"duplicate": duplicate}, format="json")
        assert response.status_code == 400, duplicate
        assert write_counts() == before
    mine = new_person(world)
    assert as_(world, "rita").post(url, {"duplicate": mine.pk}, format="json").status_code == 403
    assert as_(world, "bob").post(url, {"duplicate": mine.pk}, format="json").status_code == 404
    assert not Person.objects.filter(merged_into__isnull=False).exists()


# Households ---------------------------------------------------------------------------------


def test_households_are_opened_with_members_and_show_only_visible_members(world: World) -> None:
    case = make_case(world)
    child = new_person(world, first_name="Lina", last_name="Haddad")
    api = as_(world, "alice")
    before = write_counts()
    response = api.post(
        f"{API}/households/", {"name": "Familie Haddad", "members": [case.person.pk, child.pk]}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Familie Haddad" and body["reference"].startswith("H-")
    assert {m["id"] for m in body["members"]} == {case.person.pk, child.pk}
    assert audited("household.create", actor=world.alice).target_id == str(body["id"])
    assert published("household.created").audience == [f"agency.{world.jobcenter.pk}"]
    # The household, and one event and audit row for each member joining it.
    assert write_counts() == (before[0] + 3, before[1] + 3)

    url = f"{API}/households/{body['id']}/"
    assert as_(world, "bob").get(url).status_code == 404
    assert as_(world, "bob").get(f"{API}/households/").json()["count"] == 0
    refer(world, case)
    seen = as_(world, "bob").get(url).json()
    # Only the referred mother: the child's existence is not even counted.
    assert seen["members"] == [
        {"id": case.person.pk, "reference": case.person.reference, "first_name": "Amina", "last_name": "Haddad"}
    ]
    assert ids(as_(world, "bob").get(f"{API}/households/")) == {body["id"]}
    assert as_(world, "olga").get(url).status_code == 404


@pytest.mark.parametrize(
    ("persona", "members", "expected"),
    [
        ("rita", "case", 403),
        ("adam", "case", 403),
        ("bob", "case", 403),  # sees the person after the referral, does not hold the file
        ("carol", "case", 400),  # cannot see the person: reads as nonexistent
        ("olga", "case", 400),
        ("alice", "none", 400),
        ("alice", "foreign", 400),
        ("anon", "case", 401),
    ],
)
def test_household_create_refusals(world: World, persona: str, members: str, expected: int) -> None:
    case = make_case(world)
    refer(world, case)
    foreign = new_person(world, actor=world.olga, agency=world.immigration)
    member_ids = {"case": [case.person.pk], "none": [], "foreign": [foreign.pk]}[members]
    before = Household.objects.count()
    response = as_(world, persona).post(f"{API}/households/", {"name": "X", "members": member_ids}, format="json")
    assert response.status_code == expected
    assert Household.objects.count() == before
    assert Person.objects.get(pk=case.person.pk).household_id is None


# Consents -----------------------------------------------------------------------------------

CONSENT_KEYS = {
    "id",
    "person",
    "categories",
    "recipients",
    "purpose",
    "valid_from",
    "valid_until",
    "text_version",
    "has_document",
    "valid_today",
    "recorded_by",
    "recorded_by_agency",
    "recorded_at",
    "revoked_at",
}


def consent_body(world: World, case: Case, **overrides: Any) -> dict[str, Any]:
    return {
        "person": case.person.pk,
        "categories": ["contact", "residence"],
        "recipients": [world.social_office.pk],
        "purpose": "Wohnungssuche",
        "text_version": "2026-02",
    } | overrides


def test_record_a_consent_as_json(world: World) -> None:
    case = make_case(world)
    response = as_(world, "alice").post(f"{API}/consents/", consent_body(world, case), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == CONSENT_KEYS
    assert body["categories"] == ["identity", "contact", "residence"]
    assert [a["id"] for a in body["recipients"]] == [world.social_office.pk]
    assert body["has_document"] is False and body["valid_today"] is True
    assert body["recorded_by_agency"]["id"] == world.jobcenter.pk
    assert audited("consent.record", actor=world.alice).target_id == str(body["id"])
    assert published("consent.recorded").target_id == str(body["id"])
    response = as_(world, "alice").get(f"{API}/consents/{body['id']}/document/")
    assert response.status_code == 404


def test_record_a_consent_with_the_signed_pdf(world: World) -> None:
    case = make_case(world)
    body = consent_body(world, case, document=SimpleUploadedFile("einwilligung.pdf", PDF, "application/pdf"))
    response = as_(world, "alice").post(f"{API}/consents/", body, format="multipart")
    assert response.status_code == 201, response.json()
    consent = response.json()
    assert consent["has_document"] is True and consent["categories"] == ["identity", "contact", "residence"]

    download = as_(world, "alice").get(f"{API}/consents/{consent['id']}/document/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(cast(Any, download).streaming_content) == PDF
    # Asking for the PDF explicitly works too.
    accepted = as_(world, "alice").get(f"{API}/consents/{consent['id']}/document/", HTTP_ACCEPT="application/pdf")
    assert accepted.status_code == 200
    # Not visible to agencies that cannot see the consent.
    for persona in ("bob", "carol", "olga"):
        assert as_(world, persona).get(f"{API}/consents/{consent['id']}/document/").status_code == 404
    assert client().get(f"{API}/consents/{consent['id']}/document/").status_code == 401


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("einwilligung.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"),  # named PDF, isn't one
        ("bild.png", b"\x89PNG\r\n\x1a\n", "image/png"),
        ("leer.pdf", b"", "application/pdf"),
    ],
)
def test_a_document_that_is_no_pdf_is_refused(world: World, name: str, content: bytes, content_type: str) -> None:
    case = make_case(world)
    before = (Consent.objects.count(), *write_counts())
    body = consent_body(world, case, document=SimpleUploadedFile(name, content, content_type))
    response = as_(world, "alice").post(f"{API}/consents/", body, format="multipart")
    assert response.status_code == 400
    assert "document" in response.json()
    assert (Consent.objects.count(), *write_counts()) == before


def test_a_document_in_json_is_an_unknown_field(world: World) -> None:
    case = make_case(world)
    response = as_(world, "alice").post(
        f"{API}/consents/", consent_body(world, case, document="JVBERi0="), format="json"
    )
    assert response.status_code == 400 and "document" in response.json()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recipients": []}, "recipients"),
        ({"recipients": ["immigration"]}, "recipients"),  # not visible to alice: reads as nonexistent
        ({"recipients": [999999]}, "recipients"),
        ({"recipients": [HUGE_ID]}, "recipients"),
        ({"recipients": "1"}, "recipients"),
        ({"categories": ["dreams"]}, "categories"),
        ({"categories": "identity"}, "categories"),
        ({"purpose": ""}, "purpose"),
        ({"valid_from": "2026-02-30"}, "valid_from"),
        ({"valid_from": "2026-03-01", "valid_until": "2026-02-01"}, "valid_until"),
        ({"person": 999999}, "person"),
        ({"person": "foreign"}, "person"),
        ({"recorded_by": 1}, "recorded_by"),
    ],
)
def test_consent_bad_input(world: World, overrides: dict[str, Any], field: str) -> None:
    case = make_case(world)
    foreign = new_person(world, actor=world.olga, agency=world.immigration)
    if overrides.get("recipients") == ["immigration"]:
        overrides = {"recipients": [world.immigration.pk]}
    if overrides.get("person") == "foreign":
        overrides = {"person": foreign.pk}
    before = Consent.objects.count()
    response = as_(world, "alice").post(f"{API}/consents/", consent_body(world, case, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Consent.objects.count() == before


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("alice", 201), ("cora", 201), ("rita", 403), ("adam", 403), ("bob", 403), ("carol", 400), ("olga", 400)],
)
def test_consent_create_permissions(world: World, persona: str, expected: int) -> None:
    case = make_case(world)
    refer(world, case)  # bob sees the person, does not hold the file
    response = as_(world, persona).post(f"{API}/consents/", consent_body(world, case), format="json")
    assert response.status_code == expected


def test_consents_are_seen_by_holders_and_by_recipients_who_see_the_person(world: World) -> None:
    case = make_case(world)
    other = make_case(world)
    url = f"{API}/consents/{case.consent.pk}/"
    assert ids(as_(world, "alice").get(f"{API}/consents/")) == {case.consent.pk, other.consent.pk}
    assert ids(as_(world, "alice").get(f"{API}/consents/", {"person": case.person.pk})) == {case.consent.pk}
    assert as_(world, "alice").get(f"{API}/consents/", {"person": "abc"}).status_code == 400
    for persona in ("bob", "carol", "olga"):
        assert as_(world, persona).get(f"{API}/consents/").json()["count"] == 0
        assert as_(world, persona).get(url).status_code == 404
    refer(world, case)
    assert ids(as_(world, "bob").get(f"{API}/consents/")) == {case.consent.pk}
    body = as_(world, "bob").get(url).json()
    assert set(body) == CONSENT_KEYS
    assert as_(world, "carol").get(url).status_code == 404


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("rita", 403), ("adam", 403), ("bob", 403), ("carol", 404), ("olga", 404), ("anon", 401), ("cora", 200)],
)
def test_consent_revoke_permissions(world: World, persona: str, expected: int) -> None:
    case = make_case(world)
    refer(world, case)
    response = as_(world, persona).post(f"{API}/consents/{case.consent.pk}/revoke/")
    assert response.status_code == expected
    assert (Consent.objects.get(pk=case.consent.pk).revoked_at is not None) is (expected == 200)


def test_a_revoked_consent_cannot_be_revoked_again(world: World) -> None:
    case = make_case(world)
    api = as_(world, "alice")
    assert api.post(f"{API}/consents/{case.consent.pk}/revoke/").status_code == 200
    before = write_counts()
    assert api.post(f"{API}/consents/{case.consent.pk}/revoke/").status_code == 403
    assert write_counts() == before


# Shares -------------------------------------------------------------------------------------


def share_body(world: World, case: Case, **overrides: Any) -> dict[str, Any]:
    return {
        "person": case.person.pk,
        "to_agency": world.social_office.pk,
        "categories": ["identity", "residence"],
        "legal_basis": "sgb_x_69",
        "basis_reason": "Prüfung der Zuständigkeit für Hilfen zur Unterkunft",
    } | overrides


def test_share_on_a_statutory_basis_and_end_it(world: World) -> None:
    case = make_case(world)
    response = as_(world, "alice").post(f"{API}/shares/", share_body(world, case), format="json")
    assert response.status_code == 201, response.json()
    share = response.json()
    assert share["categories"] == ["identity", "residence"] and share["is_active"] is True
    assert (share["from_agency"]["id"], share["to_agency"]["id"]) == (world.jobcenter.pk, world.social_office.pk)
    assert audited("share.create", actor=world.alice).target_id == str(share["id"])
    assert published("share.created").target_id == str(share["id"])

    person = as_(world, "bob").get(f"{API}/persons/{case.person.pk}/").json()
    assert person["categories"] == ["identity", "residence"]
    assert "residence_status" in person and "phone" not in person and "health_notes" not in person
    assert ids(as_(world, "bob").get(f"{API}/shares/")) == {share["id"]}
    assert as_(world, "carol").get(f"{API}/shares/{share['id']}/").status_code == 404

    assert as_(world, "bob").post(f"{API}/shares/{share['id']}/end/").status_code == 403
    response = as_(world, "alice").post(f"{API}/shares/{share['id']}/end/")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert audited("share.end", actor=world.alice).target_id == str(share["id"])
    assert published("access.revoked").target_id == str(share["id"])
    assert as_(world, "bob").get(f"{API}/persons/{case.person.pk}/").status_code == 404
    # Ended shares stay on record for both sides.
    assert ids(as_(world, "bob").get(f"{API}/shares/", {"is_active": "false"})) == {share["id"]}
    assert as_(world, "alice").post(f"{API}/shares/{share['id']}/end/").status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"legal_basis": ""}, "legal_basis"),
        ({"legal_basis": None}, "legal_basis"),
        ({"legal_basis": "gut feeling"}, "legal_basis"),
        ({"basis_reason": ""}, "basis_reason"),
        ({"categories": ["identity", "health"]}, "categories"),  # health only with consent
        ({"legal_basis": "sgb_x_71"}, "legal_basis"),  # immigration authority only
        ({"legal_basis": "consent", "consent": None}, "consent"),
        ({"to_agency": 999999}, "to_agency"),
        ({"to_agency": "immigration"}, "to_agency"),
        ({"to_agency": "jobcenter"}, "to_agency"),
        ({"consent": "other"}, "consent"),
        ({"person": None}, "person"),
        ({"from_agency": 1}, "from_agency"),
    ],
)
def test_share_without_a_basis_is_refused_with_the_field(world: World, overrides: dict[str, Any], field: str) -> None:
    case = make_case(world)
    overrides = dict(overrides)
    for key in ("to_agency", "consent"):
        value = overrides.get(key)
        if value in {"immigration", "jobcenter"}:
            overrides[key] = getattr(world, value).pk
        if value == "other":
            foreign = new_person(world, actor=world.olga, agency=world.immigration)
            overrides[key] = services.consent_record(
                actor=world.olga,
                person=foreign,
                categories=["identity"],
                recipients=[world.immigration],
                purpose="x",
                text_version="1",
            ).pk
    before = (Share.objects.count(), *write_counts())
    response = as_(world, "alice").post(f"{API}/shares/", share_body(world, case, **overrides), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert (Share.objects.count(), *write_counts()) == before


def test_share_on_consent_must_be_covered_by_it(world: World) -> None:
    case = make_case(world)
    api = as_(world, "alice")
    body = share_body(world, case, legal_basis="consent", consent=case.consent.pk, basis_reason="")
    response = api.post(f"{API}/shares/", body, format="json")
    assert response.status_code == 400 and "categories" in response.json()  # residence is not covered
    response = api.post(f"{API}/shares/", {**body, "categories": ["contact"]}, format="json")
    assert response.status_code == 201 and response.json()["consent"] == case.consent.pk


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("rita", 403), ("adam", 403), ("bob", 403), ("carol", 400), ("olga", 400), ("anon", 401), ("cora", 201)],
)
def test_share_create_permissions(world: World, persona: str, expected: int) -> None:
    case = make_case(world)
    refer(world, case)
    body = share_body(world, case, to_agency=world.youth_office.pk)
    assert as_(world, persona).post(f"{API}/shares/", body, format="json").status_code == expected


# Referrals ----------------------------------------------------------------------------------


def test_a_whole_referral_loop_through_the_api(world: World) -> None:
    case = make_case(world)
    alice, bob = as_(world, "alice"), as_(world, "bob")
    before = write_counts()
    response = alice.post(f"{API}/referrals/", referral_body(world, case), format="json")
    assert response.status_code == 201, response.json()
    referral = response.json()
    pk = referral["id"]
    assert referral["status"] == "sent" and referral["categories"] == ["identity", "contact"]
    assert referral["person"] == {"id": case.person.pk, "reference": case.person.reference}
    assert referral["allowed_actions"] == ["withdraw", "redirect"]
    assert [h["to_status"] for h in referral["history"]] == ["draft", "sent"]
    # Created and sent: a share opened too. Each write audited and published.
    audits, events = write_counts()
    assert audits - before[0] == 3 and events - before[1] == 3

    url = f"{API}/referrals/{pk}/"
    assert bob.get(url).json()["allowed_actions"] == ["receive", "accept", "decline"]
    inbox = bob.get(f"{API}/referrals/inbox/").json()
    assert [row["id"] for row in inbox["incoming"]["results"]] == [pk]
    assert inbox["incoming"]["results"][0]["person"]["reference"] == case.person.reference
    assert [row["id"] for row in alice.get(f"{API}/referrals/inbox/").json()["outgoing"]["results"]] == [pk]

    for step in ("receive", "accept", "start"):
        before = write_counts()
        response = bob.post(f"{API}/referrals/{pk}/transition/", {"action": step}, format="json")
        assert response.status_code == 200, (step, response.json())
        assert audited(f"referral.{step}", actor=world.bob).target_id == str(pk)
        assert write_counts() == (before[0] + 1, before[1] + 1)
    response = bob.post(f"{API}/referrals/{pk}/transition/", {"action": "complete"}, format="json")
    assert response.status_code == 400 and "outcome" in response.json()
    response = bob.post(
        f"{API}/referrals/{pk}/transition/",
        {"action": "complete", "outcome": "not_successful", "outcome_reason": "lack_of_capacity", "note": "Voll"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    # The sender learns the outcome: the loop is closed.
    seen = alice.get(url).json()
    assert (seen["status"], seen["outcome"], seen["outcome_reason"]) == (
        "completed",
        "not_successful",
        "lack_of_capacity",
    )
    assert [h["to_status"] for h in seen["history"]] == [
        "draft",
        "sent",
        "received",
        "accepted",
        "in_progress",
        "completed",
    ]
    assert seen["history"][-1]["agency"]["id"] == world.social_office.pk
    assert seen["allowed_actions"] == []
    assert published("referral.completed").target_id == str(pk)


def test_illegal_transitions_are_a_400_with_a_message(world: World) -> None:
    case = make_case(world)
    referral = refer(world, case)
    bob = as_(world, "bob")
    url = f"{API}/referrals/{referral.pk}/transition/"
    before = write_counts()
    response = bob.post(url, {"action": "start"}, format="json")
    assert response.status_code == 400
    assert response.json()["non_field_errors"][0]
    response = bob.post(url, {"action": "decline"}, format="json")
    assert response.status_code == 400 and "note" in response.json()
    for action in ("expire", "redirect", "explode", "", None, 5):
        response = bob.post(url, {"action": action}, format="json")
        assert response.status_code == 400 and "action" in response.json(), action
    assert write_counts() == before
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT
    response = bob.post(url, {"action": "decline", "note": "Nicht zuständig"}, format="json")
    assert response.status_code == 200
    assert as_(world, "bob").get(f"{API}/persons/{case.person.pk}/").status_code == 404
    response = bob.post(url, {"action": "accept"}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("persona", "action", "expected"),
    [
        ("alice", "accept", 403),  # the sender cannot accept its own referral
        ("bob", "withdraw", 403),  # only the sender withdraws
        ("rita", "withdraw", 403),  # read-only
        ("rita", "bogus", 403),  # refused before the body is read
        ("adam", "withdraw", 403),
        ("carol", "accept", 404),
        ("olga", "accept", 404),
        ("anon", "accept", 401),
        ("cora", "withdraw", 200),
        ("bob", "receive", 200),
    ],
)
def test_each_side_takes_only_its_own_steps(world: World, persona: str, action: str, expected: int) -> None:
    case = make_case(world)
    referral = refer(world, case)
    response = as_(world, persona).post(f"{API}/referrals/{referral.pk}/transition/", {"action": action}, format="json")
    assert response.status_code == expected
    assert (Referral.objects.get(pk=referral.pk).status != ReferralStatus.SENT) is (expected == 200)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("alice", 200), ("rita", 200), ("bob", 200), ("carol", 404), ("olga", 404), ("anon", 401)],
)
def test_referral_retrieve(world: World, persona: str, expected: int) -> None:
    case = make_case(world)
    referral = refer(world, case)
    response = as_(world, persona).get(f"{API}/referrals/{referral.pk}/")
    assert response.status_code == expected
    if persona == "rita":
        assert response.json()["allowed_actions"] == []


def test_referral_create_refusals(world: World) -> None:
    case = make_case(world)
    alice = as_(world, "alice")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"legal_basis": ""}, "legal_basis"),
        ({"consent": None}, "consent"),
        ({"categories": ["identity", "health"]}, "categories"),
        ({"legal_basis": "sgb_x_69", "consent": None}, "basis_reason"),
        ({"to_agency": world.immigration.pk}, "to_agency"),  # not visible to alice
        ({"to_agency": world.jobcenter.pk}, "to_agency"),
        ({"answer_due_on": "2000-01-01"}, "answer_due_on"),
        ({"answer_due_on": "soon"}, "answer_due_on"),
        ({"urgency": "yesterday"}, "urgency"),
        ({"measure": 999999}, "measure"),
        ({"send": "maybe"}, "send"),
        ({"reason": ""}, "reason"),
        ({"status": "completed"}, "status"),
        ({"from_agency": world.social_office.pk}, "from_agency"),
    ]
    for overrides, field in cases:
        before = (Referral.objects.count(), *write_counts())
        response = alice.post(f"{API}/referrals/", referral_body(world, case, **overrides), format="json")
        assert response.status_code == 400, overrides
        assert field in response.json(), (overrides, response.json())
        assert (Referral.objects.count(), *write_counts()) == before
    for persona, expected in [("rita", 403), ("adam", 403), ("carol", 400), ("olga", 400), ("anon", 401)]:
        response = as_(world, persona).post(f"{API}/referrals/", referral_body(world, case), format="json")
        assert response.status_code == expected, persona
    assert not Referral.objects.exists()


def test_a_draft_is_kept_until_sent(world: World) -> None:
    case = make_case(world)
    alice = as_(world, "alice")
    response = alice.post(f"{API}/referrals/", referral_body(world, case, send=False), format="json")
    assert response.status_code == 201 and response.json()["status"] == "draft"
    pk = response.json()["id"]
    assert response.json()["allowed_actions"] == ["send", "withdraw"]
    assert as_(world, "bob").get(f"{API}/persons/{case.person.pk}/").status_code == 404
    response = alice.post(f"{API}/referrals/{pk}/transition/", {"action": "send"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "sent"
    assert as_(world, "bob").get(f"{API}/persons/{case.person.pk}/").status_code == 200


def test_redirect(world: World) -> None:
    case = make_case(world)
    referral = refer(world, case)
    url = f"{API}/referrals/{referral.pk}/redirect/"
    assert as_(world, "bob").post(url, {"to_agency": world.youth_office.pk}, format="json").status_code == 403
    assert as_(world, "carol").post(url, {"to_agency": world.youth_office.pk}, format="json").status_code == 404
    bad = as_(world, "alice").post(url, {"to_agency": world.immigration.pk}, format="json")
    assert bad.status_code == 400 and "to_agency" in bad.json()
    response = as_(world, "alice").post(url, {"to_agency": world.youth_office.pk, "note": "Jugendhilfe"}, format="json")
    assert response.status_code == 201, response.json()
    new = response.json()
    assert new["status"] == "sent" and new["to_agency"]["id"] == world.youth_office.pk and new["id"] != referral.pk
    old = as_(world, "alice").get(f"{API}/referrals/{referral.pk}/").json()
    assert (old["status"], old["redirected_to"]) == ("redirected", new["id"])
    # The old receiver learns it was redirected, not where to.
    assert as_(world, "bob").get(f"{API}/referrals/{referral.pk}/").json()["redirected_to"] is None
    assert as_(world, "bob").get(f"{API}/persons/{case.person.pk}/").status_code == 404
    assert as_(world, "carol").get(f"{API}/persons/{case.person.pk}/").status_code == 200
    assert audited("referral.redirect", actor=world.alice).target_id == str(referral.pk)
    # A closed referral cannot be redirected again.
    before = (Referral.objects.count(), *write_counts())
    again = as_(world, "alice").post(url, {"to_agency": world.social_office.pk}, format="json")
    assert again.status_code == 400 and again.json()["non_field_errors"]
    assert (Referral.objects.count(), *write_counts()) == before


def test_referral_lists_and_filters(world: World) -> None:
    case = make_case(world)
    incoming = refer(world, case)
    youth_person = new_person(world, actor=world.carol, agency=world.youth_office, first_name="Omar")
    consent = services.consent_record(
        actor=world.carol,
        person=youth_person,
        categories=["identity"],
        recipients=[world.social_office],
        purpose="Unterkunft",
        text_version="1",
    )
    other = services.referral_create(
        actor=world.carol,
        person=youth_person,
        to_agency=world.social_office,
        reason="Unterkunft",
        categories=["identity"],
        legal_basis="consent",
        consent=consent,
        answer_due_on=SOON,
        urgency="urgent",
    )
    bob = as_(world, "bob")
    assert ids(bob.get(f"{API}/referrals/")) == {incoming.pk, other.pk}
    assert ids(bob.get(f"{API}/referrals/", {"direction": "incoming"})) == {incoming.pk, other.pk}
    assert ids(bob.get(f"{API}/referrals/", {"direction": "outgoing"})) == set()
    assert ids(bob.get(f"{API}/referrals/", {"urgency": "urgent"})) == {other.pk}
    assert ids(as_(world, "alice").get(f"{API}/referrals/")) == {incoming.pk}
    assert ids(as_(world, "alice").get(f"{API}/referrals/", {"direction": "outgoing"})) == {incoming.pk}
    assert as_(world, "olga").get(f"{API}/referrals/").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    assert bob.get(f"{API}/referrals/", {"status": "exploded"}).status_code == 400
    assert bob.get(f"{API}/referrals/", {"direction": "sideways"}).status_code == 400

    Referral.objects.filter(pk=other.pk).update(answer_due_on=timezone.localdate() - datetime.timedelta(days=1))
    assert ids(bob.get(f"{API}/referrals/", {"overdue": "true"})) == {other.pk}
    inbox = bob.get(f"{API}/referrals/inbox/").json()
    assert [row["id"] for row in inbox["overdue"]["results"]] == [other.pk]
    assert inbox["incoming"]["count"] == 2 and inbox["outgoing"]["count"] == 0
    # Carol's inbox knows nothing of alice's referral.
    carol = as_(world, "carol").get(f"{API}/referrals/inbox/").json()
    assert carol["outgoing"]["count"] == 1 and carol["incoming"]["count"] == 0
    assert {row["id"] for row in carol["overdue"]["results"]} == {other.pk}
    olga = as_(world, "olga").get(f"{API}/referrals/inbox/").json()
    assert all(olga[key] == {"count": 0, "results": []} for key in ("incoming", "outgoing", "overdue"))


# No 500s ------------------------------------------------------------------------------------

ODD_BODIES: list[Any] = [
    [],
    "text",
    42,
    None,
    {"": ""},
    {"person": {"id": 1}, "categories": {"a": 1}, "recipients": None, "members": "x", "to_agency": [1]},
    {"action": ["accept"], "duplicate": {"id": 1}, "answer_due_on": 5, "legal_basis": ["consent"]},
    {"x" * 1000: "y"},
    {"first_name": "\x00", "reason": "\x00", "name": "\x00"},
]


def test_odd_bodies_never_give_a_500(world: World) -> None:
    case = make_case(world)
    referral = refer(world, case)
    share = Share.objects.get(referral=referral)
    urls = [
        ("post", f"{API}/persons/"),
        ("patch", f"{API}/persons/{case.person.pk}/"),
        ("post", f"{API}/persons/{case.person.pk}/merge/"),
        ("post", f"{API}/households/"),
        ("post", f"{API}/consents/"),
        ("post", f"{API}/consents/{case.consent.pk}/revoke/"),
        ("post", f"{API}/shares/"),
        ("post", f"{API}/shares/{share.pk}/end/"),
        ("post", f"{API}/referrals/"),
        ("post", f"{API}/referrals/{referral.pk}/transition/"),
        ("post", f"{API}/referrals/{referral.pk}/redirect/"),
    ]
    for persona in ("alice", "bob"):
        api = as_(world, persona)
        for method, url in urls:
            sent = [(json.dumps(body), "application/json") for body in ODD_BODIES] + [
                ("a=1&a=2&categories=x&members=y", "application/x-www-form-urlencoded"),
                ("--x\r\nbroken", "multipart/form-data; boundary=x"),
                ("<xml/>", "application/xml"),
            ]
            for raw, content_type in sent:
                # Each call on the same state: a body that passes (revoke takes none) is undone.
                with transaction.atomic():
                    response = getattr(api, method)(url, raw, content_type=content_type)
                    transaction.set_rollback(True)
                assert response.status_code < 500, (persona, method, url, raw)
                # Revoking and ending read no body, so any body passes them.
                if content_type == "application/xml" and not url.endswith(("/revoke/", "/end/")):
                    assert response.status_code in {400, 403, 404, 415}, (persona, method, url)
            assert api.options(url).status_code == 405, url


# Schema and names ---------------------------------------------------------------------------

CONTRACT = {
    ("api:person-list", "get"): "/api/v1/persons/",
    ("api:person-list", "post"): "/api/v1/persons/",
    ("api:person-detail", "get"): "/api/v1/persons/{id}/",
    ("api:person-detail", "patch"): "/api/v1/persons/{id}/",
    ("api:person-merge", "post"): "/api/v1/persons/{id}/merge/",
    ("api:household-list", "get"): "/api/v1/households/",
    ("api:household-list", "post"): "/api/v1/households/",
    ("api:household-detail", "get"): "/api/v1/households/{id}/",
    ("api:consent-list", "get"): "/api/v1/consents/",
    ("api:consent-list", "post"): "/api/v1/consents/",
    ("api:consent-detail", "get"): "/api/v1/consents/{id}/",
    ("api:consent-revoke", "post"): "/api/v1/consents/{id}/revoke/",
    ("api:consent-document", "get"): "/api/v1/consents/{id}/document/",
    ("api:share-list", "get"): "/api/v1/shares/",
    ("api:share-list", "post"): "/api/v1/shares/",
    ("api:share-detail", "get"): "/api/v1/shares/{id}/",
    ("api:share-end", "post"): "/api/v1/shares/{id}/end/",
    ("api:referral-list", "get"): "/api/v1/referrals/",
    ("api:referral-list", "post"): "/api/v1/referrals/",
    ("api:referral-detail", "get"): "/api/v1/referrals/{id}/",
    ("api:referral-transition", "post"): "/api/v1/referrals/{id}/transition/",
    ("api:referral-redirect", "post"): "/api/v1/referrals/{id}/redirect/",
    ("api:referral-inbox", "get"): "/api/v1/referrals/inbox/",
}


def test_schema_documents_every_route(world: World) -> None:
    response = as_(world, "alice").get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {(path, method) for (_name, method), path in CONTRACT.items()} <= documented
    person = schema["components"]["schemas"]["Person"]
    # The category fields are documented, but not promised: a receiver's answer leaves them out.
    assert "health_notes" in person["properties"] and "health_notes" not in person["required"]
    assert set(person["required"]) == ALWAYS


def test_url_names_follow_the_contract(world: World) -> None:
    for (name, _method), path in CONTRACT.items():
        url = reverse(name, args=[1] * path.count("{"))
        assert url == path.replace("{id}", "1"), name
        assert resolve(url).url_name == name.split(":")[1]


# Query counts -------------------------------------------------------------------------------


def many_cases(world: World, start: int, stop: int) -> None:
    """Persons of the jobcenter, each in a household and referred to the social office on a statutory basis."""
    for i in range(start, stop):
        person = new_person(world, first_name=f"Person{i}", last_name=f"Test{i:02d}")
        services.referral_create(
            actor=world.alice,
            person=person,
            to_agency=world.social_office,
            reason="Beratung",
            categories=["identity", "contact"] if i % 2 else ["identity"],
            legal_basis="sgb_x_69",
            basis_reason="Zuständigkeit",
            answer_due_on=SOON,
        )
        household = services.household_create(actor=world.alice, name=f"Haushalt {i}")
        services.person_update(actor=world.alice, person=person, household=household)


def queries_for(api: APIClient, path: str, expected_rows: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(API + path)
        assert response.status_code == 200
    assert len(rows(response)) == expected_rows, path
    return len(queries)


@pytest.mark.parametrize("path", ["/persons/", "/referrals/", "/households/", "/shares/", "/consents/"])
def test_lists_take_a_constant_number_of_queries(world: World, path: str) -> None:
    counts = {}
    made = 0
    for n in (3, 20):
        many_cases(world, made, n)
        made = n
        for i in range(made):
            if path == "/consents/" and not Consent.objects.filter(person__first_name=f"Person{i}").exists():
                services.consent_record(
                    actor=world.alice,
                    person=Person.objects.get(first_name=f"Person{i}"),
                    categories=["contact"],
                    recipients=[world.social_office, world.youth_office],
                    purpose="x",
                    text_version="1",
                )
        counts[n] = {persona: queries_for(as_(world, persona), path, n) for persona in ("alice", "bob")}
    assert counts[3] == counts[20], (path, counts)
    # Session, user, memberships, count, page, at most the categories (held, shared) and a prefetch,
    # and the read-access log's one INSERT.
    assert max(counts[20].values()) <= 9, counts


def test_the_inbox_takes_a_constant_number_of_queries(world: World) -> None:
    counts = []
    made = 0
    for n in (3, 20):
        many_cases(world, made, n)
        made = n
        with CaptureQueriesContext(connection) as queries:
            inbox = as_(world, "bob").get(f"{API}/referrals/inbox/").json()
        assert inbox["incoming"]["count"] == n
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/persons/", {"responsible_agency": str(HUGE_ID)}),
        ("/persons/", {"responsible_agency": "abc"}),
        ("/persons/", {"q": "x" * 101}),
        ("/persons/", {"q": "\x00"}),
        ("/consents/", {"person": str(HUGE_ID)}),
        ("/consents/", {"person": "1.5"}),
        ("/shares/", {"person": "-1", "is_active": "maybe"}),
        ("/referrals/", {"agency": str(HUGE_ID), "overdue": "perhaps"}),
        ("/referrals/", {"page": "abc"}),
        ("/households/", {"page": str(HUGE_ID)}),
    ],
)
def test_odd_filters_never_give_a_500(world: World, path: str, params: dict[str, str]) -> None:
    make_case(world)
    response = as_(world, "alice").get(API + path, params)
    assert response.status_code in {200, 400, 404}
    if response.status_code == 200:
        assert rows(response) == []
