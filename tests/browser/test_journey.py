"""The journey of the issue, end to end in a real browser: sign up, record an interview, send
the thank-you notes, record the outcome."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.forms import Interview, Person, add_interview
from tests.browser.live import Stopwatch, sign_up

PEOPLE = [
    Person("Ann Lee", "ann@example.com", "Staff Engineer", "Interviewer"),
    Person("Carl Diaz", "carl@example.com", "Engineering Manager", "Interviewer"),
    Person("Bob Stone", "bob@example.com", "Recruiter", "Recruiter"),
]


def test_the_whole_journey(page: Page) -> None:
    watch = Stopwatch("journey (sign up to rejected)")

    sign_up(page)
    expect(page.get_by_text("No follow-ups yet.")).to_be_visible()

    # Record the interview, which started three hours ago, through the form.
    page.get_by_role("link", name="Add interview").first.click()
    expect(page).to_have_url(re.compile(r"/interviews/new$"))
    interview_id = add_interview(page, Interview(people=PEOPLE))
    expect(page.get_by_role("heading", name="Backend Engineer at Acme Corp")).to_be_visible()

    # Today: two thank-you notes due, the check-in coming up.
    page.get_by_role("link", name="Today", exact=True).click()
    expect(page.locator("#summary")).to_have_text("2 thank-you notes due")
    due = page.locator("#due-list li.followup")
    expect(due).to_have_count(2)
    expect(due.filter(has_text="Thank-you note to Ann Lee")).to_have_count(1)
    expect(due.filter(has_text="Thank-you note to Carl Diaz")).to_have_count(1)
    expect(page.locator("#upcoming-list").filter(has_text="Check-in to Bob Stone")).to_be_visible()

    # Open Ann's, make it ours, save, mark it sent.
    due.filter(has_text="Ann Lee").get_by_role("link", name="Edit draft").click()
    expect(page.get_by_role("heading", name="Thank-you note to Ann Lee")).to_be_visible()
    body = page.get_by_label("Body", exact=True)
    body.fill(body.input_value() + "\n\nP.S. The whiteboard session was great fun.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("You edited this draft")).to_be_visible()
    page.get_by_role("button", name="Mark sent", exact=True).click()
    expect(page.locator("#followup-editor .status-sent")).to_be_visible()

    # Back on Today it has left the due list.
    page.get_by_role("link", name="Today", exact=True).click()
    expect(page.locator("#summary")).to_have_text("1 thank-you note due")
    expect(page.locator("#due-list li.followup")).to_have_count(1)
    expect(page.locator("li.followup").filter(has_text="Ann Lee")).to_have_count(0)

    # Carl's, marked sent from Today, leaves without a reload.
    page.evaluate("window.__noReload = true")
    carl = page.locator("#due-list li.followup").filter(has_text="Carl Diaz")
    carl.get_by_role("button", name="Mark thank-you to Carl Diaz sent", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("Marked sent: thank-you note to Carl Diaz")
    expect(page.locator("#due-list")).to_have_count(0)
    expect(page.locator("#summary")).to_contain_text("Nothing due right now")
    assert page.evaluate("window.__noReload") is True, "marking sent reloaded the page"

    # They said no: the check-in is cancelled and leaves Today.
    page.locator("li.followup").filter(has_text="Check-in to Bob Stone").get_by_role(
        "link", name="Backend Engineer at Acme Corp"
    ).click()
    expect(page).to_have_url(re.compile(f"/interviews/{interview_id}$"))
    page.get_by_role("button", name="Rejected", exact=True).click()
    expect(page.get_by_role("button", name="Rejected", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    check_in = page.locator(".timeline li").filter(has_text="Check-in to Bob Stone")
    expect(check_in).to_contain_text("Cancelled")
    expect(page.locator(".timeline li").filter(has_text="Ann Lee")).to_contain_text("Sent")

    page.get_by_role("link", name="Today", exact=True).click()
    expect(page.locator("#summary")).to_have_text("Nothing to send.")
    expect(page.locator("li.followup")).to_have_count(0)

    watch.stop()
