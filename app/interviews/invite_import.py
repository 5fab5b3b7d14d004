"""Calendar invites in: an invite becomes a new interview, or updates the one imported from it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.errors import Conflict, Invalid
from app.followups.schedule import Kind, Status
from app.interviews import invites, repository, service
from app.interviews.invites import ParsedInvite
from app.interviews.models import Person
from app.interviews.schemas import (
    InterviewCreate,
    InterviewRead,
    InterviewUpdate,
    Outcome,
    PersonIn,
)
from app.mailbox import repository as mailboxes
from app.mailbox import rules


@dataclass(frozen=True)
class InviteImport:
    """What an import made (or, in a dry run, would make) of an invite."""

    interview: InterviewRead
    created: bool  # a new interview; else the one imported before from the same invite
    saved: bool
    previous: InterviewRead | None  # that one before this import
    sources: list[str]  # what came from where in the invite, in words


async def own_addresses(session: AsyncSession, user: User) -> frozenset[str]:
    """The user's own addresses (app/mailbox/rules.py): on an invite they are the user."""
    mailbox = await mailboxes.get(session, user.id)
    if mailbox is None:
        return rules.own_addresses(user.email)
    return rules.own_addresses(user.email, mailbox.address, mailbox.username)


async def import_invite(
    session: AsyncSession,
    *,
    user: User,
    body: bytes,
    media_type: str,
    dry_run: bool,
    now: datetime,
) -> InviteImport:
    parsed = invites.parse_invite(
        invites.calendar_bytes(body, media_type),
        own_addresses=await own_addresses(session, user),
        default_tz=ZoneInfo(user.timezone),
    )
    found = await repository.find_by_invite(session, user.id, parsed.uid)
    if found is None:
        data = _create_data(parsed)
        if dry_run:
            bundle = service.build(user=user, data=data, now=now)
        else:
            bundle = await service.create(session, user=user, data=data, now=now)
        return InviteImport(
            interview=service.to_read(bundle, now),
            created=True,
            saved=not dry_run,
            previous=None,
            sources=parsed.sources,
        )
    if dry_run:
        stored = await service.get(session, user=user, interview_id=found.id)
    else:
        stored = await service.get_for_update(session, user=user, interview_id=found.id)
    kept = stored[0].invite_sequence or 0
    if parsed.sequence < kept:
        raise Conflict(
            f"This invite is older (SEQUENCE {parsed.sequence}) than the one already imported "
            f"(SEQUENCE {kept}): nothing was changed."
        )
    previous = service.to_read(stored, now)
    patch = _update_patch(parsed, stored[0].outcome, stored[1])
    if dry_run:
        bundle = await service.preview_update(user=user, bundle=stored, patch=patch, now=now)
    else:
        bundle = await service.update(
            session,
            user=user,
            interview_id=found.id,
            patch=patch,
            if_match=None,
            now=now,
            invite_sequence=parsed.sequence,
        )
    return InviteImport(
        interview=service.to_read(bundle, now),
        created=False,
        saved=not dry_run,
        previous=previous,
        sources=parsed.sources,
    )


_Schema = TypeVar("_Schema", InterviewCreate, InterviewUpdate)


def _checked(build: type[_Schema], **fields: Any) -> _Schema:
    """The wire schema's own checks, with what fails named as the invite's property."""
    try:
        return build(**fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = {"starts_at": "DTSTART", "duration_minutes": "DTEND", "location": "LOCATION"}
        field = str(first["loc"][0]) if first["loc"] else ""
        prop = where.get(field, "ATTENDEE" if field == "people" else "SUMMARY")
        raise Invalid(["body", prop], str(first["msg"])) from None


def _create_data(parsed: ParsedInvite) -> InterviewCreate:
    return _checked(
        InterviewCreate,
        company=parsed.company,
        role=parsed.role,
        starts_at=parsed.starts_at,
        duration_minutes=parsed.duration_minutes,
        location=parsed.location,
        people=[PersonIn(name=p.name, email=p.email, role=p.role) for p in parsed.people],
        outcome=Outcome.CANCELLED if parsed.cancelled else Outcome.PENDING,
        invite_uid=parsed.uid,
        invite_sequence=parsed.sequence,
    )


def _update_patch(parsed: ParsedInvite, outcome: str, current: list[Person]) -> InterviewUpdate:
    """Time, duration, location and people from the invite. People matched by email keep
    their id, role and title (so their thank-you); people with no email were added by hand
    and stay. A cancellation sets `cancelled`; an invite that is on again undoes it."""
    by_email = {p.email.lower(): p for p in current if p.email}
    # Without an address (a no-reply organizer, someone added by hand) the name is the match.
    by_name = {p.name: p for p in current if not p.email}
    people: list[PersonIn] = []
    matched: set[uuid.UUID] = set()
    for person in parsed.people:
        known = by_email.get(person.email) if person.email else by_name.get(person.name)
        if known is None or known.id in matched:
            people.append(PersonIn(name=person.name, email=person.email, role=person.role))
            continue
        matched.add(known.id)
        people.append(
            PersonIn(
                id=known.id,
                name=person.name,
                email=known.email,
                title=known.title,
                role=known.role,
            )
        )
    for by_hand in sorted(current, key=lambda p: p.position):
        if by_hand.email is None and by_hand.id not in matched:
            people.append(
                PersonIn(id=by_hand.id, name=by_hand.name, title=by_hand.title, role=by_hand.role)
            )
    fields: dict[str, Any] = {
        "starts_at": parsed.starts_at,
        "duration_minutes": parsed.duration_minutes,
        "location": parsed.location,
        "people": people,
    }
    if parsed.cancelled:
        fields["outcome"] = Outcome.CANCELLED
    elif outcome == Outcome.CANCELLED:
        fields["outcome"] = Outcome.PENDING
    return _checked(InterviewUpdate, **fields)


def what_moved(before: InterviewRead, after: InterviewRead, tz: ZoneInfo) -> str:
    """One line on what an update of the invite changed, for the person who dropped it:
    "Moved to Tue 9 Dec at 15:00; the check-in moved too"."""
    parts: list[str] = []
    if after.outcome is Outcome.CANCELLED and before.outcome is not Outcome.CANCELLED:
        return "Cancelled by the company: every follow-up not yet sent is cancelled."
    if before.outcome is Outcome.CANCELLED and after.outcome is Outcome.PENDING:
        parts.append("On again: the follow-ups are back")
    if after.starts_at != before.starts_at:
        local = after.starts_at.astimezone(tz)
        parts.append(f"Moved to {local:%a} {local.day} {local:%b} at {local:%H:%M}")
        if _check_in_due(before) != _check_in_due(after):
            parts.append("the check-in moved too")
    elif after.duration_minutes != before.duration_minutes:
        parts.append(f"Now {after.duration_minutes} minutes long")
    if after.location != before.location:
        parts.append(f"location now {after.location}" if after.location else "no location now")
    old = {p.email or p.name for p in before.people}
    new = {p.email or p.name for p in after.people}
    if added := len(new - old):
        parts.append(f"{added} {'person' if added == 1 else 'people'} added")
    if removed := len(old - new):
        parts.append(f"{removed} {'person' if removed == 1 else 'people'} no longer invited")
    if not parts:
        return "Already up to date: nothing moved."
    line = "; ".join(parts)
    return line[0].upper() + line[1:] + "."


def _check_in_due(read: InterviewRead) -> datetime | None:
    return next(
        (
            f.not_before
            for f in read.followups
            if f.kind is Kind.CHECK_IN and f.status is Status.SCHEDULED
        ),
        None,
    )
