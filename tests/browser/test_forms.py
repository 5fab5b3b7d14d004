"""Validation errors (422) in a real browser: shown beside the field that caused them, with
what the person typed still in the form."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.forms import Interview, Person, fill_interview_form
from tests.browser.live import User

TOO_LONG = "C" * 201


def test_an_interview_error_shows_beside_its_field_and_keeps_what_was_typed(
    page: Page, signed_up: User
) -> None:
    page.goto("/interviews/new")
    interview = Interview(
        company=TOO_LONG, people=[Person("Ann Lee", "ann@example.com", "CTO", "Hiring manager")]
    )
    company = page.get_by_label("Company", exact=True)
    company.evaluate("input => input.removeAttribute('maxlength')")  # past the browser's check
    fill_interview_form(page, interview)
    page.evaluate("window.__stayed = true")
    page.get_by_role("button", name="Save", exact=True).click()

    error = page.locator("#error-company")
    expect(error).to_be_visible()
    expect(error).to_contain_text("200")
    # Beside the field: the slot follows the input in its own field.
    expect(page.locator(".field").filter(has=company).locator(".field-error")).to_have_text(
        error.inner_text()
    )
    expect(page.locator("#error-role")).to_be_empty()
    expect(page.locator("#alerts")).to_contain_text(re.compile("company", re.IGNORECASE))
    assert page.evaluate("window.__stayed") is True, "the form was reloaded"

    expect(company).to_have_value(TOO_LONG)
    expect(page.get_by_label("Role", exact=True)).to_have_value(interview.role)
    expect(page.get_by_label("Highlight", exact=True)).to_have_value(interview.highlight)
    expect(page.get_by_label("Notes", exact=True)).to_have_value(interview.notes)
    row = page.locator("[data-row]")
    expect(row).to_have_count(1)
    expect(row.get_by_label("Name", exact=True)).to_have_value("Ann Lee")
    expect(row.get_by_label("Contact type", exact=True)).to_have_value("hiring_manager")

    # Fixed, it saves.
    company.fill("Acme Corp")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Backend Engineer at Acme Corp")).to_be_visible()


def test_an_error_in_a_person_row_shows_beside_that_row_after_one_was_removed(
    page: Page, signed_up: User
) -> None:
    page.goto("/interviews/new")
    people = [Person("Ann Lee", "ann@example.com"), Person("Dan Moe"), Person("Bob Stone")]
    fill_interview_form(page, Interview(people=people))
    rows = page.locator("[data-row]")
    rows.nth(1).get_by_role("button", name="Remove").click()
    expect(rows).to_have_count(2)
    expect(page.get_by_role("button", name="Add person")).to_be_focused()

    name = rows.nth(1).get_by_label("Name", exact=True)
    expect(name).to_have_value("Bob Stone")
    name.evaluate("input => input.removeAttribute('maxlength')")
    name.fill("B" * 201)
    page.get_by_role("button", name="Save", exact=True).click()

    expect(rows.nth(1).locator(".field-error").filter(has_text="200")).to_be_visible()
    expect(rows.nth(0).locator(".field-error:not(:empty)")).to_have_count(0)
    expect(name).to_have_value("B" * 201)
    expect(rows.nth(0).get_by_label("Name", exact=True)).to_have_value("Ann Lee")


def test_a_settings_error_shows_beside_its_field_and_keeps_what_was_typed(
    page: Page, signed_up: User
) -> None:
    page.goto("/settings")
    zone = page.get_by_label("Time zone", exact=True)
    zone.fill("Mars/Olympus_Mons")
    zone.locator("xpath=ancestor::form").get_by_role("button", name="Save").click()
    expect(page.locator("#error-timezone")).to_be_visible()
    expect(zone).to_have_value("Mars/Olympus_Mons")
    expect(page.get_by_label("Name", exact=True)).to_have_value(signed_up.name)

    hour = page.get_by_label("Send hour", exact=True)
    hour.evaluate("input => input.removeAttribute('max')")
    hour.fill("24")
    hour.locator("xpath=ancestor::form").get_by_role("button", name="Save").click()
    expect(page.locator("#error-policy-send_hour")).to_be_visible()
    expect(hour).to_have_value("24")
