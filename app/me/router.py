"""HTTP for the user's own settings (/api/v1/me): profile, time zone, policy, templates,
notifications; changing the password and deleting the account, which app/accounts does."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.accounts import service as auth
from app.accounts.schemas import AccountDelete, PasswordChange
from app.deps import (
    SESSION_COOKIE,
    CurrentUser,
    IfMatch,
    Now,
    SessionDep,
    client_address,
    get_settings,
)
from app.errors import problems
from app.me import service as profile
from app.me.schemas import MeUpdate, UserRead
from app.me.views import ACCOUNT, SAVED_ONLY, SECTIONS, settings_context
from app.web.htmx import HtmxDep, respond
from app.web.templating import render

router = APIRouter(prefix="/api/v1", responses=problems(500))


@router.get(
    "/me",
    operation_id="get_me",
    tags=["me"],
    response_model=UserRead,
    responses=problems(401),
    summary="Your profile and settings",
    description="Your profile: display name, `timezone` (IANA), `policy` (when follow-ups "
    "are due), `templates` (the drafts' text, null for the default), `notifications` and "
    "the read-only `calendar_url`. Send the `ETag` back as `If-Match` on `PATCH /api/v1/me`.",
)
async def get_me(request: Request, user: CurrentUser, htmx: HtmxDep) -> Response:
    read = profile.to_read(user, get_settings(request))
    return respond(request, htmx, read, headers={"ETag": profile.etag(read)})


@router.patch(
    "/me",
    operation_id="update_me",
    tags=["me"],
    response_model=UserRead,
    responses=problems(401, 403, 412, 422),
    summary="Change your profile, time zone, policy, templates or notifications",
    description="A merge-patch: `policy`, `templates` and `notifications` merge key by key "
    "(RFC 7396) and null puts back a default. Changing the time zone or the policy "
    "recomputes your scheduled follow-ups (snoozed ones excepted); changing a template "
    "regenerates every draft you have not edited. An unknown placeholder is a 422.",
)
async def update_me(
    request: Request,
    data: MeUpdate,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
    if_match: IfMatch = None,
) -> Response:
    user = await profile.patch_me(
        session, user=user, patch=data, now=now, if_match=if_match, settings=get_settings(request)
    )
    read = profile.to_read(user, get_settings(request))
    # To the Settings page: the section that was saved, re-rendered from what is now stored.
    return respond(
        request,
        htmx,
        read,
        SECTIONS.get(htmx.target or "", SAVED_ONLY),
        headers={"ETag": profile.etag(read)},
        saved=True,
        email_on=bool(get_settings(request).smtp_host),
        **settings_context(read),
    )


@router.post(
    "/me/password",
    operation_id="change_password",
    tags=["me"],
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 422, 429),
    summary="Change your password",
    description="Needs the current password (a wrong one is a 422 naming `current_password`, "
    "and counts as a failed sign-in: 429 when throttled). Every other web session of the "
    "account ends; the one making the request, and API tokens, stay.",
)
async def change_password(
    request: Request,
    data: PasswordChange,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    await auth.change_password(
        session,
        user=user,
        current_password=data.current_password,
        new_password=data.new_password,
        keep_session=getattr(request.state, "web_session", None),
        throttle=request.app.state.login_throttle,
        address=client_address(request),
        now=now,
    )
    if not htmx.html:
        return Response(status_code=204)
    return render(
        request,
        ACCOUNT,
        password_changed=True,
        **settings_context(profile.to_read(user, get_settings(request))),
    )


@router.delete(
    "/me",
    operation_id="delete_me",
    tags=["me"],
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 409, 422, 429),
    summary="Delete your account and all its data",
    description="Confirm with your password (a wrong one is a 422 naming `password`). Deletes "
    "the account, its interviews, follow-ups, tokens, webhooks, sessions and everything else "
    "it owns, at once and for good; download it first with `GET /api/v1/export`. The only "
    "admin of an instance with other members gets a 409: make another member admin first.",
)
async def delete_me(
    request: Request,
    data: AccountDelete,
    session: SessionDep,
    user: CurrentUser,
    htmx: HtmxDep,
) -> Response:
    await auth.delete_account(
        session,
        user=user,
        password=data.password,
        throttle=request.app.state.login_throttle,
        address=client_address(request),
    )
    response = Response(status_code=204)
    if htmx.request:
        response.headers["HX-Redirect"] = "/login"
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response
