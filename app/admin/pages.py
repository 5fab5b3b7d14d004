"""The admin page: members and invites, as one shell around the fragments the API renders."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.admin import service
from app.admin.deps import AdminUser
from app.admin.router import PAGE
from app.deps import Now, SessionDep, SettingsDep
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin")
async def admin_page(
    request: Request, session: SessionDep, settings: SettingsDep, admin: AdminUser, now: Now
) -> Response:
    return render(
        request,
        "admin/page.html",
        members=await service.list_members(session, limit=PAGE, cursor=None),
        invites=await service.list_invites(session, limit=PAGE, cursor=None, now=now),
        registration=settings.registration.value,
        email_on=bool(settings.smtp_host),
    )
