"""Instants and lengths of time in the words people use ("tomorrow at 9:00", "3 hours"),
for the pages and for the labels services compute once for them."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def clock_words(moment: datetime) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


@functools.lru_cache(maxsize=1024)  # a page words the same few days over and over
def local_day_words(day: date, today: date) -> str:
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    if 1 < delta < 7:
        return day.strftime("%A")
    if day.year == today.year:
        return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"
    return f"{day.day} {day.strftime('%b %Y')}"


def when(moment: datetime, tz: ZoneInfo, today: date) -> str:
    """An instant in words, seen from `today` (a date in `tz`): "Friday at 14:30"."""
    local = moment.astimezone(tz)
    return f"{local_day_words(local.date(), today)} at {clock_words(local)}"


def span(delta: timedelta) -> str:
    """A length of time in words: "3 hours", "2 days"."""
    seconds = abs(delta.total_seconds())
    if seconds < 3600:
        minutes = max(1, round(seconds / 60))
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    if seconds < 48 * 3600:
        hours = round(seconds / 3600)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = round(seconds / 86400)
    return f"{days} day{'s' if days != 1 else ''}"


_SENT_HOW = {"mailbox": "Sent from your mailbox", "app": "Sent by Followup"}


def sent_words(sent_via: str | None, sent_at: datetime, tz: ZoneInfo, today: date) -> str:
    """How and when a follow-up went out: "Sent from your mailbox today at 14:02"."""
    return f"{_SENT_HOW.get(sent_via or '', 'Sent')} {when(sent_at, tz, today)}"
