"""Add interview → From a calendar invite, in a real browser: an Outlook invite fills the form,
Save records it with a thank-you per interviewer; its update moves it and says so."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.live import User

INVITES = Path(__file__).resolve().parent.parent / "fixtures" / "invites"


def test_an_outlook_invite_fills_the_form_and_its_update_moves_the_interview(
    page: Page, signed_up: User
) -> None:
    # Invite to first draft: one file chosen, one click on Save (2 actions, 0 fields typed).
    page.get_by_role("link", name="Add interview").first.click()
    page.get_by_label("Invite file", exact=True).set_input_files(str(INVITES / "outlook.ics"))
    expect(page.get_by_label("Company", exact=True)).to_have_value("Globex")
    expect(page.get_by_label("Role", exact=True)).to_have_value("Staff Engineer")
    expect(page.locator("#flash")).to_contain_text("Filled from the invite")
    expect(page.locator("#flash")).to_contain_text("time zone Pacific Standard Time")
    # Carla, Dev, Erin and jane@example.com (the signed-up user has another address here).
    expect(page.locator("#people-list [data-row]")).to_have_count(4)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Staff Engineer at Globex")).to_be_visible()

    page.get_by_role("link", name="Today", exact=True).click()
    expect(page).to_have_url(re.compile(r"/$"))
    for name in ("Dev Sharma", "Erin Walsh"):
        expect(
            page.locator("li.followup").filter(has_text=f"Thank-you note to {name}")
        ).to_have_count(1)

    # The company moved it: the update says where to, and applies on confirmation.
    page.get_by_role("link", name="Add interview").first.click()
    page.get_by_label("Invite file", exact=True).set_input_files(
        str(INVITES / "outlook_update.ics")
    )
    expect(page.locator("#invite-moved")).to_contain_text("Moved to Wed 9 Dec at 23:00")
    page.get_by_role("button", name="Update the interview", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("^Updated"))).to_be_visible()
    expect(page.locator("#invite-update")).to_contain_text("Wed 9 Dec 2026, 23:00")
