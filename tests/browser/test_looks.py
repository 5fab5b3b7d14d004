"""The look: the current page marked in the navigation, follow-up states as coloured badges,
a sign-in page that says what Followup is, and text that keeps AA contrast on its badge."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from app import clock
from tests.browser.live import User, api
from tests.helpers import interview_body

STATES = re.compile(
    r"\bbadge--(overdue|due|upcoming|sent|skipped|cancelled|draft|scheduled|replied)\b"
)

# The WCAG contrast ratio of each element's text on the background it sits on (the nearest
# ancestor with an opaque one).
CONTRASTS = """selector => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(c => {
    c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }).reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const background = e => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] === 1) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return Array.from(document.querySelectorAll(selector)).map(e => {
    const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(background(e))];
    return [e.className || e.textContent.trim(), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}"""


def low_contrast(page: Page, selector: str) -> list[tuple[str, float]]:
    return [(name, ratio) for name, ratio in page.evaluate(CONTRASTS, selector) if ratio < 4.5]


def test_the_current_page_is_marked_in_the_navigation(page: Page, signed_up: User) -> None:
    nav = page.get_by_role("navigation", name="Main")
    pages = {
        "/": "Today",
        "/interviews": "Interviews",
        "/interviews/new": "Add interview",
        "/group": "Group",
        "/settings": "Settings",
    }
    for path, name in pages.items():
        page.goto(path)
        current = nav.locator('[aria-current="page"]')
        expect(current).to_have_count(1)
        expect(current).to_have_text(name)
        # Seen as well as announced: it does not look like the other links.
        other = nav.locator('a:not([aria-current="page"])').first
        looks = "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
        assert current.evaluate(looks) != other.evaluate(looks), path
    assert not low_contrast(page, "header.top nav a, header.top .brand")


def test_follow_up_states_are_coloured_badges(page: Page, signed_up: User) -> None:
    now = clock.now()
    late = api(
        page,
        "POST",
        "/api/v1/interviews",
        interview_body(company="Globex", starts_at=(now - timedelta(days=3)).isoformat()),
    )
    api(
        page,
        "POST",
        "/api/v1/interviews",
        interview_body(company="Initech", starts_at=(now - timedelta(hours=3)).isoformat()),
    )
    page.goto("/")
    cards = page.locator("li.followup")
    expect(cards.first).to_be_visible()
    for n in range(cards.count()):
        badge = cards.nth(n).locator(".meta .badge")
        expect(badge).to_have_class(STATES)
    expect(page.locator("li.followup .badge--overdue").first).to_be_visible()
    expect(page.locator("li.followup .badge--due").first).to_be_visible()
    expect(page.locator("li.followup .badge--upcoming").first).to_be_visible()
    assert not low_contrast(page, ".badge, button.primary")

    page.goto("/interviews")
    expect(page.locator("#interview-rows .meta .badge").first).to_have_class(STATES)
    page.goto(f"/interviews/{late['id']}")
    expect(page.locator(".timeline .badge--overdue").first).to_be_visible()
    page.goto(f"/followups/{late['followups'][0]['id']}")
    expect(page.locator("#followup-editor .summary .badge")).to_have_class(STATES)
    assert not low_contrast(page, ".badge")


def test_the_sign_in_page_says_what_followup_is(page: Page) -> None:
    for path in ("/login", "/register"):
        page.goto(path)
        pitch = page.locator(".auth")
        expect(pitch).to_contain_text("thank-you")
        expect(pitch).to_contain_text("48 hours")
        expect(pitch).to_contain_text("two weeks later")
        expect(pitch).to_contain_text("calendar invite")
        expect(page.locator("form").get_by_role("button", name=re.compile("^Sign"))).to_be_visible()
        assert not low_contrast(page, ".auth p, .auth strong, .auth span, .auth h1, .auth h2")
