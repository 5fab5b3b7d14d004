"""Jinja2 for the pages: autoescaped, with filters that speak the user's time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from app import clock
from app.config import project_path
from app.web import csrf

templates = Jinja2Templates(directory=project_path("templates"))
env = templates.env
env.autoescape = True
env.trim_blocks = True
env.lstrip_blocks = True
# Templates ship with the code and do not change under a running server: without this,
# every {% include %} (one per Today item) stats its file to see whether to recompile it.
env.auto_reload = False


def _zone(request: Request) -> ZoneInfo:
    user = getattr(request.state, "user", None)
    return ZoneInfo(user.timezone if user is not None else "UTC")


def _clock(moment: datetime) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


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


def when(moment: datetime, tz: ZoneInfo, now: datetime) -> str:
    """An instant in words people use: "tomorrow at 9:00", "Friday at 14:30"."""
    return _when_from(moment, tz, now.astimezone(tz).date())


def _when_from(moment: datetime, tz: ZoneInfo, today: date) -> str:
    local = moment.astimezone(tz)
    return f"{local_day_words(local.date(), today)} at {_clock(local)}"


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


def sent_words(followup: Any, when: Callable[[datetime], str]) -> str:
    """How a sent follow-up went out, in words: "Sent from your mailbox today at 14:02"."""
    how = {"mailbox": "Sent from your mailbox", "app": "Sent by Followup"}
    return f"{how.get(followup.sent_via, 'Sent')} {when(followup.sent_at)}"


def _masked_csrf_token(request: Request) -> str | None:
    """The session's CSRF token, masked afresh for this page (app/web/csrf.py: BREACH)."""
    web_session = getattr(request.state, "web_session", None)
    return None if web_session is None else csrf.mask(web_session.csrf_token)


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    now = clock.now()
    tz = _zone(request)
    today = now.astimezone(tz).date()  # once, not once per "when" on the page
    base = {
        "now": now,
        "tz": tz,
        "user": getattr(request.state, "user", None),
        "csrf_token": _masked_csrf_token(request),
        "when": lambda moment: _when_from(moment, tz, today),
        "local": lambda moment: moment.astimezone(tz),
        "span": span,
        "sent_words": lambda f: sent_words(f, lambda moment: _when_from(moment, tz, today)),
    }
    return templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status, headers=headers
    )
