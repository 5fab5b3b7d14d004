"""The pages' templates: the ones escaped on output (Today's cards) write the same bytes as
autoescaping would, for any text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from app.followups.schedule import DueState
from app.followups.today import Card
from app.time_words import when
from app.web import templating

TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
NASTY = '<b>Ann & "Bo"</b> l\'été ✓'


@given(TEXT)
def test_a_value_escaped_on_output_reads_as_autoescaping_writes_it(text: str) -> None:
    assert templating.escape_on_output(text) == str(escape(text))


def test_markup_numbers_and_none_are_written_as_autoescaping_writes_them() -> None:
    for value in (Markup("<i>kept</i>"), 3, 2.5, None, True, date(2026, 12, 3)):
        assert templating.escape_on_output(value) == str(escape(value))


def card(**changes: Any) -> Card:
    shown = Card(
        id="5f0c6a46-1f4e-4c53-9f0e-111111111111",
        interview_id="7a1b2c3d-0000-4000-8000-222222222222",
        title=f"Thank-you note to {NASTY}",
        what=f"thank-you to {NASTY}",
        preview=f"Hi {NASTY},\nThank you & more <script>",
        about=f"Engineer <x> at {NASTY}",
        state_class="state-due",
        badge="due",
        state="due today at 15:00",
        note=" (2 hours left)",
        due_state=DueState.DUE,
        scheduled=True,
        sending=False,
        send_error=None,
        recipient_email="ann&bo@example.com",
        mailto_url="mailto:ann&bo@example.com?subject=Hi%20%26&body=x",
        add_email_url=None,
        send=False,
        mark_primary=True,
        snooze_warning=None,
    )
    return replace(shown, **changes)


CARDS = [
    card(),
    card(send=True, mark_primary=False, send_error=f"Refused: {NASTY}"),
    card(sending=True, send=False),
    card(recipient_email=None, add_email_url="/interviews/x/edit?person=1", mark_primary=False),
    card(snooze_warning=f"Snoozing moves {NASTY} past its window."),
    card(scheduled=False, state_class="status-sent", badge="sent", state="Sent today"),
]


def test_todays_cards_render_the_same_bytes_escaped_on_output_as_autoescaped() -> None:
    tz = ZoneInfo("Europe/Paris")
    today = date(2026, 12, 3)
    context = {
        "cards": CARDS,
        "snooze_tomorrow": datetime(2026, 12, 4, 8, tzinfo=UTC),
        "when": lambda moment: when(moment, tz, today),
    }
    name = "followups/_today_cards.html"
    # The same file compiled by an environment like the pages' one, which autoescapes.
    autoescaped = templating.env.overlay(cache_size=0).get_template(name)
    escaped_on_output = templating.env.get_template(name)

    assert escaped_on_output.environment is templating.escaped_on_output
    assert autoescaped.environment.autoescape
    assert escaped_on_output.render(context) == autoescaped.render(context)
