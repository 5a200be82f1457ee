"""Personas shared by every test (Healthchecks' habit), built through the services.

The county: the jobcenter sends, the social office receives, the youth office sits
at the same round table, the immigration authority shares no workspace with them.

| persona  | agency                 | roles            |
|----------|------------------------|------------------|
| alice    | Jobcenter              | caseworker       |
| bob      | Sozialamt              | caseworker       |
| carol    | Jugendamt              | caseworker       |
| olga     | Ausländerbehörde       | caseworker       | (outsider: no shared workspace)
| rita     | Jobcenter              | (read-only)      |
| adam     | Jobcenter              | agency admin     |
| cora     | Jobcenter              | coordinator      | (the workspace's coordinating agency)
| anon     | not logged in          |                  |
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from agencies import services
from agencies.models import Agency, AgencyKind, Staff, User, Workspace
from hub import access
from referrals import services as referral_services
from referrals.models import Consent, Person


@dataclass
class World:
    jobcenter: Agency
    social_office: Agency
    youth_office: Agency
    immigration: Agency
    workspace: Workspace
    other_workspace: Workspace
    alice: User
    bob: User
    carol: User
    olga: User
    rita: User
    adam: User
    cora: User

    def staff(self, user: User) -> Staff:
        return Staff.objects.get(user=user)

    def persona(self, name: str) -> User:
        """The user behind a persona's name; "anon" has none and is logged out by the caller."""
        user: User = getattr(self, name)
        return user

    def reloaded(self) -> World:
        """Fresh copies from the database, so that no cached state crosses tests sharing a world."""
        return World(
            **{f.name: type(value).objects.get(pk=value.pk) for f in fields(self) if (value := getattr(self, f.name))}
        )

    def forget_access(self) -> None:
        """Drop what ``hub.access`` cached on the personas (after a rolled-back savepoint)."""
        for name in PERSONAS:
            if name != ANON:
                access.forget(self.persona(name))


ANON = "anon"
PERSONAS = ["alice", "bob", "carol", "olga", "rita", "adam", "cora", ANON]
PASSWORD = "correct horse battery staple"


def make_user(username: str, first: str, last: str) -> User:
    user = User(username=username, first_name=first, last_name=last, email=f"{username}@example.org")
    user.set_password(PASSWORD)
    user.save()
    return user


def make_world() -> World:
    def agency(name: str, short: str, kind: str) -> Agency:
        return services.agency_create(actor=None, name=name, short_name=short, kind=kind, city="Nordhorn")

    jobcenter = agency("Jobcenter Landkreis Musterstadt", "Jobcenter", AgencyKind.JOBCENTER)
    social = agency("Sozialamt Landkreis Musterstadt", "Sozialamt", AgencyKind.SOCIAL_OFFICE)
    youth = agency("Jugendamt Landkreis Musterstadt", "Jugendamt", AgencyKind.YOUTH_OFFICE)
    immigration = agency("Ausländerbehörde Landkreis Musterstadt", "ABH", AgencyKind.IMMIGRATION_AUTHORITY)

    users = {}
    for username, first, last, home, roles in [
        ("alice", "Alice", "Arslan", jobcenter, ["caseworker"]),
        ("bob", "Bob", "Becker", social, ["caseworker"]),
        ("carol", "Carol", "Celik", youth, ["caseworker"]),
        ("olga", "Olga", "Otto", immigration, ["caseworker"]),
        ("rita", "Rita", "Richter", jobcenter, []),
        ("adam", "Adam", "Albers", jobcenter, ["agency_admin"]),
        ("cora", "Cora", "Cramer", jobcenter, ["coordinator"]),
    ]:
        users[username] = make_user(username, first, last)
        services.staff_create(actor=None, agency=home, user=users[username], roles=roles)
    for admin_of, name in [(social, "sam"), (youth, "yara"), (immigration, "ines")]:
        user = make_user(name, name.title(), "Admin")
        services.staff_create(actor=None, agency=admin_of, user=user, roles=["agency_admin"])

    workspace = services.workspace_create(
        actor=None,
        name="Runder Tisch Integration",
        purpose="Abstimmung der Integration Geflüchteter",
        coordinator_agency=jobcenter,
        agencies=[social, youth],
    )
    other = services.workspace_create(
        actor=None, name="Arbeitskreis Aufenthalt", coordinator_agency=immigration, agencies=[]
    )
    return World(
        jobcenter=jobcenter,
        social_office=social,
        youth_office=youth,
        immigration=immigration,
        workspace=workspace,
        other_workspace=other,
        **users,
    )


@contextlib.contextmanager
def module_transaction(django_db_blocker: Any) -> Iterator[None]:
    """A transaction around a whole module's tests, as Django's ``setUpTestData`` has one around a
    class: rows built in it are there for every test (each in its own savepoint, pytest-django's
    ``db``) and rolled back after the module's last test."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> None:
    """Photos and signed consents that tests upload never land in the checkout's var/media.

    Browser tests are the exception: their server runs in another process with the configured
    MEDIA_ROOT, and their fixtures delete what they stored.
    """
    if request.node.get_closest_marker("browser") is None:
        settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db: None) -> World:
    return make_world()


@dataclass
class Case:
    """A person the jobcenter holds (alice is the case manager), with a consent naming the social office."""

    person: Person
    consent: Consent


def make_case(world: World) -> Case:
    person = referral_services.person_create(
        actor=world.alice,
        agency=world.jobcenter,
        first_name="Amina",
        last_name="Haddad",
        birth_date=datetime.date(1990, 4, 12),
        nationality="syrisch",
        city="Nordhorn",
        phone="0170 1234567",
        health_notes="Diabetes",
        residence_status="Aufenthaltserlaubnis § 25 Abs. 2 AufenthG",
    )
    consent = referral_services.consent_record(
        actor=world.alice,
        person=person,
        categories=["identity", "contact", "languages"],
        recipients=[world.social_office, world.youth_office],
        purpose="Abstimmung der Integrationsschritte",
        text_version="2026-01",
    )
    return Case(person=person, consent=consent)


@pytest.fixture
def case(world: World) -> Case:
    return make_case(world)


def run_queued_tasks() -> None:
    """Run every due task the way ``manage.py db_worker`` does, inside the test's transaction.

    The command itself closes "old" connections between tasks, which would end the test's transaction.
    """
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    while (result := DBTaskResult.objects.ready().get_locked()) is not None:
        result.claim(worker.worker_id)
        worker.run_task(result)
