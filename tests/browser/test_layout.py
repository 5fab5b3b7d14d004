"""Every main page works on a phone: at 360 px wide nothing scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Browsing, Problems, new_context
from tests.browser.live import LiveServer, api, sign_up
from tests.conftest import interview_body

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
