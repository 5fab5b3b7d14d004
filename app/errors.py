"""Errors as `application/problem+json` (RFC 9457): the AppError hierarchy and its handlers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("followup")

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://followup.invalid/problems/"


class ProblemItem(BaseModel):
    loc: list[str | int] = Field(
        description="Where the problem is: body, query, path or header, then the field."
    )
    msg: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = Field(examples=[TYPE_BASE + "validation"])
    title: str = Field(examples=["Invalid request"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["body.company: String should have at most 200 characters"])
    errors: list[ProblemItem] | None = None


class AppError(Exception):
    status = 500
    slug = "internal"
    title = "Internal server error"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if headers:
            self.headers = headers


class Unauthorized(AppError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, *, basic: bool = False):
        challenge = 'Bearer realm="followup"'
        if basic:
            challenge += ', Basic realm="followup"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(AppError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(AppError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(AppError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class TooManyRequests(AppError):
    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int):
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class Invalid(AppError):
    """A 422 that names the field(s) at fault."""

    status, slug, title = 422, "validation", "Invalid request"

    def __init__(self, loc: Sequence[str | int], msg: str):
        self.errors = [{"loc": list(loc), "msg": msg}]
        super().__init__(f"{_dotted(loc)}: {msg}")


def _dotted(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc)


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_TYPE)


_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def _clean_msg(msg: str) -> str:
    # Pydantic prefixes custom errors with "Value error, "; users need only the reason.
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def validation_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    items = []
    for error in exc.errors():
        loc = [part for part in error.get("loc", ()) if isinstance(part, str | int)]
        if error.get("type") == "json_invalid":
            loc = ["body"]
            msg = "Malformed JSON: " + str(error.get("ctx", {}).get("error", "cannot be parsed"))
        else:
            msg = _clean_msg(str(error.get("msg", "invalid")))
        items.append({"loc": loc, "msg": msg})
    return items


def answer(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error as problem+json; to htmx and browsers, as HTML they can show."""
    from app.web.htmx import wants_html  # the web layer negotiates and renders

    if wants_html(request.headers):
        from app.web.errors import html_error

        return html_error(request, status, title, detail, errors=errors or [], headers=headers)
    return problem_response(status, title, detail, slug=slug, errors=errors, headers=headers)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    errors = getattr(exc, "errors", None)
    return answer(
        request,
        exc.status,
        exc.title,
        exc.detail,
        slug=exc.slug,
        errors=errors,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    items = validation_items(exc)
    detail = "; ".join(f"{_dotted(i['loc'])}: {i['msg']}" for i in items) or "Invalid request"
    return answer(request, 422, "Invalid request", detail, slug="validation", errors=items)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI answers a body that is not UTF-8 with a bare 400; JSON must be UTF-8
        # (RFC 8259), so it is malformed JSON like any other: a 422 naming the body.
        items: list[dict[str, Any]] = [{"loc": ["body"], "msg": "Malformed JSON: not UTF-8"}]
        detail = "body: Malformed JSON: not UTF-8"
        return answer(request, 422, "Invalid request", detail, slug="validation", errors=items)
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("error", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return answer(request, exc.status_code, title, detail, slug=slug, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method the path answers to (RFC 9110 §15.5.6). Starlette lists only those of
    the first route whose path matched, e.g. GET but not POST on /api/v1/interviews."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    literal: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        pattern = getattr(route, "path_regex", None)
        if route.methods and pattern is not None and pattern.match(path):
            methods |= route.methods
            if "{" not in getattr(route, "path", "{"):
                literal |= route.methods
    # A path spelled out by a route is that route's (/api/v1/interviews/import-invite), not
    # an id of a route with a parameter (/api/v1/interviews/{interview_id}).
    return ", ".join(sorted(literal or methods))


async def _integrity_error(request: Request, exc: Exception) -> Response:
    # A unique constraint lost a race (two registrations of one email, one Idempotency-Key
    # used twice at once): the check before it passed, the database had the last word.
    log.warning("integrity error: %s", exc.__class__.__name__)
    return answer(
        request,
        409,
        "Conflict",
        "This conflicts with a change made at the same time; retry.",
        slug="conflict",
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Log the cause for the operator; the client learns nothing about the internals.
    log.exception("unhandled error", exc_info=exc)
    return answer(
        request,
        500,
        "Internal server error",
        "Something went wrong on our side.",
        slug="internal",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unexpected)


_DESCRIPTIONS = {
    400: "Bad request.",
    401: "Not signed in, or the token is unknown or revoked.",
    403: "Refused: a cross-site request, a missing CSRF token, or not allowed.",
    404: "No such object (or it belongs to someone else).",
    405: "Method not allowed.",
    409: "Conflicts with what exists.",
    412: "If-Match is stale: the object changed since it was read.",
    413: "The body is larger than this endpoint takes: 1 MB, 10 MB for an import, 2 MB for "
    "a CSV (by default; the detail names the limit).",
    422: "Invalid input; `errors` names each field.",
    429: "Too many attempts; see Retry-After.",
    500: "Unexpected error.",
    503: "The database does not answer.",
}


def describe(code: int) -> str:
    return _DESCRIPTIONS[code]


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, as problem+json."""
    return {
        code: {
            "model": Problem,
            "description": _DESCRIPTIONS[code],
            "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }
