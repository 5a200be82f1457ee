"""An agency administrator's walk through the hub in a real browser, with axe-core on every page.

Adam administers the Jobcenter: he logs in, looks at his dashboard, the round table,
the agency directory, his agency's staff and his profile, switches the interface to
English once and logs out. Every page must be free of serious and critical
accessibility violations and of Content-Security-Policy refusals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Page, expect

from referrals.models import ReferralStatus
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.browser

BLOCKING_IMPACTS = {"serious", "critical"}


@dataclass
class Findings:
    """What the walk found, collected so that one run reports every page at once."""

    axe: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def check_accessibility(self, page: Page, axe: Axe, label: str) -> None:
        violations: list[dict[str, Any]] = axe.run(page).response["violations"]
        for violation in violations:
            if violation.get("impact") not in BLOCKING_IMPACTS:
                continue
            lines = [f"[{label}] {page.url}", f"  {violation['id']} ({violation['impact']}): {violation['help']}"]
            lines.append(f"  {violation['helpUrl']}")
            for node in violation["nodes"]:
                lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:200]}")
                summary = (node.get("failureSummary") or "").replace("\n", " / ")
                if summary:
                    lines.append(f"      {summary}")
            self.axe.append("\n".join(lines))

    def report(self) -> str:
        parts = []
        if self.axe:
            parts.append("Serious or critical accessibility violations:\n" + "\n\n".join(self.axe))
        if self.console:
            parts.append("Browser console errors:\n" + "\n".join(self.console))
        return "\n\n".join(parts)


def heading(page: Page) -> str:
    first = page.locator("h1").first
    expect(first).to_be_visible()
    return first.inner_text().strip()


def visit(page: Page, base: str, path: str) -> None:
    response = page.goto(base + path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"


def log_in(page: Page, base: str, username: str) -> None:
    visit(page, base, reverse("login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_url(base + reverse("dashboard"))


def collect_console_errors(page: Page, findings: Findings) -> None:
    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            findings.console.append(f"{page.url}: {message.text}")

    page.on("console", on_console)


def test_agency_admin_walks_through_the_hub(live_server: Any, browser_world: World, page: Page) -> None:
    world = browser_world
    base = live_server.url
    axe = Axe()
    findings = Findings()
    collect_console_errors(page, findings)

    visit(page, base, reverse("login"))
    findings.check_accessibility(page, axe, "login")
    page.locator("input[name=username]").fill("adam")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_url(base + reverse("dashboard"))
    german_heading = heading(page)
    findings.check_accessibility(page, axe, "dashboard")

    jobcenter = world.jobcenter.pk
    walk = [
        ("workspace list", reverse("workspace-list"), "Runder Tisch Integration"),
        ("workspace detail", reverse("workspace-detail", args=[world.workspace.pk]), "Sozialamt"),
        ("agency directory", reverse("agency-list"), "Jugendamt"),
        ("agency detail", reverse("agency-detail", args=[jobcenter]), "Jobcenter"),
        ("staff management", reverse("staff-list", args=[jobcenter]), "Arslan"),
        ("profile", reverse("profile"), "Jobcenter"),
    ]
    for label, path, shown in walk:
        visit(page, base, path)
        heading(page)
        expect(page.locator("main")).to_contain_text(shown)
        findings.check_accessibility(page, axe, label)
    # Olga's agency shares no workspace with the Jobcenter: the directory must not show it.
    visit(page, base, reverse("agency-list"))
    expect(page.locator("main")).not_to_contain_text(world.immigration.name)

    # The language switch posts to Django's set_language, from a select or from one button per language.
    visit(page, base, reverse("dashboard"))
    switch = page.locator("form[action$='/i18n/setlang/']").first
    expect(switch).to_be_attached()
    select = switch.locator("select[name=language]")
    with page.expect_navigation():
        if select.count():
            select.select_option("en")
            if switch.locator("[type=submit]").count():
                switch.locator("[type=submit]").first.click()
        else:
            switch.locator("button[name=language][value=en]").click()
    visit(page, base, reverse("dashboard"))
    assert page.locator("html").get_attribute("lang") == "en"
    english_heading = heading(page)
    assert english_heading != german_heading, f"the dashboard heading stayed {german_heading!r} in English"
    findings.check_accessibility(page, axe, "dashboard (English)")

    page.locator("form[action$='/accounts/logout/'] [type=submit]").first.click()
    page.wait_for_url(f"{base}{reverse('login')}**")
    expect(page.locator("input[name=password]")).to_be_visible()
    visit(page, base, reverse("workspace-list"))
    assert page.url.startswith(base + reverse("login")), "after logging out the workspace list is still shown"

    assert not findings.axe and not findings.console, findings.report()


def test_caseworkers_of_two_agencies_walk_through_a_case(live_server: Any, browser_case: Any, page: Page) -> None:
    world, case, referral = browser_case
    base = live_server.url
    axe = Axe()
    findings = Findings()

    collect_console_errors(page, findings)
    log_in(page, base, "alice")
    plan = case.person.plans.get()
    for label, path, shown in [
        ("inbox", reverse("referral-inbox"), referral.reference),
        ("person list", reverse("person-list"), "Haddad"),
        ("person detail", reverse("person-detail", args=[case.person.pk]), "Diabetes"),
        ("referral detail", reverse("referral-detail", args=[referral.pk]), referral.reference),
        ("referral form", reverse("referral-create", args=[case.person.pk]), "Haddad"),
        ("consent form", reverse("consent-create", args=[case.person.pk]), "Haddad"),
        ("plan", reverse("plan-detail", args=[plan.pk]), "Integrationskurs"),
        ("measure catalogue", reverse("measure-list"), ""),
    ]:
        visit(page, base, path)
        heading(page)
        if shown:
            expect(page.locator("main")).to_contain_text(shown)
        findings.check_accessibility(page, axe, label)
    page.locator("form[action$='/accounts/logout/'] [type=submit]").first.click()
    page.wait_for_url(f"{base}{reverse('login')}**")

    # The social office receives the referral: it sees the shared contact data, never the health notes.
    log_in(page, base, "bob")
    visit(page, base, reverse("referral-detail", args=[referral.pk]))
    page.locator(f"form[action$='{reverse('referral-step', args=[referral.pk, 'receive'])}'] [type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text(str(ReferralStatus.RECEIVED.label))
    findings.check_accessibility(page, axe, "referral detail (receiver)")
    visit(page, base, reverse("person-detail", args=[case.person.pk]))
    expect(page.locator("main")).to_contain_text("0170 1234567")
    expect(page.locator("main")).not_to_contain_text("Diabetes")
    findings.check_accessibility(page, axe, "person detail (receiver)")

    assert not findings.axe and not findings.console, findings.report()


def test_the_senders_inbox_updates_live_when_the_receiver_accepts(
    live_server: Any, second_live_server: Any, browser_case: Any, browser: Any
) -> None:
    """Two agencies on two server processes: the event crosses from one to the other through Redis."""
    world, case, referral = browser_case

    def logged_in(username: str, base: str) -> Page:
        page: Page = browser.new_context(locale="de-DE").new_page()
        log_in(page, base, username)
        return page

    sender = logged_in("alice", second_live_server.url)
    visit(sender, second_live_server.url, reverse("referral-inbox"))
    expect(sender.locator("body[data-live-ready=true]")).to_be_attached()
    sender.evaluate("window.notReloaded = true")
    row = sender.locator("main tr", has_text=referral.reference)
    expect(row).to_contain_text(str(ReferralStatus.SENT.label))

    receiver = logged_in("bob", live_server.url)
    receiver.on("dialog", lambda dialog: dialog.accept())
    visit(receiver, live_server.url, reverse("referral-detail", args=[referral.pk]))
    receiver.locator(f"form[action$='{reverse('referral-step', args=[referral.pk, 'accept'])}'] [type=submit]").click()
    expect(receiver.locator("main")).to_contain_text(str(ReferralStatus.ACCEPTED.label))

    # The sender's page learns of it over the websocket and refetches its inbox, without a reload:
    # the referral no longer waits for an answer.
    expect(row).to_have_count(0, timeout=10_000)
    assert sender.evaluate("window.notReloaded") is True


def test_housing_officer_and_caseworker_walk_through_the_flats(
    live_server: Any, browser_housing: Any, page: Page
) -> None:
    scene = browser_housing
    listing = scene.listing
    base = live_server.url
    axe = Axe()
    findings = Findings()
    collect_console_errors(page, findings)

    log_in(page, base, "hana")
    for label, path, shown in [
        ("flat list", reverse("housing-listing-list"), "Lindenallee 4"),
        ("flat detail (owner)", reverse("housing-listing-detail", args=[listing.pk]), "Kreiswohnbau"),
        ("new flat form", reverse("housing-listing-create"), ""),
        ("housing requests", reverse("housing-request-list"), scene.household.reference),
        ("occupancy", reverse("housing-occupancy"), "Nordhorn-Mitte"),
        ("rent limits", reverse("housing-rent-limit-list"), "Vergleichsraum Stadt"),
    ]:
        visit(page, base, path)
        heading(page)
        if shown:
            expect(page.locator("main")).to_contain_text(shown)
        findings.check_accessibility(page, axe, label)
    # The list filters in place with htmx: only the flats in Blanke remain.
    visit(page, base, reverse("housing-listing-list"))
    page.locator("select[name=district]").select_option("Blanke")
    expect(page.locator("#results")).not_to_contain_text("Lindenallee 4")
    expect(page.locator("#results")).to_contain_text("Am Deich 1")
    page.locator("form[action$='/accounts/logout/'] [type=submit]").first.click()
    page.wait_for_url(f"{base}{reverse('login')}**")

    log_in(page, base, "alice")
    for label, path, shown in [
        ("flat detail (shared)", reverse("housing-listing-detail", args=[listing.pk]), "Lindenallee 4"),
        ("flats for a household", reverse("housing-match", args=[scene.household.pk]), "Lindenallee 4"),
        ("request form", reverse("housing-request-create") + f"?household={scene.household.pk}", ""),
    ]:
        visit(page, base, path)
        heading(page)
        if shown:
            expect(page.locator("main")).to_contain_text(shown)
        findings.check_accessibility(page, axe, label)
    expect(page.locator("main")).not_to_contain_text("Kreiswohnbau")

    assert not findings.axe and not findings.console, findings.report()
