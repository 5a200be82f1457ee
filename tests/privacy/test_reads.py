"""The read-access log: one row per request and person wherever a person's data is shown, with who,
for which agency, which categories and purpose; none for refusals or pages without person data; one
query per request; and rows PostgreSQL will not change."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from messaging import services as comment_services
from privacy import reads as read_log
from privacy.models import DeletionAction, DeletionLogEntry, ReadAccess
from referrals import services as case_services
from referrals.models import Category, Person
from tests.conftest import Case, World
from tests.messaging.meeting_helpers import item_on, make_meeting
from tests.privacy.helpers import API, api, browser, old_read, reads, refer

pytestmark = pytest.mark.django_db

HOLDER_PERSON_PAGE = {"identity", "contact", "residence", "health", "benefits", "consents"}


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def only_read(**expected: Any) -> ReadAccess:
    found = reads()
    assert len(found) == 1, [(r.person_id, r.categories, r.purpose) for r in found]
    row = found[0]
    for name, value in expected.items():
        assert getattr(row, name) == value, (name, getattr(row, name))
    return row


# Pages ------------------------------------------------------------------------------------------


def test_the_person_page_writes_one_row_with_who_agency_categories_and_purpose(world: World, case: Case) -> None:
    response = browser(world.alice).get(reverse("person-detail", args=[case.person.pk]))
    assert response.status_code == 200
    row = only_read(user_id=world.alice.pk, agency_id=world.jobcenter.pk, person_id=case.person.pk)
    assert set(row.categories) == HOLDER_PERSON_PAGE
    assert row.purpose == "person-detail"
    assert row.method == "GET"
    assert row.request_id
    assert timezone.now() - row.at < datetime.timedelta(minutes=1)


def test_each_request_writes_its_own_row(world: World, case: Case) -> None:
    client = browser(world.alice)
    for _ in range(2):
        client.get(reverse("person-detail", args=[case.person.pk]))
    assert [row.person_id for row in reads()] == [case.person.pk, case.person.pk]
    assert len({row.request_id for row in reads()}) == 2


def test_a_receiving_agency_logs_the_categories_it_was_shown(world: World, case: Case) -> None:
    refer(world, case)
    browser(world.bob).get(reverse("person-detail", args=[case.person.pk]))
    row = only_read(user_id=world.bob.pk, agency_id=world.social_office.pk)
    assert set(row.categories) == {"identity", "contact", "referrals", "consents"}


def test_the_person_list_writes_a_row_per_person_it_names(world: World, case: Case) -> None:
    other = case_services.person_create(
        actor=world.alice,
        agency=world.jobcenter,
        first_name="Omar",
        last_name="Khalil",
        birth_date=datetime.date(1985, 2, 3),
        nationality="afghanisch",
    )
    assert browser(world.alice).get(reverse("person-list")).status_code == 200
    assert {(row.person_id, tuple(row.categories)) for row in reads()} == {
        (case.person.pk, ("identity",)),
        (other.pk, ("identity",)),
    }
    assert {row.purpose for row in reads()} == {"person-list"}


def test_the_referral_page_logs_the_referral_and_the_name(world: World, case: Case) -> None:
    referral = refer(world, case)
    assert browser(world.bob).get(reverse("referral-detail", args=[referral.pk])).status_code == 200
    assert set(only_read(user_id=world.bob.pk, purpose="referral-detail").categories) == {"identity", "referrals"}


def test_the_inbox_and_the_referral_list_log_their_rows(world: World, case: Case) -> None:
    refer(world, case)
    browser(world.bob).get(reverse("referral-inbox"))
    browser(world.alice).get(reverse("referral-list"))
    by_purpose = {row.purpose: row for row in reads()}
    assert set(by_purpose) == {"referral-inbox", "referral-list"}
    assert set(by_purpose["referral-inbox"].categories) == {"identity", "referrals"}
    assert by_purpose["referral-inbox"].user_id == world.bob.pk
    assert by_purpose["referral-list"].user_id == world.alice.pk


def test_plan_and_profile_pages_log_their_categories(world: World, case: Case) -> None:
    plan = case_services.plan_create(actor=world.alice, person=case.person, goals="B1")
    case_services.profile_create(
        actor=world.alice, person=case.person, languages=[{"language": "Arabisch", "level": "native"}]
    )
    client = browser(world.alice)
    client.get(reverse("plan-detail", args=[plan.pk]))
    assert set(only_read(purpose="plan-detail").categories) == {"identity", "plan"}
    client.get(reverse("person-profile", args=[case.person.pk]))
    profile_row = [row for row in reads() if row.purpose == "person-profile"]
    assert len(profile_row) == 1
    assert set(profile_row[0].categories) == {"identity", "languages", "education", "work", "health"}


def test_the_consent_document_logs_a_read(world: World, case: Case) -> None:
    case.consent.document.save("consent.pdf", ContentFile(b"%PDF-1.4 signed"), save=True)
    response = browser(world.alice).get(reverse("consent-document", args=[case.consent.pk]))
    assert response.status_code == 200
    b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert set(only_read(purpose="consent-document").categories) == {"identity", "consents"}


def test_comments_on_a_person_log_their_category(world: World, case: Case) -> None:
    comment_services.comment_create(actor=world.alice, target=case.person, body="Braucht Kita-Platz", category="health")
    response = api(world.alice).get(f"{API}/persons/{case.person.pk}/comments/")
    assert response.status_code == 200
    assert set(only_read(purpose="api:person-comments").categories) == {"health"}


def test_a_comment_page_logs_the_comment_s_category(world: World, case: Case) -> None:
    comment = comment_services.comment_create(
        actor=world.alice, target=case.person, body="Braucht Kita-Platz", category="health"
    )
    assert browser(world.alice).get(reverse("comment-edit", args=[comment.pk])).status_code == 200
    assert set(only_read(purpose="comment-edit", person_id=case.person.pk).categories) == {"health"}


def test_meeting_case_labels_log_a_read_only_where_they_name_the_person(world: World, case: Case) -> None:
    meeting = make_meeting(world)
    item_on(world, meeting, person=case.person)
    # The jobcenter holds Amina: its coordinator sees her name on the agenda.
    assert api(world.cora).get(f"{API}/meetings/{meeting.pk}/agenda/").status_code == 200
    assert set(only_read(user_id=world.cora.pk, person_id=case.person.pk).categories) == {"identity"}
    # The social office is invited but does not see Amina: her case reference only, no read.
    assert api(world.bob).get(f"{API}/meetings/{meeting.pk}/agenda/").status_code == 200
    assert not ReadAccess.objects.filter(user=world.bob).exists()


def test_the_household_match_page_logs_the_members(world: World, case: Case) -> None:
    household = case_services.household_create(actor=world.alice, name="Familie Haddad")
    case_services.person_update(actor=world.alice, person=case.person, household=household)
    assert browser(world.alice).get(reverse("housing-match", args=[household.pk])).status_code == 200
    only_read(person_id=case.person.pk, purpose="housing-match", categories=["identity"])


# API ----------------------------------------------------------------------------------------------


def test_the_person_api_logs_detail_and_list(world: World, case: Case) -> None:
    client = api(world.alice)
    assert client.get(f"{API}/persons/{case.person.pk}/").status_code == 200
    row = only_read(purpose="api:person-detail", person_id=case.person.pk, agency_id=world.jobcenter.pk)
    assert set(row.categories) == {"identity", "contact", "residence", "health", "benefits"}
    assert client.get(f"{API}/persons/").status_code == 200
    assert [row.purpose for row in reads()] == ["api:person-detail", "api:person-list"]


def test_the_api_logs_for_token_authenticated_calls(world: World, case: Case) -> None:
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=world.alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(f"{API}/persons/{case.person.pk}/").status_code == 200
    only_read(user_id=world.alice.pk, agency_id=world.jobcenter.pk)


def test_the_shared_categories_only_in_the_receivers_api_row(world: World, case: Case) -> None:
    refer(world, case)
    assert api(world.bob).get(f"{API}/persons/{case.person.pk}/").status_code == 200
    assert set(only_read(user_id=world.bob.pk).categories) == {"identity", "contact"}


@pytest.mark.parametrize(
    ("path", "kinds"),
    [
        ("referrals/", {"referrals"}),
        ("referrals/inbox/", {"referrals"}),
        ("consents/", {"consents"}),
        ("shares/", {"consents"}),
        ("plans/", {"plan"}),
    ],
)
def test_record_apis_log_the_kind_of_record(world: World, case: Case, path: str, kinds: set[str]) -> None:
    refer(world, case)
    case_services.plan_create(actor=world.alice, person=case.person, goals="B1")
    assert api(world.alice).get(f"{API}/{path}").status_code == 200
    found = [row for row in reads() if row.person_id == case.person.pk]
    assert len(found) == 1
    assert set(found[0].categories) == kinds


# Nothing to log --------------------------------------------------------------------------------


def test_refused_requests_write_no_row(world: World, case: Case) -> None:
    assert browser(world.carol).get(reverse("person-detail", args=[case.person.pk])).status_code == 404
    assert api(world.olga).get(f"{API}/persons/{case.person.pk}/").status_code == 404
    assert browser(world.rita).get(reverse("person-edit", args=[case.person.pk])).status_code == 403
    # A merge with a reference nobody sees: the page is shown again with 400.
    merge = browser(world.alice).post(reverse("person-merge", args=[case.person.pk]), {"reference": "P-NOPE"})
    assert merge.status_code == 400
    assert api(None).get(f"{API}/persons/").status_code == 401
    assert reads() == []


def test_a_successful_write_that_redirects_writes_no_row(world: World, case: Case) -> None:
    response = browser(world.alice).post(reverse("consent-revoke", args=[case.consent.pk]))
    assert response.status_code == 302
    assert reads() == []


@pytest.mark.parametrize("name", ["dashboard", "measure-list", "workspace-list", "agency-list", "notification-list"])
def test_pages_without_person_data_write_no_row(world: World, case: Case, name: str) -> None:
    assert browser(world.alice).get(reverse(name)).status_code == 200
    assert reads() == []


def test_note_outside_a_request_does_nothing(world: World, case: Case) -> None:
    read_log.note(case.person.pk, {Category.IDENTITY})
    assert read_log.pending() == {}
    assert reads() == []


# Cost -------------------------------------------------------------------------------------------


def test_logging_adds_one_query_to_a_person_page(world: World, case: Case, settings: Any) -> None:
    url = reverse("person-detail", args=[case.person.pk])
    logged_client = browser(world.alice)
    logged_client.get(url)  # warm up: session and memberships
    with CaptureQueriesContext(connection) as logged:
        assert logged_client.get(url).status_code == 200
    # The captured list is read from the connection's log, which the next request resets: keep it now.
    logged_queries = [query["sql"] for query in logged.captured_queries]
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != "privacy.middleware.ReadAccessLogMiddleware"]
    unlogged_client = browser(world.alice)
    unlogged_client.get(url)
    with CaptureQueriesContext(connection) as unlogged:
        assert unlogged_client.get(url).status_code == 200
    assert len(logged_queries) == len(unlogged) + 1
    writes = [sql for sql in logged_queries if "privacy_readaccess" in sql]
    assert len(writes) == 1
    assert writes[0].startswith("INSERT")


def test_a_list_page_logs_every_person_in_one_insert(world: World, case: Case) -> None:
    for number in range(5):
        case_services.person_create(
            actor=world.alice,
            agency=world.jobcenter,
            first_name=f"Person{number}",
            last_name="Muster",
            birth_date=datetime.date(1990, 1, 1),
            nationality="syrisch",
        )
    client = browser(world.alice)
    client.get(reverse("person-list"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("person-list"))
    writes = [query["sql"] for query in queries.captured_queries if "privacy_readaccess" in query["sql"]]
    assert len(writes) == 1
    assert ReadAccess.objects.filter(purpose="person-list").count() == 2 * Person.objects.count()


# Append-only ---------------------------------------------------------------------------------


def test_the_database_refuses_to_change_or_delete_a_recent_read(world: World, case: Case) -> None:
    browser(world.alice).get(reverse("person-detail", args=[case.person.pk]))
    row = reads()[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        ReadAccess.objects.filter(pk=row.pk).update(purpose="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        ReadAccess.objects.filter(pk=row.pk).delete()
    row.refresh_from_db()
    assert row.purpose == "person-detail"


def test_only_reads_older_than_a_year_can_be_deleted(world: World, case: Case) -> None:
    ancient = old_read(world.alice, world.jobcenter, case.person.pk, days=800)
    recent = old_read(world.alice, world.jobcenter, case.person.pk, days=300)
    ReadAccess.objects.filter(pk=ancient.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        ReadAccess.objects.filter(pk=recent.pk).delete()
    assert list(ReadAccess.objects.values_list("pk", flat=True)) == [recent.pk]


def test_the_deletion_log_is_append_only(world: World) -> None:
    entry = DeletionLogEntry.objects.create(
        rule="read_log", record_type="privacy.readaccess", action=DeletionAction.DELETED, count=3
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        DeletionLogEntry.objects.filter(pk=entry.pk).update(count=0)
    with pytest.raises(DatabaseError), transaction.atomic():
        DeletionLogEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.count == 3
