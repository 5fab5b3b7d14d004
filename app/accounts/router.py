"""HTTP for accounts: register, sign in and out, API tokens (the user's own settings are
app/me)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request, Response

from app.accounts import service as auth
from app.accounts.models import User
from app.accounts.schemas import LoginIn, LoginOut, RegisterIn, TokenCreate, TokenCreated, TokenRead
from app.config import Settings
from app.deps import (
    SESSION_COOKIE,
    CurrentUser,
    Now,
    SessionDep,
    SessionOrPasswordUser,
    SettingsDep,
    TokenId,
    client_address,
    get_settings,
)
from app.errors import problems
from app.me import service as profile
from app.me.schemas import UserRead
from app.me.views import TOKENS, settings_context
from app.web.htmx import HtmxDep, respond
from app.web.responses import created, json_response
from app.web.templating import render

router = APIRouter(prefix="/api/v1", responses=problems(500))


@router.post(
    "/auth/register",
    operation_id="register",
    tags=["auth"],
    status_code=201,
    response_model=UserRead,
    responses={**created("Your account; `Location` is `/api/v1/me`."), **problems(403, 409, 422)},
    summary="Create an account",
    description="The first account on an instance becomes its admin. After that, "
    "`FOLLOWUP_REGISTRATION` decides: `open`, `invite` (an `invite_code` is needed) or `closed`.",
)
async def register(
    data: RegisterIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    user = await auth.register(
        session,
        settings=settings,
        email=data.email,
        password=data.password,
        display_name=data.display_name,
        invite_code=data.invite_code,
        now=now,
        timezone=data.timezone,
    )
    read = profile.to_read(user, get_settings(request))
    response = json_response(
        read,
        status=201,
        headers={"Location": "/api/v1/me", "ETag": profile.etag(read)},
    )
    if htmx.request:
        # Signing up in the browser signs you in, and on to Today.
        started = await auth.start_session(session, user=user, days=settings.session_days, now=now)
        response = Response(status_code=201, headers={"HX-Redirect": "/"})
        _set_session_cookie(response, request, settings, started)
    return response


@router.post(
    "/auth/login",
    operation_id="login",
    tags=["auth"],
    response_model=LoginOut,
    responses=problems(401, 403, 422, 429),
    summary="Sign in with a web session cookie",
    description="Sets the HttpOnly session cookie and returns the CSRF token that unsafe "
    "cookie-authenticated requests must send as `X-CSRF-Token`. Failed attempts are "
    "throttled per account and per address (429 with Retry-After).",
)
async def login(
    data: LoginIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    user = await auth.authenticate(
        session,
        throttle=request.app.state.login_throttle,
        email=data.email,
        password=data.password,
        address=client_address(request),
    )
    user = await profile.adopt_browser_timezone(session, user=user, timezone=data.timezone, now=now)
    started = await auth.start_session(session, user=user, days=settings.session_days, now=now)
    if htmx.request:
        response = Response(status_code=200, headers={"HX-Redirect": next_page(request)})
    else:
        response = json_response(
            LoginOut(
                user=profile.to_read(user, get_settings(request)), csrf_token=started.csrf_token
            ),
        )
    _set_session_cookie(response, request, settings, started)
    return response


def _set_session_cookie(
    response: Response, request: Request, settings: Settings, started: auth.NewSession
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        started.cookie_value,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or settings.base_url.startswith("https://"),
        path="/",
    )


def next_page(request: Request) -> str:
    """Where to go after signing in: the page that sent you to /login, if it is ours."""
    query = urlsplit(request.headers.get("hx-current-url", "")).query
    target = parse_qs(query).get("next", ["/"])[0]
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.post(
    "/auth/logout",
    operation_id="logout",
    tags=["auth"],
    status_code=204,
    response_class=Response,
    responses=problems(401, 403),
    summary="Sign out (ends the web session)",
    description="Ends the web session the cookie belongs to and clears the cookie. "
    "With a bearer token it only answers 204: revoke a token with "
    "`DELETE /api/v1/tokens/{token_id}`.",
)
async def logout(
    request: Request, session: SessionDep, user: CurrentUser, htmx: HtmxDep
) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and getattr(request.state, "web_session", None) is not None:
        await auth.end_session(session, cookie_value=cookie)
    response = Response(status_code=204)
    if htmx.request:
        response.headers["HX-Redirect"] = "/login"
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.post(
    "/tokens",
    operation_id="create_token",
    tags=["tokens"],
    status_code=201,
    response_model=TokenCreated,
    responses={**created(), **problems(401, 403, 422, 429)},
    summary="Create a personal API token",
    description="Authenticate with the web session or HTTP Basic (email:password). "
    "The `token` is shown only in this response; only its hash is stored.",
)
async def create_token(
    request: Request,
    data: TokenCreate,
    session: SessionDep,
    user: SessionOrPasswordUser,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    api_token, secret = await auth.create_token(session, user=user, name=data.name, now=now)
    body = TokenCreated(
        id=api_token.id, name=api_token.name, created_at=api_token.created_at, token=secret
    )
    headers = {"Location": f"/api/v1/tokens/{api_token.id}"}
    if not htmx.html:
        return json_response(body, status=201, headers=headers)
    # The Settings page: the secret, this once, above the list.
    return await _tokens_section(request, session, user, status=201, headers=headers, created=body)


@router.get(
    "/tokens",
    operation_id="list_tokens",
    tags=["tokens"],
    response_model=list[TokenRead],
    responses=problems(401),
    summary="List your API tokens (never their secrets)",
    description="Each token's `id`, `name`, `created_at` and `last_used_at`, oldest first. The "
    "secret itself is shown only once, when the token is created.",
)
async def list_tokens(
    request: Request, session: SessionDep, user: CurrentUser, htmx: HtmxDep
) -> Response:
    return respond(request, htmx, auth.token_reads(await auth.list_tokens(session, user=user)))


@router.delete(
    "/tokens/{token_id}",
    operation_id="revoke_token",
    tags=["tokens"],
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404),
    summary="Revoke an API token",
    description="The token stops working at once, for every request that carries it, "
    "the current one's next request included. Another user's token is a 404.",
)
async def revoke_token(
    request: Request, token_id: TokenId, session: SessionDep, user: CurrentUser, htmx: HtmxDep
) -> Response:
    await auth.revoke_token(session, user=user, token_id=token_id)
    if not htmx.html:
        return Response(status_code=204)
    # htmx swaps nothing on a 204, so the page gets the list without the revoked token.
    return await _tokens_section(request, session, user, revoked=True)


async def _tokens_section(
    request: Request,
    session: SessionDep,
    user: User,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    tokens = auth.token_reads(await auth.list_tokens(session, user=user))
    return render(
        request,
        TOKENS,
        status=status,
        headers={**(headers or {})},
        tokens=tokens,
        **settings_context(profile.to_read(user, get_settings(request))),
        **context,
    )
