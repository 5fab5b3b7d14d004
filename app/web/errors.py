"""Errors as HTML: beside the fields for htmx, a page for browsers, sign-in when signed out."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from app.web.htmx import is_htmx
from app.web.templating import render

# Forms that share a page with another form's fields of the same name (Settings has the
# account's password and the mailbox's) name their error slots with a prefix, by endpoint.
SLOT_PREFIXES = {"/api/v1/me/mailbox": "mailbox-"}


def field_id(loc: list[str | int], prefix: str = "") -> str:
    """Where a field shows its error: body.people.0.name -> error-people-0-name."""
    parts = loc[1:] if len(loc) > 1 and loc[0] in ("body", "query", "path", "header") else loc
    return "error-" + prefix + "-".join(str(part) for part in parts)


def field_label(loc: list[str | int]) -> str:
    """A field's place in words: body.people.1.email is "Person 2, email"."""
    parts = loc[1:] if len(loc) > 1 and loc[0] in ("body", "query", "path", "header") else loc
    words = [
        f"{part + 1}" if isinstance(part, int) else str(part).replace("_", " ") for part in parts
    ]
    if len(words) > 1 and words[0] == "people":
        words[0] = "person"
    text = " ".join(words).replace(" 1 ", " 1, ")
    for number in range(2, 51):
        text = text.replace(f" {number} ", f" {number}, ")
    return text[:1].upper() + text[1:] if text else "Request"


def html_error(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> Response:
    headers = dict(headers or {})
    headers.pop("WWW-Authenticate", None)  # no browser password dialog over the pages
    htmx = is_htmx(request.headers)  # a fragment beside the fields, else a page
    # Signed out: to the sign-in page. A failed sign-in itself is shown on its form.
    if status == 401 and request.url.path != "/api/v1/auth/login":
        target = "/login?next=" + quote(_page_of(request), safe="/")
        if htmx:
            return Response(status_code=204, headers={**headers, "HX-Redirect": target})
        if not request.url.path.startswith("/api/"):
            return RedirectResponse(target, status_code=303, headers=headers)
    prefix = SLOT_PREFIXES.get(request.url.path, "")
    fields = [
        {"id": field_id(e["loc"], prefix), "label": field_label(e["loc"]), "msg": e["msg"]}
        for e in errors
    ]
    if htmx:
        # Nothing in the page is replaced but the error slots, so what was typed stays.
        headers["HX-Reswap"] = "none"
        return render(
            request,
            "shared/errors.html",
            status=status,
            headers=headers,
            title=title,
            detail=detail,
            fields=fields,
        )
    return render(
        request,
        "shared/error_page.html",
        status=status,
        headers=headers,
        title=title,
        detail=detail,
        status_code=status,
    )


def _page_of(request: Request) -> str:
    current = request.headers.get("hx-current-url")
    if current:
        from urllib.parse import urlsplit

        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.url.path if not request.url.path.startswith("/api/") else "/"
