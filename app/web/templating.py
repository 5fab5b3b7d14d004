"""Jinja2 for the pages: autoescaped, with filters that speak the user's time zone."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from app import clock
from app.config import project_path
from app.followups.schedule import DEFAULT_POLICY, KIND_SHORT_WORDS, KIND_WORDS, POLICY_BOUNDS
from app.time_words import sent_words, span
from app.time_words import when as _when_from
from app.web import csrf

templates = Jinja2Templates(directory=project_path("templates"))
env = templates.env
env.autoescape = True
env.trim_blocks = True
env.lstrip_blocks = True
# Templates ship with the code and do not change under a running server: without this,
# every {% include %} (one per Today item) stats its file to see whether to recompile it.
env.auto_reload = False
# The domain's numbers and words, from their one source (the Settings form, the cards).
env.globals["policy_defaults"] = DEFAULT_POLICY
env.globals["policy_bounds"] = POLICY_BOUNDS
env.globals["kind_words"] = {kind.value: words for kind, words in KIND_WORDS.items()}
env.globals["kind_short_words"] = {kind.value: words for kind, words in KIND_SHORT_WORDS.items()}


def _zone(request: Request) -> ZoneInfo:
    user = getattr(request.state, "user", None)
    return ZoneInfo(user.timezone if user is not None else "UTC")


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
        "sent_words": lambda f: sent_words(f.sent_via, f.sent_at, tz, today),
    }
    return templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status, headers=headers
    )
