"""The round table in a real browser: cora writes the minutes live, bob reads them as they come.

Amina's case is held by the jobcenter only, so bob's social office sees her case reference on the
agenda and never her name. Two editors of the same item meet in a conflict that keeps both texts.
The editor is checked with axe-core like every main page.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connection
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from messaging.meetings import services
from messaging.models import AgendaItem, Meeting
from referrals.models import Person
from tests.browser.test_walkthrough import Findings, collect_console_errors, log_in, visit
from tests.conftest import World, make_case, make_world
from tests.messaging.meeting_helpers import at

pytestmark = pytest.mark.browser

LIVE_TIMEOUT = 10_000


@dataclass
class RoundTable:
    world: World
    meeting: Meeting
    item: AgendaItem
    person: Person


@pytest.fixture
def round_table(transactional_db: None) -> RoundTable:
    """The personas and a meeting of today that invites the social office, with Amina's case on the
    agenda — committed, and built in a thread of its own like the other browser worlds."""

    def build() -> RoundTable:
        try:
            world = make_world()
            person = make_case(world).person
            meeting = services.meeting_create(
                actor=world.cora,
                workspace=world.workspace,
                title="Runder Tisch Mai",
                starts_at=at(0, hour=0),
                place="Kreishaus, Raum 12",
                invited_agencies=[world.social_office],
            )
            meeting = services.meeting_hold(actor=world.cora, meeting=meeting)
            item = services.agenda_item_propose(
                actor=world.cora, meeting=meeting, title="Sprachkurs und Wohnung", person=person
            )
            return RoundTable(world=world, meeting=meeting, item=item, person=person)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(build).result()


def logged_in(browser: Browser, base: str, username: str, findings: Findings) -> Page:
    page: Page = browser.new_context(locale="de-DE", timezone_id="Europe/Berlin").new_page()
    collect_console_errors(page, findings)
    log_in(page, base, username)
    return page


def live(page: Page) -> None:
    expect(page.locator("body[data-live-ready=true]")).to_be_attached(timeout=LIVE_TIMEOUT)


def test_minutes_written_by_the_coordinator_appear_live_for_the_social_office(
    live_server: Any, round_table: RoundTable, browser: Browser
) -> None:
    base = live_server.url
    item = round_table.item
    findings = Findings()

    reader = logged_in(browser, base, "bob", findings)
    visit(reader, base, reverse("meeting-detail", args=[round_table.meeting.pk]))
    live(reader)
    reader.evaluate("window.notReloaded = true")
    main = reader.locator("main")
    # Bob's agency does not see Amina: her case appears by reference only.
    expect(main).to_contain_text(round_table.person.reference)
    expect(main).not_to_contain_text("Haddad")
    expect(main).not_to_contain_text("Amina")

    writer = logged_in(browser, base, "cora", findings)
    visit(writer, base, reverse("meeting-minutes", args=[round_table.meeting.pk]))
    live(writer)
    findings.check_accessibility(writer, Axe(), "minutes editor")
    box = writer.locator(f"#minutes-text-{item.pk}")
    box.click()
    box.press_sequentially("Frau H. hat den Kurs bestanden.", delay=20)
    # Saved after the pause in typing: the version in the form moves on, the status says so.
    expect(writer.locator(f"#minutes-version-{item.pk}")).to_have_value("1", timeout=LIVE_TIMEOUT)
    expect(writer.locator(f"#minutes-status-{item.pk}")).not_to_be_empty()

    # Bob's page learns of it over the websocket and shows the text without a reload.
    expect(main).to_contain_text("Frau H. hat den Kurs bestanden.", timeout=LIVE_TIMEOUT)
    assert reader.evaluate("window.notReloaded") is True
    expect(main).not_to_contain_text("Haddad")

    # Writing on keeps saving, version after version.
    box.press_sequentially(" Wohnung folgt.", delay=20)
    expect(writer.locator(f"#minutes-version-{item.pk}")).to_have_value("2", timeout=LIVE_TIMEOUT)
    expect(main).to_contain_text("Wohnung folgt.", timeout=LIVE_TIMEOUT)
    item.refresh_from_db()
    assert item.minutes == "Frau H. hat den Kurs bestanden. Wohnung folgt."

    assert not findings.axe and not findings.console, findings.report()


def test_two_editors_of_one_item_keep_both_texts(live_server: Any, round_table: RoundTable, browser: Browser) -> None:
    base = live_server.url
    item = round_table.item
    findings = Findings()
    editor = reverse("meeting-minutes", args=[round_table.meeting.pk])

    first = logged_in(browser, base, "cora", findings)
    visit(first, base, editor)
    live(first)
    second = logged_in(browser, base, "cora", findings)
    visit(second, base, editor)
    live(second)

    first_box = first.locator(f"#minutes-text-{item.pk}")
    first_box.click()
    first_box.press_sequentially("Fassung aus dem ersten Fenster.", delay=10)
    expect(first.locator(f"#minutes-version-{item.pk}")).to_have_value("1", timeout=LIVE_TIMEOUT)
    # The other window hears of it while it is open, before it writes anything.
    expect(second.locator(f"#minutes-notice-{item.pk}")).not_to_be_empty(timeout=LIVE_TIMEOUT)

    second_box = second.locator(f"#minutes-text-{item.pk}")
    second_box.click()
    second_box.press_sequentially("Fassung aus dem zweiten Fenster.", delay=10)
    # The save is refused: both texts side by side, the writer's own still in the box it was typed in.
    current = second.locator(f"#minutes-current-{item.pk}")
    expect(current).to_have_value("Fassung aus dem ersten Fenster.", timeout=LIVE_TIMEOUT)
    expect(second.locator(f"#minutes-text-{item.pk}")).to_have_value("Fassung aus dem zweiten Fenster.")
    expect(second.locator(f"#minutes-version-{item.pk}")).to_have_value("1")
    item.refresh_from_db()
    assert (item.minutes, item.version) == ("Fassung aus dem ersten Fenster.", 1)
    findings.check_accessibility(second, Axe(), "minutes conflict")

    # The writer merges and saves deliberately: their text replaces the current one.
    merged = second.locator(f"#minutes-text-{item.pk}")
    merged.fill("Fassung aus dem ersten Fenster. Fassung aus dem zweiten Fenster.")
    second.locator(f"#minutes-form-{item.pk} button[type=submit]").click()
    expect(second.locator(f"#minutes-current-{item.pk}")).to_have_count(0, timeout=LIVE_TIMEOUT)
    expect(second.locator(f"#minutes-version-{item.pk}")).to_have_value("2")
    item.refresh_from_db()
    assert (item.minutes, item.version) == ("Fassung aus dem ersten Fenster. Fassung aus dem zweiten Fenster.", 2)

    # Chromium logs every answer of 400 and above as a failed resource; the conflict answers 409 on purpose.
    findings.console = [line for line in findings.console if "status of 409 (Conflict)" not in line]
    assert not findings.axe and not findings.console, findings.report()


def test_the_round_table_pages_pass_axe(live_server: Any, round_table: RoundTable, browser: Browser) -> None:
    """Every page of the round table, as the coordinator sees it (with all the forms) and as a
    participant of another agency sees it, checked with axe-core."""
    base = live_server.url
    meeting, item = round_table.meeting, round_table.item
    findings = Findings()
    pages = {
        "cora": [
            ("meetings", reverse("meeting-list")),
            ("meeting page", reverse("meeting-detail", args=[meeting.pk])),
            ("plan a meeting", reverse("meeting-create")),
            ("attendance", reverse("meeting-attendance", args=[meeting.pk])),
            ("propose a topic", reverse("agenda-item-create", args=[meeting.pk])),
            ("record a decision", reverse("decision-create", args=[item.pk])),
            ("new action item", reverse("action-item-create", args=[meeting.pk])),
            ("printable minutes", reverse("meeting-print", args=[meeting.pk])),
            ("agenda item discussion", reverse("comment-thread-agenda_item", args=[item.pk])),
        ],
        "bob": [
            ("meeting page of a participant", reverse("meeting-detail", args=[meeting.pk])),
            ("action items", reverse("action-item-overview")),
        ],
    }
    for username, visits in pages.items():
        page = logged_in(browser, base, username, findings)
        for label, path in visits:
            visit(page, base, path)
            findings.check_accessibility(page, Axe(), label)
    assert not findings.axe and not findings.console, findings.report()
