"""From sign-up to the first ready draft, counting what a person has to do: every field
typed in and every click, from the empty sign-up page to the thank-you note on Today.

Register, add an interview with one interviewer, and the thank-you draft is on Today. The
counts are printed (`pytest -s`) and held to a ceiling, so that a new required field or an
extra step on the way shows up here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.sync_api import Locator, Page, expect

from tests.browser.live import PASSWORD, unique_user

# What the walk takes today (fields typed, clicks); a change that adds to it fails here.
MOST_FIELDS = 7
MOST_CLICKS = 4


@dataclass
class Steps:
    """The person's hands: each `fill` and `click` goes through here and is counted."""

    fields: list[str] = field(default_factory=list)
    clicks: list[str] = field(default_factory=list)

    def fill(self, target: Locator, value: str, what: str) -> None:
        target.fill(value)
        self.fields.append(what)

    def click(self, target: Locator, what: str) -> None:
        target.click()
        self.clicks.append(what)


def test_sign_up_to_the_first_thank_you_draft_on_today(page: Page) -> None:
    steps = Steps()
    user = unique_user()

    page.goto("/register")
    steps.fill(page.get_by_label("Name", exact=True), user.name, "name")
    steps.fill(page.get_by_label("Email", exact=True), user.email, "email")
    steps.fill(page.get_by_label("Password", exact=True), PASSWORD, "password")
    steps.click(page.get_by_role("button", name="Sign up", exact=True), "Sign up")
    page.wait_for_url(re.compile(r"/$"))

    # Today is empty and offers the one thing to do.
    steps.click(page.locator("#today").get_by_role("link", name="Add interview"), "Add interview")
    page.wait_for_url(re.compile(r"/interviews/new$"))
    steps.fill(page.get_by_label("Company", exact=True), "Acme Corp", "company")
    steps.fill(page.get_by_label("Role", exact=True), "Backend Engineer", "role")
    # "Starts at" comes filled in with today; the one person row is ready.
    steps.fill(page.locator("#people-0-name"), "Ann Lee", "interviewer's name")
    steps.fill(page.locator("#people-0-email"), "ann@example.com", "interviewer's email")
    steps.click(page.get_by_role("button", name="Save", exact=True), "Save")
    page.wait_for_url(re.compile(r"/interviews/[0-9a-f-]{36}$"))

    steps.click(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Today"), "Today"
    )
    page.wait_for_url(re.compile(r"/$"))
    card = page.locator("li.followup").filter(has_text="Thank-you note to Ann Lee")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Acme Corp")
    expect(card.get_by_role("link", name=re.compile("^Edit draft"))).to_be_visible()

    print(
        f"\nsign-up to first draft: {len(steps.fields)} fields ({', '.join(steps.fields)}), "
        f"{len(steps.clicks)} clicks ({', '.join(steps.clicks)})"
    )
    assert len(steps.fields) <= MOST_FIELDS, steps.fields
    assert len(steps.clicks) <= MOST_CLICKS, steps.clicks
