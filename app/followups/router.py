"""HTTP for follow-ups: what is due, marking sent, snoozing, editing drafts, custom ones."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.deps import (
    CurrentUser,
    Cursor,
    FollowupId,
    IfMatch,
    InterviewId,
    Limit,
    Now,
    SessionDep,
)
from app.errors import problems
from app.followups import service, today
from app.followups.repository import FollowupFilters
from app.followups.schedule import DueState, Kind, Status
from app.followups.schemas import FollowupCreate, FollowupRead, FollowupUpdate
from app.idempotency import IdempotencyDep
from app.interviews import service as interviews
from app.interviews import views as interview_views
from app.mailbox import send as mailbox_send
from app.web.htmx import Htmx, HtmxDep, respond
from app.web.responses import created, json_response
from app.web.templating import render
from app.wire import Instant, Page

router = APIRouter(prefix="/api/v1", tags=["followups"], responses=problems(401, 500))


def _one(read: FollowupRead, *, status: int = 200, location: bool = False) -> Response:
    headers = {"ETag": service.etag(read)}
    if location:
        headers["Location"] = f"/api/v1/followups/{read.id}"
    return json_response(read, status=status, headers=headers)


@router.get(
    "/followups",
    operation_id="list_followups",
    response_model=Page[FollowupRead],
    responses=problems(422),
    summary="List follow-ups",
    description="Ordered by `due_at`, then `id`, with keyset pagination. "
    "`due_state=due` is what to send now; `overdue` is late.",
)
async def list_followups(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
    due_state: DueState | None = None,
    status: Status | None = None,
    kind: Kind | None = None,
    interview_id: Annotated[
        str | None, Query(max_length=64, description="Only this interview's follow-ups.")
    ] = None,
    due_before: Annotated[
        Instant | None, Query(description="Keep follow-ups whose due_at is earlier.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    if (
        htmx.html
        and due_state is not None
        and (status, kind, interview_id, due_before) == (None,) * 4
    ):
        # Today's "Show more": the next items of one section, as Today renders them.
        more = await today.more(
            session, user=user, state=due_state, cursor=cursor, limit=limit, now=now
        )
        return render(
            request,
            "followups/_today_more.html",
            more=more,
            snooze_tomorrow=today.snooze_until_tomorrow(user, now),
        )
    filters = FollowupFilters(
        due_state=due_state,
        status=status,
        kind=kind,
        interview_id=service.parse_interview_filter(interview_id),
        due_before=due_before,
    )
    page = await service.list_followups(
        session, user=user, filters=filters, limit=limit, cursor=cursor, now=now
    )
    return respond(request, htmx, page)


@router.post(
    "/interviews/{interview_id}/followups",
    operation_id="create_followup",
    status_code=201,
    response_model=FollowupRead,
    responses={**created(), **problems(403, 404, 422)},
    summary="Add a custom follow-up to an interview",
    description="A follow-up of kind `custom` with your own `subject`, `body`, recipient "
    "and `due_at` (`not_before` defaults to now, or to `due_at` if that is earlier). It is "
    "never recomputed by the schedule. Answers 201 with `Location`; safe to retry with an "
    "`Idempotency-Key`.",
)
async def create_followup(
    interview_id: InterviewId,
    data: FollowupCreate,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    idempotency: IdempotencyDep,
) -> Response:
    if (replay := await idempotency.replay()) is not None:
        return replay
    row = await service.create_custom(
        session, user=user, interview_id=interview_id, data=data, now=now
    )
    response = _one(service.to_read(row, now), status=201, location=True)
    return await idempotency.remember(response, now)


@router.get(
    "/followups/{followup_id}",
    operation_id="get_followup",
    response_model=FollowupRead,
    responses=problems(404),
    summary="One follow-up, with its draft",
    description="The follow-up with its draft (`subject`, `body`), `mailto_url` and "
    "`due_state` (`upcoming`, `due` or `overdue` while it is `scheduled`, else null). The "
    "`ETag` leaves out `due_state`, which changes with time alone.",
)
async def get_followup(
    request: Request,
    followup_id: FollowupId,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    if htmx.html:
        # A card or the editor showing "Sending…" asks again until the worker is done.
        return await _fragment(request, htmx, session, user, followup_id, now)
    row = await service.get(session, user=user, followup_id=followup_id)
    return _one(service.to_read(row, now))


async def _fragment(
    request: Request,
    htmx: Htmx,
    session: SessionDep,
    user: CurrentUser,
    followup_id: uuid.UUID,
    now: datetime,
    *,
    status: int = 200,
) -> Response:
    """One follow-up as the element that asked shows it: the draft editor, the interview
    page, or (by default) its Today card."""
    can_send = await service.can_send(session, user=user)
    if htmx.target == "followup-editor":
        read = service.to_read(await service.get(session, user=user, followup_id=followup_id), now)
        return respond(
            request,
            htmx,
            read,
            "followups/_editor.html",
            status=status,
            headers={"ETag": service.etag(read)},
            followup=read,
            can_send=can_send,
        )
    if htmx.target == "interview":
        row = await service.get(session, user=user, followup_id=followup_id)
        bundle = await interviews.get(session, user=user, interview_id=row.interview_id)
        interview = interviews.to_read(bundle, now)
        return respond(
            request,
            htmx,
            interview,
            "interviews/_detail.html",
            status=status,
            **interview_views.detail(interview, can_send=can_send),
        )
    read, card = await today.card(
        session, user=user, followup_id=followup_id, now=now, can_send=can_send
    )
    return respond(
        request,
        htmx,
        read,
        "followups/_today_cards.html",
        status=status,
        headers={"ETag": service.etag(read)},
        cards=[card],
        snooze_tomorrow=today.snooze_until_tomorrow(user, now),
    )


@router.post(
    "/followups/{followup_id}/send",
    operation_id="send_followup",
    status_code=202,
    response_model=FollowupRead,
    responses=problems(403, 404, 409, 422),
    summary="Send the draft through your own mailbox",
    description="Queues the draft to go out through the mailbox you connected "
    "(`PUT /api/v1/me/mailbox` with `send: true`) and answers 202 at once with the "
    "follow-up, `sending: true`; the worker sends it as plain text from your address, "
    "threads a check-in onto your earlier email to the same person, appends a copy to your "
    'sent folder, then marks it `sent` with `sent_via: "app"`. If your mail server refuses '
    "it, the follow-up stays `scheduled` with `send_error`. A second request while it is "
    "still on its way queues nothing more and answers 202 again; one after a refusal is a "
    "new try. 422 when the follow-up has no `recipient_email`; 409 when it is not "
    "`scheduled` or no mailbox is set to send. Nothing is ever sent without this request.",
)
async def send_followup(
    request: Request,
    followup_id: FollowupId,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
    idempotency: IdempotencyDep,
) -> Response:
    if (replay := await idempotency.replay()) is not None:
        return replay
    row = await mailbox_send.request_send(session, user=user, followup_id=followup_id, now=now)
    if htmx.html:
        return await _fragment(request, htmx, session, user, followup_id, now, status=202)
    return await idempotency.remember(_one(service.to_read(row, now), status=202), now)


@router.patch(
    "/followups/{followup_id}",
    operation_id="update_followup",
    response_model=FollowupRead,
    responses=problems(403, 404, 412, 422),
    summary="Mark sent, skip, snooze or edit a follow-up",
    description="`status`: `sent` (with an optional `sent_at`, default now), `skipped`, or "
    "back to `scheduled`. `not_before`/`due_at` snooze it (the schedule then keeps your "
    "times). `subject`/`body` edit the draft, which then stops following the interview; "
    "null puts back the generated text.",
)
async def update_followup(
    request: Request,
    followup_id: FollowupId,
    data: FollowupUpdate,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
    if_match: IfMatch = None,
) -> Response:
    before = None
    if htmx.target == "today":  # its message offers to undo the change: what it was
        before = service.to_read(
            await service.get(session, user=user, followup_id=followup_id), now
        )
    row = await service.update(
        session, user=user, followup_id=followup_id, patch=data, if_match=if_match, now=now
    )
    read = service.to_read(row, now)
    headers = {"ETag": service.etag(read)}
    if before is not None:
        return respond(
            request,
            htmx,
            read,
            "followups/_today.html",
            headers=headers,
            today=await today.today(session, user=user, now=now),
            snooze_tomorrow=today.snooze_until_tomorrow(user, now),
            done=today.done(before, read, user=user, now=now),
        )
    can_send = htmx.html and await service.can_send(session, user=user)
    return respond(
        request,
        htmx,
        read,
        "followups/_editor.html",
        headers=headers,
        followup=read,
        can_send=can_send,
    )
