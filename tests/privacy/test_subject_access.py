"""A person's request of access (art. 15 GDPR): everything the requesting agency may see, never more,
with its own agency's reads (without staff names); who may ask; audited and logged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from agencies.models import User
from hub.models import AuditEntry
from messaging import services as comment_services
from privacy.models import ReadAccess
from referrals import services as case_services
from tests.conftest import Case, World
from tests.privacy.helpers import API, api, browser, officer, refer

pytestmark = pytest.mark.django_db

CONTACT_AND_IDENTITY = {"first_name", "last_name", "birth_date", "nationality", "gender", "household"} | {
    "street",
    "postcode",
    "city",
    "phone",
    "email",
}


@pytest.fixture
def sven(world: World) -> User:
    return officer("sven", world.social_office)


@pytest.fixture
def dora(world: World) -> User:
    return officer("dora", world.jobcenter)


@pytest.fixture
def rich(world: World, case: Case) -> Case:
    """Amina with a referral to the social office (identity and contact), a profile, a plan and comments."""
    refer(world, case, reason="Wohnungssuche")
    case_services.profile_create(
        actor=world.alice,
        person=case.person,
        languages=[{"language": "Arabisch", "level": "native"}],
        wishes="Pflegeausbildung",
    )
    case_services.plan_create(actor=world.alice, person=case.person, goals="Sprachniveau B1")
    comment_services.comment_create(actor=world.alice, target=case.person, body="Insulinpflichtig", category="health")
    comment_services.comment_create(
        actor=world.alice, target=case.person, body="Neue Telefonnummer", category="contact"
    )
    return case


def answer(user: User, case: Case) -> dict[str, Any]:
    response = browser(user).get(reverse("privacy-subject-access-json", args=[case.person.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="access-{case.person.reference}.json"'
    return json.loads(response.content)


def test_the_holder_gets_everything(world: World, rich: Case) -> None:
    body = answer(world.alice, rich)
    assert body["legal_basis"] == "Art. 15 GDPR"
    assert body["answered_by"] == world.jobcenter.name
    person = body["person"]
    assert person["reference"] == rich.person.reference
    assert person["first_name"] == "Amina"
    assert person["health_notes"] == "Diabetes"
    assert person["residence_status"].startswith("Aufenthaltserlaubnis")
    assert [profile["wishes"] for profile in body["profiles"]] == ["Pflegeausbildung"]
    assert [plan["goals"] for plan in body["plans"]] == ["Sprachniveau B1"]
    assert [referral["reason"] for referral in body["referrals"]] == ["Wohnungssuche"]
    assert {comment["body"] for comment in body["comments"]} == {"Insulinpflichtig", "Neue Telefonnummer"}
    assert len(body["consents"]) == 1
    assert body["consents"][0]["recipients"] == sorted([world.social_office.name, world.youth_office.name])
    assert [row["agency"] for row in body["case_files"]] == [world.jobcenter.name]


def test_a_receiving_agency_answers_only_with_the_shared_categories(world: World, rich: Case, sven: User) -> None:
    body = answer(sven, rich)
    assert body["answered_by"] == world.social_office.name
    assert body["data_categories"] == ["contact", "identity"]
    fields = set(body["person"]) - {"reference", "responsible_agency", "responsible_since", "categories"}
    assert fields == CONTACT_AND_IDENTITY
    assert "health_notes" not in body["person"]
    assert body["profiles"] == []
    assert body["plans"] == []
    # Only the comment in a category the social office sees.
    assert [comment["body"] for comment in body["comments"]] == ["Neue Telefonnummer"]
    assert [referral["reason"] for referral in body["referrals"]] == ["Wohnungssuche"]
    text = json.dumps(body, ensure_ascii=False)
    for secret in ("Diabetes", "Insulinpflichtig", "Pflegeausbildung", "Sprachniveau", "Aufenthaltserlaubnis"):
        assert secret not in text


def test_the_answer_lists_the_own_agencys_reads_without_staff_names(world: World, rich: Case, sven: User) -> None:
    browser(world.alice).get(reverse("person-detail", args=[rich.person.pk]))
    browser(world.bob).get(reverse("person-detail", args=[rich.person.pk]))
    jobcenter = answer(world.alice, rich)["reads"]
    assert [read["agency"] for read in jobcenter] == [world.jobcenter.name]
    assert jobcenter[0]["purpose"] == "person-detail"
    assert "identity" in jobcenter[0]["categories"]
    social = answer(sven, rich)["reads"]
    assert [read["agency"] for read in social] == [world.social_office.name]
    for read in [*jobcenter, *social]:
        assert set(read) == {"at", "agency", "categories", "purpose"}
    assert "alice" not in json.dumps(jobcenter) and "Arslan" not in json.dumps(jobcenter)


def test_the_printable_page_shows_the_same(world: World, rich: Case) -> None:
    response = browser(world.alice).get(reverse("privacy-subject-access", args=[rich.person.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert gettext("Information on the data stored about you") in page
    assert "Diabetes" in page and "Sprachniveau B1" in page
    assert reverse("privacy-subject-access-json", args=[rich.person.pk]) in page


def test_the_person_page_links_to_it_for_those_who_may_ask(world: World, rich: Case) -> None:
    link = reverse("privacy-subject-access", args=[rich.person.pk])
    assert link in browser(world.alice).get(reverse("person-detail", args=[rich.person.pk])).content.decode()
    assert link not in browser(world.rita).get(reverse("person-detail", args=[rich.person.pk])).content.decode()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("alice", 200), ("cora", 200), ("rita", 403), ("adam", 403), ("bob", 403), ("carol", 404), ("olga", 404)],
)
def test_who_may_ask(world: World, rich: Case, persona: str, expected: int) -> None:
    user = world.persona(persona)
    assert browser(user).get(reverse("privacy-subject-access", args=[rich.person.pk])).status_code == expected
    assert api(user).get(f"{API}/persons/{rich.person.pk}/access/").status_code == expected


def test_data_protection_officers_may_ask(world: World, rich: Case, dora: User, sven: User) -> None:
    assert browser(dora).get(reverse("privacy-subject-access", args=[rich.person.pk])).status_code == 200
    assert api(sven).get(f"{API}/persons/{rich.person.pk}/access/").status_code == 200
    outsider = officer("otto", world.immigration)
    assert api(outsider).get(f"{API}/persons/{rich.person.pk}/access/").status_code == 404


def test_every_answer_is_audited_and_logged_as_a_read(world: World, rich: Case) -> None:
    api(world.alice).get(f"{API}/persons/{rich.person.pk}/access/")
    browser(world.alice).get(reverse("privacy-subject-access-json", args=[rich.person.pk]))
    entries = AuditEntry.objects.filter(action="person.subject_access", target_id=str(rich.person.pk)).order_by("id")
    assert [entry.changes["output"] for entry in entries] == [[None, "api"], [None, "json"]]
    assert {entry.agency_id for entry in entries} == {world.jobcenter.pk}
    logged = ReadAccess.objects.filter(purpose="subject_access")
    assert logged.count() == 2
    assert {"identity", "health", "plan", "referrals", "consents"} <= set(logged.first().categories)  # type: ignore[union-attr]


def test_refusals_are_neither_audited_nor_logged(world: World, rich: Case) -> None:
    browser(world.bob).get(reverse("privacy-subject-access", args=[rich.person.pk]))
    assert not AuditEntry.objects.filter(action="person.subject_access").exists()
    assert not ReadAccess.objects.filter(purpose="subject_access").exists()


def test_the_api_answer_matches_the_download(world: World, rich: Case) -> None:
    from_api = api(world.alice).get(f"{API}/persons/{rich.person.pk}/access/").json()
    download = answer(world.alice, rich)
    for body in (from_api, download):
        body.pop("generated_at")
        body.pop("reads")
    assert from_api == download
