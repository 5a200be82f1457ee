"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Playwright's sync API keeps an event loop running in the test thread for the rest of
the session, so Django would refuse ORM calls there: allow them, and run the browser
tests after every other test so that no async test meets that loop.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connection
from django.test.utils import modify_settings
from django.utils import timezone

from referrals import services as referral_services
from referrals.models import Referral
from tests.browser.live import use_database
from tests.conftest import Case, World, make_case, make_world

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium keeps calling out to Google, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A stable sort: everything else keeps its order, browser tests go last.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


class LiveServer:
    """The ASGI application (pages and the websocket) served by daphne in a process of its own."""

    def __init__(self, process: Any) -> None:
        self.process = process
        # pytest-django's live-server helper switches this on for each test that uses the server.
        self._live_server_modified_settings = modify_settings(ALLOWED_HOSTS={"append": "localhost"})

    @property
    def url(self) -> str:
        return f"http://localhost:{self.process.port.value}"


def serve() -> Iterator[LiveServer]:
    """Spawned rather than forked: the child reads the settings afresh instead of inheriting the
    parent's open connections, and is told the test database's name, which pytest-django
    derives per parallel worker."""
    multiprocessing.set_start_method("spawn", force=True)
    process = DaphneProcess(
        "localhost",
        partial(make_application, static_wrapper=ASGIStaticFilesHandler),
        setup=partial(use_database, connection.settings_dict["NAME"]),
    )
    process.start()
    if not process.ready.wait(timeout=60):
        process.terminate()
        pytest.fail("the daphne live server did not start within 60 s")
    yield LiveServer(process)
    process.terminate()
    process.join()


@pytest.fixture(scope="session")
def live_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    """Replaces pytest-django's WSGI live server, which has no websockets."""
    yield from serve()


@pytest.fixture(scope="session")
def second_live_server(live_server: LiveServer) -> Iterator[LiveServer]:
    """Another server process on the same database and Redis, as in a deployment with several hosts."""
    yield from serve()


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """The tests build their URLs from the live server; this replaces pytest-playwright's fixture,
    a session fixture defined on a class instance, which pytest 10 will refuse."""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # German first, as in the county's offices; the walkthrough switches to English itself.
    return {**browser_context_args, "locale": "de-DE", "timezone_id": "Europe/Berlin"}


@pytest.fixture
def browser_world(transactional_db: None) -> World:
    """The personas, committed: the live server answers from another thread and connection.

    Built in a thread of its own, because the services broadcast their events with
    async_to_sync, which refuses to run beside Playwright's event loop.
    """

    def build() -> World:
        try:
            return make_world()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(build).result()


@pytest.fixture
def browser_case(transactional_db: None) -> tuple[World, Case, Referral]:
    """The personas plus Amina's case, referred to the social office, with a plan — committed, like browser_world."""

    def build() -> tuple[World, Case, Referral]:
        try:
            world = make_world()
            case = make_case(world)
            referral = referral_services.referral_create(
                actor=world.alice,
                person=case.person,
                to_agency=world.social_office,
                reason="Beratung zur Wohnsituation",
                categories=["identity", "contact"],
                legal_basis="consent",
                consent=case.consent,
                answer_due_on=timezone.localdate() + datetime.timedelta(days=7),
            )
            plan = referral_services.plan_create(actor=world.alice, person=case.person, goals="Deutsch auf B1")
            referral_services.plan_step_add(
                actor=world.alice,
                plan=plan,
                kind="language_course",
                title="Integrationskurs",
                owner_agency=world.jobcenter,
            )
            return world, case, referral
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(build).result()


@dataclass
class HousingScene:
    world: World
    listing: Any
    household: Any


@pytest.fixture
def browser_housing(transactional_db: None) -> Iterator[HousingScene]:
    """The personas plus the housing officers, the rent limits and a published flat with a photo,
    requested by the jobcenter for a household — committed, like browser_world."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from housing import services as housing_services
    from housing.models import ListingPhoto
    from tests.housing.helpers import jpeg_bytes, make_household, make_housing, make_limits, make_listing

    def build() -> HousingScene:
        try:
            world = make_world()
            housing = make_housing(world)
            make_limits(housing)
            listing = make_listing(housing)
            make_listing(housing, street="Am Deich 1", district="Blanke", base_rent=Decimal("700.00"))
            housing_services.photo_add(
                actor=housing.hana,
                listing=listing,
                photo=SimpleUploadedFile("k.jpg", jpeg_bytes(320, 240), content_type="image/jpeg"),
                caption="Wohnzimmer",
            )
            household = make_household(world.alice, world.jobcenter, size=3)
            housing_services.housing_request_create(actor=world.alice, household=household, listing=listing)
            return HousingScene(world=world, listing=listing, household=household)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        scene = executor.submit(build).result()
    yield scene
    # The photo files live under MEDIA_ROOT, outside the database that the test run throws away.
    for photo in ListingPhoto.objects.all():
        photo.image.delete(save=False)
        photo.thumbnail.delete(save=False)
