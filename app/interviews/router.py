"""HTTP for interviews: list, record, read, change and delete them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.deps import CurrentUser, Cursor, IfMatch, InterviewId, Limit, Now, SessionDep
from app.errors import problems
from app.followups import service as followups
from app.idempotency import IdempotencyDep
from app.interviews import service
from app.interviews.pages import detail, outcome_note
from app.interviews.schemas import InterviewCreate, InterviewRead, InterviewUpdate, Outcome
from app.web.htmx import VARY, HtmxDep, respond
from app.web.responses import json_response
from app.wire import Instant, Page, Storable

router = APIRouter(prefix="/api/v1/interviews", tags=["interviews"], responses=problems(401, 500))


def _one(read: InterviewRead, *, status: int = 200, location: bool = False) -> Response:
    headers = {"ETag": service.etag(read), "Vary": VARY}
    if location:
        headers["Location"] = f"/api/v1/interviews/{read.id}"
    return json_response(read, status=status, headers=headers)


def _go_to(page: str, *, status: int = 200) -> Response:
    """htmx follows `HX-Redirect` to a page after a change made from a form."""
    return Response(status_code=status, headers={"HX-Redirect": page, "Vary": VARY})


@router.get(
    "",
    operation_id="list_interviews",
    response_model=Page[InterviewRead],
    responses=problems(422),
    summary="List interviews",
    description="Ordered by `starts_at`, then `id`, with keyset pagination.",
)
async def list_interviews(
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    outcome: Outcome | None = None,
    company: Annotated[
        str | None,
        Query(max_length=200, description="Company name contains (any case)."),
        Storable,
    ] = None,
    starts_after: Annotated[
        Instant | None, Query(description="Keep interviews starting at or after this instant.")
    ] = None,
    starts_before: Annotated[
        Instant | None, Query(description="Keep interviews starting before this instant.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    page = await service.list_interviews(
        session,
        user=user,
        outcome=outcome,
        company=company,
        starts_after=starts_after,
        starts_before=starts_before,
        limit=limit,
        cursor=cursor,
        now=now,
    )
    return json_response(page)


@router.post(
    "",
    operation_id="create_interview",
    status_code=201,
    response_model=InterviewRead,
    responses=problems(403, 422),
    summary="Record an interview",
    description="Answers with the interview and its generated follow-ups: a thank-you to each "
    "interviewer and a check-in to the hiring manager (else recruiter, HR, interviewer).",
)
async def create_interview(
    data: InterviewCreate,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    idempotency: IdempotencyDep,
    htmx: HtmxDep,
) -> Response:
    if (replay := await idempotency.replay()) is not None:
        return replay
    bundle = await service.create(session, user=user, data=data, now=now)
    read = service.to_read(bundle, now)
    response = await idempotency.remember(_one(read, status=201, location=True), now)
    if htmx.request:
        return _go_to(f"/interviews/{read.id}", status=201)
    return response


@router.get(
    "/{interview_id}",
    operation_id="get_interview",
    response_model=InterviewRead,
    responses=problems(404),
    summary="One interview, with its people and follow-ups",
)
async def get_interview(
    request: Request,
    interview_id: InterviewId,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    bundle = await service.get(session, user=user, interview_id=interview_id)
    read = service.to_read(bundle, now)
    headers = {"ETag": service.etag(read)}
    if not htmx.html:
        return respond(request, htmx, read, "interviews/_detail.html", headers=headers)
    can_send = await followups.can_send(session, user=user)
    return respond(
        request,
        htmx,
        read,
        "interviews/_detail.html",
        headers=headers,
        **detail(read, can_send=can_send),
    )


@router.patch(
    "/{interview_id}",
    operation_id="update_interview",
    response_model=InterviewRead,
    responses=problems(403, 404, 412, 422),
    summary="Change an interview (partial update)",
    description="Changing the time, duration, promised date or people recomputes scheduled "
    "follow-ups (snoozed ones keep their times); an outcome cancels or restores them.",
)
async def update_interview(
    request: Request,
    interview_id: InterviewId,
    data: InterviewUpdate,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
    if_match: IfMatch = None,
) -> Response:
    bundle = await service.update(
        session, user=user, interview_id=interview_id, patch=data, if_match=if_match, now=now
    )
    read = service.to_read(bundle, now)
    if htmx.request and htmx.target != "interview":
        return _go_to(f"/interviews/{read.id}")  # saved from the edit form
    headers = {"ETag": service.etag(read)}
    note = outcome_note(read) if "outcome" in data.model_fields_set else None
    can_send = htmx.html and await followups.can_send(session, user=user)
    return respond(
        request,
        htmx,
        read,
        "interviews/_detail.html",
        headers=headers,
        note=note,
        **detail(read, can_send=can_send),
    )


@router.delete(
    "/{interview_id}",
    operation_id="delete_interview",
    status_code=204,
    response_class=Response,
    responses=problems(403, 404, 412),
    summary="Delete an interview and its follow-ups",
)
async def delete_interview(
    interview_id: InterviewId,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
    if_match: IfMatch = None,
) -> Response:
    await service.delete(session, user=user, interview_id=interview_id, if_match=if_match, now=now)
    if htmx.request:
        return _go_to("/interviews", status=204)
    return Response(status_code=204, headers={"Vary": VARY})
