"""Retention: the dry run changes nothing; a run anonymises exactly the eligible records, leaves what
is still needed, deletes documents and old log entries, writes a deletion log without personal data,
and a second run changes nothing."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from agencies.models import User
from housing import services as housing_services
from messaging import services as comment_services
from messaging.models import Comment
from privacy import retention, services
from privacy.models import DeletionLogEntry, ReadAccess
from privacy.retention import ANONYMISED
from referrals import services as case_services
from referrals.models import (
    CaseFile,
    Consent,
    Household,
    Person,
    Plan,
    Profile,
    Referral,
    ReferralStatusChange,
    Share,
)
from tests.conftest import World
from tests.housing.helpers import make_household, make_housing, make_limits, make_listing, members
from tests.privacy.helpers import API, api, browser, officer, old_read, refer

pytestmark = pytest.mark.django_db

YEARS_AGO = timezone.now() - datetime.timedelta(days=6 * 365)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def new_person(world: World, first: str, last: str) -> Person:
    person = case_services.person_create(
        actor=world.alice,
        agency=world.jobcenter,
        first_name=first,
        last_name=last,
        birth_date=datetime.date(1990, 4, 12),
        nationality="syrisch",
        street="Hauptstraße 1",
        postcode="48527",
        city="Nordhorn",
        phone="0170 1234567",
        email=f"{first.lower()}@example.org",
        health_notes="Diabetes",
        residence_status="Aufenthaltserlaubnis § 25 Abs. 2 AufenthG",
    )
    return person


def with_history(world: World, person: Person) -> Person:
    """A person with a consent (and its PDF), a completed referral with comments, a profile and a plan."""
    consent = case_services.consent_record(
        actor=world.alice,
        person=person,
        categories=["identity", "contact"],
        recipients=[world.social_office],
        purpose="Abstimmung",
        text_version="2020-01",
    )
    consent.document.save("consent.pdf", ContentFile(b"%PDF-1.4 signed"), save=True)
    referral = case_services.referral_create(
        actor=world.alice,
        person=person,
        to_agency=world.social_office,
        reason="Beratung Wohnung",
        categories=["identity", "contact"],
        legal_basis="consent",
        consent=consent,
        answer_due_on=timezone.localdate() + datetime.timedelta(days=14),
    )
    for action in ("accept", "start"):
        referral = case_services.referral_transition(actor=world.bob, referral=referral, action=action)
    case_services.referral_transition(
        actor=world.bob, referral=referral, action="complete", outcome="successful", note="Wohnung gefunden"
    )
    comment_services.comment_create(actor=world.alice, target=referral, body="Vermieter angerufen")
    comment_services.comment_create(actor=world.alice, target=person, body="Insulinpflichtig", category="health")
    case_services.profile_create(actor=world.alice, person=person, wishes="Pflegeausbildung", assessment="motiviert")
    plan = case_services.plan_create(actor=world.alice, person=person, goals="Sprachniveau B1")
    case_services.plan_close(actor=world.alice, plan=plan)
    household = case_services.household_create(actor=world.alice, name=f"Familie {person.last_name}")
    case_services.person_update(actor=world.alice, person=person, household=household)
    return person


def age(person: Person, when: datetime.datetime = YEARS_AGO) -> None:
    """Close the person's files and move every trace of work on them back to ``when``."""
    Person.objects.filter(pk=person.pk).update(created_at=when)
    CaseFile.objects.filter(person=person).update(opened_at=when, closed_at=when)
    Referral.objects.filter(person=person).update(created_at=when, sent_at=when, answered_at=when, closed_at=when)
    ReferralStatusChange.objects.filter(referral__person=person).update(at=when)
    Consent.objects.filter(person=person).update(recorded_at=when)
    Share.objects.filter(person=person).update(created_at=when, ended_at=when)
    Profile.objects.filter(person=person).update(created_at=when)
    Plan.objects.filter(person=person).update(created_at=when, updated_at=when)
    Comment.objects.filter(person=person).update(created_at=when)
    Comment.objects.filter(referral__person=person).update(created_at=when)


@pytest.fixture
def gone(world: World) -> Person:
    """Eligible: every file closed, no activity for six years."""
    person = with_history(world, new_person(world, "Amina", "Haddad"))
    age(person)
    return person


@pytest.fixture
def still_open(world: World) -> Person:
    """As old, but a draft referral is still open."""
    person = new_person(world, "Omar", "Khalil")
    consent = case_services.consent_record(
        actor=world.alice,
        person=person,
        categories=["identity"],
        recipients=[world.social_office],
        purpose="x",
        text_version="1",
    )
    case_services.referral_create(
        actor=world.alice,
        person=person,
        to_agency=world.social_office,
        reason="Beratung",
        categories=["identity"],
        legal_basis="consent",
        consent=consent,
        answer_due_on=timezone.localdate() + datetime.timedelta(days=14),
        send=False,
    )
    age(person)
    return person


def snapshot() -> dict[str, Any]:
    return {
        "persons": list(Person.objects.order_by("pk").values()),
        "referrals": list(Referral.objects.order_by("pk").values("reason", "status_note")),
        "comments": list(Comment.objects.order_by("pk").values("body")),
        "consents": list(Consent.objects.order_by("pk").values("document", "purpose")),
        "households": list(Household.objects.order_by("pk").values("name")),
        "reads": ReadAccess.objects.count(),
        "log": DeletionLogEntry.objects.count(),
    }


def preview_of(rule: str) -> retention.RulePreview:
    return next(found for found in retention.preview() if found.rule.name == rule)


# Dry run ----------------------------------------------------------------------------------------


def test_the_dry_run_changes_nothing_and_lists_what_would_go(
    world: World, gone: Person, still_open: Person, media_root: Path
) -> None:
    before = snapshot()
    document = Consent.objects.get(person=gone).document.path
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert snapshot() == before
    assert Path(document).exists()
    text = out.getvalue()
    assert "Dry run: nothing changed." in text
    assert f"person_inactive: 1 ({retention.days('person_inactive')} days) ids: {gone.pk}" in text
    assert preview_of("person_inactive").ids == [gone.pk]


# A run ----------------------------------------------------------------------------------------------


def test_a_run_anonymises_the_eligible_person_and_what_is_about_them(world: World, gone: Person) -> None:
    document = Path(Consent.objects.get(person=gone).document.path)
    result = retention.apply()
    assert result.applied["person_inactive"] == 1
    person = Person.objects.get(pk=gone.pk)
    assert (person.first_name, person.last_name) == (ANONYMISED, ANONYMISED)
    assert person.birth_date == datetime.date(1990, 1, 1)
    assert (person.street, person.postcode, person.city, person.phone, person.email) == ("", "", "", "", "")
    assert person.health_notes == "" and person.residence_status == ""
    assert (person.nationality, person.reference) == ("syrisch", gone.reference)
    assert not document.exists()
    consent = Consent.objects.get(person=gone)
    assert consent.document.name == "" and consent.purpose == ""
    assert consent.categories == ["identity", "contact"]  # the record of the legal basis stays
    referral = Referral.objects.get(person=gone)
    assert (referral.reason, referral.status, referral.outcome) == ("", "completed", "successful")
    assert not ReferralStatusChange.objects.filter(referral=referral).exclude(note="").exists()
    assert set(Comment.objects.filter(person=gone).values_list("body", flat=True)) == {""}
    assert set(Comment.objects.filter(referral=referral).values_list("body", flat=True)) == {""}
    profile = Profile.objects.get(person=gone)
    assert (profile.wishes, profile.assessment) == ("", "")
    assert Plan.objects.get(person=gone).goals == ""
    assert Household.objects.get(members=person).name == ANONYMISED


def test_the_deletion_log_records_the_run_without_personal_data(world: World, gone: Person) -> None:
    retention.apply()
    entry = DeletionLogEntry.objects.get(rule="person_inactive")
    assert (entry.record_type, entry.record_id, entry.action, entry.count) == (
        "referrals.person",
        str(gone.pk),
        "anonymised",
        1,
    )
    assert entry.details["documents"] == 1
    assert entry.details["comments"] == 2
    assert entry.details["households"] == 1
    logged = json.dumps(list(DeletionLogEntry.objects.values()), default=str)
    for personal in ("Amina", "Haddad", "Nordhorn", "Diabetes", gone.reference):
        assert personal not in logged


def test_what_is_still_needed_is_left_alone(world: World, gone: Person, still_open: Person) -> None:
    held = with_history(world, new_person(world, "Lina", "Held"))
    services.legal_hold_place(actor=officer("dora", world.jobcenter), person=held, reason="Az. 4 K 12/26")
    age(held)
    open_file = new_person(world, "Sami", "Offen")
    age(open_file)
    CaseFile.objects.filter(person=open_file).update(closed_at=None)
    open_plan = new_person(world, "Rana", "Plan")
    case_services.plan_create(actor=world.alice, person=open_plan, goals="B1")
    age(open_plan)
    recent = new_person(world, "Nour", "Neu")
    age(recent, timezone.now() - datetime.timedelta(days=30))
    housing = make_housing(world)
    make_limits(housing)
    family = make_household(world.bob, world.social_office, size=1, name="Mieter")
    tenant = members(family)[0]
    housing_services.reservation_create(actor=housing.hana, listing=make_listing(housing), household=family)
    age(tenant)

    assert preview_of("person_inactive").ids == [gone.pk]
    retention.apply()
    untouched = [still_open, held, open_file, open_plan, recent, tenant]
    names = set(Person.objects.filter(pk__in=[p.pk for p in untouched]).values_list("last_name", flat=True))
    assert names == {"Khalil", "Held", "Offen", "Plan", "Neu", "Mieter"}
    assert Consent.objects.get(person=held).document.name != ""
    assert Person.objects.get(pk=gone.pk).last_name == ANONYMISED


def test_a_second_run_changes_nothing(world: World, gone: Person) -> None:
    old_read(world.alice, world.jobcenter, gone.pk, days=800)
    retention.apply()
    after_first = snapshot()
    second = retention.apply()
    assert second.applied == {name: 0 for name in retention.APPLY}
    assert snapshot() == after_first
    assert all(found.count == 0 for found in retention.preview())


def test_merged_duplicates_go_with_their_record(world: World, gone: Person) -> None:
    duplicate = new_person(world, "Amina", "Hadad")
    CaseFile.objects.filter(person=duplicate).update(closed_at=YEARS_AGO)
    Person.objects.filter(pk=duplicate.pk).update(merged_into=gone, created_at=YEARS_AGO)
    retention.apply()
    assert Person.objects.get(pk=duplicate.pk).last_name == ANONYMISED
    assert DeletionLogEntry.objects.get(rule="person_inactive").count == 2


# The other rules ----------------------------------------------------------------------------------


def test_documents_of_long_ended_consents_go_while_the_person_stays(world: World, case: Any) -> None:
    consent = case.consent
    consent.document.save("consent.pdf", ContentFile(b"%PDF-1.4 signed"), save=True)
    path = Path(consent.document.path)
    case_services.consent_revoke(actor=world.alice, consent=consent)
    Consent.objects.filter(pk=consent.pk).update(revoked_at=timezone.now() - datetime.timedelta(days=4 * 365))
    assert preview_of("consent_ended").ids == [consent.pk]
    retention.apply()
    consent.refresh_from_db()
    assert consent.document.name == "" and not path.exists()
    assert consent.purpose == "Abstimmung der Integrationsschritte"
    assert Person.objects.get(pk=case.person.pk).last_name == "Haddad"
    entry = DeletionLogEntry.objects.get(rule="consent_ended")
    assert (entry.record_id, entry.action) == (str(consent.pk), "document_deleted")


def test_a_consent_that_still_carries_a_share_keeps_its_document(world: World, case: Any) -> None:
    refer(world, case)
    Consent.objects.filter(pk=case.consent.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=4 * 365)
    )
    case.consent.document.save("consent.pdf", ContentFile(b"%PDF-1.4 signed"), save=True)
    assert preview_of("consent_ended").count == 0


def test_comments_on_long_closed_referrals_lose_their_text(world: World, case: Any) -> None:
    referral = refer(world, case)
    comment = comment_services.comment_create(actor=world.alice, target=referral, body="Rückruf vereinbart")
    case_services.referral_transition(actor=world.alice, referral=referral, action="withdraw")
    Referral.objects.filter(pk=referral.pk).update(closed_at=timezone.now() - datetime.timedelta(days=400))
    retention.apply()
    comment.refresh_from_db()
    assert comment.body == ""
    assert DeletionLogEntry.objects.get(rule="referral_comments").record_id == str(comment.pk)


def test_read_log_entries_older_than_two_years_are_deleted(world: World, case: Any) -> None:
    ancient = old_read(world.alice, world.jobcenter, case.person.pk, days=2 * 365 + 5)
    kept = old_read(world.alice, world.jobcenter, case.person.pk, days=2 * 365 - 5)
    retention.apply()
    assert list(ReadAccess.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not ReadAccess.objects.filter(pk=ancient.pk).exists()
    entry = DeletionLogEntry.objects.get(rule="read_log")
    assert (entry.record_id, entry.count) == ("", 1)


def test_a_shorter_read_log_period_than_the_database_allows_is_a_check_error(settings: Any) -> None:
    settings.PRIVACY_RETENTION_DAYS = {**settings.PRIVACY_RETENTION_DAYS, "read_log": 200}
    assert [error.id for error in retention.check_settings()] == ["privacy.E002"]
    settings.PRIVACY_RETENTION_DAYS = {**settings.PRIVACY_RETENTION_DAYS, "read_log": 730, "consent_ended": 0}
    assert [error.id for error in retention.check_settings()] == ["privacy.E001"]


def test_the_command_runs_and_reports(world: World, gone: Person) -> None:
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert "person_inactive: 1" in out.getvalue()
    assert Person.objects.get(pk=gone.pk).last_name == ANONYMISED


# The officer's page -------------------------------------------------------------------------------


@pytest.fixture
def dora(world: World) -> User:
    return officer("dora", world.jobcenter)


def test_the_officer_sees_the_preview_and_the_deletion_log(world: World, gone: Person, dora: User) -> None:
    page = browser(dora).get(reverse("privacy-retention"))
    assert page.status_code == 200
    assert [found.count for found in page.context["previews"] if found.rule.name == "person_inactive"] == [1]
    retention.apply()
    page = browser(dora).get(reverse("privacy-retention"))
    assert [entry.rule for entry in page.context["page_obj"]] == ["person_inactive"]
    preview = api(dora).get(f"{API}/privacy/retention-preview/").json()
    assert {row["rule"] for row in preview} == {rule.name for rule in retention.RULES}
    deletions = api(dora).get(f"{API}/privacy/deletions/").json()
    assert [row["record_id"] for row in deletions["results"]] == [str(gone.pk)]
    assert browser(world.adam).get(reverse("privacy-retention")).status_code == 403


def test_the_officer_places_and_lifts_a_hold(world: World, gone: Person, dora: User) -> None:
    # Amina's files are closed: nobody sees her any more, so no hold can be placed from outside.
    client = browser(dora)
    response = client.post(reverse("privacy-hold-create"), {"reference": gone.reference, "reason": "Az. 1"})
    assert response.status_code == 200
    assert "reference" in response.context["form"].errors
    CaseFile.objects.filter(person=gone).update(closed_at=None)
    response = client.post(reverse("privacy-hold-create"), {"reference": gone.reference, "reason": "Az. 1"})
    assert response.status_code == 302
    hold = gone.legal_holds.get()
    CaseFile.objects.filter(person=gone).update(closed_at=YEARS_AGO)
    assert preview_of("person_inactive").count == 0
    assert client.post(reverse("privacy-hold-lift", args=[hold.pk])).status_code == 302
    assert preview_of("person_inactive").ids == [gone.pk]
