"""Today and a follow-up's page: full-page shells of the fragments the API answers to htmx
(on Postgres, Today is usually answered before routing: app/web/fastpath.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.deps import CurrentUser, FollowupId, Now, SessionDep
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


@router.get("/followups/{followup_id}")
async def followup_page(
    request: Request, followup_id: FollowupId, session: SessionDep, user: CurrentUser, now: Now
) -> Response:
    row = await followups.get(session, user=user, followup_id=followup_id)
    can_send = await followups.can_send(session, user=user)
    return render(
        request, "followups/page.html", followup=followups.to_read(row, now), can_send=can_send
    )
