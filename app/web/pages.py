"""Full-page shells: each renders the same fragments the API answers to htmx."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.auth import repository as accounts
from app.config import Registration
from app.deps import CurrentUser, FollowupId, Now, OptionalUser, SessionDep, SettingsDep
from app.followups import service as followups
from app.followups import today as today_service
from app.web.htmx import HtmxDep
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def today_page(
    request: Request, session: SessionDep, user: CurrentUser, now: Now, htmx: HtmxDep
) -> Response:
    """Today; to htmx (not restoring history) only its content, the #today section."""
    today = await today_service.today(session, user=user, now=now)
    return render(
        request,
        "followups/_today.html" if htmx.fragment else "followups/today_page.html",
        today=today,
        snooze_tomorrow=today_service.snooze_until_tomorrow(user, now),
    )


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


@router.get("/followups/{followup_id}")
async def followup_page(
    request: Request, followup_id: FollowupId, session: SessionDep, user: CurrentUser, now: Now
) -> Response:
    row = await followups.get(session, user=user, followup_id=followup_id)
    can_send = await followups.can_send(session, user=user)
    return render(
        request, "followups/page.html", followup=followups.to_read(row, now), can_send=can_send
    )
