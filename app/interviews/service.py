"""Interview rules: record, change, list and delete interviews, keeping the schedule in step."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.errors import Conflict, Invalid, NotFound
from app.followups import service as followups
from app.followups import sync
from app.followups.models import Followup
from app.interviews import reads, repository
from app.interviews.models import Interview, Person
from app.interviews.repository import Bundle
from app.interviews.schemas import (
    InterviewCreate,
    InterviewRead,
    InterviewUpdate,
    LastReply,
    Outcome,
    PersonIn,
    PersonRead,
)
from app.webhooks import service as webhooks
from app.webhooks.schemas import Event
from app.wire import Page, check_if_match, keyset_cursor, parse_keyset_cursor, strong_etag

# PATCH null on these puts back their default; on the required ones it is a 422.
_DEFAULTS: dict[str, object] = {"duration_minutes": 60, "outcome": Outcome.PENDING.value}
_REQUIRED = ("company", "role", "starts_at")
_PLAIN_FIELDS = (
    "company",
    "role",
    "starts_at",
    "duration_minutes",
    "stage",
    "location",
    "highlight",
    "excitement",
    "notes",
    "response_promised_by",
    "outcome",
)


def to_read(bundle: Bundle, now: datetime) -> InterviewRead:
    interview, people, rows = bundle
    return InterviewRead(
        id=interview.id,
        company=interview.company,
        role=interview.role,
        starts_at=interview.starts_at,
        duration_minutes=interview.duration_minutes,
        ends_at=interview.starts_at + timedelta(minutes=interview.duration_minutes),
        stage=interview.stage,
        location=interview.location,
        people=[
            PersonRead(id=p.id, name=p.name, email=p.email, title=p.title, role=p.role)
            for p in sorted(people, key=lambda p: p.position)
        ],
        highlight=interview.highlight,
        excitement=interview.excitement,
        notes=interview.notes,
        response_promised_by=interview.response_promised_by,
        outcome=Outcome(interview.outcome),
        invite_uid=interview.invite_uid,
        invite_sequence=interview.invite_sequence,
        last_reply=last_reply_of(interview),
        followups=[followups.to_read(r, now) for r in sorted(rows, key=followups.sort_key)],
        created_at=interview.created_at,
        updated_at=interview.updated_at,
    )


def answer(bundle: Bundle, now: datetime) -> tuple[bytes, str]:
    """`to_read(bundle, now)` as JSON, and its `etag`, written from the rows with orjson
    (app.interviews.reads, as the fast read of one interview does): no model per object.
    tests/interviews/test_api.py holds it to the models' JSON and ETag."""
    return reads.interview_json(reads.bundle_row(*bundle), now)


def last_reply_of(interview: Interview) -> LastReply | None:
    if interview.last_reply_person_id is None or interview.last_reply_at is None:
        return None
    return LastReply(
        person_id=interview.last_reply_person_id,
        received_at=interview.last_reply_at,
        subject=interview.last_reply_subject or "",
    )


def etag(read: InterviewRead) -> str:
    payload = read.model_dump_json(exclude={"followups": {"__all__": {"due_state"}}})
    return strong_etag(payload.encode())


def _check_people(people: list[PersonIn], known: set[uuid.UUID]) -> None:
    seen: set[uuid.UUID] = set()
    for index, person in enumerate(people):
        if person.id is None:
            continue
        if person.id not in known:
            raise Invalid(["body", "people", index, "id"], "no such person on this interview")
        if person.id in seen:
            raise Invalid(["body", "people", index, "id"], "this person is listed twice")
        seen.add(person.id)


def _new_person(user: User, interview_id: uuid.UUID, index: int, data: PersonIn) -> Person:
    return Person(
        id=uuid.uuid4(),
        user_id=user.id,
        interview_id=interview_id,
        position=index,
        name=data.name,
        email=data.email,
        title=data.title,
        role=data.role.value,
    )


def build(*, user: User, data: InterviewCreate, now: datetime) -> Bundle:
    """The interview `data` describes with its people and planned follow-ups, not stored."""
    _check_people(data.people, set())
    interview = Interview(
        id=uuid.uuid4(),
        user_id=user.id,
        created_at=now,
        updated_at=now,
        **data.model_dump(exclude={"people"}, mode="python"),
    )
    interview.outcome = data.outcome.value
    people = [_new_person(user, interview.id, i, p) for i, p in enumerate(data.people)]
    rows = sync.sync_schedule(user=user, interview=interview, people=people, rows=[], now=now)
    return interview, people, rows


async def create(
    session: AsyncSession, *, user: User, data: InterviewCreate, now: datetime
) -> Bundle:
    if data.invite_uid is not None and await repository.find_by_invite(
        session, user.id, data.invite_uid
    ):
        raise Conflict(
            "An interview from this calendar invite exists already: import the invite again "
            "to update it."
        )
    interview, people, rows = build(user=user, data=data, now=now)
    # Three Core inserts, in the order the foreign keys need, instead of three ORM flushes
    # (~14 % of a create's CPU); the rows answer the request and are never changed after.
    try:
        await repository.insert_new(session, [interview])
    except IntegrityError:
        if data.invite_uid is None:
            raise
        # The same invite imported twice at once: the unique index let one through.
        raise Conflict("An interview from this calendar invite was just recorded.") from None
    await repository.insert_new(session, people)
    await repository.insert_new(session, rows)
    await webhooks.emit(
        session,
        user_id=user.id,
        event=Event.INTERVIEW_CREATED,
        data=webhooks.interview_data(interview),
        now=now,
    )
    return interview, people, rows


async def get(session: AsyncSession, *, user: User, interview_id: uuid.UUID) -> Bundle:
    bundle = await repository.get_bundle(session, user.id, interview_id)
    if bundle is None:
        raise NotFound("No such interview.")
    return bundle


async def get_for_update(session: AsyncSession, *, user: User, interview_id: uuid.UUID) -> Bundle:
    """The interview as stored, locked for this transaction's write: an If-Match checked
    against it still holds when the write is made."""
    bundle = await repository.lock_bundle(session, user.id, interview_id)
    if bundle is None:
        raise NotFound("No such interview.")
    return bundle


async def update(
    session: AsyncSession,
    *,
    user: User,
    interview_id: uuid.UUID,
    patch: InterviewUpdate,
    if_match: str | None,
    now: datetime,
    invite_sequence: int | None = None,
) -> Bundle:
    """Apply a partial update and keep the schedule in step. `invite_sequence` is set by an
    import of the interview's calendar invite."""
    interview, people, rows = await get_for_update(session, user=user, interview_id=interview_id)
    check_if_match(if_match, etag(to_read((interview, people, rows), now)))
    return await _apply(
        session, user, (interview, people, rows), patch, now, invite_sequence=invite_sequence
    )


async def _apply(
    session: AsyncSession | None,
    user: User,
    bundle: Bundle,
    patch: InterviewUpdate,
    now: datetime,
    *,
    invite_sequence: int | None = None,
) -> Bundle:
    """The update itself; with no session, on rows that are never stored (a preview)."""
    interview, people, rows = bundle
    fields = patch.model_fields_set
    previous_outcome = interview.outcome
    for name in _PLAIN_FIELDS:
        if name not in fields:
            continue
        value = getattr(patch, name)
        if value is None:
            if name in _REQUIRED:
                raise Invalid(["body", name], "is required and cannot be null")
            value = _DEFAULTS.get(name)
        setattr(interview, name, value.value if isinstance(value, Outcome) else value)
    if invite_sequence is not None:
        interview.invite_sequence = invite_sequence
    if "people" in fields:
        kept, added, removed = _replace_people(user, interview, people, patch.people or [])
        if session is not None:
            session.add_all(added)
            for person in removed:
                await session.delete(person)
            await session.flush()
        people = kept
    interview.updated_at = now
    rows = list(rows)
    for new_row in sync.sync_schedule(
        user=user, interview=interview, people=people, rows=rows, now=now
    ):
        if session is not None:
            session.add(new_row)
        rows.append(new_row)
    if session is None:
        return interview, people, rows
    await session.flush()
    if interview.outcome != previous_outcome:
        await webhooks.emit(
            session,
            user_id=user.id,
            event=Event.INTERVIEW_OUTCOME_CHANGED,
            data=webhooks.interview_data(interview, previous_outcome=previous_outcome),
            now=now,
        )
    return interview, people, rows


async def preview_update(
    *, user: User, bundle: Bundle, patch: InterviewUpdate, now: datetime
) -> Bundle:
    """What `update` would make of the interview, on copies: nothing stored changes."""
    interview, people, rows = bundle
    copies = (_copy(interview), [_copy(p) for p in people], [_copy(r) for r in rows])
    return await _apply(None, user, copies, patch, now)


_Row = TypeVar("_Row", Interview, Person, Followup)


def _copy(row: _Row) -> _Row:
    """A copy of a row's columns that no session knows: changing it stores nothing."""
    columns = sa_inspect(type(row)).column_attrs
    return type(row)(**{c.key: getattr(row, c.key) for c in columns})


def _replace_people(
    user: User,
    interview: Interview,
    current: list[Person],
    wanted: list[PersonIn],
) -> tuple[list[Person], list[Person], list[Person]]:
    """The people after the update (in order), those added and those removed."""
    by_id = {p.id: p for p in current}
    _check_people(wanted, set(by_id))
    kept: list[Person] = []
    added: list[Person] = []
    for index, data in enumerate(wanted):
        if data.id is not None:
            person = by_id.pop(data.id)
            person.position, person.name, person.email = index, data.name, data.email
            person.title, person.role = data.title, data.role.value
        else:
            person = _new_person(user, interview.id, index, data)
            added.append(person)
        kept.append(person)
    return kept, added, list(by_id.values())


async def delete(
    session: AsyncSession,
    *,
    user: User,
    interview_id: uuid.UUID,
    if_match: str | None,
    now: datetime,
) -> None:
    bundle = await get_for_update(session, user=user, interview_id=interview_id)
    check_if_match(if_match, etag(to_read(bundle, now)))
    await repository.delete_interview(session, user.id, interview_id)


async def list_interviews(
    session: AsyncSession,
    *,
    user: User,
    outcome: Outcome | None,
    company: str | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    limit: int,
    cursor: str | None,
    now: datetime,
    newest_first: bool = False,
    search: str | None = None,
) -> Page[InterviewRead]:
    """A page of the user's interviews: oldest first (the API's contract), or newest first
    (the web list, which also searches: see count_interviews)."""
    after = parse_keyset_cursor(cursor)
    bundles = await repository.list_bundles(
        session,
        user.id,
        outcome=outcome.value if outcome else None,
        company=company,
        starts_after=starts_after,
        starts_before=starts_before,
        after=after,
        limit=limit + 1,
        newest_first=newest_first,
        search=search,
    )
    next_cursor = None
    if len(bundles) > limit:
        bundles = bundles[:limit]
        last = bundles[-1][0]
        next_cursor = keyset_cursor(last.starts_at, last.id)
    return Page[InterviewRead](items=[to_read(b, now) for b in bundles], next_cursor=next_cursor)


async def count_interviews(
    session: AsyncSession,
    *,
    user: User,
    outcome: Outcome | None,
    company: str | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    search: str | None,
) -> int:
    """How many interviews list_interviews pages through with the same filters; `search`
    (the web list's only, not the API's) matches company, role or a person's name."""
    return await repository.count(
        session,
        user.id,
        outcome=outcome.value if outcome else None,
        company=company,
        starts_after=starts_after,
        starts_before=starts_before,
        search=search,
    )
