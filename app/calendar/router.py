"""HTTP for the calendar feed: the .ics itself, and a new secret URL for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.calendar import service
from app.deps import CurrentUser, Now, SessionDep, SettingsDep
from app.errors import problems
from app.idempotency import REPLAYED, IdempotencyDep
from app.me import service as profile
from app.me.schemas import UserRead
from app.web.htmx import HtmxDep, respond
from app.web.responses import json_response
from app.wire import strong_etag

router = APIRouter()

ICS = "text/calendar; charset=utf-8"
FEED_ETAG = {
    "ETag": {
        "description": "The feed's version: send it as `If-None-Match` for a 304.",
        "schema": {"type": "string"},
    }
}


@router.get(
    "/calendar/{feed_token}.ics",
    operation_id="calendar_feed",
    tags=["calendar"],
    summary="Your scheduled follow-ups as an iCalendar feed",
    description="Subscribe to `calendar_url` (from `GET /api/v1/me`) in any calendar app: "
    "each scheduled follow-up is an event at its `not_before` with an alarm and a link to "
    "its draft, and upcoming interviews are events too. The URL is the secret: no other "
    "authentication. Polls are cheap: send `If-None-Match` with the last `ETag` for a 304.",
    responses={
        200: {
            "content": {"text/calendar": {"schema": {"type": "string"}}},
            "description": "The feed (RFC 5545).",
            "headers": FEED_ETAG,
        },
        304: {"description": "Not modified since the ETag you sent.", "headers": FEED_ETAG},
        **problems(404, 500),
    },
    response_class=Response,
)
async def calendar_feed(
    request: Request,
    feed_token: Annotated[str, Path(max_length=200, description="The secret of calendar_url.")],
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
) -> Response:
    user = await service.user_for_feed(session, feed_token, secret=settings.secret)
    body = await service.feed(session, user=user, base_url=settings.base_url, now=now)
    headers = {
        "ETag": strong_etag(body),
        "Cache-Control": "private, max-age=300",
        "Referrer-Policy": "no-referrer",
    }
    if headers["ETag"] in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=ICS, headers=headers)


@router.post(
    "/api/v1/me/calendar-token",
    operation_id="rotate_calendar_token",
    tags=["me"],
    response_model=UserRead,
    responses=problems(401, 403, 422, 500),
    summary="A new calendar feed URL (the old one then 404s)",
    description="Makes a new secret feed URL and answers with your profile, whose "
    "`calendar_url` is the new one; the old URL answers 404 from now on. A retry with the "
    "same `Idempotency-Key` rotates nothing more and answers with the current profile.",
)
async def rotate_calendar_token(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    now: Now,
    idempotency: IdempotencyDep,
    htmx: HtmxDep,
) -> Response:
    if await idempotency.replay() is not None:
        # A retry: the rotation was made; answer with the profile as it is now (the stored
        # answer has no body, since its feed URL would open the feed).
        read = profile.to_read(user, settings)
        headers = {"ETag": profile.etag(read), **REPLAYED}
        return json_response(read, headers=headers)
    service.rotate(user)
    await session.flush()
    read = profile.to_read(user, settings)
    if htmx.html:
        return respond(request, htmx, read, "settings/_calendar.html", me=read, rotated=True)
    response = json_response(read, headers={"ETag": profile.etag(read)})
    return await idempotency.remember(response, now, keep_body=False)
