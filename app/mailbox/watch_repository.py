"""Queries of the mailbox watch: claim due mailboxes (SKIP LOCKED, like app/queue.py), record
how a pass went, how far each folder was read, and which people and follow-ups a chunk of
messages may be about — always by owner, except the claim, which looks across users."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import queue
from app.followups.models import Followup
from app.interviews.models import Person
from app.mailbox.models import Mailbox, MailboxFolder, MailboxMessage

# Bound parameters per IN list, well under SQLite's and asyncpg's limits.
_IN_CHUNK = 500


class FolderMoved(Exception):
    """The folder's stored position is not the one this pass started from: another worker
    or a settings change moved it. The chunk is rolled back."""


async def claim(
    session: AsyncSession, *, now: datetime, claimed_until: datetime, limit: int
) -> list[uuid.UUID]:
    """Lock up to `limit` watched mailboxes that are due and not claimed (skipping those
    other workers hold), and claim them until `claimed_until`."""
    claimable = (
        Mailbox.watch.is_(True),
        or_(Mailbox.next_watch_at.is_(None), Mailbox.next_watch_at <= now),
        or_(Mailbox.claimed_until.is_(None), Mailbox.claimed_until < now),
    )
    statement = (
        select(Mailbox.id)
        .where(*claimable)
        .order_by(Mailbox.next_watch_at.nulls_first(), Mailbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(await session.scalars(statement))
    if not ids:
        return []
    # The condition again: SQLite has no row locks (its select took none), but its write
    # lock makes this check-and-set atomic, so two claimers never take the same mailbox.
    claimed = await session.scalars(
        update(Mailbox)
        .where(Mailbox.id.in_(ids), *claimable)
        .values(claimed_until=claimed_until)
        .returning(Mailbox.id)
        .execution_options(synchronize_session=False)
    )
    return list(claimed)


async def claimed_mailbox(session: AsyncSession, mailbox_id: uuid.UUID) -> Mailbox | None:
    """A mailbox this worker claimed, by the id the claim returned."""
    return await session.scalar(select(Mailbox).where(Mailbox.id == mailbox_id))


async def finish(session: AsyncSession, mailbox_id: uuid.UUID, **values: Any) -> None:
    """Record how the pass went and give the claim back."""
    await session.execute(
        update(Mailbox)
        .where(Mailbox.id == mailbox_id)
        .values(claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )


async def folder(
    session: AsyncSession, user_id: uuid.UUID, mailbox_id: uuid.UUID, role: str
) -> MailboxFolder | None:
    result: MailboxFolder | None = await session.scalar(
        select(MailboxFolder).where(
            MailboxFolder.user_id == user_id,
            MailboxFolder.mailbox_id == mailbox_id,
            MailboxFolder.role == role,
        )
    )
    return result


async def advance_folder(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    mailbox_id: uuid.UUID,
    role: str,
    name: str,
    uidvalidity: int,
    last_uid: int,
    expected: tuple[str, int, int] | None,
    now: datetime,
) -> None:
    """Move the folder's position to (`name`, `uidvalidity`, `last_uid`), only from where
    this pass found it (`expected`, or no row); FolderMoved otherwise."""
    if expected is None:
        inserted = await queue.insert_unless_present(
            session,
            MailboxFolder,
            {
                "id": uuid.uuid4(),
                "user_id": user_id,
                "mailbox_id": mailbox_id,
                "role": role,
                "name": name,
                "uidvalidity": uidvalidity,
                "last_uid": last_uid,
                "updated_at": now,
            },
            unique=["user_id", "mailbox_id", "role"],
        )
        if not inserted:
            raise FolderMoved
        return
    was_name, was_uidvalidity, was_uid = expected
    result = await session.execute(
        update(MailboxFolder)
        .where(
            MailboxFolder.user_id == user_id,
            MailboxFolder.mailbox_id == mailbox_id,
            MailboxFolder.role == role,
            MailboxFolder.name == was_name,
            MailboxFolder.uidvalidity == was_uidvalidity,
            MailboxFolder.last_uid == was_uid,
        )
        .values(name=name, uidvalidity=uidvalidity, last_uid=last_uid, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise FolderMoved


async def count_message(
    session: AsyncSession, user_id: uuid.UUID, key: str, *, now: datetime
) -> bool:
    """Record that the message `key` changed something; False when it already had."""
    return await queue.insert_unless_present(
        session,
        MailboxMessage,
        {"id": uuid.uuid4(), "user_id": user_id, "key": key, "created_at": now},
        unique=["user_id", "key"],
    )


def _chunks(values: Iterable[str]) -> list[list[str]]:
    items = sorted(set(values))
    return [items[i : i + _IN_CHUNK] for i in range(0, len(items), _IN_CHUNK)]


async def interviews_of_addresses(
    session: AsyncSession, user_id: uuid.UUID, addresses: Iterable[str]
) -> dict[str, set[uuid.UUID]]:
    """For each of these (lower-case) addresses that is a person of the user's interviews,
    the interviews they are on."""
    found: dict[str, set[uuid.UUID]] = {}
    for chunk in _chunks(addresses):
        rows = await session.execute(
            select(func.lower(Person.email), Person.interview_id).where(
                Person.user_id == user_id, func.lower(Person.email).in_(chunk)
            )
        )
        for address, interview_id in rows:
            found.setdefault(address, set()).add(interview_id)
    return found


async def interviews_of_message_ids(
    session: AsyncSession, user_id: uuid.UUID, message_ids: Sequence[str]
) -> dict[str, uuid.UUID]:
    """For each Message-ID (normalised, without brackets) that is one of the user's
    follow-ups', that follow-up's interview."""
    wanted = {f"<{m}>" for m in message_ids} | set(message_ids)
    found: dict[str, uuid.UUID] = {}
    for chunk in _chunks(wanted):
        rows = await session.execute(
            select(Followup.message_id, Followup.interview_id).where(
                Followup.user_id == user_id, Followup.message_id.in_(chunk)
            )
        )
        for message_id, interview_id in rows:
            if message_id is not None:
                found[message_id.strip().strip("<>")] = interview_id
    return found
