"""Stored XSS: script payloads in every free text the hub renders stay text in a real browser.

A corpus of payloads (script tags, event handlers, attribute break-outs, ``javascript:`` links,
template syntax, markdown links) goes into the free-text fields through the services: agency
and workspace names, staff job titles, person names, referral reasons, comments, plan goals and
steps, flats, meetings and agenda items. Then the pages that show them are opened in Chromium.
Every payload sets ``window.__xss`` when it runs; the test also listens for dialogs, console
errors and Content-Security-Policy violations (a blocked inline script means the payload reached
the page as markup), looks for injected elements, and checks that each text is shown literally.
All pages are visited and every finding is reported at once.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Dialog, Page

from agencies import services as agency_services
from agencies.models import User
from messaging import services as comment_services
from messaging.meetings import services as meeting_services
from referrals import services as referral_services
from tests.browser.test_walkthrough import log_in
from tests.conftest import World, make_world
from tests.housing.helpers import make_housing, make_limits, make_listing

pytestmark = pytest.mark.browser

# Each runs ``window.__xss=1`` if the browser ever treats it as markup or as a link target.
CORPUS = [
    "<script>window.__xss=1</script>",
    "<img src=x onerror=window.__xss=1>",
    '"><svg onload=window.__xss=1>',
    "'><iframe srcdoc='<script>parent.__xss=1</script>'>",
    "javascript:window.__xss=1",
    "[Termin](javascript:window.__xss=1)",
    '{{ 7|add:"7" }} {% now "Y" %} ${7*7}',
    "<a href=javascript:window.__xss=1>Link</a>",
]

# What a page that was injected into would contain.
INJECTED = "script:text-matches('__xss'), img[src='x'], svg[onload], iframe[srcdoc], a[href^='javascript:']"

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__csp.push(event.violatedDirective + ' ' + (event.blockedURI || 'inline'));
});
"""


JS = "javascript:window.__xss=1"


def payload(number: int) -> str:
    return CORPUS[number % len(CORPUS)]


@dataclass
class Scene:
    world: World
    texts: dict[str, str] = field(default_factory=dict)
    pages: list[tuple[str, str, list[str]]] = field(default_factory=list)
    accepted_links: list[str] = field(default_factory=list)


def build_scene() -> Scene:
    """Payloads in every free text, through the services, committed for the live server."""
    world = make_world()
    scene = Scene(world=world)
    counter = iter(range(100))

    def text(name: str, prefix: str = "") -> str:
        scene.texts[name] = f"{prefix}{payload(next(counter))}"
        return scene.texts[name]

    sam = User.objects.get(username="sam")
    agency_services.agency_update(actor=sam, agency=world.social_office, name=text("agency name", "Sozialamt "))
    agency_services.workspace_update(
        actor=world.cora,
        workspace=world.workspace,
        name=text("workspace name", "Runder Tisch "),
        purpose=text("workspace purpose"),
    )
    agency_services.staff_update(
        actor=world.adam, staff=world.staff(world.alice), roles=["caseworker"], job_title=text("job title")
    )

    person = referral_services.person_create(
        actor=world.alice,
        agency=world.jobcenter,
        first_name=text("first name", "Amina"),
        last_name=text("last name", "Haddad"),
        birth_date=datetime.date(1990, 4, 12),
        nationality=text("nationality"),
        city=text("city"),
    )
    consent = referral_services.consent_record(
        actor=world.alice,
        person=person,
        categories=["identity", "contact"],
        recipients=[world.social_office],
        purpose=text("consent purpose"),
        text_version="2026-01",
    )
    referral = referral_services.referral_create(
        actor=world.alice,
        person=person,
        to_agency=world.social_office,
        reason=text("referral reason"),
        categories=["identity", "contact"],
        legal_basis="consent",
        consent=consent,
        answer_due_on=timezone.localdate() + datetime.timedelta(days=7),
    )
    comment_services.comment_create(actor=world.alice, target=referral, body=text("comment"))
    plan = referral_services.plan_create(actor=world.alice, person=person, goals=text("plan goals"))
    referral_services.plan_step_add(
        actor=world.alice,
        plan=plan,
        kind="language_course",
        title=text("plan step"),
        owner_agency=world.jobcenter,
    )

    housing = make_housing(world)
    make_limits(housing)
    listing = make_listing(housing, title=text("listing title"), description=text("listing description"))

    meeting = meeting_services.meeting_create(
        actor=world.cora,
        workspace=world.workspace,
        title=text("meeting title", "Sitzung "),
        starts_at=timezone.now() + datetime.timedelta(days=3),
        place=text("meeting place"),
    )
    meeting_services.agenda_item_propose(
        actor=world.alice, meeting=meeting, title=text("agenda title"), description=text("agenda description")
    )

    # Links the hub renders as links take web addresses only: a javascript: URL is refused at once.
    changes: dict[str, Callable[[], Any]] = {
        "agency website": lambda: agency_services.agency_update(actor=sam, agency=world.social_office, website=JS),
        "meeting video link": lambda: meeting_services.meeting_update(actor=world.cora, meeting=meeting, video_url=JS),
    }
    for name, change in changes.items():
        try:
            with transaction.atomic():
                change()
        except ValidationError:
            continue
        scene.accepted_links.append(name)

    t = scene.texts
    workspace = reverse("workspace-detail", args=[world.workspace.pk])
    scene.pages = [
        ("alice", reverse("dashboard"), [t["workspace name"]]),
        ("alice", reverse("agency-list"), [t["agency name"]]),
        ("alice", reverse("agency-detail", args=[world.social_office.pk]), [t["agency name"]]),
        ("alice", workspace, [t["workspace name"], t["workspace purpose"]]),
        ("alice", reverse("person-list"), [t["last name"]]),
        ("alice", reverse("person-detail", args=[person.pk]), [t["first name"], t["last name"], t["nationality"]]),
        ("alice", reverse("referral-detail", args=[referral.pk]), [t["referral reason"], t["comment"]]),
        ("alice", reverse("plan-detail", args=[plan.pk]), [t["plan goals"], t["plan step"]]),
        ("alice", reverse("housing-listing-list"), [t["listing title"]]),
        ("alice", reverse("housing-listing-detail", args=[listing.pk]), [t["listing title"], t["listing description"]]),
        ("alice", reverse("meeting-detail", args=[meeting.pk]), [t["meeting title"], t["agenda title"]]),
        ("adam", reverse("staff-list", args=[world.jobcenter.pk]), [t["job title"]]),
        ("bob", reverse("referral-inbox"), [t["last name"]]),
    ]
    return scene


@pytest.fixture
def xss_scene(transactional_db: None) -> Scene:
    """Built in a thread of its own, like the other committed worlds (services broadcast with async_to_sync)."""

    def build() -> Scene:
        try:
            return build_scene()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(build).result()


def watch(page: Page, findings: list[str]) -> None:
    def on_dialog(dialog: Dialog) -> None:
        findings.append(f"{page.url}: a {dialog.type} opened: {dialog.message}")
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            findings.append(f"{page.url}: console error: {message.text}")

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.add_init_script(WATCH)


def test_no_payload_runs_and_every_text_is_shown_literally(live_server: Any, xss_scene: Scene, page: Page) -> None:
    base = live_server.url
    findings = [f"a javascript: URL was stored as the {name}" for name in xss_scene.accepted_links]
    watch(page, findings)
    current = ""
    check: Callable[[str], Any] = page.evaluate
    for persona, path, shown in xss_scene.pages:
        if persona != current:
            page.context.clear_cookies()
            log_in(page, base, persona)
            current = persona
        response = page.goto(base + path)
        page.wait_for_load_state("networkidle")
        status = response.status if response else None
        if status != 200:
            findings.append(f"{path} as {persona}: answered {status}")
            continue
        if check("window.__xss"):
            findings.append(f"{path} as {persona}: a payload ran")
        for violation in check("window.__csp"):
            findings.append(f"{path} as {persona}: Content-Security-Policy refused {violation}")
        injected = page.locator(INJECTED).count()
        if injected:
            findings.append(f"{path} as {persona}: {injected} injected element(s)")
        body = page.locator("body").inner_text()
        for text in shown:
            if text not in body:
                findings.append(f"{path} as {persona}: {text!r} is not shown literally")
    assert not findings, "\n".join(findings)
