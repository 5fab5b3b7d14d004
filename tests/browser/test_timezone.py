"""The account's time zone comes from the browser: detected at sign-up and shown, taken at
sign-in by an account still on the default UTC, and changed in Settings by a city's name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from app import clock
from tests.browser.conftest import TIMEOUT_MS, Browsing
from tests.browser.live import PASSWORD, LiveServer, api, sign_up, unique_user

KOLKATA = "Asia/Kolkata"
# Chromium may name the zone by its older IANA link; both are the same zone.
KOLKATA_NAMES = re.compile(r"Asia/(Kolkata|Calcutta)")


@pytest.fixture
def in_kolkata(browser: Browser, live_server: LiveServer) -> Iterator[Browsing]:
    context = browser.new_context(
        base_url=live_server.base_url,
        viewport={"width": 1000, "height": 800},
        timezone_id=KOLKATA,
        locale="en-IN",
    )
    context.set_default_timeout(TIMEOUT_MS)
    session = Browsing(context, live_server)
    yield session
    context.close()
    assert not session.problems.errors, session.problems.errors
    assert not session.problems.csp, session.problems.csp


def account_zone(page: Page) -> str:
    return str(api(page, "GET", "/api/v1/me")["timezone"])


def test_signing_up_in_kolkata_starts_the_account_in_kolkata(in_kolkata: Browsing) -> None:
    page = in_kolkata.new_page()
    page.goto("/register")
    detected = page.locator("#timezone-detected")
    expect(detected).to_be_visible()
    expect(detected).to_contain_text(KOLKATA_NAMES)

    sign_up(page, timezone=None)
    assert KOLKATA_NAMES.fullmatch(account_zone(page))

    # An interview typed in as the clock on the wall says, ended an hour ago: its thank-you
    # is due now, not "coming up" hours later.
    page.goto("/interviews/new")
    starts = (clock.now() - timedelta(hours=2)).astimezone(ZoneInfo(KOLKATA))
    page.get_by_label("Company", exact=True).fill("Acme Corp")
    page.get_by_label("Role", exact=True).fill("Backend Engineer")
    page.get_by_label("Starts at", exact=True).fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.locator("[data-row]").first.get_by_label("Name", exact=True).fill("Ann Lee")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/interviews/[0-9a-f-]{36}$"))
    expect(page.locator(".timeline .state-due")).to_have_count(1)
    expect(page.locator(".timeline").get_by_text("Thank-you note to Ann Lee")).to_be_visible()


def test_signing_in_moves_an_account_still_on_the_default_utc(
    in_kolkata: Browsing, live_server: LiveServer
) -> None:
    user = unique_user()
    made = httpx.post(  # made by a script or the command line: no browser, no zone
        f"{live_server.base_url}/api/v1/auth/register",
        json={"email": user.email, "password": PASSWORD, "display_name": user.name},
        trust_env=False,
    )
    assert made.status_code == 201 and made.json()["timezone"] == "UTC", made.text

    page = in_kolkata.new_page()
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(r"/$"))
    assert KOLKATA_NAMES.fullmatch(account_zone(page))


def test_signing_in_keeps_utc_chosen_on_purpose(in_kolkata: Browsing, page: Page) -> None:
    user = sign_up(page, timezone=None)  # in New York
    api(page, "PATCH", "/api/v1/me", {"timezone": "UTC"})
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))

    kolkata = in_kolkata.new_page()
    kolkata.goto("/login")
    kolkata.get_by_label("Email", exact=True).fill(user.email)
    kolkata.get_by_label("Password", exact=True).fill(PASSWORD)
    kolkata.get_by_role("button", name="Sign in", exact=True).click()
    kolkata.wait_for_url(re.compile(r"/$"))
    assert account_zone(kolkata) == "UTC"


def test_the_zone_picker_takes_a_city_name(page: Page) -> None:
    sign_up(page)
    page.goto("/settings")
    zone = page.get_by_label("Time zone", exact=True)
    expect(zone).to_have_value("UTC")
    zone.fill("new york")
    zone.locator("xpath=ancestor::form").get_by_role("button", name="Save").click()
    expect(page.locator("#flash")).to_contain_text("Saved")
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("America/New_York")
    assert account_zone(page) == "America/New_York"
    # The list offers zones by their city too.
    option = page.locator('#timezones option[value="America/New_York"]')
    assert option.get_attribute("label") == "New York"
