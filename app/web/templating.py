"""Jinja2 for the pages: autoescaped, with filters that speak the user's time zone."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, Template

from app import clock
from app.config import project_path
from app.followups.schedule import DEFAULT_POLICY, KIND_SHORT_WORDS, KIND_WORDS, POLICY_BOUNDS
from app.time_words import sent_words, span
from app.time_words import when as _when_from
from app.web import csrf

try:  # markupsafe's own escaping, without the Markup object it wraps the result in
    from markupsafe._speedups import _escape_inner
except ImportError:  # MarkupSafe built without its C speedups
    from markupsafe._native import _escape_inner

# Templates escaped on output rather than by autoescaping (see `escape_on_output`), wherever they
# are named: Today's cards, ~25 values each and up to 150 cards a page.
ESCAPED_ON_OUTPUT = frozenset({"followups/_today_cards.html"})


def escape_on_output(value: Any) -> str:
    """A value as autoescaping writes it (markupsafe's escape; Markup as it is), but as
    plain text: autoescaping builds a Markup object per value, which cost a Today card
    more than all its escaping (measured: ~1 µs a value against ~0.2)."""
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return _escape_inner(str(value))


class _Environment(Environment):
    """The pages' environment, which takes the templates of ESCAPED_ON_OUTPUT from
    `escaped_on_output` wherever they are named (an include, a response)."""

    def get_template(
        self,
        name: str | Template,
        parent: str | None = None,
        globals: MutableMapping[str, Any] | None = None,
    ) -> Template:
        if self is env and name in ESCAPED_ON_OUTPUT:
            return escaped_on_output.get_template(name, parent, globals)
        return super().get_template(name, parent, globals)


env = _Environment(loader=FileSystemLoader(project_path("templates")))
templates = Jinja2Templates(env=env)
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
# The same templates, globals and filters, but every value escaped on output (`escape_on_output`)
# and nothing autoescaped: for templates written so that the two give the same bytes (no
# macros, no {% set %} blocks, no `~` joining Markup: there autoescaping keeps Markup, and
# this environment would escape it once more). tests/test_templating.py checks that they do.
escaped_on_output = env.overlay(autoescape=False, finalize=escape_on_output, cache_size=50)


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
