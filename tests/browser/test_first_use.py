"""What a new user meets in the first minutes: the Add interview form, Settings in groups
they can find, and the small things around drafts, tokens, outcomes, webhooks and invites."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from app import clock
from tests.browser.conftest import Browsing, new_context
from tests.browser.live import LiveServer, User, api, sign_up
from tests.helpers import interview_body


@pytest.fixture
def admin_browsing(browser: Browser, fresh_server: LiveServer) -> Iterator[Browsing]:
    context = new_context(browser, fresh_server)
    session = Browsing(context, fresh_server)
    yield session
    context.close()
    assert not session.problems.errors, session.problems.errors
    assert not session.problems.csp, session.problems.csp


def recorded(page: Page, **overrides: Any) -> dict[str, Any]:
    started = (clock.now() - timedelta(hours=3)).isoformat(timespec="seconds")
    body = interview_body(
        starts_at=started,
        people=[
            {"name": "Ann Lee", "role": "interviewer"},  # no email
            {"name": "Bob Stone", "email": "bob@example.com", "role": "hiring_manager"},
        ],
        **overrides,
    )
    return api(page, "POST", "/api/v1/interviews", body)  # type: ignore[no-any-return]


# Add interview


def test_the_form_asks_for_people_right_after_the_time_with_one_row_ready(
    page: Page, signed_up: User
) -> None:
    page.goto("/interviews/new")
    order = page.evaluate(
        """() => Array.from(
          document.querySelectorAll('#interview-form label, #interview-form legend')
        ).map(e => e.textContent.trim())"""
    )
    assert order.index("Starts at") < order.index("People you met") < order.index("Stage"), order
    rows = page.locator("#people-list [data-row]")
    expect(rows).to_have_count(1)
    for name in ("Company", "Role", "Starts at"):
        line = page.locator(".label-line").filter(has=page.get_by_text(name, exact=True))
        expect(line.locator(".required")).to_have_text("required")
    today = clock.now().date().isoformat()  # the account is in UTC
    expect(page.get_by_label("Starts at", exact=True)).to_have_value(re.compile(f"^{today}T"))

    # Only company and role typed: the untouched person row is not sent, nothing is refused.
    page.get_by_label("Company", exact=True).fill("Acme Corp")
    page.get_by_label("Role", exact=True).fill("Backend Engineer")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/interviews/[0-9a-f-]{36}$"))
    saved = api(page, "GET", "/api/v1/interviews/" + page.url.rsplit("/", 1)[-1])
    assert saved["people"] == []
    assert saved["starts_at"][:10] == today


def test_open_in_mail_for_someone_without_an_email_asks_for_one(
    page: Page, signed_up: User
) -> None:
    interview = recorded(page)
    ann = next(f for f in interview["followups"] if f["recipient_name"] == "Ann Lee")
    page.goto(f"/followups/{ann['id']}")
    expect(page.get_by_role("link", name="Open in mail")).to_have_count(0)
    add = page.get_by_role("link", name="Add Ann Lee’s email")
    expect(add).to_have_attribute("href", f"/interviews/{interview['id']}/edit")
    page.goto(f"/interviews/{interview['id']}")
    expect(page.locator(".no-email")).to_contain_text("add Ann Lee’s email")


# The smaller ones


def test_the_draft_editor_header_and_preview(page: Page, signed_up: User) -> None:
    interview = recorded(page)
    bob = next(f for f in interview["followups"] if f["recipient_name"] == "Bob Stone")
    page.goto(f"/followups/{bob['id']}")
    summary = page.locator("#followup-editor .summary").inner_text()
    assert " · to bob@example.com" in summary and not re.search(r"\d·", summary), summary
    page.get_by_label("Subject", exact=True).fill("Checking in about the role")
    expect(page.locator("#preview-subject")).to_have_text("Checking in about the role")


def test_a_new_token_shows_its_time_in_the_users_zone(page: Page, signed_up: User) -> None:
    api(page, "PATCH", "/api/v1/me", {"timezone": "Asia/Kolkata"})
    page.goto("/settings")
    page.get_by_label("Token name").fill("calendar sync")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_be_visible()
    hour = clock.now().astimezone(ZoneInfo("Asia/Kolkata")).hour
    row = page.locator(".token-row").filter(has_text="calendar sync")
    expect(row).to_contain_text(re.compile(rf"Created today at ({hour}|{(hour + 1) % 24}):"))


def test_next_round_reads_as_an_outcome_and_offers_to_record_the_next_round(
    page: Page, signed_up: User
) -> None:
    interview = recorded(page, company="Acme Corp", role="Backend Engineer")
    page.goto(f"/interviews/{interview['id']}")
    page.get_by_role("button", name="Next round", exact=True).click()
    summary = page.locator("#interview .summary")
    expect(summary).to_contain_text(
        re.compile(r"^Interview today at \d+:\d\d · .*Outcome: Next round$")
    )
    page.get_by_role("link", name="Add the next round").click()
    page.wait_for_url(re.compile(r"/interviews/new\?after="))
    expect(page.get_by_label("Company", exact=True)).to_have_value("Acme Corp")
    expect(page.get_by_label("Role", exact=True)).to_have_value("Backend Engineer")
    rows = page.locator("#people-list [data-row]")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).get_by_label("Name", exact=True)).to_have_value("Bob Stone")
    expect(page.locator("#people-list input[name$='.id']")).to_have_count(0)  # new people


def test_the_interviews_page_lists_the_newest_first(page: Page, signed_up: User) -> None:
    for days, company in ((9, "Older Co"), (1, "Newer Co")):
        started = (clock.now() - timedelta(days=days)).isoformat(timespec="seconds")
        api(page, "POST", "/api/v1/interviews", interview_body(company=company, starts_at=started))
    page.goto("/interviews")
    expect(page.locator("#interview-rows .who")).to_have_text(["Newer Co", "Older Co"])


def test_webhook_events_are_named_in_words(page: Page, signed_up: User) -> None:
    page.goto("/settings")
    added = page.get_by_label("An interview is added", exact=True)
    expect(added).to_have_attribute("value", "interview.created")
    expect(added).not_to_be_checked()


def test_the_register_page_says_an_invite_is_used(page: Page) -> None:
    page.goto("/register?invite=some-code")
    expect(page.locator("#invited")).to_contain_text("You have an invite")


def test_the_only_admin_is_not_offered_remove_admin(admin_browsing: Browsing) -> None:
    page = admin_browsing.new_page()
    sign_up(page)
    page.goto("/admin")
    expect(page.get_by_role("button", name="Remove admin")).to_have_count(0)
    expect(page.locator("#only-admin")).to_contain_text("The only admin")


# Settings


def test_settings_has_an_index_of_its_groups(browser: Browser, live_server: LiveServer) -> None:
    context = new_context(browser, live_server, width=1280)
    try:
        page = context.new_page()
        sign_up(page)
        page.goto("/settings")
        index = page.get_by_role("navigation", name="Settings sections")
        expect(index.get_by_role("link")).to_have_text(
            [
                "Profile & time zone",
                "Follow-up rules",
                "Templates",
                "Notifications & calendar",
                "Mailbox",
                "API & webhooks",
                "Your data",
                "Account",
            ]
        )
        index.get_by_role("link", name="API & webhooks").click()
        expect(page.get_by_role("heading", name="API tokens")).to_be_in_viewport()
        expect(index).to_be_in_viewport()  # it stays beside the page on a wide screen
    finally:
        context.close()


def test_templates_start_from_the_built_in_wording_and_stay_the_default(
    page: Page, signed_up: User
) -> None:
    page.goto("/settings")
    body = page.get_by_label("Thank-you body", exact=True)
    expect(body).to_have_value(re.compile(r"\{recipient_first_name\}"))
    subject = page.get_by_label("Thank-you subject", exact=True)
    subject.locator("xpath=ancestor::form").get_by_role("button", name="Save").click()
    expect(page.locator("#flash")).to_have_text("Saved.")
    assert all(value is None for value in api(page, "GET", "/api/v1/me")["templates"].values())

    subject.fill("Thanks, {recipient_first_name}")
    subject.locator("xpath=ancestor::form").get_by_role("button", name="Save").click()
    expect(page.locator("#flash")).to_have_text("Saved.")
    templates = api(page, "GET", "/api/v1/me")["templates"]
    assert templates["thank_you_subject"] == "Thanks, {recipient_first_name}"
    assert templates["thank_you_body"] is None
