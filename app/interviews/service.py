"""Interview rules: record, change, list and delete interviews, keeping the schedule in step."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.errors import Invalid, NotFound
from app.followups import service as followups
from app.interviews import repository
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
from app.wire import Page, check_if_match, decode_cursor, encode_cursor, strong_etag

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
        last_reply=last_reply_of(interview),
        followups=[followups.to_read(r, now) for r in sorted(rows, key=followups.sort_key)],
        created_at=interview.created_at,
        updated_at=interview.updated_at,
    )


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


async def create(
    session: AsyncSession, *, user: User, data: InterviewCreate, now: datetime
) -> Bundle:
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
    rows = followups.sync_schedule(user=user, interview=interview, people=people, rows=[], now=now)
    session.add(interview)
    await session.flush()  # the interview first: people and follow-ups point to it
    session.add_all(people)
    await session.flush()
    session.add_all(rows)
    await session.flush()
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
) -> Bundle:
    interview, people, rows = await get_for_update(session, user=user, interview_id=interview_id)
    check_if_match(if_match, etag(to_read((interview, people, rows), now)))
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
    if "people" in fields:
        people = await _replace_people(session, user, interview, people, patch.people or [])
    interview.updated_at = now
    for added in followups.sync_schedule(
        user=user, interview=interview, people=people, rows=rows, now=now
    ):
        session.add(added)
        rows.append(added)
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


async def _replace_people(
    session: AsyncSession,
    user: User,
    interview: Interview,
    current: list[Person],
    wanted: list[PersonIn],
) -> list[Person]:
    by_id = {p.id: p for p in current}
    _check_people(wanted, set(by_id))
    kept: list[Person] = []
    for index, data in enumerate(wanted):
        if data.id is not None:
            person = by_id.pop(data.id)
            person.position, person.name, person.email = index, data.name, data.email
            person.title, person.role = data.title, data.role.value
        else:
            person = _new_person(user, interview.id, index, data)
            session.add(person)
        kept.append(person)
    for removed in by_id.values():
        await session.delete(removed)
    await session.flush()
    return kept


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
) -> Page[InterviewRead]:
    after = None
    if cursor is not None:
        starts_at, row_id = decode_cursor(cursor, 2)
        try:
            after = (datetime.fromisoformat(starts_at), uuid.UUID(row_id))
        except ValueError:
            raise Invalid(["query", "cursor"], "not a cursor this API returned") from None
    bundles = await repository.list_bundles(
        session,
        user.id,
        outcome=outcome.value if outcome else None,
        company=company,
        starts_after=starts_after,
        starts_before=starts_before,
        after=after,
        limit=limit + 1,
    )
    next_cursor = None
    if len(bundles) > limit:
        bundles = bundles[:limit]
        last = bundles[-1][0]
        next_cursor = encode_cursor(last.starts_at.isoformat(), str(last.id))
    return Page[InterviewRead](items=[to_read(b, now) for b in bundles], next_cursor=next_cursor)
