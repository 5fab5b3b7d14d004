"""The hot paths answered before FastAPI's routing. On Postgres, the hot reads: the
follow-ups list, one interview and `/me`, as JSON to an API token; and Today (`GET /`), the
page or its htmx fragment, to a signed-in browser. On every database, the hot write: a new
interview (`POST /api/v1/interviews`) sent as JSON with an API token (FastCreate, below).

Each costs one statement on a pooled asyncpg connection (the token's user joined into it,
app.accounts.reads) and one orjson serialisation: no session, no dependency solving, no model
per row (measured with bench/hotpath.py; issue 13). Anything else about the request — HTML
or htmx, a cookie, another auth scheme, a parameter this layer does not parse, an unknown
token, a missing object — goes on to the general path, which answers it as always (its
4xx included), so this layer never decides an error. The routes stay declared in the
routers, for the OpenAPI document and for everything this layer passes on."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, cast
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import clock
from app.accounts import reads as auth_reads
from app.accounts import service as auth_service
from app.accounts.models import User
from app.config import Settings
from app.db import Driver, driver_connection
from app.deps import SESSION_COOKIE
from app.errors import AppError
from app.followups import reads as followup_reads
from app.followups import today as today_service
from app.followups.schedule import DueState, Kind, Status
from app.interviews import reads as interview_reads
from app.interviews import service as interview_service
from app.interviews.router import created_response
from app.interviews.schemas import InterviewCreate
from app.me import service as profile
from app.web.htmx import is_htmx, wants_html
from app.web.templating import render
from app.wire import parse_keyset_cursor

JSON = "application/json"
# A read for one request: the answer, or None for the general path (an unknown token, a
# missing object).
Read = Callable[[Driver, str, datetime], Awaitable[Response | None]]

_INTERVIEW = re.compile(r"/api/v1/interviews/([0-9A-Fa-f-]{32,36})")
_LIST_PARAMS = frozenset({"due_state", "status", "kind", "interview_id", "limit", "cursor"})


class _GeneralPath(Exception):
    """This request is for the general path (a parameter to validate, an error to answer)."""


def _enum_value(values: frozenset[str], value: str | None) -> str | None:
    if value is not None and value not in values:
        raise _GeneralPath
    return value


_DUE_STATES = frozenset(s.value for s in DueState)
_STATUSES = frozenset(s.value for s in Status)
_KINDS = frozenset(k.value for k in Kind)


def _list_query(query: dict[str, str]) -> dict[str, Any]:
    """The list's parameters as the general path reads them, when they are plainly valid."""
    if not query.keys() <= _LIST_PARAMS:
        raise _GeneralPath
    limit_text = query.get("limit", "50")
    if not (limit_text.isascii() and limit_text.isdigit() and 1 <= int(limit_text) <= 200):
        raise _GeneralPath
    filters: dict[str, Any] = {}
    if (status := _enum_value(_STATUSES, query.get("status"))) is not None:
        filters["status"] = status
    if (kind := _enum_value(_KINDS, query.get("kind"))) is not None:
        filters["kind"] = kind
    if "interview_id" in query:
        filters["interview_id"] = _uuid(query["interview_id"])
    after = None
    if (cursor := query.get("cursor")) is not None:
        if len(cursor) > 500:
            raise _GeneralPath
        try:
            after = parse_keyset_cursor(cursor)
        except AppError:
            raise _GeneralPath from None  # not a cursor this API wrote: the general path says so
    due_state = _enum_value(_DUE_STATES, query.get("due_state"))
    return {
        "due_state": None if due_state is None else DueState(due_state),
        "filters": filters,
        "after": after,
        "limit": int(limit_text),
    }


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _GeneralPath from None


def _followups(query: dict[str, str]) -> Read:
    params = _list_query(query)
    limit = params.pop("limit")

    async def read(driver: Driver, token_hash: str, now: datetime) -> Response | None:
        viewer, rows = await followup_reads.page_rows(
            driver, token_hash, **params, limit=limit + 1, now=now
        )
        if viewer is None:
            return None
        await auth_reads.record_use(driver, viewer, now)
        return Response(followup_reads.page_json(rows, limit, now), media_type=JSON)

    return read


def _interview(interview_id: uuid.UUID) -> Read:
    async def read(driver: Driver, token_hash: str, now: datetime) -> Response | None:
        found = await interview_reads.interview_row(driver, token_hash, interview_id)
        if found is None:
            return None
        viewer, row = found
        await auth_reads.record_use(driver, viewer, now)
        body, etag = interview_reads.interview_json(row, now)
        return Response(body, media_type=JSON, headers={"ETag": etag})

    return read


def _me(settings: Settings) -> Read:
    async def read(driver: Driver, token_hash: str, now: datetime) -> Response | None:
        found = await auth_reads.user_for_token(driver, token_hash)
        if found is None:
            return None
        viewer, user = found
        await auth_reads.record_use(driver, viewer, now)
        me = profile.to_read(user, settings)  # one model: not worth a hand-made dict
        return Response(me.model_dump_json(), media_type=JSON, headers={"ETag": profile.etag(me)})

    return read


def _declared(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes as declared, inside FastAPI's wrappers of included routers."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _declared(included.routes)
        else:
            yield route


class FastReads:
    """Answers the hot reads it can, and passes every other request on, untouched."""

    def __init__(self, app: ASGIApp, *, application: FastAPI) -> None:
        self.app = app
        self.application = application
        self.routes: dict[str, BaseRoute] = {}
        self.page_routes: dict[str, BaseRoute | None] = {}

    def _route(self, operation_id: str) -> BaseRoute | None:
        """The router's route of an operation: the metrics label requests by its path."""
        if not self.routes:
            self.routes = {
                getattr(route, "operation_id", None) or "": route
                for route in _declared(self.application.routes)
            }
        return self.routes.get(operation_id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            response = await self._answer(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope) -> Response | None:
        path = scope["path"]
        if path == "/":
            return await self._today(scope)
        match = None
        if path not in ("/api/v1/followups", "/api/v1/me"):
            match = _INTERVIEW.fullmatch(path)
            if match is None:
                return None
        headers = Headers(scope=scope)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token or wants_html(headers):
            return None
        if self.application.dependency_overrides:
            return None  # tests that replace a dependency see it used
        pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        query = dict(pairs)
        if len(query) != len(pairs) or not all(query.values()):
            return None
        try:
            if match is not None:
                operation, read = "get_interview", _interview(_uuid(match.group(1)))
            elif path == "/api/v1/me":
                operation, read = "get_me", _me(self.application.state.settings)
            else:
                operation, read = "list_followups", _followups(query)
        except _GeneralPath:
            return None
        now = clock.now()
        async with driver_connection(self.application.state.engine) as driver:
            response = await read(driver, auth_service.hash_secret(token), now)
        if response is not None:
            scope["route"] = self._route(operation)
        return response

    async def _today(self, scope: Scope) -> Response | None:
        """Today, as app.followups.pages.today_page renders it, for a plain `GET /` with a session
        cookie and no other credentials; the general path answers anything else (no
        session, an ended one: its redirect to sign in)."""
        headers = Headers(scope=scope)
        if scope["query_string"] or "authorization" in headers:
            return None
        cookie = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
        if not cookie or self.application.dependency_overrides:
            return None
        now = clock.now()
        async with driver_connection(self.application.state.engine) as driver:
            found = await auth_reads.user_for_session(driver, auth_service.hash_secret(cookie), now)
            if found is None:
                return None
            user, web_session = found
            rows = await followup_reads.today_rows(
                driver, user.id, now=now, **today_service.today_params(user, now)
            )
        today = today_service.from_rows(rows, user=user, now=now)
        fragment = is_htmx(headers) and headers.get("hx-history-restore-request") != "true"
        request = Request(scope)
        request.state.user = user
        request.state.web_session = web_session
        scope["route"] = self._page_route("/")
        return render(
            request,
            "followups/_today.html" if fragment else "followups/today_page.html",
            today=today,
            snooze_tomorrow=today_service.snooze_until_tomorrow(user, now),
        )

    def _page_route(self, path: str) -> BaseRoute | None:
        """A page's route by its path (pages have no operation id), for the metrics."""
        if path not in self.page_routes:
            self.page_routes[path] = next(
                (r for r in _declared(self.application.routes) if getattr(r, "path", "") == path),
                None,
            )
        return self.page_routes[path]


CREATE_PATH = "/api/v1/interviews"


def _replayed(body: bytes, receive: Receive) -> Receive:
    """`receive` for the general path once the body was read here: the body, then whatever
    comes next (a disconnect)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _GeneralPath  # the client left: the general path sees the same
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class FastCreate:
    """Records a new interview for an API token sending JSON, without FastAPI's routing,
    dependency solving and body parsing (issue 13's T7), and passes every other request on.

    What a create does is the general path's: the token's user (on Postgres as the hot reads
    find it, app.accounts.reads), the body validated by the route's own model
    (InterviewCreate), the rows made, inserted and announced by interviews.service.create in
    one transaction (committed before the answer is sent), and the answer of the route
    (interviews.router.created_response); tests/test_fastpath.py compares the two answers
    byte for byte. Anything else — htmx or HTML, an Idempotency-Key,
    another media type, a body or a token the general path would refuse, an error of the
    service — goes on to the general path (with the body as it came), which answers it as
    always: this layer never decides an error."""

    def __init__(self, app: ASGIApp, *, application: FastAPI) -> None:
        self.app = app
        self.application = application
        self.route: BaseRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = None
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == CREATE_PATH:
            token = self._token(Headers(scope=scope))
        if token is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await _body(receive)
        except _GeneralPath:
            await self.app(scope, receive, send)
            return
        response = await self._create(token, body)
        if response is None:
            await self.app(scope, _replayed(body, receive), send)
            return
        scope["route"] = self._route()
        await response(scope, receive, send)

    def _token(self, headers: Headers) -> str | None:
        """The API token of a request this layer answers, else None."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        media = headers.get("content-type", "").partition(";")[0].strip().lower()
        if (
            scheme.lower() != "bearer"
            or not token
            or media != JSON
            or "idempotency-key" in headers
            or wants_html(headers)
            or self.application.dependency_overrides  # tests that replace one see it used
        ):
            return None
        return token

    async def _create(self, token: str, body: bytes) -> Response | None:
        try:
            data = InterviewCreate.model_validate(orjson.loads(body))
        except (orjson.JSONDecodeError, ValidationError):
            return None  # the general path says what is wrong
        now = clock.now()
        async with self.application.state.sessionmaker() as session:
            user = await self._user(session, token, now)
            if user is None:
                return None  # unknown or revoked: the general path's 401
            try:
                bundle = await interview_service.create(session, user=user, data=data, now=now)
            except (AppError, IntegrityError):
                await session.rollback()
                return None  # e.g. an invite recorded already: the general path's 409
            await session.commit()
        return created_response(bundle, now)

    @staticmethod
    async def _user(session: AsyncSession, token: str, now: datetime) -> User | None:
        """The token's active user, its use recorded. On Postgres as the hot reads find it
        (app.accounts.reads: one statement on the session's own connection, no ORM load),
        else as the general path does (accounts.service.user_for_token)."""
        if session.get_bind().dialect.name != "postgresql":
            return await auth_service.user_for_token(session, token=token, now=now)
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver = cast(Driver, raw.driver_connection)
        found = await auth_reads.user_for_token(driver, auth_service.hash_secret(token))
        if found is None:
            return None
        viewer, user = found
        await auth_reads.record_use(driver, viewer, now)
        return user

    def _route(self) -> BaseRoute | None:
        """The router's route, for the metrics' label."""
        if self.route is None:
            self.route = next(
                (
                    r
                    for r in _declared(self.application.routes)
                    if getattr(r, "operation_id", None) == "create_interview"
                ),
                None,
            )
        return self.route
