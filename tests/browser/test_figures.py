"""The figures in a real browser: the round table's page passes axe-core, its filters swap the
results in place, and an agency's own figures move while the page is open."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connection
from django.urls import reverse
from playwright.sync_api import Browser, expect

from tests.browser.test_round_table import LIVE_TIMEOUT, live, logged_in
from tests.browser.test_walkthrough import Findings, visit
from tests.conftest import make_case, make_world
from tests.reporting.county import County, make_county

pytestmark = pytest.mark.browser


def in_a_thread[T](work: Callable[[], T]) -> T:
    """Services broadcast with async_to_sync, which refuses to run beside Playwright's loop."""

    def run() -> T:
        try:
            result: T = work()
            return result
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(run).result()


@pytest.fixture
def browser_county(transactional_db: None) -> County:
    return in_a_thread(lambda: make_county(make_world()))


def test_the_round_tables_figures_pass_axe_and_filter_in_place(
    live_server: Any, browser_county: County, browser: Browser
) -> None:
    world, base, findings = browser_county.world, live_server.url, Findings()
    page = logged_in(browser, base, "bob", findings)
    visit(page, base, reverse("reporting-workspace", args=[world.workspace.pk]) + "?start=2025-01-01&end=2025-03-31")
    findings.check_accessibility(page, Axe(), "round table figures")
    served = page.locator("[data-figure=people_served] .figure-value")
    expect(served).to_have_text("7")
    # The chart's table opens on request and shows the suppressed cells as the chart does.
    section = page.locator("section:has(#chart-people_served\\.by_agency-heading)")
    section.locator("summary").click()
    expect(section.locator("table")).to_be_visible()
    expect(section.locator("tbody tr", has_text="Sozialamt").locator("td")).to_have_text("<5")
    findings.check_accessibility(page, Axe(), "round table figures with a table open")
    # Narrowed to the social office: the results are swapped in place, the address follows.
    page.locator("select[name=agency]").select_option(str(world.social_office.pk))
    page.locator("form.filter-form [type=submit]").click()
    expect(page.locator("#figures-period")).to_contain_text(world.social_office.name)
    expect(served).to_have_text("<5")
    assert f"agency={world.social_office.pk}" in page.url
    # A period that ends before it starts is explained at the field.
    page.locator("input[name=start]").fill("2025-03-01")
    page.locator("input[name=end]").fill("2025-01-01")
    page.locator("form.filter-form [type=submit]").click()
    expect(page.locator(".field-error")).to_be_visible()
    visit(page, base, reverse("reporting-index"))
    findings.check_accessibility(page, Axe(), "figures index")
    assert not findings.axe and not findings.console, findings.report()


def test_an_agencys_figures_move_while_the_page_is_open(
    live_server: Any, browser_county: County, browser: Browser
) -> None:
    world, base, findings = browser_county.world, live_server.url, Findings()
    page = logged_in(browser, base, "alice", findings)
    visit(page, base, reverse("reporting-agency", args=[world.jobcenter.pk]))
    live(page)
    served = page.locator("[data-figure=people_served] .figure-value")
    before = int(served.inner_text())
    in_a_thread(lambda: make_case(world))
    expect(served).to_have_text(str(before + 1), timeout=LIVE_TIMEOUT)
    assert not findings.console, findings.report()
