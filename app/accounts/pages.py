"""The pages before signing in: sign in, register, ask for a reset link, set a new password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.accounts import repository as accounts
from app.config import Registration
from app.deps import OptionalUser, SessionDep, SettingsDep
from app.web.templating import render

router = APIRouter(include_in_schema=False)


async def _may_register(
    session: SessionDep, registration: Registration, invite: str | None
) -> bool:
    if not await accounts.any_user(session):
        return True
    return registration is Registration.OPEN or bool(invite)


@router.get("/login")
async def login_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    if user is not None:
        return RedirectResponse("/", status_code=303)
    if not await accounts.any_user(session):
        return RedirectResponse("/register", status_code=303)  # an empty instance: the admin
    can_register = await _may_register(session, settings.registration, None)
    return render(request, "auth/login.html", can_register=can_register)


@router.get("/register")
async def register_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    invite: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    if user is not None:
        return RedirectResponse("/", status_code=303)
    if not await _may_register(session, settings.registration, invite):
        return render(
            request,
            "shared/error_page.html",
            status=403,
            title="Registration needs an invite",
            detail="Ask the admin of this Followup for an invite link.",
        )
    first = not await accounts.any_user(session)
    return render(request, "auth/register.html", first=first, invite=invite)


@router.get("/forgot-password")
async def forgot_password_page(request: Request, settings: SettingsDep) -> Response:
    """Ask for a reset link by email; without outgoing mail, the admin hands one out."""
    return render(request, "auth/forgot_password.html", email_on=bool(settings.smtp_host))


@router.get("/reset-password")
async def reset_password_page(
    request: Request, token: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """Where a password-reset link (emailed, or handed over by the admin) leads."""
    return render(request, "auth/reset_password.html", token=token)
