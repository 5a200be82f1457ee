"""The data-protection officer's read-access log: who opened a person's file, what a staff member
opened, own agency only, date range, pages, CSV export and API; every search audited."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from agencies.models import User
from hub.exports import safe_cell
from hub.models import AuditEntry
from privacy.models import ReadAccess
from tests.conftest import Case, World
from tests.privacy.helpers import API, api, browser, officer, old_read, refer

pytestmark = pytest.mark.django_db


@pytest.fixture
def dora(world: World) -> User:
    return officer("dora", world.jobcenter)


@pytest.fixture
def sven(world: World) -> User:
    return officer("sven", world.social_office)


@pytest.fixture
def read_by_both(world: World, case: Case) -> Case:
    """Amina, read by alice (jobcenter) and, after a referral, by bob (social office)."""
    refer(world, case)
    browser(world.alice).get(reverse("person-detail", args=[case.person.pk]))
    browser(world.bob).get(reverse("person-detail", args=[case.person.pk]))
    assert ReadAccess.objects.count() == 2
    return case


def rows_of(response: Any) -> list[Any]:
    return list(response.context["page_obj"].object_list)


def csv_rows(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


# Who may look --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "bob", "rita", "adam", "cora", "olga"])
def test_only_data_protection_officers_open_the_read_log(world: World, persona: str) -> None:
    assert browser(world.persona(persona)).get(reverse("privacy-read-log")).status_code == 403
    assert api(world.persona(persona)).get(f"{API}/privacy/reads/?reference=P-X").status_code == 403


def test_the_officer_finds_who_opened_a_file(world: World, dora: User, read_by_both: Case) -> None:
    response = browser(dora).get(reverse("privacy-read-log"), {"reference": read_by_both.person.reference})
    assert response.status_code == 200
    found = rows_of(response)
    # bob's read is the social office's business, not the jobcenter's.
    assert [(row.user_id, row.agency_id) for row in found] == [(world.alice.pk, world.jobcenter.pk)]
    assert found[0].person_reference == read_by_both.person.reference
    assert "Alice Arslan" in response.content.decode()


def test_another_agencys_officer_sees_only_its_own_staff(world: World, sven: User, read_by_both: Case) -> None:
    response = browser(sven).get(reverse("privacy-read-log"), {"reference": read_by_both.person.reference.lower()})
    assert [row.user_id for row in rows_of(response)] == [world.bob.pk]
    body = api(sven).get(f"{API}/privacy/reads/", {"reference": read_by_both.person.reference}).json()
    assert [row["user"]["id"] for row in body["results"]] == [world.bob.pk]


def test_what_a_staff_member_opened(world: World, dora: User, read_by_both: Case) -> None:
    response = browser(dora).get(reverse("privacy-read-log"), {"user": world.alice.pk})
    assert [row.person_id for row in rows_of(response)] == [read_by_both.person.pk]
    # Another agency's staff member is no choice: the form refuses, nothing is shown.
    foreign = browser(dora).get(reverse("privacy-read-log"), {"user": world.bob.pk})
    assert foreign.status_code == 200
    assert not foreign.context["searched"]
    assert "user" in foreign.context["filter"].form.errors
    assert api(dora).get(f"{API}/privacy/reads/", {"user": world.bob.pk}).status_code == 400


def test_the_log_is_not_browsed_without_a_person_or_staff_member(world: World, dora: User, read_by_both: Case) -> None:
    response = browser(dora).get(reverse("privacy-read-log"))
    assert response.status_code == 200
    assert not response.context["searched"]
    assert rows_of(response) == []
    assert gettext("Enter a case reference or choose a staff member to search.") in response.content.decode()
    assert api(dora).get(f"{API}/privacy/reads/").status_code == 400
    assert browser(dora).get(reverse("privacy-read-log-csv")).status_code == 400


def test_searches_cover_90_days_unless_told(world: World, dora: User, case: Case) -> None:
    recent = old_read(world.alice, world.jobcenter, case.person.pk, days=10)
    older = old_read(world.alice, world.jobcenter, case.person.pk, days=120)
    client = browser(dora)
    default = client.get(reverse("privacy-read-log"), {"reference": case.person.reference})
    assert [row.pk for row in rows_of(default)] == [recent.pk]
    since = (timezone.localdate() - datetime.timedelta(days=200)).isoformat()
    until = (timezone.localdate() - datetime.timedelta(days=100)).isoformat()
    ranged = client.get(
        reverse("privacy-read-log"), {"reference": case.person.reference, "since": since, "until": until}
    )
    assert [row.pk for row in rows_of(ranged)] == [older.pk]
    backwards = client.get(
        reverse("privacy-read-log"), {"reference": case.person.reference, "since": until, "until": since}
    )
    assert "until" in backwards.context["filter"].form.errors


def test_the_log_is_paginated(world: World, dora: User, case: Case) -> None:
    for day in range(60):
        old_read(world.alice, world.jobcenter, case.person.pk, days=day % 80)
    client = browser(dora)
    first = client.get(reverse("privacy-read-log"), {"reference": case.person.reference})
    second = client.get(reverse("privacy-read-log"), {"reference": case.person.reference, "page": "2"})
    assert len(rows_of(first)) == 50
    assert len(rows_of(second)) == 10
    assert first.context["page_obj"].paginator.count == 60


def test_every_search_is_audited(world: World, dora: User, read_by_both: Case) -> None:
    browser(dora).get(reverse("privacy-read-log"), {"user": world.alice.pk})
    entry = AuditEntry.objects.get(action="privacy.read_log")
    assert entry.actor_id == dora.pk
    assert entry.agency_id == world.jobcenter.pk
    assert entry.changes["staff_member"] == [None, world.alice.pk]
    assert entry.changes["output"] == [None, "page"]


def test_the_officers_pages_are_no_reads_of_a_file(world: World, dora: User, read_by_both: Case) -> None:
    before = ReadAccess.objects.count()
    browser(dora).get(reverse("privacy-read-log"), {"reference": read_by_both.person.reference})
    assert ReadAccess.objects.count() == before


# CSV ----------------------------------------------------------------------------------------------


def test_the_csv_export_holds_the_search(world: World, dora: User, read_by_both: Case) -> None:
    response = browser(dora).get(reverse("privacy-read-log-csv"), {"reference": read_by_both.person.reference})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="read-log-')
    header, *rows = csv_rows(response)
    names = ("time", "staff member", "username", "agency", "case reference", "data categories", "purpose", "method")
    assert header == [gettext(name) for name in names]
    assert len(rows) == 1
    time, name, username, agency, reference, categories, purpose, method = rows[0]
    assert (name, username, agency, reference) == (
        "Alice Arslan",
        "alice",
        world.jobcenter.name,
        read_by_both.person.reference,
    )
    assert purpose == "person-detail"
    assert method == "GET"
    assert datetime.datetime.fromisoformat(time).tzinfo is not None
    assert gettext("Identity") in categories
    assert AuditEntry.objects.filter(action="privacy.read_log", changes__output=[None, "csv"]).exists()


def test_csv_cells_never_start_a_formula(world: World, dora: User, case: Case) -> None:
    old_read(world.alice, world.jobcenter, case.person.pk, days=1, purpose='=HYPERLINK("http://evil","x")')
    old_read(world.alice, world.jobcenter, case.person.pk, days=2, purpose="+1+1")
    old_read(world.alice, world.jobcenter, case.person.pk, days=3, purpose="@SUM(A1)")
    _header, *rows = csv_rows(browser(dora).get(reverse("privacy-read-log-csv"), {"user": world.alice.pk}))
    purposes = [row[6] for row in rows]
    assert purposes == ['\'=HYPERLINK("http://evil","x")', "'+1+1", "'@SUM(A1)"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


@pytest.mark.parametrize(
    ("cell", "safe"),
    [("=1+1", "'=1+1"), ("-2", "'-2"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("Amt", "Amt"), (None, ""), (3, "3")],
)
def test_safe_cell(cell: Any, safe: str) -> None:
    assert safe_cell(cell) == safe


def test_another_agencys_officer_cannot_export_our_reads(world: World, sven: User, read_by_both: Case) -> None:
    _header, *rows = csv_rows(
        browser(sven).get(reverse("privacy-read-log-csv"), {"reference": read_by_both.person.reference})
    )
    assert [row[2] for row in rows] == ["bob"]


# API ----------------------------------------------------------------------------------------------


def test_the_api_answers_the_same_search(world: World, dora: User, read_by_both: Case) -> None:
    response = api(dora).get(f"{API}/privacy/reads/", {"reference": read_by_both.person.reference})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["user"]["id"] == world.alice.pk
    assert row["agency"]["id"] == world.jobcenter.pk
    assert row["person_reference"] == read_by_both.person.reference
    assert row["purpose"] == "person-detail"
    assert "identity" in row["categories"]
