"""Keeping an interview's follow-ups in line with the rules (app/followups/sync.py), called
directly against a session: what is planned, what an outcome or a removed person cancels,
what never moves, the drafts, a second check-in, and resync_all after a policy change."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import User
from app.followups import sync
from app.followups.models import Followup
from app.followups.schedule import CHECK_IN_KEY, SECOND_CHECK_IN_KEY, Kind, Status, thank_you_key
from app.followups.schemas import CancelReason
from app.interviews import repository as interviews
from app.interviews.models import Interview, Person
from tests.helpers import NOW

Bundle = tuple[Interview, list[Person], list[Followup]]


@pytest.fixture
def sessions(app: Any) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    return maker


@pytest.fixture
async def user(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[User]:
    async with sessions.begin() as session:
        jane = User(
            email="jane@example.com",
            password_hash="-",
            display_name="Jane Doe",
            timezone="Europe/Berlin",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(jane)
    yield jane


def _person(user: User, interview: Interview, position: int, name: str, role: str) -> Person:
    return Person(
        id=uuid.uuid4(),
        user_id=user.id,
        interview_id=interview.id,
        position=position,
        name=name,
        email=f"{name.split()[0].lower()}@acme.example",
        role=role,
    )


async def _store_interview(sessions: async_sessionmaker[AsyncSession], user: User) -> uuid.UUID:
    """An interview that ended an hour ago with two interviewers and a recruiter, and the
    follow-ups sync planned for it, stored."""
    interview = Interview(
        id=uuid.uuid4(),
        user_id=user.id,
        company="Acme Corp",
        role="Backend Engineer",
        starts_at=NOW - timedelta(hours=2),
        duration_minutes=60,
        outcome="pending",
        created_at=NOW,
        updated_at=NOW,
    )
    people = [
        _person(user, interview, 0, "Ann Lee", "interviewer"),
        _person(user, interview, 1, "Bob Stone", "interviewer"),
        _person(user, interview, 2, "Cy Park", "recruiter"),
    ]
    async with sessions.begin() as session:
        session.add(interview)
        await session.flush()
        session.add_all(people)
        await session.flush()
        rows = sync.sync_schedule(user=user, interview=interview, people=people, rows=[], now=NOW)
        session.add_all(rows)
    return interview.id


async def _bundle(session: AsyncSession, user: User, interview_id: uuid.UUID) -> Bundle:
    bundle = await interviews.get_bundle(session, user.id, interview_id)
    assert bundle is not None
    return bundle


def _by_key(rows: list[Followup]) -> dict[str | None, Followup]:
    return {row.plan_key: row for row in rows}


async def _resync(
    sessions: async_sessionmaker[AsyncSession],
    user: User,
    interview_id: uuid.UUID,
    change: Any = None,
    **options: Any,
) -> list[Followup]:
    """Load the interview, let `change(interview, people, rows)` alter it, sync and store;
    return what sync added."""
    async with sessions.begin() as session:
        interview, people, rows = await _bundle(session, user, interview_id)
        if change is not None:
            people = change(interview, people, rows) or people
        added = sync.sync_schedule(
            user=user, interview=interview, people=people, rows=rows, now=NOW, **options
        )
        session.add_all(added)
    return added


async def _stored(
    sessions: async_sessionmaker[AsyncSession], user: User, interview_id: uuid.UUID
) -> dict[str | None, Followup]:
    async with sessions() as session:
        _interview, _people, rows = await _bundle(session, user, interview_id)
        return _by_key(rows)


async def test_a_new_interview_gets_a_thank_you_per_interviewer_and_one_check_in(
    sessions: async_sessionmaker[AsyncSession], user: User
) -> None:
    interview_id = await _store_interview(sessions, user)
    async with sessions() as session:
        _interview, people, rows = await _bundle(session, user, interview_id)
    ann, bob, _cy = people
    by_key = _by_key(rows)
    assert set(by_key) == {thank_you_key(str(ann.id)), thank_you_key(str(bob.id)), CHECK_IN_KEY}
    thank_ann = by_key[thank_you_key(str(ann.id))]
    ended = NOW - timedelta(hours=1)
    assert (thank_ann.kind, thank_ann.status) == (Kind.THANK_YOU, Status.SCHEDULED)
    assert (thank_ann.person_id, thank_ann.recipient_name) == (ann.id, "Ann Lee")
    assert thank_ann.not_before == ended
    assert thank_ann.due_at == ended + timedelta(hours=user.thank_you_within_hours)
    assert "Acme Corp" in thank_ann.subject + thank_ann.body
    assert "Jane Doe" in thank_ann.body
    check_in = by_key[CHECK_IN_KEY]
    assert check_in.kind == Kind.CHECK_IN
    assert check_in.not_before.date() >= (ended + timedelta(days=user.check_in_after_days)).date()


async def test_syncing_an_unchanged_interview_adds_and_moves_nothing(
    sessions: async_sessionmaker[AsyncSession], user: User
) -> None:
    interview_id = await _store_interview(sessions, user)
    before = {
        key: (row.status, row.not_before, row.due_at, row.subject, row.body)
        for key, row in (await _stored(sessions, user, interview_id)).items()
    }
    assert await _resync(sessions, user, interview_id) == []
    after = {
        key: (row.status, row.not_before, row.due_at, row.subject, row.body)
        for key, row in (await _stored(sessions, user, interview_id)).items()
    }
    assert after == before


async def test_a_person_removed_cancels_their_thank_you_and_the_name_stays(
    sessions: async_sessionmaker[AsyncSession], user: User
) -> None:
    interview_id = await _store_interview(sessions, user)
    removed: list[Person] = []

    def without_bob(_interview: Interview, people: list[Person], _rows: Any) -> list[Person]:
        removed.append(people[1])
        return [people[0], people[2]]

    assert await _resync(sessions, user, interview_id, without_bob) == []
    stored = await _stored(sessions, user, interview_id)
    bob = stored[thank_you_key(str(removed[0].id))]
    assert (bob.status, bob.cancel_reason) == (Status.CANCELLED, CancelReason.REMOVED)
    assert (bob.person_id, bob.recipient_name) == (None, "Bob Stone")
    assert stored[CHECK_IN_KEY].status == Status.SCHEDULED


async def test_an_outcome_cancels_the_check_in_and_pending_brings_it_back(
    sessions: async_sessionmaker[AsyncSession], user: User
) -> None:
    interview_id = await _store_interview(sessions, user)

    def outcome(value: str) -> Any:
        def change(interview: Interview, _people: Any, _rows: Any) -> None:
            interview.outcome = value

        return change

    await _resync(sessions, user, interview_id, outcome("rejected"))
    stored = await _stored(sessions, user, interview_id)
    check_in = stored[CHECK_IN_KEY]
    assert (check_in.status, check_in.cancel_reason) == (Status.CANCELLED, CancelReason.OUTCOME)
    assert check_in.cancelled_by_outcome
    thank_yous = [row for row in stored.values() if row.kind == Kind.THANK_YOU]
    assert {row.status for row in thank_yous} == {Status.SCHEDULED}

    await _resync(sessions, user, interview_id, outcome("pending"))
    check_in = (await _stored(sessions, user, interview_id))[CHECK_IN_KEY]
    assert (check_in.status, check_in.cancel_reason) == (Status.SCHEDULED, None)
    assert not check_in.cancelled_by_outcome


async def test_a_check_in_cancelled_by_a_reply_stays_cancelled_through_outcomes(
    sessions: async_sessionmaker[AsyncSession], user: User
) -> None:
    interview_id = await _store_interview(sessions, user)

    def replied(_interview: Interview, _people: Any, rows: list[Followup]) -> None:
        sync.cancel(_by_key(rows)[CHECK_IN_KEY], CancelReason.REPLIED)

    await _resync(sessions, user, interview_id, replied)

    def offer_then_pending(interview: Interview, people: Any, rows: list[Followup]) -> None:
        sync.apply_outcome(rows, "offer")
        interview.outcome = "pending"

    await _resync(sessions, user, interview_id, offer_then_pending)
    check_in = (await _stored(sessions, user, interview_id))[CHECK_IN_KEY]
    assert (check_in.status, check_in.cancel_reason) == (Status.CANCELLED, CancelReason.REPLIED)


async def test_sent_and_snoozed_follow_ups_keep_their_times_when_the_interview_moves(
    sessions: async_sessionmaker[AsyncSession], user: User
) -> None:
    interview_id = await _store_interview(sessions, user)
    snoozed_until = NOW + timedelta(days=3)
    keys: dict[str, str] = {}

    def send_one_snooze_one(
        _interview: Interview, people: list[Person], rows: list[Followup]
    ) -> None:
        by_key = _by_key(rows)
        keys["sent"] = thank_you_key(str(people[0].id))
        keys["snoozed"] = thank_you_key(str(people[1].id))
        sent = by_key[keys["sent"]]
        sent.status, sent.sent_at, sent.sent_via = Status.SENT.value, NOW, "user"
        snoozed = by_key[keys["snoozed"]]
        snoozed.not_before, snoozed.due_at, snoozed.snoozed = (
            snoozed_until,
            snoozed_until + timedelta(hours=4),
            True,
        )

    await _resync(sessions, user, interview_id, send_one_snooze_one)
    before = await _stored(sessions, user, interview_id)
    times = {key: (row.not_before, row.due_at) for key, row in before.items()}

    def a_day_later(interview: Interview, _people: Any, _rows: Any) -> None:
        interview.starts_at = interview.starts_at + timedelta(days=1)

    await _resync(sessions, user, interview_id, a_day_later)
    after = await _stored(sessions, user, interview_id)
    assert (after[keys["sent"]].not_before, after[keys["sent"]].due_at) == times[keys["sent"]]
    assert after[keys["sent"]].status == Status.SENT
    assert (after[keys["snoozed"]].not_before, after[keys["snoozed"]].due_at) == (
        snoozed_until,
        snoozed_until + timedelta(hours=4),
    )
    assert after[CHECK_IN_KEY].not_before > times[CHECK_IN_KEY][0]


async def test_an_edited_draft_is_kept_and_the_others_follow_the_interview(
    sessions: async_sessionmaker[AsyncSession], user: User
) -> None:
    interview_id = await _store_interview(sessions, user)

    def edit_check_in(interview: Interview, _people: Any, rows: list[Followup]) -> None:
        check_in = _by_key(rows)[CHECK_IN_KEY]
        check_in.subject, check_in.body, check_in.draft_edited = "Mine", "My own words", True
        interview.company = "Globex"

    await _resync(sessions, user, interview_id, edit_check_in)
    stored = await _stored(sessions, user, interview_id)
    assert (stored[CHECK_IN_KEY].subject, stored[CHECK_IN_KEY].body) == ("Mine", "My own words")
    for row in stored.values():
        if row.kind == Kind.THANK_YOU:
            assert "Globex" in row.subject + row.body
            assert "Acme Corp" not in row.subject + row.body


async def test_a_sent_first_check_in_plans_a_second_only_when_asked_and_the_policy_has_one(
    sessions: async_sessionmaker[AsyncSession], user: User
) -> None:
    interview_id = await _store_interview(sessions, user)
    sent_at = NOW + timedelta(days=15)

    def check_in_sent(_interview: Interview, _people: Any, rows: list[Followup]) -> None:
        check_in = _by_key(rows)[CHECK_IN_KEY]
        check_in.status, check_in.sent_at = Status.SENT.value, sent_at

    # The policy has no second check-in: nothing, even when asked.
    assert user.second_check_in_after_days is None
    assert (
        await _resync(sessions, user, interview_id, check_in_sent, create_second_check_in=True)
        == []
    )

    user.second_check_in_after_days = 7
    # Not asked (any sync other than marking the first one sent): still nothing.
    assert await _resync(sessions, user, interview_id) == []
    added = await _resync(sessions, user, interview_id, create_second_check_in=True)
    assert [row.plan_key for row in added] == [SECOND_CHECK_IN_KEY]
    second = added[0]
    assert (second.kind, second.recipient_name) == (Kind.CHECK_IN, "Cy Park")
    assert second.not_before.date() >= (sent_at + timedelta(days=7)).date()
    # Once there, later syncs keep it without being asked.
    assert await _resync(sessions, user, interview_id) == []
    assert SECOND_CHECK_IN_KEY in await _stored(sessions, user, interview_id)


def test_a_withdrawal_cancels_custom_follow_ups_too_and_pending_restores_them() -> None:
    row = Followup(
        kind=Kind.CUSTOM.value,
        plan_key=None,
        status=Status.SCHEDULED.value,
        cancelled_by_outcome=False,
        not_before=NOW,
        due_at=NOW,
    )
    sync.apply_outcome([row], "rejected")
    assert row.status == Status.SCHEDULED
    sync.apply_outcome([row], "withdrawn")
    assert (row.status, row.cancel_reason) == (Status.CANCELLED, CancelReason.OUTCOME)
    sync.apply_outcome([row], "pending")
    assert (row.status, row.cancel_reason) == (Status.SCHEDULED, None)


async def test_resync_all_moves_what_is_still_to_come_after_a_policy_change(
    sessions: async_sessionmaker[AsyncSession], user: User
) -> None:
    interview_id = await _store_interview(sessions, user)
    ended = NOW - timedelta(hours=1)
    async with sessions.begin() as session:
        jane = await session.get(User, user.id)
        assert jane is not None
        jane.thank_you_within_hours = 24
        await sync.resync_all(session, user=jane, now=NOW)
    stored = await _stored(sessions, user, interview_id)
    thank_yous = [row for row in stored.values() if row.kind == Kind.THANK_YOU]
    assert len(thank_yous) == 2
    assert {row.due_at for row in thank_yous} == {ended + timedelta(hours=24)}


def test_tz_and_policy_come_from_the_user(user: User) -> None:
    assert str(sync.tz_of(user)) == "Europe/Berlin"
    policy = sync.policy_of(user)
    assert policy.thank_you_within_hours == user.thank_you_within_hours
    assert policy.second_check_in_after_days is None
