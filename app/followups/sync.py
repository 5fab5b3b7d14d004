"""Keeping an interview's follow-ups in line with the schedule's rules (app/followups/
schedule.py): which are planned, when they are due, what an outcome cancels, their drafts.
Everything but resync_all is pure: it changes the rows it is given and says which to add."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.followups import drafts, schedule
from app.followups.models import Followup
from app.followups.schedule import Kind, Status
from app.followups.schemas import CancelReason
from app.interviews import repository as interviews
from app.interviews.models import Interview, Person

SUBJECT_MAX, BODY_MAX = 300, 20000

# Which kinds each outcome cancels; `pending` cancels nothing and restores.
_CANCELLED_BY_OUTCOME: dict[str, frozenset[str]] = {
    "pending": frozenset(),
    "next_round": frozenset({Kind.CHECK_IN}),
    "offer": frozenset({Kind.CHECK_IN}),
    "rejected": frozenset({Kind.CHECK_IN}),
    "no_response": frozenset({Kind.CHECK_IN}),
    "withdrawn": frozenset({Kind.THANK_YOU, Kind.CHECK_IN, Kind.CUSTOM}),
    # The company called it off (a calendar cancellation): nothing is left to follow up.
    "cancelled": frozenset({Kind.THANK_YOU, Kind.CHECK_IN, Kind.CUSTOM}),
}


def policy_of(user: User) -> schedule.Policy:
    return schedule.Policy(
        thank_you_within_hours=user.thank_you_within_hours,
        check_in_after_days=user.check_in_after_days,
        check_in_grace_days=user.check_in_grace_days,
        send_hour=user.send_hour,
        skip_weekends=user.skip_weekends,
        second_check_in_after_days=user.second_check_in_after_days,
    )


def templates_of(user: User) -> drafts.UserTemplates:
    return drafts.UserTemplates(
        thank_you_subject=user.thank_you_subject,
        thank_you_body=user.thank_you_body,
        check_in_subject=user.check_in_subject,
        check_in_body=user.check_in_body,
    )


def tz_of(user: User) -> ZoneInfo:
    return ZoneInfo(user.timezone)


def _person_facts(people: Sequence[Person]) -> list[schedule.PersonFacts]:
    ordered = sorted(people, key=lambda p: p.position)
    return [
        schedule.PersonFacts(key=str(p.id), name=p.name, email=p.email, role=schedule.Role(p.role))
        for p in ordered
    ]


def draft_of(row: Followup, interview: Interview, user: User, tz: ZoneInfo) -> drafts.Draft:
    """The generated draft of a planned follow-up, within the stored limits."""
    context = drafts.DraftContext(
        recipient_name=row.recipient_name,
        company=interview.company,
        role=interview.role,
        interview_date=interview.starts_at.astimezone(tz).date(),
        highlight=interview.highlight,
        excitement=interview.excitement,
        sender_name=user.display_name,
    )
    draft = drafts.render_draft(row.kind, context, templates_of(user))
    # A template filled with long values may outgrow the limits; the limits hold.
    return drafts.Draft(subject=draft.subject[:SUBJECT_MAX], body=draft.body[:BODY_MAX])


def _refresh_draft(row: Followup, interview: Interview, user: User, tz: ZoneInfo) -> None:
    if row.kind == Kind.CUSTOM or row.draft_edited or row.status in (Status.SENT, Status.SKIPPED):
        return
    draft = draft_of(row, interview, user, tz)
    row.subject, row.body = draft.subject, draft.body


def _second_check_in_plan(
    rows: dict[str, Followup],
    facts: list[schedule.PersonFacts],
    policy: schedule.Policy,
    tz: ZoneInfo,
    *,
    create: bool,
) -> schedule.Planned | None:
    first = rows.get(schedule.CHECK_IN_KEY)
    if first is None or first.status != Status.SENT or first.sent_at is None:
        return None
    if schedule.SECOND_CHECK_IN_KEY not in rows and not create:
        return None
    recipient = next((f for f in facts if f.key == str(first.person_id)), None)
    if recipient is None and first.recipient_name:
        recipient = schedule.PersonFacts(
            key="",
            name=first.recipient_name,
            email=first.recipient_email,
            role=schedule.Role.OTHER,
        )
    return schedule.plan_second_check_in(first.sent_at, recipient, policy, tz)


def _plans(
    user: User,
    interview: Interview,
    facts: list[schedule.PersonFacts],
    by_key: dict[str, Followup],
    create_second_check_in: bool,
) -> list[schedule.Planned]:
    """What the rules plan for an interview: its follow-ups with their times."""
    tz, policy = tz_of(user), policy_of(user)
    planned = schedule.plan_followups(
        schedule.InterviewFacts(
            starts_at=interview.starts_at,
            duration_minutes=interview.duration_minutes,
            response_promised_by=interview.response_promised_by,
        ),
        facts,
        policy,
        tz,
    )
    second = _second_check_in_plan(by_key, facts, policy, tz, create=create_second_check_in)
    if second is not None:
        planned.append(second)
    return planned


def back_on_plan(
    row: Followup,
    user: User,
    interview: Interview,
    people: Sequence[Person],
    rows: Sequence[Followup],
) -> bool:
    """Whether a snooze put the follow-up back at the times the rules give it (the Undo of a
    snooze does): it then follows the schedule again, as before it was moved."""
    if row.plan_key is None:
        return False
    by_key = {r.plan_key: r for r in rows if r.plan_key is not None}
    for plan in _plans(user, interview, _person_facts(people), by_key, False):
        if plan.plan_key == row.plan_key:
            return (plan.not_before, plan.due_at) == (row.not_before, row.due_at)
    return False


def sync_schedule(
    *,
    user: User,
    interview: Interview,
    people: Sequence[Person],
    rows: Sequence[Followup],
    now: datetime,
    create_second_check_in: bool = False,
) -> list[Followup]:
    """Bring an interview's follow-ups in line with the rules; return the rows to add.

    Scheduled rows (and those an outcome cancelled) are recomputed unless snoozed; sent and
    skipped ones never change; a planned follow-up that is gone is cancelled.
    """
    facts = _person_facts(people)
    by_key = {row.plan_key: row for row in rows if row.plan_key is not None}
    planned = _plans(user, interview, facts, by_key, create_second_check_in)

    added: list[Followup] = []
    unmatched = dict(by_key)
    for plan in planned:
        row = unmatched.pop(plan.plan_key, None)
        if row is None:
            row = Followup(
                id=uuid.uuid4(),
                user_id=user.id,
                interview_id=interview.id,
                kind=plan.kind.value,
                plan_key=plan.plan_key,
                status=Status.SCHEDULED.value,
                snoozed=False,
                draft_edited=False,
                cancelled_by_outcome=False,
                created_at=now,
                updated_at=now,
            )
            added.append(row)
        elif row.status in (Status.SENT, Status.SKIPPED):
            continue
        elif row.status == Status.CANCELLED and row.cancel_reason in (
            None,
            CancelReason.REMOVED,
        ):
            # Planned again, e.g. a person came back. One cancelled by a reply or by the
            # user stays cancelled; one cancelled by an outcome waits for `pending`.
            row.status, row.cancel_reason = Status.SCHEDULED.value, None
        row.person_id = uuid.UUID(plan.person_key) if plan.person_key else None
        row.recipient_name, row.recipient_email = plan.recipient_name, plan.recipient_email
        if not row.snoozed or row in added:
            row.not_before, row.due_at = plan.not_before, plan.due_at
    present = {uuid.UUID(f.key) for f in facts}
    for row in unmatched.values():
        if row.person_id is not None and row.person_id not in present:
            row.person_id = None  # that person was removed; the name stays for the record
        if row.status == Status.SCHEDULED or (
            row.status == Status.CANCELLED and row.cancelled_by_outcome
        ):
            cancel(row, CancelReason.REMOVED)

    everything = [*rows, *added]
    apply_outcome(everything, interview.outcome)
    tz = tz_of(user)
    for row in everything:
        _refresh_draft(row, interview, user, tz)
    return added


def cancel(row: Followup, reason: CancelReason) -> None:
    """Cancel a follow-up, saying why (`cancel_reason`); only an outcome's can come back by
    itself (a return to `pending`)."""
    row.status, row.cancel_reason = Status.CANCELLED.value, reason.value
    row.cancelled_by_outcome = reason == CancelReason.OUTCOME


def apply_outcome(rows: Sequence[Followup], outcome: str) -> None:
    """Cancel what the outcome cancels; a return to `pending` restores what outcomes cancelled."""
    cancels = _CANCELLED_BY_OUTCOME[outcome]
    for row in rows:
        if row.status == Status.SCHEDULED and row.kind in cancels:
            cancel(row, CancelReason.OUTCOME)
        elif outcome == "pending" and row.status == Status.CANCELLED and row.cancelled_by_outcome:
            row.status, row.cancelled_by_outcome = Status.SCHEDULED.value, False
            row.cancel_reason = None


async def resync_all(session: AsyncSession, *, user: User, now: datetime) -> None:
    """After a policy, time zone or template change: every interview that has follow-ups
    still to come (or cancelled by an outcome) is recomputed and its drafts regenerated."""
    for interview, people, rows in await interviews.bundles_with_open_followups(session, user.id):
        for added in sync_schedule(
            user=user, interview=interview, people=people, rows=rows, now=now
        ):
            session.add(added)
    await session.flush()
