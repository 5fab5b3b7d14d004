"""The Followup application: routers, error handlers, security guard, health and OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from sqlalchemy import text

from app import __version__, memory
from app.accounts.pages import router as accounts_pages_router
from app.accounts.router import router as accounts_router
from app.accounts.service import LoginThrottle
from app.admin.pages import router as admin_pages_router
from app.admin.router import router as admin_router
from app.admin.schemas import MemberRead
from app.body_limit import BodyLimit
from app.calendar.router import router as calendar_router
from app.config import Settings
from app.db import create_engine, create_read_sessionmaker, create_sessionmaker
from app.errors import PROBLEM_TYPE, describe, install_error_handlers, problems
from app.followups.pages import router as pages_router
from app.followups.router import router as followups_router
from app.followups.schemas import FollowupRead
from app.group.pages import router as group_pages_router
from app.group.router import router as group_router
from app.interviews.pages import router as interview_pages_router
from app.interviews.router import router as interviews_router
from app.interviews.schemas import InterviewRead
from app.logs import RequestLog
from app.mailbox.router import router as mailbox_router
from app.mailbox.schemas import MailboxRead
from app.me.pages import router as settings_pages_router
from app.me.router import router as me_router
from app.me.schemas import UserRead
from app.portability.csvfile import MAX_CSV_BYTES
from app.portability.pages import router as portability_pages_router
from app.portability.router import router as portability_router
from app.reminders.router import router as reminders_router
from app.web.compression import Compression
from app.web.fastpath import FastCreate, FastReads
from app.web.htmx import Negotiated
from app.web.security import CrossSiteGuard, SecurityHeaders
from app.web.templating import render
from app.webhooks import events as webhook_events
from app.webhooks.router import router as webhooks_router

STATIC_DIR = Path(__file__).resolve().parent / "static"

DESCRIPTION = """\
Followup makes sure you follow up after every job interview: a thank-you note to each
interviewer within 48 hours, and a polite status check about two weeks later (or once the
date they promised has passed) — drafted, scheduled and tracked.

**Getting started.** Register (`POST /api/v1/auth/register`), create a token with HTTP Basic
(`POST /api/v1/tokens`), then send `Authorization: Bearer <token>` with every call. Record an
interview (`POST /api/v1/interviews`) and its follow-ups come back with ready drafts; list
what is due with `GET /api/v1/followups?due_state=due`; mark one sent with
`PATCH /api/v1/followups/{id}` and `{"status": "sent"}`.

**Conventions.** JSON in and out; instants are RFC 3339 with an offset (written in UTC with
`Z`), dates are `YYYY-MM-DD`, both in the years 1900 to 2999; ids are UUIDs. Lists are
`{"items": [...], "next_cursor": ...}`. Errors are `application/problem+json` (RFC 9457)
and name the field at fault. Single objects carry a strong `ETag`; send it back as
`If-Match` to avoid overwriting a change (412 if stale). A `POST` with an `Idempotency-Key`
is safe to retry: a retry gets the first answer again (status, body, `Location`, `ETag`)
marked `Idempotent-Replayed: true`, and makes nothing twice; sent again while the first is
still running, it is a 409 with `Retry-After`. A 429 also says in `Retry-After` how many
seconds to wait. Request bodies are capped at 1 MB (10 MB for `POST /api/v1/import`, 2 MB for
`POST /api/v1/import/csv`): 413 beyond, before the body is read.

**Webhooks.** What Followup POSTs to the URLs you register is under `webhooks`: one entry per
event, with its body and headers. Every delivery is signed as Standard Webhooks specify
(`webhook-id`, `webhook-timestamp`, `webhook-signature`), so their libraries verify it.
"""

TAGS = [
    {"name": "auth", "description": "Accounts and web sessions."},
    {"name": "tokens", "description": "Personal API tokens for tools."},
    {"name": "me", "description": "Your profile, time zone, policy, templates, notifications."},
    {"name": "interviews", "description": "Interviews, the people met, and their outcome."},
    {"name": "followups", "description": "The emails to send: what is due, drafts, status."},
    {"name": "calendar", "description": "Your follow-ups in any calendar app."},
    {
        "name": "mailbox",
        "description": "Your own mailbox (IMAP and SMTP): Followup notices what went out and "
        "who replied, and sends a follow-up when asked.",
    },
    {
        "name": "data",
        "description": "All your data as one JSON document, back in, and interviews from CSV.",
    },
    {"name": "admin", "description": "Members and invites; admins only (403 to others)."},
    {
        "name": "group",
        "description": "The group's board (what each member chose to share) and the "
        "templates members share.",
    },
    {
        "name": "webhooks",
        "description": "URLs Followup POSTs events to (signed, retried, logged); the events "
        "themselves are under `webhooks` in this document.",
    },
    {"name": "health", "description": "For load balancers and container health checks."},
]

# Relative, so the document holds for any instance (and does not depend on settings).
SERVERS = [{"url": "/", "description": "This Followup instance, wherever it is served."}]

# Answers that carry a strong `ETag` of the object they hold (send it back as `If-Match`).
ETAGGED = (InterviewRead, FollowupRead, UserRead, MailboxRead, MemberRead)
REPLAYED_HEADER = "Idempotent-Replayed"


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str = Field(description="The running Followup version.", examples=[__version__])


def create_served_app() -> FastAPI:
    """The app as `followup serve` runs it, in each worker: create_app, and once it has
    started, the objects it started with set aside from the garbage collector's full
    collections (app/memory.py: a p99 tail measured in the hundreds of milliseconds)."""
    app = create_app()
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with started(application) as state:
            memory.freeze_startup_heap()
            yield state

    app.router.lifespan_context = lifespan
    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = create_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(
        title="Followup",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,  # served below from local files, under the pages' CSP
        redoc_url=None,
    )
    app.webhooks.include_router(webhook_events.documentation())
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.read_sessionmaker = create_read_sessionmaker(engine)
    app.state.login_throttle = LoginThrottle(settings)
    install_error_handlers(app)
    app.include_router(accounts_router)
    app.include_router(me_router)
    app.include_router(interviews_router)
    app.include_router(followups_router)
    app.include_router(calendar_router)
    app.include_router(reminders_router)
    app.include_router(webhooks_router)
    app.include_router(mailbox_router)
    app.include_router(portability_router)
    app.include_router(pages_router)
    app.include_router(accounts_pages_router)
    app.include_router(interview_pages_router)
    app.include_router(settings_pages_router)
    app.include_router(portability_pages_router)
    app.include_router(admin_router)
    app.include_router(admin_pages_router)
    app.include_router(group_router)
    app.include_router(group_pages_router)

    @app.get(
        "/healthz",
        operation_id="healthz",
        tags=["health"],
        summary="Is the service up and its database answering?",
        description="200 with the running version when the database answers a query, else "
        "503. Needs no authentication and writes nothing: for load balancers and "
        "container health checks.",
        response_model=Health,
        responses=problems(500, 503),
    )
    async def healthz(request: Request) -> JSONResponse:
        try:
            async with request.app.state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse(
                {
                    "type": "about:blank",
                    "title": "Service unavailable",
                    "status": 503,
                    "detail": "The database does not answer.",
                },
                status_code=503,
                media_type=PROBLEM_TYPE,
            )
        return JSONResponse({"status": "ok", "version": __version__})

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        return render(request, "docs.html")

    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    # Innermost: the hot paths' answers still pass through every layer below.
    app.add_middleware(FastCreate, application=app)
    if engine.dialect.name == "postgresql":
        app.add_middleware(FastReads, application=app)
    # Inside the other layers, so a 413 gets the security headers like any answer.
    app.add_middleware(
        BodyLimit,
        default=settings.body_limit_bytes,
        routes={
            ("POST", "/api/v1/import"): settings.import_body_limit_bytes,
            ("POST", "/api/v1/import/csv"): MAX_CSV_BYTES,
        },
    )
    app.add_middleware(CrossSiteGuard, base_url=settings.base_url)
    # Outside the fast path and the error handlers, so every answer says what it varies on.
    app.add_middleware(Negotiated)
    # Inside Metrics and RequestLog, so their durations include the compression's CPU (and
    # /metrics, answered by Metrics itself, stays plain for the scraper on the private network).
    app.add_middleware(Compression)
    app.add_middleware(SecurityHeaders)
    if settings.metrics:
        from app.metrics import Metrics  # prometheus_client is imported only when used

        app.add_middleware(Metrics, engine=engine)
    # Outermost: every line logged while a request runs carries its id.
    app.add_middleware(RequestLog, access=settings.access_log)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every error answered as problem+json and nothing else,
    and the response headers the routes send documented from what they declare."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        webhooks=app.webhooks.routes,
        tags=app.openapi_tags,
        servers=SERVERS,
    )
    etagged = {f"#/components/schemas/{model.__name__}" for model in ETAGGED}
    for path in schema["paths"].values():
        for operation in path.values():
            if "requestBody" in operation:
                operation["responses"].setdefault("413", {"description": describe(413)})
            idempotent = any(
                p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])
            )
            if idempotent:
                _document_in_flight_conflict(operation["responses"])
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {
                        PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }
                _document_headers(status, response, etagged=etagged, idempotent=idempotent)
    for item in schema.get("webhooks", {}).values():
        for operation in item.values():
            # Documentation of requests Followup sends: only the receiver's answers count.
            operation["responses"].pop("200", None)
            operation["responses"].pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema


def _document_headers(
    status: str, response: dict[str, Any], *, etagged: set[str], idempotent: bool
) -> None:
    """`ETag` on a success holding an object that has one, `Retry-After` on a 429, and the
    replay mark on the successes of a `POST` that takes an `Idempotency-Key`."""
    headers: dict[str, Any] = {}
    success = status.startswith("2")
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if success and schema.get("$ref") in etagged:
        headers["ETag"] = {
            "description": "The object's version: send it back as `If-Match` on a change.",
            "schema": {"type": "string"},
        }
    if success and idempotent:
        headers[REPLAYED_HEADER] = {
            "description": "`true` when this is the stored answer to an earlier request with "
            "the same `Idempotency-Key` (nothing was done again).",
            "schema": {"type": "string", "enum": ["true"]},
        }
    if status == "429":
        headers["Retry-After"] = {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    if headers:
        response["headers"] = {**response.get("headers", {}), **headers}


def _document_in_flight_conflict(responses: dict[str, Any]) -> None:
    """The 409 a duplicate gets while the first request with its Idempotency-Key runs."""
    conflict = responses.setdefault("409", {"description": ""})
    in_flight = (
        "A request with the same `Idempotency-Key` is still in progress: retry after "
        "`Retry-After` seconds to get its answer."
    )
    conflict["description"] = " ".join(filter(None, [conflict["description"], in_flight]))
    conflict["headers"] = {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
