"""A page left open when its session ends shows the login page, not the personal data it showed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.test_walkthrough import log_in, visit
from tests.conftest import World

pytestmark = pytest.mark.browser


def end_every_session() -> None:
    def end() -> None:
        try:
            Session.objects.all().delete()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(end).result()


def test_an_open_page_goes_to_the_login_when_its_session_ends(
    live_server: Any, browser_world: World, page: Page
) -> None:
    base = live_server.url
    log_in(page, base, "alice")
    visit(page, base, reverse("referral-inbox"))
    expect(page.locator("body[data-live-ready=true]")).to_be_attached(timeout=10_000)

    end_every_session()

    # The server's periodic check closes the socket; the page reloads and lands on the login.
    expect(page.locator("input[name=password]")).to_be_visible(timeout=20_000)
    assert reverse("login") in page.url
