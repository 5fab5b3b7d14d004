"""Content negotiation: one endpoint answers JSON to tools and HTML fragments to htmx."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, TypeAdapter
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.responses import json_response
from app.web.templating import render

VARY_TOKENS = ("HX-Request", "Accept")


@dataclass(frozen=True)
class Htmx:
    """What the request says about itself: htmx or not, which element it targets."""

    request: bool
    history_restore: bool
    target: str | None
    html: bool  # answer with HTML rather than JSON: `wants_html`

    @property
    def fragment(self) -> bool:
        """Answer with a fragment (a history restore needs the full page)."""
        return self.request and not self.history_restore


_JSON_TYPES = ("application/json", "application/problem+json", "application/*", "*/*")


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def prefers_html(accept: str) -> bool:
    """Whether an `Accept` header ranks `text/html` above JSON, by q-value (RFC 9110 §12.5.1);
    a tie goes to the one named first. Only an explicit `text/html` counts for HTML, while
    `*/*` counts for JSON: a tool that accepts anything gets the versioned contract."""
    html: tuple[float, int] | None = None
    json: tuple[float, int] | None = None
    for index, part in enumerate(accept.split(",")):
        media, *params = part.split(";")
        media = media.strip().lower()
        q = _quality(params)
        if media == "text/html":
            html = (q, -index) if html is None or q > html[0] else html
        elif media in _JSON_TYPES:
            json = (q, -index) if json is None or q > json[0] else json
    if html is None or html[0] == 0:
        return False
    return json is None or html > json


def is_htmx(headers: Headers) -> bool:
    return headers.get("hx-request") == "true"


def wants_html(headers: Headers) -> bool:
    """The one rule: HTML for htmx (`HX-Request: true`) and for a client that prefers
    `text/html`; JSON (and problem+json) for everyone else. The fast path, the routes and
    the error handlers all ask this."""
    return is_htmx(headers) or prefers_html(headers.get("accept", ""))


async def get_htmx(request: Request) -> Htmx:  # async: no thread-pool hop
    headers = request.headers
    return Htmx(
        request=is_htmx(headers),
        history_restore=headers.get("hx-history-restore-request") == "true",
        target=headers.get("hx-target"),
        html=wants_html(headers),
    )


class Negotiated:
    """The one place that sets `Vary: HX-Request, Accept`: on every answer but the static
    files, whichever representation (JSON, a fragment, a page, problem+json or an HTML
    error) it is, so no cache hands one client's representation to another. It adds to a
    `Vary` already there (gzip's `Accept-Encoding` is added outside it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                present = {t.strip().lower() for t in headers.get("vary", "").split(",")}
                for token in VARY_TOKENS:
                    if token.lower() not in present:
                        headers.add_vary_header(token)
            await send(message)

        await self.app(scope, receive, send_with_vary)


HtmxDep = Annotated[Htmx, Depends(get_htmx)]


# The fragment of an answer that has no template of its own: its JSON's fields, as HTML.
DATA = "shared/_data.html"


def respond(
    request: Request,
    htmx: Htmx,
    result: BaseModel | Sequence[BaseModel],
    template: str = DATA,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """JSON for tools, the fragment `template` for htmx and browsers (`Vary` is set by
    `Negotiated`)."""
    if not htmx.html:
        return json_response(result, status=status, headers=headers)
    if template == DATA:
        context["data"] = _ADAPTER.dump_python(result, mode="json")
    return render(request, template, status=status, headers=headers, result=result, **context)


_ADAPTER: TypeAdapter[Any] = TypeAdapter(Any)
