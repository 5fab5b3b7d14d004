"""The calendar feed: a secret URL per user, and their follow-ups and interviews as iCalendar."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.errors import NotFound
from app.followups import repository as followups
from app.followups.schedule import KIND_WORDS, Kind
from app.interviews import repository as interviews

_MAC_LENGTH = 43  # 256 bits, URL-safe base64 without padding
FEED_EVENT_MINUTES = 15


def _mac(secret: str, user_id: uuid.UUID, salt: str) -> str:
    digest = hmac.new(secret.encode(), f"calendar:{user_id}:{salt}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode()[:_MAC_LENGTH]


def feed_token(user: User, secret: str) -> str | None:
    """The feed's secret: the user's id and a MAC of it with their current salt.

    Only the salt is stored; without the instance secret nothing in the database opens a
    feed, and a new salt makes every earlier URL a 404."""
    if user.calendar_salt is None:
        return None
    return user.id.hex + _mac(secret, user.id, user.calendar_salt)


def feed_url(user: User, *, secret: str, base_url: str) -> str | None:
    token = feed_token(user, secret)
    return f"{base_url}/calendar/{token}.ics" if token else None


def rotate(user: User) -> None:
    user.calendar_salt = secrets.token_hex(16)


async def user_for_feed(session: AsyncSession, token: str, *, secret: str) -> User:
    from app.accounts.repository import user_by_id

    missing = NotFound("No such calendar feed.")
    if len(token) != 32 + _MAC_LENGTH:
        raise missing
    try:
        user_id = uuid.UUID(hex=token[:32])
    except ValueError:
        raise missing from None
    user = await user_by_id(session, user_id)
    if user is None or not user.is_active or user.calendar_salt is None:
        raise missing
    if not hmac.compare_digest(token[32:], _mac(secret, user.id, user.calendar_salt)):
        raise missing
    return user


async def feed(session: AsyncSession, *, user: User, base_url: str, now: datetime) -> bytes:
    """Every scheduled follow-up at its `not_before`, with an alarm, and upcoming interviews."""
    # Here, not at the top: icalendar (~80 modules) would sit in every worker from its start.
    from icalendar import Alarm, Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Followup//Follow-ups//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Followup")
    calendar.add("x-published-ttl", "PT1H")
    for row, _interview_id, company, _role in await followups.scheduled_with_interviews(
        session, user.id, limit=2000
    ):
        words = KIND_WORDS[Kind(row.kind)]
        who = row.recipient_name or "(no recipient yet)"
        link = f"{base_url}/followups/{row.id}"
        event = Event()
        event.add("uid", f"followup-{row.id}@followup")
        event.add("dtstamp", row.updated_at)
        event.add("dtstart", row.not_before)
        event.add("dtend", row.not_before + timedelta(minutes=FEED_EVENT_MINUTES))
        event.add("summary", f"{words} to {who} ({company})")
        event.add(
            "description",
            f"Draft: {link}\nSubject: {row.subject}\nDue by {row.due_at:%Y-%m-%d %H:%M} UTC",
        )
        event.add("url", link)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{words} to {who}")
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
        calendar.add_component(event)
    for interview in await interviews.upcoming(session, user.id, since=now - timedelta(days=1)):
        event = Event()
        event.add("uid", f"interview-{interview.id}@followup")
        event.add("dtstamp", interview.updated_at)
        event.add("dtstart", interview.starts_at)
        event.add("dtend", interview.starts_at + timedelta(minutes=interview.duration_minutes))
        event.add("summary", f"Interview: {interview.role} at {interview.company}")
        if interview.location:
            event.add("location", interview.location)
        event.add("url", f"{base_url}/interviews/{interview.id}")
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
