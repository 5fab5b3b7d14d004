"""Today and the draft editor in a real browser, with interviews recorded through the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Locator, Page, expect

from app import clock
from tests.browser.live import User, api
from tests.helpers import interview_body

PEOPLE = [
    {"name": "Ann Lee", "email": "ann@example.com", "role": "interviewer"},
    {"name": "Carl Diaz", "email": "carl@example.com", "role": "interviewer"},
    {"name": "Bob Stone", "email": "bob@example.com", "role": "recruiter"},
]


def record_interview(page: Page, hours_ago: float = 3, **overrides: Any) -> dict[str, Any]:
    starts = clock.now() - timedelta(hours=hours_ago)
    body = interview_body(
        starts_at=starts.isoformat(timespec="seconds"), **{"people": PEOPLE, **overrides}
    )
    return api(page, "POST", "/api/v1/interviews", body)  # type: ignore[no-any-return]


MARK_ANN = "Mark thank-you to Ann Lee sent"
SNOOZE_CARL = re.compile(r"^Snooze thank-you to Carl Diaz until tomorrow at \d+:\d\d$")


def item(page: Page, name: str) -> Locator:
    return page.locator("li.followup").filter(has_text=name)


def test_today_lists_what_is_due_with_its_actions(page: Page, signed_up: User) -> None:
    record_interview(page)
    page.goto("/")
    expect(page.locator("#summary")).to_have_text("2 thank-you notes due")
    due = page.locator("#due-list li.followup")
    expect(due).to_have_count(2)
    expect(page.locator("#upcoming-list li.followup")).to_have_count(1)  # the check-in
    ann = item(page, "Thank-you note to Ann Lee")
    expect(ann).to_contain_text("Backend Engineer at Acme Corp")
    for name in ("Copy", "Mark", "Skip"):
        expect(
            ann.get_by_role("button", name=re.compile(f"^{name} thank-you to Ann Lee"))
        ).to_be_visible()
    expect(
        ann.get_by_role("button", name=re.compile("^Snooze thank-you to Ann Lee until tomorrow"))
    ).to_be_visible()
    ann.get_by_text("Snooze to a chosen day").click()
    expect(
        ann.get_by_role("button", name="Snooze thank-you to Ann Lee until the chosen day")
    ).to_be_visible()
    mail = ann.get_by_role("link", name="Open thank-you to Ann Lee in mail")
    expect(mail).to_have_attribute("href", re.compile(r"^mailto:ann@example\.com\?subject="))
    expect(ann.get_by_role("link", name="Edit draft")).to_have_attribute(
        "href", re.compile(r"^/followups/")
    )


def test_mark_sent_on_today_updates_the_list_in_place(page: Page, signed_up: User) -> None:
    record_interview(page)
    page.goto("/")
    page.evaluate("window.__stayed = true")
    item(page, "Ann Lee").get_by_role("button", name=MARK_ANN).click()
    expect(page.locator("#flash")).to_contain_text("Marked sent: thank-you note to Ann Lee")
    expect(item(page, "Ann Lee")).to_have_count(0)
    expect(page.locator("#due-list li.followup")).to_have_count(1)
    expect(page.locator("#summary")).to_have_text("1 thank-you note due")
    assert page.evaluate("window.__stayed") is True, "the page was reloaded"

    # Still gone after a real reload: it was stored, not only hidden.
    page.reload()
    expect(item(page, "Ann Lee")).to_have_count(0)


def test_skip_and_snooze_on_today(page: Page, signed_up: User) -> None:
    record_interview(page)
    page.goto("/")
    page.evaluate("window.__stayed = true")

    item(page, "Ann Lee").get_by_role("button", name="Skip thank-you to Ann Lee").click()
    expect(page.locator("#flash")).to_contain_text("Skipped: thank-you note to Ann Lee")
    expect(item(page, "Ann Lee")).to_have_count(0)

    item(page, "Carl Diaz").get_by_role("button", name=SNOOZE_CARL).click()
    expect(page.locator("#flash")).to_contain_text("thank-you note to Carl Diaz, until tomorrow")
    expect(page.locator("#due-list")).to_have_count(0)
    expect(page.locator("#upcoming-list").filter(has_text="Carl Diaz")).to_have_count(1)

    # Snooze until a chosen day, typed in the account's zone (UTC here, not the browser's).
    day = (clock.now() + timedelta(days=4)).replace(hour=10, minute=30)
    carl = item(page, "Carl Diaz")
    carl.get_by_text("Snooze to a chosen day").click()
    carl.get_by_label("Snooze until").fill(day.strftime("%Y-%m-%dT%H:%M"))
    carl.get_by_role("button", name="Snooze thank-you to Carl Diaz until the chosen day").click()
    expect(page.locator("#flash")).to_contain_text("at 10:30")
    assert page.evaluate("window.__stayed") is True, "the page was reloaded"


def test_copy_puts_subject_and_body_on_the_clipboard(page: Page, signed_up: User) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    record_interview(page)
    page.goto("/")
    ann = item(page, "Ann Lee")
    ann.get_by_role("button", name="Copy thank-you to Ann Lee").click()
    expect(ann.get_by_role("button", name="Copied thank-you to Ann Lee")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Subject: "), copied
    assert "Ann" in copied


def test_the_draft_editor_saves_previews_and_marks_sent(page: Page, signed_up: User) -> None:
    record_interview(page)
    page.goto("/")
    item(page, "Ann Lee").get_by_role("link", name="Edit draft").click()
    expect(page).to_have_url(re.compile(r"/followups/[0-9a-f-]+$"))
    expect(page.get_by_role("heading", name="Thank-you note to Ann Lee")).to_be_visible()

    subject = page.get_by_label("Subject", exact=True)
    expect(subject).not_to_have_value("")
    body = page.get_by_label("Body", exact=True)
    body.fill("Hi Ann,\n\nThank you for the chat about zebras.\n\nJane")
    expect(page.locator("#preview-body")).to_have_text(
        "Hi Ann,\n\nThank you for the chat about zebras.\n\nJane"
    )  # live, before saving
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("You edited this draft")).to_be_visible()
    expect(page.get_by_label("Body", exact=True)).to_have_value(
        "Hi Ann,\n\nThank you for the chat about zebras.\n\nJane"
    )
    mail = page.get_by_role("link", name="Open in mail")
    expect(mail).to_have_attribute("href", re.compile(r"zebras"))

    page.get_by_role("button", name="Mark sent", exact=True).click()
    expect(page.locator("#followup-editor .status-sent")).to_contain_text("Sent today at")
    expect(page.get_by_role("button", name="Mark sent", exact=True)).to_have_count(0)

    page.get_by_role("button", name="Not sent after all").click()
    expect(page.get_by_role("button", name="Mark sent", exact=True)).to_be_visible()
    page.get_by_role("button", name="Use the generated draft again").click()
    expect(page.get_by_text("You edited this draft")).to_have_count(0)
    expect(page.get_by_label("Body", exact=True)).not_to_have_value(re.compile("zebras"))


def test_draft_errors_show_beside_the_field_and_keep_what_was_typed(
    page: Page, signed_up: User
) -> None:
    interview = record_interview(page)
    followup = interview["followups"][0]
    page.goto(f"/followups/{followup['id']}")
    subject = page.get_by_label("Subject", exact=True)
    subject.evaluate("input => input.removeAttribute('maxlength')")
    subject.fill("S" * 301)
    page.get_by_label("Body", exact=True).fill("My own words")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator("#error-subject")).to_be_visible()
    expect(page.locator("#error-subject")).to_contain_text("300")
    expect(page.locator("#error-body")).to_be_empty()
    expect(page.get_by_label("Subject", exact=True)).to_have_value("S" * 301)
    expect(page.get_by_label("Body", exact=True)).to_have_value("My own words")


def test_going_back_to_today_does_not_bring_back_what_was_sent(page: Page, signed_up: User) -> None:
    record_interview(page)
    page.goto("/")
    item(page, "Ann Lee").get_by_role("button", name=MARK_ANN).click()
    expect(item(page, "Ann Lee")).to_have_count(0)
    item(page, "Carl Diaz").get_by_role("link", name="Edit draft").click()
    expect(page.get_by_role("heading", name="Thank-you note to Carl Diaz")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    expect(item(page, "Carl Diaz")).to_have_count(1)
    expect(item(page, "Ann Lee")).to_have_count(0)


def test_an_outcome_and_back_to_pending_on_the_interview_page(page: Page, signed_up: User) -> None:
    interview = record_interview(page)
    page.goto(f"/interviews/{interview['id']}")
    page.evaluate("window.__stayed = true")
    check_in = page.locator(".timeline li").filter(has_text="Check-in to Bob Stone")
    expect(check_in).to_contain_text("Send from")

    page.get_by_role("button", name="Offer", exact=True).click()
    expect(page.get_by_role("button", name="Offer", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(check_in).to_contain_text("Cancelled")
    page.get_by_role("button", name="Back to pending").click()
    expect(page.get_by_role("button", name="Offer", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(check_in).to_contain_text("Send from")
    assert page.evaluate("window.__stayed") is True, "the page was reloaded"

    page.get_by_role("button", name="Withdrawn", exact=True).click()
    expect(page.locator(".timeline li").filter(has_text="Cancelled")).to_have_count(3)
    page.get_by_role("link", name="Today", exact=True).click()
    expect(page.locator("li.followup")).to_have_count(0)


def test_open_in_mail_and_copy_take_the_draft_as_typed_before_saving(
    page: Page, signed_up: User
) -> None:
    record_interview(page)
    page.goto("/")
    item(page, "Ann Lee").get_by_role("link", name="Edit draft").click()
    page.get_by_label("Body", exact=True).fill("Thank you, Ann. Giraffes & more.")
    # Keep the page here: the link is checked, not followed.
    page.evaluate("window.addEventListener('click', (e) => e.preventDefault())")
    mail = page.get_by_role("link", name="Open in mail")
    mail.click()
    expect(mail).to_have_attribute(
        "href",
        re.compile(
            r"^mailto:ann@example\.com\?subject=.*&body=Thank%20you%2C%20Ann\.%20Giraffes%20%26%20more\.$"
        ),
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith("Giraffes & more."), copied


def test_show_more_loads_the_rest_of_a_long_section_in_place(page: Page, signed_up: User) -> None:
    people = [
        {"name": f"Person {n:02}", "email": f"p{n}@example.com", "role": "interviewer"}
        for n in range(45)
    ]
    starts = (clock.now() - timedelta(hours=3)).isoformat(timespec="seconds")
    for company, group in (("Acme Corp", people), ("Globex", people[:10])):
        api(
            page,
            "POST",
            "/api/v1/interviews",
            interview_body(starts_at=starts, people=group, company=company),
        )
    page.goto("/")
    page.evaluate("window.__stayed = true")
    expect(page.locator("#summary")).to_have_text("55 thank-you notes due")
    due = page.locator("#due-list li.followup")
    expect(due).to_have_count(50)
    page.get_by_role("button", name="Show more").click()
    expect(due).to_have_count(55)
    expect(page.get_by_role("button", name="Show more")).to_have_count(0)
    assert page.evaluate("window.__stayed") is True, "the page was reloaded"
    # What came in is a Today item like the others: its actions work in place.
    last = due.last
    expect(last).to_contain_text("Thank-you note to Person")
    last.get_by_role("button", name=re.compile(r"^Mark thank-you to Person \d+ sent$")).click()
    expect(page.locator("#flash")).to_contain_text("Marked sent")
    expect(page.locator("#summary")).to_have_text("54 thank-you notes due")


def test_a_card_leads_with_one_primary_action_and_previews_its_draft(
    page: Page, signed_up: User
) -> None:
    record_interview(page)
    page.goto("/")
    ann = item(page, "Thank-you note to Ann Lee")
    primary = ann.locator(".actions .primary")
    expect(primary).to_have_count(1)
    expect(primary).to_have_accessible_name(MARK_ANN)
    expect(ann.locator(".actions > :first-child")).to_have_accessible_name(MARK_ANN)
    # The first lines of the draft, not the whole letter.
    expect(ann.locator(".preview")).to_contain_text("Hi Ann,")
    assert len(ann.locator(".preview").inner_text()) <= 200
    # Something coming up has nothing to press first.
    check_in = item(page, "Check-in to Bob Stone")
    expect(check_in.locator(".actions .primary")).to_have_count(0)


def test_every_action_on_a_card_names_its_follow_up(page: Page, signed_up: User) -> None:
    record_interview(page)
    page.goto("/")
    carl = item(page, "Thank-you note to Carl Diaz")
    for button in (
        "Mark thank-you to Carl Diaz sent",
        "Skip thank-you to Carl Diaz",
        "Copy thank-you to Carl Diaz",
    ):
        expect(carl.get_by_role("button", name=button, exact=True)).to_have_count(1)
    for link in ("Open thank-you to Carl Diaz in mail", "Edit draft of thank-you to Carl Diaz"):
        expect(carl.get_by_role("link", name=link, exact=True)).to_have_count(1)
    check_in = item(page, "Check-in to Bob Stone")
    expect(check_in.get_by_role("button", name="Skip check-in to Bob Stone")).to_have_count(1)


def test_snooze_says_where_it_moves_the_follow_up(page: Page, signed_up: User) -> None:
    record_interview(page)
    page.goto("/")
    snooze = item(page, "Ann Lee").get_by_role("button", name=re.compile("^Snooze thank-you"))
    # Tomorrow at the user's send hour (9:00 by default, in the account's zone: UTC here).
    expect(snooze).to_have_text("Snooze until tomorrow at 9:00")
    expect(snooze).to_have_accessible_name("Snooze thank-you to Ann Lee until tomorrow at 9:00")
    snooze.click()
    expect(page.locator("#flash")).to_contain_text(
        "Moved: thank-you note to Ann Lee, until tomorrow at 9:00."
    )
    expect(page.locator("#upcoming-list").filter(has_text="Ann Lee")).to_have_count(1)


def _undo_brings_back(page: Page, name: str, state: str) -> None:
    """Undo in the message puts the card back where it was, saying what it said."""
    flash = page.locator("#flash")
    flash.get_by_role("button", name="Undo").click()
    expect(flash).to_contain_text(name)
    back = page.locator("#due-list li.followup").filter(has_text=name)
    expect(back).to_have_count(1)
    expect(back.locator(".meta")).to_have_text(state)
    expect(page.locator("#summary")).to_have_text("2 thank-you notes due")


def test_undo_after_mark_sent_skip_and_snooze_restores_the_card(
    page: Page, signed_up: User
) -> None:
    record_interview(page)
    page.goto("/")
    page.evaluate("window.__stayed = true")
    ann = item(page, "Ann Lee")
    state = ann.locator(".meta").inner_text()

    ann.get_by_role("button", name=MARK_ANN).click()
    expect(page.locator("#flash")).to_contain_text("Marked sent: thank-you note to Ann Lee")
    expect(item(page, "Ann Lee")).to_have_count(0)
    _undo_brings_back(page, "Ann Lee", state)
    expect(page.locator("#flash")).to_contain_text("Back on Today: thank-you note to Ann Lee.")

    item(page, "Ann Lee").get_by_role("button", name="Skip thank-you to Ann Lee").click()
    expect(page.locator("#flash")).to_contain_text("Skipped: thank-you note to Ann Lee")
    expect(item(page, "Ann Lee")).to_have_count(0)
    _undo_brings_back(page, "Ann Lee", state)

    item(page, "Ann Lee").get_by_role("button", name=re.compile("^Snooze thank-you")).click()
    expect(page.locator("#upcoming-list").filter(has_text="Ann Lee")).to_have_count(1)
    _undo_brings_back(page, "Ann Lee", state)
    assert page.evaluate("window.__stayed") is True, "the page was reloaded"

    # Stored, not only shown: a reload shows the card as it was.
    page.reload()
    expect(item(page, "Ann Lee").locator(".meta")).to_have_text(state)


def test_a_snooze_past_a_thank_yous_window_is_warned_about(page: Page, signed_up: User) -> None:
    # Ended 44 hours ago: the 48-hour window closes in 4 hours, before tomorrow's 9:00.
    record_interview(page, hours_ago=45, duration_minutes=60)
    page.goto("/")
    ann = item(page, "Ann Lee")
    warning = ann.locator(".warn")
    expect(warning).to_contain_text("moves this thank-you past its window")
    snooze = ann.get_by_role("button", name=re.compile("^Snooze thank-you"))
    expect(snooze).to_have_accessible_description(re.compile("past its window"))
    snooze.click()
    expect(page.locator("#flash .warn")).to_contain_text("it now goes out after its window")

    # One well inside its window gets no warning.
    record_interview(page, hours_ago=3, duration_minutes=60, company="Globex")
    page.goto("/")
    fresh = page.locator("#due-list li.followup").filter(has_text="Globex")
    expect(fresh).to_have_count(2)
    expect(fresh.locator(".warn")).to_have_count(0)


def test_the_week_counter_counts_what_is_marked_sent(page: Page, signed_up: User) -> None:
    record_interview(page)
    page.goto("/")
    expect(page.locator("#week-count")).to_have_text("0 sent this week · 0 on time")
    item(page, "Ann Lee").get_by_role("button", name=MARK_ANN).click()
    expect(page.locator("#week-count")).to_have_text("1 sent this week · 1 on time")


def test_coming_up_is_grouped_under_day_headings(page: Page, signed_up: User) -> None:
    # Starts tomorrow (UTC, the account's zone): the thank-yous can go from tomorrow.
    interview = record_interview(page, hours_ago=-24)
    check_in = next(f for f in interview["followups"] if f["kind"] == "check_in")
    day = datetime.fromisoformat(check_in["not_before"]).astimezone(UTC).date()
    heading = f"{day.strftime('%A')} {day.day} {day.strftime('%B')}"
    if day.year != clock.now().year:
        heading += f" {day.year}"
    page.goto("/")
    upcoming = page.locator("#upcoming-list")
    expect(upcoming.get_by_role("heading", level=3)).to_have_text(["Tomorrow", heading])
    tomorrow = upcoming.locator("li.day").filter(
        has=page.get_by_role("heading", name="Tomorrow", exact=True)
    )
    expect(tomorrow.locator("li.followup")).to_have_count(2)
    later = upcoming.locator("li.day").filter(has=page.get_by_role("heading", name=heading))
    expect(later.locator("li.followup")).to_have_text([re.compile("Check-in to Bob Stone")])


def test_add_email_opens_the_persons_email_field_and_then_open_in_mail_shows(
    page: Page, signed_up: User
) -> None:
    people = [{"name": "Ann Lee", "role": "interviewer"}, PEOPLE[2]]
    record_interview(page, people=people)
    page.goto("/")
    ann = item(page, "Thank-you note to Ann Lee")
    expect(ann.get_by_role("link", name=re.compile("in mail"))).to_have_count(0)
    ann.get_by_role("link", name="Add email for thank-you to Ann Lee").click()
    expect(page).to_have_url(re.compile(r"/interviews/[0-9a-f-]+/edit\?person="))
    email = page.locator("#people-0-email")
    expect(email).to_be_focused()
    email.fill("ann@example.com")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/interviews/[0-9a-f-]+$"))
    page.goto("/")
    mail = item(page, "Thank-you note to Ann Lee").get_by_role(
        "link", name="Open thank-you to Ann Lee in mail"
    )
    expect(mail).to_have_attribute("href", re.compile(r"^mailto:ann@example\.com\?"))


def test_undo_of_a_snooze_puts_the_follow_up_back_unsnoozed(page: Page, signed_up: User) -> None:
    interview = record_interview(page)
    carl = next(f for f in interview["followups"] if f["recipient_name"] == "Carl Diaz")
    page.goto("/")
    item(page, "Carl Diaz").get_by_role("button", name=SNOOZE_CARL).click()
    expect(page.locator("#upcoming-list").filter(has_text="Carl Diaz")).to_have_count(1)
    assert api(page, "GET", f"/api/v1/followups/{carl['id']}")["snoozed"] is True
    page.locator("#flash").get_by_role("button", name="Undo").click()
    expect(page.locator("#due-list").filter(has_text="Carl Diaz")).to_have_count(1)
    back = api(page, "GET", f"/api/v1/followups/{carl['id']}")
    assert (back["not_before"], back["due_at"], back["snoozed"]) == (
        carl["not_before"],
        carl["due_at"],
        False,
    )
