"""HTTP for interviews: list, record, read, change and delete them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from app.deps import CurrentUser, Cursor, IfMatch, InterviewId, Limit, Now, SessionDep
from app.errors import PROBLEM_TYPE, AppError, Invalid, Problem, problems
from app.followups import service as followups
from app.idempotency import IdempotencyDep
from app.interviews import invite_import, invites, service
from app.interviews.pages import invite_page
from app.interviews.repository import Bundle
from app.interviews.schemas import InterviewCreate, InterviewRead, InterviewUpdate, Outcome
from app.interviews.views import detail, outcome_note
from app.web.htmx import HtmxDep, respond
from app.web.responses import created, json_response
from app.wire import Instant, Page, Storable

router = APIRouter(prefix="/api/v1/interviews", tags=["interviews"], responses=problems(401, 500))


def _one(read: InterviewRead, *, status: int = 200, location: bool = False) -> Response:
    headers = {"ETag": service.etag(read)}
    if location:
        headers["Location"] = f"/api/v1/interviews/{read.id}"
    return json_response(read, status=status, headers=headers)


def created_response(bundle: Bundle, now: datetime) -> Response:
    """201 with the new interview (InterviewRead), its ETag and `Location`."""
    body, etag = service.answer(bundle, now)
    headers = {"ETag": etag, "Location": f"/api/v1/interviews/{bundle[0].id}"}
    return Response(body, status_code=201, headers=headers, media_type="application/json")


class UnsupportedMediaType(AppError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


INVITE_TYPES = ("text/calendar", "message/rfc822")


async def _invite_body(request: Request) -> tuple[bytes, str]:
    """The invite sent and its media type: the body, or the `file` field of a multipart form
    (an upload or pasted text; the first that is not empty). Capped at 1 MB before it is read
    (app/body_limit.py)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form()
        for value in form.getlist("file"):
            if isinstance(value, UploadFile):
                content = await value.read()
                if content.strip():
                    kind = (value.content_type or "").split(";")[0].strip().lower()
                    return content, kind
            elif value.strip():
                return value.encode(), ""
        raise Invalid(["body", "file"], "choose an invite file (.ics or .eml) or paste one")
    if media not in INVITE_TYPES:
        raise UnsupportedMediaType(
            "Send text/calendar (.ics), message/rfc822 (.eml) or multipart/form-data with `file`."
        )
    return await request.body(), media


def _go_to(page: str, *, status: int = 200) -> Response:
    """htmx follows `HX-Redirect` to a page after a change made from a form."""
    return Response(status_code=status, headers={"HX-Redirect": page})


@router.get(
    "",
    operation_id="list_interviews",
    response_model=Page[InterviewRead],
    responses=problems(422),
    summary="List interviews",
    description="Ordered by `starts_at`, then `id`, with keyset pagination (`limit`, "
    "`cursor`: stable while interviews are added). Filter by `outcome`, `company`, "
    "`starts_after` and `starts_before`.",
)
async def list_interviews(
    request: Request,
    session: SessionDep,
    htmx: HtmxDep,
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
    return respond(request, htmx, page)


@router.post(
    "",
    operation_id="create_interview",
    status_code=201,
    response_model=InterviewRead,
    responses={**created(), **problems(403, 422)},
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
    response = await idempotency.remember(created_response(bundle, now), now)
    if htmx.request:
        return _go_to(f"/interviews/{bundle[0].id}", status=201)
    return response


INVITE_DESCRIPTION = """\
The interview a calendar invite describes, as the company sent it: `text/calendar` (an `.ics`),
`message/rfc822` (an `.eml`: its `text/calendar` part is used) or `multipart/form-data` with the
invite in `file`, at most 1 MB (413 beyond).

- The first `VEVENT` is the interview. `DTSTART` with a `TZID` (IANA, Windows names such as
  `Pacific Standard Time`, or a `VTIMEZONE` of the file), in UTC, or floating (read in the
  calendar's `X-WR-TIMEZONE`, else in your time zone); `DTEND` or `DURATION` give
  `duration_minutes` (default 60). An all-day or a recurring (`RRULE`) event is a 422.
- `SUMMARY` gives `role` and `company` ("Interview: Backend Engineer at Acme", "Acme – Backend
  Engineer interview", "Acme interview"); otherwise `company` comes from the organizer's email
  domain and `role` is the summary.
- `LOCATION`, else the first Zoom, Teams, Meet or Webex link in `URL` or `DESCRIPTION`.
- `ORGANIZER` is a `recruiter`, every other `ATTENDEE` an `interviewer` — except your own
  address and rooms or resources (`CUTYPE`); names from `CN`. One person per address; at most
  50. A no-reply address is kept as a name, without the address.
- The invite's `UID` and `SEQUENCE` are kept (`invite_uid`, `invite_sequence`). Importing the
  same `UID` again with an equal or higher `SEQUENCE` updates the time, duration, location and
  people (people matched by email keep their id, role and thank-you) and recomputes the schedule
  like a `PATCH` (200); a lower `SEQUENCE` is a 409 and changes nothing.
- `METHOD:CANCEL` or `STATUS:CANCELLED` sets the outcome `cancelled`, which cancels every
  scheduled follow-up; an update that is on again (or `PATCH` to `pending`) restores them.

With `dry_run=true` the answer (200) is the interview that would be saved, with its planned
follow-ups, and nothing is written. Anything unreadable is a 422 whose `loc` names the part of
the invite at fault (`["body", "DTSTART"]`, `["body", "VEVENT"]`…)."""


@router.post(
    "/import-invite",
    operation_id="import_invite",
    status_code=201,
    response_model=InterviewRead,
    responses={
        **problems(403, 409, 422),
        200: {
            "model": InterviewRead,
            "description": "The interview imported before from the same invite, updated; or, "
            "with `dry_run=true`, the interview that would be saved (nothing is written).",
        },
        **created("A new interview from the invite, with its follow-ups."),
        415: {
            "model": Problem,
            "description": "Send text/calendar, message/rfc822 or multipart/form-data.",
            "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        },
    },
    summary="Record or update an interview from its calendar invite",
    description=INVITE_DESCRIPTION,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/calendar": {
                    "schema": {"type": "string"},
                    "example": invites.EXAMPLE_INVITE,
                },
                "message/rfc822": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def import_invite(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    idempotency: IdempotencyDep,
    htmx: HtmxDep,
    dry_run: Annotated[
        bool, Query(description="Answer with the interview that would be saved; write nothing.")
    ] = False,
) -> Response:
    body, media = await _invite_body(request)
    if not dry_run and (replay := await idempotency.replay()) is not None:
        return replay
    result = await invite_import.import_invite(
        session, user=user, body=body, media_type=media, dry_run=dry_run, now=now
    )
    read = result.interview
    if htmx.html:
        return invite_page(request, result, body=body, media=media, tz=ZoneInfo(user.timezone))
    if dry_run:
        return json_response(read)
    response = _one(read, status=201 if result.created else 200, location=result.created)
    return await idempotency.remember(response, now)


@router.get(
    "/{interview_id}",
    operation_id="get_interview",
    response_model=InterviewRead,
    responses=problems(404),
    summary="One interview, with its people and follow-ups",
    description="With its `people` and its `followups` (ordered by `due_at`, then `id`), "
    "each with a ready draft and its derived `due_state` and `mailto_url`. The `ETag` "
    "covers the interview and its follow-ups; send it back as `If-Match` to update safely.",
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
    description="Deletes the interview, its people and all its follow-ups (sent ones "
    "included); nothing is sent to anyone. `If-Match` is optional; a stale one is a 412 and "
    "deletes nothing.",
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
    return Response(status_code=204)
