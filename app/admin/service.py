"""The admin's rules: who may be deactivated or lose the admin role, invites, reset links."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts
from app.accounts import service as auth
from app.accounts.models import Invite, User
from app.admin import repository
from app.admin.schemas import (
    InviteCreate,
    InviteCreated,
    InviteRead,
    InviteStatus,
    MemberRead,
    MemberUpdate,
    ResetLinkRead,
)
from app.config import Settings
from app.errors import Conflict, NotFound
from app.reminders import service as reminders
from app.wire import Page, check_if_match, keyset_cursor, parse_keyset_cursor, strong_etag

# An admin hands the link over by hand, which may take longer than the emailed hour.
ADMIN_RESET_VALID_FOR = timedelta(hours=24)


def member_read(user: User) -> MemberRead:
    return MemberRead(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        is_admin=user.is_admin,
        is_active=user.is_active,
        created_at=user.created_at,
    )


def etag(read: MemberRead) -> str:
    return strong_etag(read.model_dump_json().encode())


async def list_members(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> Page[MemberRead]:
    rows = await repository.members(session, after=parse_keyset_cursor(cursor), limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = keyset_cursor(rows[-1].created_at, rows[-1].id)
    return Page[MemberRead](
        items=[MemberRead.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
    )


async def _member(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repository.member(session, user_id)
    if user is None:
        raise NotFound("No such member.")
    return user


def refusal(
    *, actor_id: uuid.UUID, target: User, patch: MemberUpdate, other_active_admins: int
) -> str | None:
    """Why this change may not be made, or None. Pure: the caller counts the admins."""
    deactivating = patch.is_active is False and target.is_active
    if deactivating and target.id == actor_id:
        return "You cannot deactivate yourself; another admin can."
    losing_admin = (
        target.is_admin and target.is_active and (patch.is_admin is False or deactivating)
    )
    if losing_admin and other_active_admins == 0:
        return (
            "This is the last active admin: make another member admin first, "
            "so the instance always has one."
        )
    return None


async def update_member(
    session: AsyncSession,
    *,
    actor: User,
    user_id: uuid.UUID,
    patch: MemberUpdate,
    if_match: str | None,
    now: datetime,
) -> User:
    # Locked before the If-Match is checked, so that it still holds when the write is made.
    target = await repository.lock_member(session, user_id)
    if target is None:
        raise NotFound("No such member.")
    check_if_match(if_match, etag(member_read(target)))
    others = len(await accounts.other_active_admins(session, target.id))
    reason = refusal(actor_id=actor.id, target=target, patch=patch, other_active_admins=others)
    if reason is not None:
        raise Conflict(reason)
    if patch.is_admin is not None:
        target.is_admin = patch.is_admin
    if patch.is_active is not None:
        if target.is_active and not patch.is_active:
            # Tokens are refused while inactive (authentication checks it); sessions end now.
            await accounts.delete_web_sessions(session, target.id)
        target.is_active = patch.is_active
    target.updated_at = now
    await session.flush()
    return target


async def reset_link(
    session: AsyncSession, *, settings: Settings, user_id: uuid.UUID, now: datetime
) -> ResetLinkRead:
    target = await _member(session, user_id)
    if not target.is_active:
        raise Conflict("This member is deactivated: reactivate them first.")
    issued = await reminders.issue_password_reset(
        session, settings=settings, user=target, now=now, valid_for=ADMIN_RESET_VALID_FOR
    )
    if settings.smtp_host:
        # The email carries a link of its own, made as it is sent: the shown one is never
        # stored, so it cannot be emailed later. The first of the two used ends the other.
        await reminders.enqueue_reset_email(
            session,
            settings=settings,
            user=target,
            now=now,
            valid_for=ADMIN_RESET_VALID_FOR,
            by_admin=True,
        )
    return ResetLinkRead(
        user_id=target.id,
        link=issued.link,
        expires_at=issued.expires_at,
        emailed=bool(settings.smtp_host),
    )


def invite_status(invite: Invite, now: datetime) -> InviteStatus:
    if invite.used_at is not None:
        return "used"
    return "pending" if invite.expires_at > now else "expired"


def invite_read(invite: Invite, now: datetime) -> InviteRead:
    return InviteRead(
        id=invite.id,
        note=invite.note,
        status=invite_status(invite, now),
        created_at=invite.created_at,
        expires_at=invite.expires_at,
        used_at=invite.used_at,
        used_by=invite.used_by,
    )


async def list_invites(
    session: AsyncSession, *, limit: int, cursor: str | None, now: datetime
) -> Page[InviteRead]:
    rows = await repository.invites(session, after=parse_keyset_cursor(cursor), limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = keyset_cursor(rows[-1].created_at, rows[-1].id)
    return Page[InviteRead](items=[invite_read(i, now) for i in rows], next_cursor=next_cursor)


async def create_invite(
    session: AsyncSession, *, settings: Settings, actor: User, data: InviteCreate, now: datetime
) -> InviteCreated:
    invite, code = await auth.make_invite(
        session, created_by=actor.id, now=now, days=data.expires_in_days, note=data.note
    )
    return InviteCreated(
        **invite_read(invite, now).model_dump(), code=code, link=auth.invite_link(settings, code)
    )


async def revoke_invite(session: AsyncSession, *, invite_id: uuid.UUID) -> None:
    if not await repository.delete_invite(session, invite_id):
        raise NotFound("No such invite.")
