"""The benchmark generator (``bench/generate.py``) at the tiny scale: its rows keep every constraint,
and the app's own access policy, selectors, services and figures see in them what they would see
in data the services had made. Two counties, so that one can look for the other's data and find none."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agencies.models import Agency, Staff, User, Workspace
from bench import _data
from bench._data import SCALES, Copier, County, Plan, load_county, make_plan, reset_sequences
from bench.generate import BENCH_PASSWORD
from housing.models import Listing
from hub import access
from messaging.models import Meeting
from referrals import selectors, services
from referrals.models import CaseFile, Consent, Person, Referral, Share
from referrals.services import ENDS_SHARE, check_referral_basis
from reporting.figures import Period, dashboard

pytestmark = pytest.mark.django_db

TINY = SCALES["tiny"]


@pytest.fixture
def plan(db: None) -> Plan:
    """Both tiny counties loaded into the test transaction, foreign keys checked at once."""
    connection.ensure_connection()
    raw: Any = connection.connection
    made = make_plan(raw, TINY, seed=11, password_hash=make_password(BENCH_PASSWORD))
    for county in range(1, TINY.counties + 1):
        load_county(raw, made, county)
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred to the commit, which a test never reaches.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    reset_sequences(raw)
    return made


def user(name: str) -> User:
    return User.objects.get(username=name)


def agencies_of(county: int) -> set[int]:
    return set(Staff.objects.filter(user__username__startswith=f"c{county:02d}.").values_list("agency_id", flat=True))


def test_every_county_has_its_rows(plan: Plan) -> None:
    assert Person.objects.count() == TINY.counties * TINY.persons
    assert Referral.objects.count() == TINY.counties * TINY.referrals
    assert Staff.objects.count() == TINY.counties * 8 * TINY.staff_per_agency
    assert Listing.objects.count() == TINY.counties * TINY.flats
    assert Meeting.objects.count() == TINY.counties * TINY.meetings
    # Each sent referral left its share, as sending does.
    sent = Referral.objects.exclude(status="draft")
    assert sent.filter(share=None).count() == 0
    assert Share.objects.count() == sent.count()


def test_a_jobcenter_caseworker_sees_its_persons_and_referrals(plan: Plan) -> None:
    caseworker = user("c01.jobcenter.cw001")
    jobcenter = Staff.objects.get(user=caseworker).agency
    assert jobcenter.kind == "jobcenter"
    held = set(CaseFile.objects.filter(agency=jobcenter, closed_at=None).values_list("person_id", flat=True))
    shared = set(Share.objects.filter(to_agency=jobcenter, ended_at=None).values_list("person_id", flat=True))
    visible = set(access.visible(caseworker, Person).values_list("pk", flat=True))
    assert held and visible == held | shared

    ours = Referral.objects.filter(Q(from_agency=jobcenter) | Q(to_agency=jobcenter))
    assert ours.filter(from_agency=jobcenter).exists() and ours.filter(to_agency=jobcenter).exists()
    assert set(selectors.referral_list(caseworker)) == set(ours)
    incoming = set(selectors.inbox_incoming(caseworker))
    assert incoming == set(ours.filter(to_agency=jobcenter, status__in=["sent", "received"]))


def test_a_caseworker_of_another_county_sees_nothing_of_it(plan: Plan) -> None:
    outsider = user("c02.jobcenter.cw001")
    first = agencies_of(1)
    assert len(first) == 8 and not first & agencies_of(2)
    assert access.visible(outsider, Person).exists()
    assert not access.visible(outsider, Person).filter(case_files__agency__in=first).exists()
    assert not access.visible(outsider, Person).filter(shares__from_agency__in=first).exists()
    assert not access.visible(outsider, Referral).filter(Q(from_agency__in=first) | Q(to_agency__in=first)).exists()
    assert not access.visible(outsider, Agency).filter(pk__in=first).exists()
    assert not access.visible(outsider, Workspace).filter(coordinator_agency__in=first).exists()
    assert not access.visible(outsider, Listing).filter(owner_agency__in=first).exists()
    assert not access.visible(outsider, Meeting).filter(workspace__coordinator_agency__in=first).exists()
    assert not access.visible(outsider, Staff).filter(agency__in=first).exists()


def test_the_receiver_of_an_accepted_referral_sees_the_person_as_sending_made_it(plan: Plan) -> None:
    first = agencies_of(1)
    accepted = [
        referral
        for referral in Referral.objects.filter(status="accepted", from_agency__in=first).select_related("share")
        if not CaseFile.objects.filter(person=referral.person_id, agency=referral.to_agency_id).exists()
    ]
    assert accepted
    referral = accepted[0]
    receiver = Staff.objects.filter(agency=referral.to_agency_id, is_caseworker=True, is_active=True).first()
    assert receiver is not None
    actor = receiver.user
    assert referral.share is not None and referral.share.ended_at is None
    assert (referral.share.person_id, referral.share.from_agency_id, referral.share.to_agency_id) == (
        referral.person_id,
        referral.from_agency_id,
        referral.to_agency_id,
    )
    assert referral.share.categories == referral.categories
    assert access.is_visible(actor, referral.person)
    assert set(referral.categories) <= access.person_categories(actor, referral.person)
    assert referral in set(selectors.referral_list(actor))
    # The state machine takes it on from here, as from a referral the services had accepted.
    started = services.referral_transition(actor=actor, referral=referral, action="start")
    assert started.status == "in_progress"


def test_ended_referrals_end_the_receivers_view(plan: Plan) -> None:
    ended = Referral.objects.filter(status__in=ENDS_SHARE).select_related("share")
    assert ended.exists()
    for referral in ended:
        assert referral.share is not None and referral.share.ended_at is not None
        others = Share.objects.filter(person=referral.person_id, to_agency=referral.to_agency_id, ended_at=None)
        held = CaseFile.objects.filter(person=referral.person_id, agency=referral.to_agency_id, closed_at=None)
        if not others.exists() and not held.exists():
            receiver = Staff.objects.filter(agency=referral.to_agency_id, is_active=True).first()
            assert receiver is not None
            assert not access.is_visible(receiver.user, referral.person)


def test_open_referrals_rest_on_a_lawful_basis(plan: Plan) -> None:
    """The app's own rules of sharing accept every referral still running on an unrevoked basis."""
    running = Referral.objects.filter(status__in=["sent", "received", "accepted", "waitlisted", "in_progress"])
    checked = 0
    for referral in running.select_related("person", "from_agency", "to_agency", "consent"):
        if referral.consent is not None and referral.consent.revoked_at is not None:
            continue
        check_referral_basis(referral)
        checked += 1
    assert checked > 20
    assert Consent.objects.filter(referrals__isnull=False).exists()


def test_the_round_tables_figures_are_not_trivial(plan: Plan) -> None:
    coordinator = user("c01.sozialamt.co001")
    workspace = Workspace.objects.get(coordinator_agency__in=agencies_of(1))
    today = timezone.localdate()
    board = dashboard(coordinator, workspace, Period(today - datetime.timedelta(days=365), today))
    for key in (
        "people_served",
        "caseload",
        "referrals",
        "overdue_answers",
        "time_to_accept",
        "wait_first_measure",
        "measures_started",
        "measures_completed",
        "outcomes",
        "flats_available",
        "flats_occupied",
        "action_items_open",
    ):
        assert board[key].value, key


def test_generated_accounts_log_in_and_the_app_inserts_after_the_generated_rows(plan: Plan) -> None:
    caseworker = user("c01.jobcenter.cw001")
    assert check_password(BENCH_PASSWORD, caseworker.password)
    client = Client()
    assert client.login(username="c01.jobcenter.cw001", password=BENCH_PASSWORD)
    assert client.get(reverse("referral-inbox")).status_code == 200
    # The former colleague's membership is deactivated: no agency, nothing visible.
    assert not access.memberships(user("c01.jobcenter.fm001"))
    jobcenter = Staff.objects.get(user=caseworker).agency
    person = services.person_create(
        actor=caseworker,
        agency=jobcenter,
        first_name="Neu",
        last_name="Angelegt",
        birth_date=datetime.date(1990, 1, 1),
        nationality="syrisch",
    )
    assert person.pk > plan.first_id("referrals_person", TINY.counties + 1)


class Collector(Copier):
    """A Copier that keeps the COPY text instead of sending it."""

    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type]
        self.sent: list[tuple[str, str]] = []

    def _copy(self, table: str, data: str) -> None:
        self.sent.append((table, data))


def generate(plan: Plan, county: int) -> list[tuple[str, str]]:
    out = Collector()
    County(plan, county, out).load()
    out.close()
    return out.sent


def offline_plan(**changes: Any) -> Plan:
    values: dict[str, Any] = {
        "scale": TINY,
        "seed": 5,
        "now": 1_780_000_000,
        "password_hash": "x",
        "view_permission": 1,
        "manage_permission": 2,
        "bases": dict.fromkeys(_data.TABLES, 0),
        "strides": _data.strides(TINY),
    }
    values.update(changes)
    return Plan(**values)


def test_a_county_is_the_same_for_the_same_seed_and_other_for_another() -> None:
    plan = offline_plan()
    assert generate(plan, 1) == generate(plan, 1)
    assert generate(plan, 1) != generate(offline_plan(seed=6), 1)


def strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from strings(item)


def test_text_is_safe_for_copy() -> None:
    """COPY's text format would read a tab, newline or backslash in a value as a control character."""
    constants = [value for name, value in vars(_data).items() if name.isupper() and name != "NULL"]
    for text in strings(constants):
        assert not set(text) & {"\t", "\n", "\\"}, text
    for table, data in generate(offline_plan(), 1):
        columns = _data.COLUMNS[table].count(",") + 1
        for line in data.splitlines():
            assert line.count("\t") == columns - 1, (table, line)
