"""The Group page: the board of momentum with its chart, and the shared templates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.deps import CurrentUser, Now, SessionDep
from app.group import service
from app.group.schemas import GroupBoard
from app.web.templating import render

router = APIRouter(include_in_schema=False)

TEMPLATES = "group/_templates.html"
WEEK_CHOICES = (4, 8, 12, 26)


@router.get("/group")
async def group_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    weeks: Annotated[int, Query(ge=1, le=service.MAX_WEEKS)] = service.DEFAULT_WEEKS,
) -> Response:
    board = await service.board(session, viewer=user, weeks=weeks, now=now)
    return render(
        request,
        "group/page.html",
        board=board,
        chart=chart_of(board),
        week_choices=WEEK_CHOICES,
        **(await templates_context(session, user)),
    )


async def templates_context(session: AsyncSession, user: User) -> dict[str, Any]:
    """What the shared-templates section shows: the list and who may publish."""
    return {
        "templates": await service.list_templates(session, viewer=user, limit=200, cursor=None),
        "group_settings": await service.settings(session, viewer=user),
    }


async def templates_section(
    request: Request, session: AsyncSession, user: User, *, status: int = 200, **context: Any
) -> Response:
    return render(
        request,
        TEMPLATES,
        status=status,
        **(await templates_context(session, user)),
        **context,
    )


def chart_of(board: GroupBoard) -> dict[str, Any]:
    """Bar geometry for the server-rendered SVG: per week, follow-ups sent on time (bottom)
    and late (stacked above), scaled to the tallest week."""
    width, height, gap = 640, 160, 10
    weeks = board.totals.weeks
    sent = [w.thank_yous_sent + w.check_ins_sent for w in weeks]
    on_time = [w.thank_yous_on_time + w.check_ins_on_time for w in weeks]
    top = max([*sent, 1])
    slot = width / max(len(weeks), 1)
    bars = []
    for index, week in enumerate(weeks):
        late = sent[index] - on_time[index]
        on_time_h = round(on_time[index] / top * (height - 20), 1)
        late_h = round(late / top * (height - 20), 1)
        x = round(index * slot + gap / 2, 1)
        bars.append(
            {
                "x": x,
                "width": round(slot - gap, 1),
                "on_time": on_time[index],
                "late": late,
                "on_time_y": round(height - on_time_h, 1),
                "on_time_h": on_time_h,
                "late_y": round(height - on_time_h - late_h, 1),
                "late_h": late_h,
                "starts_on": week.starts_on,
            }
        )
    return {"width": width, "height": height, "bars": bars, "top": top}
