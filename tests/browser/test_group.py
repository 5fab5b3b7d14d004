"""The Group page in a real browser: the chart under the CSP, publishing, previewing and
adopting a shared template, and choosing what to share in Settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from app import clock
from tests.browser.conftest import Browsing, new_context
from tests.browser.live import LiveServer, api, sign_up
from tests.helpers import interview_body


@pytest.fixture
def admin_browsing(browser: Browser, fresh_server: LiveServer) -> Iterator[Browsing]:
    """An empty instance, so the one who signs up first is its admin."""
    context = new_context(browser, fresh_server)
    session = Browsing(context, fresh_server)
    yield session
    context.close()
    assert not session.problems.errors, f"uncaught JavaScript errors: {session.problems.errors}"
    assert not session.problems.csp, f"Content Security Policy violations: {session.problems.csp}"


def accept(dialog: Dialog) -> None:
    dialog.accept()


def test_the_group_page_draws_the_chart_and_a_shared_template_is_adopted(
    admin_browsing: Browsing,
) -> None:
    page: Page = admin_browsing.new_page()
    page.on("dialog", accept)
    sign_up(page)

    # Share counts in Settings, the way a member would.
    page.goto("/settings#settings-sharing")
    page.get_by_label("Counts only").check()
    page.get_by_role("button", name="Save what I share").click()
    expect(page.locator("#flash")).to_have_text("Saved.")

    started = clock.now() - timedelta(hours=5)
    made = api(
        page,
        "POST",
        "/api/v1/interviews",
        interview_body(
            starts_at=started.isoformat(timespec="seconds"),
            people=[
                {"name": "Ann Lee", "role": "interviewer"},
                {"name": "Carl Diaz", "role": "interviewer"},
            ],
        ),
    )
    thanks = next(f for f in made["followups"] if f["recipient_name"] == "Ann Lee")
    carl = next(f for f in made["followups"] if f["recipient_name"] == "Carl Diaz")
    api(page, "PATCH", f"/api/v1/followups/{thanks['id']}", {"status": "sent"})

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Group").click()
    expect(page.get_by_role("heading", name="Group", exact=True)).to_be_visible()
    chart = page.get_by_role("img", name="Follow-ups sent by the group per week: on time and late")
    expect(chart).to_be_visible()
    expect(page.locator("#board-chart rect.on-time")).to_have_count(1)
    expect(page.locator("#board-members tbody tr")).to_have_count(1)
    expect(page.locator("#board-members .streak")).to_have_text("1")

    # Publish a template to the group, preview it, adopt it.
    page.get_by_label("Kind").select_option("thank_you")
    page.get_by_label("Name", exact=True).fill("Short and warm")
    page.get_by_label("Subject", exact=True).fill("Thank you, {recipient_first_name}!")
    page.get_by_label("Body", exact=True).fill("Hi {recipient_first_name}, thanks! {sender_name}")
    page.get_by_role("button", name="Publish to the group").click()
    expect(page.locator("#flash")).to_contain_text("Published “Short and warm” to the group.")
    row = page.locator("li.shared-template").filter(has_text="Short and warm")
    row.get_by_role("button", name="Preview").click()
    expect(page.locator("#group-template-preview")).to_contain_text("Thank you, Ann!")
    row.get_by_role("button", name="Adopt").click()
    expect(page.locator("#flash")).to_contain_text("Adopted “Short and warm”")

    # Carl's draft, never edited, now follows the adopted template.
    assert api(page, "GET", f"/api/v1/followups/{carl['id']}")["subject"] == "Thank you, Carl!"
    page.goto("/settings#settings-templates")
    expect(page.get_by_label("Thank-you subject")).to_have_value(
        "Thank you, {recipient_first_name}!"
    )

    # A bad placeholder is named next to its field, and nothing is published.
    page.goto("/group")
    page.get_by_label("Name", exact=True).fill("Broken")
    page.get_by_label("Subject", exact=True).fill("Hi {first_name}")
    page.get_by_label("Body", exact=True).fill("Body")
    page.get_by_role("button", name="Publish to the group").click()
    expect(page.locator("#error-subject")).not_to_be_empty()
    expect(page.locator("li.shared-template")).to_have_count(1)
