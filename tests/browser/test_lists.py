"""The Interviews list in a real browser: which of how many it shows, and its search box."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.live import User, api
from tests.helpers import interview_body


def test_the_interview_list_counts_and_searches_in_place(page: Page, signed_up: User) -> None:
    api(page, "POST", "/api/v1/interviews", interview_body(company="Acme Corp"))
    api(
        page,
        "POST",
        "/api/v1/interviews",
        interview_body(
            company="Globex",
            role="Data Scientist",
            people=[{"name": "Zed Quinn", "role": "interviewer"}],
        ),
    )
    page.goto("/interviews")
    expect(page.locator("#interview-count")).to_have_text("1–2 of 2")
    page.evaluate("window.__stayed = true")
    search = page.get_by_role("searchbox", name="Search")
    search.fill("quinn")  # a person met
    expect(page.locator("#interview-count")).to_have_text("1 of 1")
    expect(page.locator("#interview-rows li.interview")).to_have_text([re.compile("Globex")])
    assert page.evaluate("window.__stayed") is True, "the page was reloaded"
    expect(page).to_have_url(re.compile(r"/interviews\?q=quinn"))

    search.fill("nothing like it")
    search.press("Enter")
    expect(page.get_by_text("No interviews match this search.")).to_be_visible()
    # The address keeps the search: a reload (no htmx) shows the same.
    page.goto("/interviews?q=acme")
    expect(page.locator("#interview-count")).to_have_text("1 of 1")
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("acme")
