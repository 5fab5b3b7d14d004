"""Follow-up rules: reading, listing, marking sent, snoozing, editing drafts, custom follow-ups
(keeping the schedule in sync with the interview is app/followups/sync.py; Today is
app/followups/today.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.errors import Invalid, NotFound
from app.followups import drafts, repository, schedule, sync
from app.followups.models import Followup
from app.followups.schedule import Kind, Status
from app.followups.schemas import (
    FollowupCreate,
    FollowupRead,
    FollowupUpdate,
    SentVia,
    SettableStatus,
)
from app.interviews import repository as interviews
from app.interviews.models import Interview, Person
from app.mailbox import repository as mailboxes
from app.webhooks import service as webhooks
from app.webhooks.schemas import Event
from app.wire import Page, check_if_match, keyset_cursor, parse_keyset_cursor, strong_etag


def read_of(values: Mapping[Any, Any], now: datetime) -> FollowupRead:
    """The wire form of a follow-up from its repository.READ_COLUMNS (a row mapping)."""
    status = Status(values["status"])
    return FollowupRead(
        id=values["id"],
        interview_id=values["interview_id"],
        kind=Kind(values["kind"]),
        recipient_name=values["recipient_name"],
        recipient_email=values["recipient_email"],
        not_before=values["not_before"],
        due_at=values["due_at"],
        status=status,
        sent_at=values["sent_at"],
        subject=values["subject"],
        body=values["body"],
        due_state=schedule.due_state(status, values["not_before"], values["due_at"], now),
        mailto_url=drafts.mailto_url(values["recipient_email"], values["subject"], values["body"]),
        draft_edited=values["draft_edited"],
        snoozed=values["snoozed"],
        cancel_reason=values["cancel_reason"],
        sent_via=values["sent_via"],
        send_error=values["send_error"],
        sending=status == Status.SCHEDULED and values["send_requested_at"] is not None,
    )


_READ_FIELDS = tuple(column.key for column in repository.READ_COLUMNS)


def read_values(row: Followup) -> dict[str, Any]:
    """A stored follow-up as repository.READ_COLUMNS (what read_of takes)."""
    return {name: getattr(row, name) for name in _READ_FIELDS}


def to_read(row: Followup, now: datetime) -> FollowupRead:
    return read_of(read_values(row), now)


def sort_key(row: Followup) -> tuple[datetime, str]:
    return (row.due_at, str(row.id))


def etag(read: FollowupRead) -> str:
    return strong_etag(read.model_dump_json(exclude={"due_state"}).encode())


async def list_followups(
    session: AsyncSession,
    *,
    user: User,
    filters: repository.FollowupFilters,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> Page[FollowupRead]:
    after = parse_keyset_cursor(cursor)
    rows = await repository.list_for_user(
        session, user.id, filters=filters, after=after, limit=limit + 1, now=now
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = keyset_cursor(last["due_at"], last["id"])
    return Page[FollowupRead](items=[read_of(r, now) for r in rows], next_cursor=next_cursor)


async def get(session: AsyncSession, *, user: User, followup_id: uuid.UUID) -> Followup:
    row = await repository.get_for_user(session, user.id, followup_id)
    if row is None:
        raise NotFound("No such follow-up.")
    return row


async def _interview_bundle(
    session: AsyncSession, user: User, interview_id: uuid.UUID
) -> tuple[Interview, list[Person], list[Followup]]:
    bundle = await interviews.get_bundle(session, user.id, interview_id)
    if bundle is None:
        raise NotFound("No such interview.")
    return bundle


async def update(
    session: AsyncSession,
    *,
    user: User,
    followup_id: uuid.UUID,
    patch: FollowupUpdate,
    if_match: str | None,
    now: datetime,
    via: str = "user",
) -> Followup:
    """Apply a PATCH. `via` says how a follow-up marked sent went out (`sent_via`): by hand,
    unless the mailbox saw it or the app sent it."""
    # The whole interview is locked, as every write to it or its follow-ups does (this one
    # may reschedule the others), then the If-Match is checked against what is stored.
    found = await get(session, user=user, followup_id=followup_id)
    bundle = await interviews.lock_bundle(session, user.id, found.interview_id)
    row = next((r for r in bundle[2] if r.id == followup_id), None) if bundle else None
    if bundle is None or row is None:
        raise NotFound("No such follow-up.")
    interview, people, rows = bundle
    check_if_match(if_match, etag(to_read(row, now)))
    fields = patch.model_fields_set
    was_sent = row.status == Status.SENT
    create_second = _set_status(row, patch, outcome=interview.outcome, now=now)
    if row.status == Status.SENT and not was_sent:
        row.sent_via = via

    if fields & {"not_before", "due_at"}:
        _snooze(row, patch)
        if sync.back_on_plan(row, user, interview, people, rows):
            row.snoozed = False

    if fields & {"subject", "body"}:
        _edit_draft(row, patch, interview, user)
    row.updated_at = now
    for added in sync.sync_schedule(
        user=user,
        interview=interview,
        people=people,
        rows=rows,
        now=now,
        create_second_check_in=create_second,
    ):
        session.add(added)
    await session.flush()
    if row.status == Status.SENT and not was_sent:
        await webhooks.emit(
            session,
            user_id=user.id,
            event=Event.FOLLOWUP_SENT,
            data=webhooks.followup_data(row, company=interview.company, role=interview.role),
            now=now,
        )
    return row


async def mark_sent_by_app(
    session: AsyncSession,
    *,
    user: User,
    followup_id: uuid.UUID,
    message_id: str,
    now: datetime,
) -> Followup:
    """The app sent it through the user's mailbox: `sent` now with `sent_via: "app"`, by the
    same path as marking it sent by hand (a second check-in, the `followup.sent` event)."""
    row = await update(
        session,
        user=user,
        followup_id=followup_id,
        patch=FollowupUpdate(status=SettableStatus.SENT, sent_at=now),
        if_match=None,
        now=now,
        via="app",
    )
    row.message_id, row.send_error, row.send_requested_at = message_id, None, None
    await session.flush()
    return row


def _set_status(row: Followup, patch: FollowupUpdate, *, outcome: str, now: datetime) -> bool:
    """Apply `status`/`sent_at`; True when this marks the first check-in sent while pending
    (which starts a second check-in, if the policy asks for one)."""
    status = patch.status  # None only when absent: null was refused while parsing (NotNull)
    if status is None:
        if "sent_at" in patch.model_fields_set:
            if row.status != Status.SENT or patch.sent_at is None:
                raise Invalid(["body", "sent_at"], "sent_at can only be set on a sent follow-up")
            row.sent_at = patch.sent_at
        return False
    if status != SettableStatus.SENT and patch.sent_at is not None:
        raise Invalid(["body", "sent_at"], "sent_at goes only with status `sent`")
    starts_second = False
    if status == SettableStatus.SENT:
        starts_second = (
            row.status != Status.SENT
            and row.plan_key == schedule.CHECK_IN_KEY
            and outcome == "pending"
        )
        row.sent_at = patch.sent_at or row.sent_at or now
        if row.status != Status.SENT:
            # Marked by hand; one already sent keeps how it went (mailbox, app).
            row.sent_via, row.message_id = SentVia.USER.value, None
    else:
        # Not sent (any more): nothing of a sending is left to thread onto or to show.
        row.sent_at = row.sent_via = row.message_id = None
    if row.status != status.value:
        row.send_error = None
    row.status = status.value
    row.cancelled_by_outcome, row.cancel_reason = False, None
    return starts_second


def _edit_draft(row: Followup, patch: FollowupUpdate, interview: Interview, user: User) -> None:
    """A value edits the draft, which then stops following changes; null puts back the
    generated text (both null: the draft follows the interview and templates again)."""
    given = {
        name: getattr(patch, name) for name in ("subject", "body") if name in patch.model_fields_set
    }
    if row.kind == Kind.CUSTOM:
        for name, value in given.items():
            if value is None:
                raise Invalid(["body", name], "a custom follow-up has no generated draft")
    if all(value is None for value in given.values()):
        row.draft_edited = False
        return
    generated = (
        sync.draft_of(row, interview, user, sync.tz_of(user)) if None in given.values() else None
    )
    for name, value in given.items():
        setattr(row, name, value if value is not None else getattr(generated, name))
    row.draft_edited = True


def _snooze(row: Followup, patch: FollowupUpdate) -> None:
    fields = patch.model_fields_set
    window = row.due_at - row.not_before
    not_before = patch.not_before or row.not_before
    due_at = patch.due_at or row.due_at
    if "due_at" not in fields and not_before > due_at:
        due_at = not_before + window  # snoozed past the deadline: keep the window's length
    if not_before > due_at:
        raise Invalid(["body", "due_at"], "due_at must not be before not_before")
    row.not_before, row.due_at, row.snoozed = not_before, due_at, True


async def create_custom(
    session: AsyncSession,
    *,
    user: User,
    interview_id: uuid.UUID,
    data: FollowupCreate,
    now: datetime,
) -> Followup:
    interview, _people, _rows = await _interview_bundle(session, user, interview_id)
    not_before = data.not_before if data.not_before is not None else min(now, data.due_at)
    if not_before > data.due_at:
        raise Invalid(["body", "due_at"], "due_at must not be before not_before")
    row = Followup(
        user_id=user.id,
        interview_id=interview.id,
        kind=Kind.CUSTOM.value,
        plan_key=None,
        recipient_name=data.recipient_name,
        recipient_email=data.recipient_email,
        not_before=not_before,
        due_at=data.due_at,
        status=Status.SCHEDULED.value,
        subject=data.subject,
        body=data.body,
        snoozed=False,
        draft_edited=True,
        cancelled_by_outcome=False,
        created_at=now,
        updated_at=now,
    )
    sync.apply_outcome([row], interview.outcome)
    session.add(row)
    await session.flush()
    return row


def parse_interview_filter(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid(["query", "interview_id"], "not an interview id") from None


def mailbox_sends(send: bool, status: str) -> bool:
    """Whether a mailbox can send (the *Send* button shows): set to send, and not in error."""
    return send and status != "error"


async def can_send(session: AsyncSession, *, user: User) -> bool:
    """Whether the user's mailbox can send (see mailbox_sends)."""
    mailbox = await mailboxes.get(session, user.id)
    return mailbox is not None and mailbox_sends(mailbox.send, mailbox.status)
