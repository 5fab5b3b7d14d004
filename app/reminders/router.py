"""HTTP for password resets: ask for a link by email, then set a new password with it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.deps import Now, SessionDep, SettingsDep
from app.errors import problems
from app.reminders import service
from app.reminders.schemas import PasswordResetConfirm, PasswordResetIn
from app.web.htmx import HtmxDep
from app.web.templating import render

router = APIRouter(prefix="/api/v1", responses=problems(500))


@router.post(
    "/auth/password-reset",
    operation_id="request_password_reset",
    tags=["auth"],
    status_code=202,
    response_class=Response,
    responses={
        202: {"description": "Accepted: a link is emailed if the account exists."},
        **problems(403, 422),
    },
    summary="Email a password-reset link",
    description="Always 202, whether or not an account has this email (so it tells nobody "
    "which emails have accounts). A known, active account gets a link that works once, "
    "for one hour.",
)
async def request_password_reset(
    request: Request,
    data: PasswordResetIn,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    await service.request_password_reset(session, settings=settings, email=data.email, now=now)
    if htmx.request:
        # The /forgot-password page: the same words whether or not the account exists.
        return render(
            request,
            "auth/_reset_requested.html",
            status=202,
            email=data.email,
        )
    return Response(status_code=202)


@router.post(
    "/auth/password-reset/confirm",
    operation_id="confirm_password_reset",
    tags=["auth"],
    status_code=204,
    response_class=Response,
    responses=problems(403, 422),
    summary="Set a new password with a reset link's token",
    description="Sets the password, signs out every web session of the account and uses up "
    "the token. An unknown, used or expired token is a 422 naming `token`.",
)
async def confirm_password_reset(
    data: PasswordResetConfirm, session: SessionDep, now: Now, htmx: HtmxDep
) -> Response:
    await service.reset_password(session, token=data.token, password=data.password, now=now)
    response = Response(status_code=204)
    if htmx.request:
        # The /reset-password page: on to signing in with the new password.
        response.headers["HX-Redirect"] = "/login"
    return response
