"""Every main page works on a phone: at 360 px wide nothing scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise

import pytest
from playwright.sync_api import Browser, Page, expect

from app import clock
from tests.browser.conftest import Browsing, Problems, new_context
from tests.browser.live import LiveServer, User, api, sign_up
from tests.helpers import interview_body

WIDTH = 360

# The elements that stick out past the right edge, for the failure message.
OVERFLOWING = """width => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > width + 0.5)
  .slice(0, 8)
  .map(e => `<${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${
    e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''
  }> right=${Math.round(e.getBoundingClientRect().right)}`)"""


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer) -> Iterator[Browsing]:
    context = new_context(browser, live_server, width=WIDTH)
    session = Browsing(context, live_server, Problems())
    yield session
    context.close()
    assert not session.problems.errors, session.problems.errors
    assert not session.problems.csp, session.problems.csp


class Measured:
    def __init__(self) -> None:
        self.widths: dict[str, int] = {}
        self.offenders: dict[str, list[str]] = {}

    def measure(self, page: Page, name: str) -> None:
        width = int(page.evaluate("document.documentElement.scrollWidth"))
        self.widths[name] = width
        if width > WIDTH:
            self.offenders[name] = page.evaluate(OVERFLOWING, WIDTH)


def test_every_main_page_fits_360_px(phone: Browsing) -> None:
    page = phone.new_page()
    measured = Measured()
    for path in ("/register", "/login"):
        page.goto(path)
        measured.measure(page, path)

    sign_up(page)
    measured.measure(page, "/ (empty)")
    interview = api(
        page,
        "POST",
        "/api/v1/interviews",
        interview_body(
            company="Bundesanstalt für Finanzdienstleistungsaufsicht",
            role="Senior Platform Reliability Engineer (Payments)",
            starts_at="2026-01-05T10:00:00Z",  # long ago: overdue
            location="https://meet.example.com/abc-defg-hij?authuser=jane.doe.longname",
            people=[
                {
                    "name": "Maximiliane Oberhuber-Schwarzenegger",
                    "email": "maximiliane.oberhuber-schwarzenegger@finanzdienstleistungen.example",
                    "role": "interviewer",
                },
                {"name": "Bob Stone", "email": "bob@example.com", "role": "hiring_manager"},
            ],
        ),
    )
    followup = interview["followups"][0]["id"]
    pages = {
        "/": "Today",
        "/interviews": None,
        "/interviews/new": None,
        f"/interviews/{interview['id']}": None,
        f"/followups/{followup}": None,
        "/settings": "Settings",
    }
    for path, heading in pages.items():
        response = page.goto(path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        if heading:
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        if path == "/interviews/new":
            page.get_by_role("button", name="Add person").click()
        measured.measure(page, path)
    assert not measured.offenders, (measured.widths, measured.offenders)


# Every visible radio and checkbox whose label is not on its line, just to its right.
NOT_BESIDE = """() => Array.from(
    document.querySelectorAll('input[type=radio], input[type=checkbox]')
  ).filter(input => input.getClientRects().length)
  .map(input => {
    const label = input.labels && input.labels[0];
    if (!label) { return `#${input.id}: no label`; }
    const box = input.getBoundingClientRect(), text = label.getBoundingClientRect();
    const middle = (box.top + box.bottom) / 2;
    const sameLine = middle >= text.top && middle <= text.bottom;
    const justRight = text.left >= box.right - 1 && text.left - box.right < 24;
    return sameLine && justRight ? null
      : `#${input.id}: control at (${Math.round(box.left)}, ${Math.round(box.top)}), ` +
        `label at (${Math.round(text.left)}, ${Math.round(text.top)})`;
  })
  .filter(Boolean)"""


@pytest.mark.parametrize("width", [WIDTH, 1280])
def test_every_radio_and_checkbox_sits_beside_its_label(
    browser: Browser, live_server: LiveServer, width: int
) -> None:
    context = new_context(browser, live_server, width=width)
    try:
        page = context.new_page()
        sign_up(page)
        page.goto("/settings")
        controls = page.locator("input[type=radio], input[type=checkbox]")
        assert controls.count() >= 10  # sharing, webhook events, mailbox
        assert page.evaluate(NOT_BESIDE) == []
    finally:
        context.close()


def test_no_page_with_data_is_wider_than_a_phone(
    browser: Browser, fresh_server: LiveServer
) -> None:
    """An admin sharing on the group board, with long names everywhere: every page fits."""
    context = new_context(browser, fresh_server, width=WIDTH)
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        sign_up(page, User(name="Maximiliane Oberhuber-Schwarzenegger", email="max@example.com"))
        api(page, "PATCH", "/api/v1/me", {"board_sharing": "companies"})
        started = (clock.now() - timedelta(days=3)).isoformat(timespec="seconds")
        interview = api(
            page,
            "POST",
            "/api/v1/interviews",
            interview_body(
                company="Bundesanstalt für Finanzdienstleistungsaufsicht",
                starts_at=started,
                people=[
                    {"name": "Ann Lee", "role": "interviewer"},  # no email
                    {"name": "Bob Stone", "email": "bob@example.com", "role": "hiring_manager"},
                ],
            ),
        )
        thanks = interview["followups"][0]
        api(page, "PATCH", f"/api/v1/followups/{thanks['id']}", {"status": "sent"})
        api(page, "PATCH", f"/api/v1/interviews/{interview['id']}", {"outcome": "next_round"})
        api(page, "POST", "/api/v1/tokens", {"name": "calendar sync on my laptop"})
        api(
            page,
            "POST",
            "/api/v1/admin/invites",
            {"note": "Dana from the May cohort of the evening course"},
        )
        measured = Measured()
        paths = [
            "/",
            "/interviews",
            "/interviews/new",
            f"/interviews/new?after={interview['id']}",
            f"/interviews/{interview['id']}",
            f"/interviews/{interview['id']}/edit",
            f"/followups/{thanks['id']}",
            "/settings",
            "/group",
            "/admin",
        ]
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.ok, f"{path}: {response and response.status}"
            measured.measure(page, path)
        page.goto("/group")
        expect(page.locator("#board-members tbody tr")).to_have_count(1)
        assert not measured.offenders, (measured.widths, measured.offenders)
    finally:
        context.close()


# The left and right edges of the text of each week label that is shown.
SHOWN_LABEL_EDGES = """spans => spans
  .filter(span => getComputedStyle(span).visibility === 'visible')
  .map(span => {
    const range = document.createRange();
    range.selectNodeContents(span);
    const box = range.getBoundingClientRect();
    return [box.left, box.right];
  })"""


def test_the_group_chart_labels_stay_readable_on_a_phone(
    browser: Browser, fresh_server: LiveServer
) -> None:
    context = new_context(browser, fresh_server, width=WIDTH)
    try:
        page = context.new_page()
        sign_up(page)
        api(page, "PATCH", "/api/v1/me", {"board_sharing": "counts"})
        for weeks in (4, 8, 12, 26):
            page.goto(f"/group?weeks={weeks}")
            labels = page.locator("#board-chart .chart-axis span")
            expect(labels).to_have_count(weeks)
            sizes = labels.evaluate_all(
                "spans => spans.map(s => parseFloat(getComputedStyle(s).fontSize))"
            )
            assert min(sizes) >= 11, sizes
            # The labels shown do not run into each other.
            boxes = labels.evaluate_all(SHOWN_LABEL_EDGES)
            assert all(a[1] + 4 <= b[0] for a, b in pairwise(boxes)), boxes
            width = int(page.evaluate("document.documentElement.scrollWidth"))
            assert width <= WIDTH, (weeks, width)
    finally:
        context.close()
