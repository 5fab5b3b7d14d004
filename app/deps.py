"""Request dependencies: the transaction, the clock, the settings and the signed-in user."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import APIKeyCookie, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from fastapi.security.http import HTTPAuthorizationCredentials
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.accounts import service as auth_service
from app.accounts.models import User, WebSession
from app.config import Settings
from app.db import session_scope
from app.errors import Forbidden, NotFound, Unauthorized
from app.web import csrf

SESSION_COOKIE = "followup_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    sessionmaker = state.sessionmaker
    if request.method in SAFE_METHODS:
        sessionmaker = getattr(state, "read_sessionmaker", sessionmaker)
    async for session in session_scope(sessionmaker):
        yield session


# The transaction ends with the handler, so the connection is back in the pool before the
# response is sent (measured: a request-scoped session doubled p99).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_now() -> datetime:
    return clock.now()


Now = Annotated[datetime, Depends(get_now)]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _settings(request: Request) -> Settings:
    return get_settings(request)


SettingsDep = Annotated[Settings, Depends(_settings)]

# Dependencies here are `async def` even when they do not await: FastAPI runs a plain `def`
# dependency in the thread pool, a thread hop per dependency per request (measured: ~6 % of
# E1's CPU with three of them).

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A personal API token: `Authorization: Bearer fu_…` (POST /api/v1/tokens).",
)
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The web session cookie (POST /api/v1/auth/login). Unsafe methods also "
    "need the CSRF token in the X-CSRF-Token header or a csrf_token form field.",
)
basic_scheme = HTTPBasic(
    auto_error=False,
    scheme_name="password",
    description="HTTP Basic with your email and password; only to create a token.",
)


async def _csrf_ok(request: Request, web_session: WebSession) -> bool:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get("csrf_token")
        sent = value if isinstance(value, str) else None
    return sent is not None and csrf.matches(sent, web_session.csrf_token)


async def _user_from_credentials(
    request: Request,
    session: AsyncSession,
    now: datetime,
    token: HTTPAuthorizationCredentials | None,
    cookie: str | None,
) -> User | None:
    if token is not None:
        user = await auth_service.user_for_token(session, token=token.credentials, now=now)
        if user is None:
            raise Unauthorized("The API token is unknown or revoked.")
        return user
    if request.headers.get("authorization"):
        raise Unauthorized("Use `Authorization: Bearer <token>`.")
    if cookie:
        found = await auth_service.user_for_session(session, cookie_value=cookie, now=now)
        if found is None:
            raise Unauthorized("Your session has ended; sign in again.")
        user, web_session = found
        if request.method not in SAFE_METHODS and not await _csrf_ok(request, web_session):
            raise Forbidden("Missing or wrong CSRF token (send it as X-CSRF-Token).")
        request.state.web_session = web_session
        return user
    return None


async def current_user(
    request: Request,
    session: SessionDep,
    now: Now,
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> User:
    user = await _user_from_credentials(request, session, now, token, cookie)
    if user is None:
        raise Unauthorized("Sign in, or send `Authorization: Bearer <token>`.")
    request.state.user = user  # pages show times in the user's time zone
    return user


async def optional_user(
    request: Request,
    session: SessionDep,
    now: Now,
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> User | None:
    """The signed-in browser's user, or None (sign-in pages)."""
    if not cookie:
        return None
    found = await auth_service.user_for_session(session, cookie_value=cookie, now=now)
    if found is None:
        return None
    request.state.user, request.state.web_session = found
    return found[0]


OptionalUser = Annotated[User | None, Depends(optional_user)]


CurrentUser = Annotated[User, Depends(current_user)]


async def user_by_session_or_password(
    request: Request,
    session: SessionDep,
    now: Now,
    cookie: Annotated[str | None, Depends(cookie_scheme)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(basic_scheme)],
) -> User:
    """Token creation: a signed-in browser, or HTTP Basic email:password."""
    if basic is None and request.headers.get("authorization"):
        # A token cannot make tokens; say what can.
        raise Unauthorized("Use HTTP Basic with your email and password, or sign in.", basic=True)
    if basic is not None:
        user = await auth_service.authenticate(
            session,
            throttle=request.app.state.login_throttle,
            email=basic.username,
            password=basic.password,
            address=client_address(request),
            basic_challenge=True,
        )
    else:
        found = await _user_from_credentials(request, session, now, None, cookie)
        if found is None:
            raise Unauthorized(
                "Sign in, or use HTTP Basic with your email and password.", basic=True
            )
        user = found
    request.state.user = user  # the Settings page shows the new token's time in the user's zone
    return user


SessionOrPasswordUser = Annotated[User, Depends(user_by_session_or_password)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def object_id(value: str) -> uuid.UUID:
    """An id from a path: malformed is the same as unknown, a 404."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("No such object.") from None


async def _interview_id(
    interview_id: Annotated[str, Path(description="The interview's id (a UUID).")],
) -> uuid.UUID:
    return object_id(interview_id)


async def _followup_id(
    followup_id: Annotated[str, Path(description="The follow-up's id (a UUID).")],
) -> uuid.UUID:
    return object_id(followup_id)


async def _token_id(
    token_id: Annotated[str, Path(description="The token's id (a UUID).")],
) -> uuid.UUID:
    return object_id(token_id)


InterviewId = Annotated[uuid.UUID, Depends(_interview_id)]
FollowupId = Annotated[uuid.UUID, Depends(_followup_id)]
TokenId = Annotated[uuid.UUID, Depends(_token_id)]

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1000,
        description="The ETag you read; a stale one is a 412 and changes nothing.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size (1-200).")]
Cursor = Annotated[
    str | None,
    Query(max_length=500, description="`next_cursor` of the previous page."),
]
