"""Markup typed into every text field is shown as text everywhere and runs nothing."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing
from tests.browser.forms import Interview, Person, add_interview
from tests.browser.live import sign_up, unique_user

PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


def assert_inert(page: Page, where: str) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined", f"script ran on {where}"
    injected = page.locator("main img, main script, body > script:not([src])")
    assert injected.count() == 0, f"markup from the payload became elements on {where}"


def test_markup_in_every_text_field_is_shown_as_text(browsing: Browsing) -> None:
    page = browsing.new_page()
    sign_up(page, unique_user(name=PAYLOAD))  # the sender's name signs the drafts
    interview = Interview(
        company=PAYLOAD,
        role=PAYLOAD,
        stage=PAYLOAD,
        location=PAYLOAD,
        highlight=PAYLOAD,
        excitement=PAYLOAD,
        notes=PAYLOAD,
        people=[
            Person(PAYLOAD, "ann@example.com", PAYLOAD, "Interviewer"),
            Person("Bob Stone", "bob@example.com", PAYLOAD, "Recruiter"),
        ],
    )
    interview_id = add_interview(page, interview)

    # The interview page: every field, as typed.
    expect(page.get_by_role("heading", name=f"{PAYLOAD} at {PAYLOAD}")).to_be_visible()
    main = page.locator("main")
    text = main.inner_text()
    assert text.count(PAYLOAD) >= 9, text  # title ×2, stage, location, 3 texts, name, titles
    assert_inert(page, "the interview page")

    # Today.
    page.goto("/")
    item = page.locator("#due-list li.followup")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(f"Thank-you note to {PAYLOAD}")
    expect(item).to_contain_text(f"{PAYLOAD} at {PAYLOAD}")
    mail = item.get_by_role("link", name=re.compile(r"^Open thank-you to .* in mail$"))
    href = mail.get_attribute("href") or ""
    assert href.startswith("mailto:ann@example.com?"), href
    assert "<" not in href and '"' not in href, href  # encoded, not raw
    assert_inert(page, "Today")

    # The draft: subject, body and preview carry the payload as text.
    item.get_by_role("link", name="Edit draft").click()
    expect(page.get_by_role("heading", name=f"Thank-you note to {PAYLOAD}")).to_be_visible()
    body = page.get_by_label("Body", exact=True)
    expect(body).to_have_value(re.compile(re.escape(PAYLOAD)))
    expect(page.locator("#preview-body")).to_contain_text(PAYLOAD)
    body.fill(body.input_value() + "\n" + PAYLOAD)  # the live preview too
    expect(page.locator("#preview-body")).to_contain_text(PAYLOAD + "\n" + PAYLOAD)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("You edited this draft")).to_be_visible()
    assert_inert(page, "the draft editor")

    # The list of interviews and the edit form get it back as typed, too.
    page.goto("/interviews")
    expect(page.locator("main")).to_contain_text(PAYLOAD)
    assert_inert(page, "the interview list")
    page.goto(f"/interviews/{interview_id}/edit")
    expect(page.get_by_label("Company", exact=True)).to_have_value(PAYLOAD)
    expect(page.locator("[data-row]").first.get_by_label("Name", exact=True)).to_have_value(PAYLOAD)
    assert_inert(page, "the edit form")
    # The browsing fixture fails the test on any CSP violation or uncaught error seen here.
