"""Interview pages: the list with filters, the add/edit form and the detail page."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from app.deps import CurrentUser, InterviewId, Now, SessionDep, object_id
from app.errors import Invalid
from app.followups import service as followups
from app.interviews import invite_import, invites, service
from app.interviews.invite_import import InviteImport
from app.interviews.schemas import Outcome
from app.interviews.views import detail, words
from app.web.htmx import is_htmx
from app.web.templating import render
from app.wire import Storable

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50

Text = Annotated[str | None, Query(max_length=200), Storable]


def invite_page(
    request: Request, result: InviteImport, *, body: bytes, media: str, tz: ZoneInfo
) -> Response:
    """The Add interview page's answer to a dropped invite: a new one fills the usual form
    (saved with Save); one already imported shows what moved, then applies it."""
    read = result.interview
    headers: dict[str, str] = {}
    if result.created and result.saved:
        return Response(
            status_code=201, headers={**headers, "HX-Redirect": f"/interviews/{read.id}"}
        )
    if result.created:
        return render(
            request,
            "interviews/_invite_draft.html",
            headers=headers,
            interview=None,
            draft=read,
            sources=result.sources,
            **words(),
        )
    moved = invite_import.what_moved(result.previous or read, read, tz)
    calendar = invites.calendar_bytes(body, media).decode("utf-8", errors="replace")
    return render(
        request,
        "interviews/_invite_update.html",
        headers=headers,
        interview=read,
        moved=moved,
        saved=result.saved,
        calendar=calendar,
        **words(),
    )


def _day(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(["query", name], "must be a date as YYYY-MM-DD") from None


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


@router.get("/interviews")
async def interviews_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    outcome: Text = None,
    company: Text = None,
    from_: Annotated[str | None, Query(alias="from", max_length=20)] = None,
    to: Annotated[str | None, Query(max_length=20)] = None,
    q: Text = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    shown: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The list, newest first, PAGE_SIZE at a time. `q` searches company, role and the
    people's names (this page's only: the API's list has no such filter); `shown` is how
    many the pages before this one showed ("51–100 of 120")."""
    tz = ZoneInfo(user.timezone)
    try:
        chosen = Outcome(outcome) if outcome else None
    except ValueError:
        raise Invalid(["query", "outcome"], "is not an outcome") from None
    first, last = _day("from", from_), _day("to", to)
    kept: dict[str, Any] = {
        "outcome": chosen,
        "company": company or None,
        "starts_after": _start_of(first, tz) if first else None,
        "starts_before": _start_of(last + timedelta(days=1), tz) if last else None,
        "search": (q.strip() or None) if q else None,
    }
    page = await service.list_interviews(
        session,
        user=user,
        limit=PAGE_SIZE,
        cursor=cursor or None,
        now=now,
        newest_first=True,
        **kept,
    )
    total = await service.count_interviews(session, user=user, **kept)
    filters = {
        "q": q or "",
        "outcome": outcome or "",
        "company": company or "",
        "from": from_ or "",
        "to": to or "",
    }
    # Shown after "More" added this page below the others (htmx), or as a page of its own.
    after = shown if cursor else 0
    upto = after + len(page.items)
    more = None
    if page.next_cursor:
        more = "/interviews?" + urlencode(
            {**filters, "cursor": page.next_cursor, "shown": str(upto)}
        )
    start = 1 if is_htmx(request.headers) else after + 1
    return render(
        request,
        "interviews/list_page.html",
        page=page,
        filters=filters,
        filtered=any(filters.values()),
        more=more,
        count=count_words(start, upto, total),
        **words(),
    )


def count_words(first: int, last: int, total: int) -> str:
    """Which of how many the list shows: "1–50 of 120" ("" when it shows none)."""
    if last < first:
        return ""
    return f"{first} of {total}" if first == last else f"{first}–{last} of {total}"


def default_start(now: datetime, tz: ZoneInfo) -> str:
    """Where a new interview's Starts at begins, as a datetime-local value: today, at the hour
    an hour-long interview that just ended began (midnight if that was yesterday)."""
    local = now.astimezone(tz)
    start = (local - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    if start.date() != local.date():
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.strftime("%Y-%m-%dT%H:%M")


@router.get("/interviews/new")
async def new_interview_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    after: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The Add interview form; `after` (an interview's id, from its Next round) starts the
    next round with the same company, role and people."""
    previous = None
    if after:
        bundle = await service.get(session, user=user, interview_id=object_id(after))
        previous = service.to_read(bundle, now)
    return render(
        request,
        "interviews/form_page.html",
        interview=None,
        previous=previous,
        starts_default=default_start(now, ZoneInfo(user.timezone)),
        **words(),
    )


@router.get("/interviews/{interview_id}")
async def interview_page(
    request: Request, interview_id: InterviewId, session: SessionDep, user: CurrentUser, now: Now
) -> Response:
    bundle = await service.get(session, user=user, interview_id=interview_id)
    can_send = await followups.can_send(session, user=user)
    return render(
        request, "interviews/page.html", **detail(service.to_read(bundle, now), can_send=can_send)
    )


@router.get("/interviews/{interview_id}/edit")
async def edit_interview_page(
    request: Request,
    interview_id: InterviewId,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    person: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The edit form; `person` (a person's id, from Today's *Add email*) focuses their email."""
    bundle = await service.get(session, user=user, interview_id=interview_id)
    return render(
        request,
        "interviews/form_page.html",
        interview=service.to_read(bundle, now),
        focus_person=person,
        **words(),
    )
