"""Content negotiation: one endpoint answers JSON to tools and HTML fragments to htmx."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from starlette.datastructures import Headers

from app.web.responses import json_response
from app.web.templating import render

VARY = "HX-Request, Accept"


@dataclass(frozen=True)
class Htmx:
    """What the request says about itself: htmx or not, which element it targets."""

    request: bool
    history_restore: bool
    target: str | None
    prefers_html: bool

    @property
    def html(self) -> bool:
        """Answer with HTML: an htmx request, or a client that asks for HTML first."""
        return self.request or self.prefers_html

    @property
    def fragment(self) -> bool:
        """Answer with a fragment (a history restore needs the full page)."""
        return self.request and not self.history_restore


def _prefers_html(accept: str) -> bool:
    html = json = None
    for index, part in enumerate(accept.split(",")):
        media = part.split(";")[0].strip().lower()
        if media == "text/html" and html is None:
            html = index
        elif media in ("application/json", "application/problem+json") and json is None:
            json = index
    return html is not None and (json is None or html < json)


def wants_html(headers: Headers) -> bool:
    """Whether a request gets HTML (Htmx.html) rather than JSON, from its headers alone."""
    return headers.get("hx-request") == "true" or _prefers_html(headers.get("accept", ""))


async def get_htmx(request: Request) -> Htmx:  # async: no thread-pool hop
    headers = request.headers
    return Htmx(
        request=headers.get("hx-request") == "true",
        history_restore=headers.get("hx-history-restore-request") == "true",
        target=headers.get("hx-target"),
        prefers_html=_prefers_html(headers.get("accept", "")),
    )


HtmxDep = Annotated[Htmx, Depends(get_htmx)]


def respond(
    request: Request,
    htmx: Htmx,
    result: BaseModel,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """JSON for tools, the fragment `template` for htmx; always `Vary: HX-Request, Accept`."""
    headers = {**(headers or {}), "Vary": VARY}
    if not htmx.html:
        return json_response(result, status=status, headers=headers)
    return render(request, template, status=status, headers=headers, result=result, **context)
