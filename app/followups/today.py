"""Today: what to send now, what is late, what comes next, read in one statement, each card's
words computed once so that the page only places them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.followups import drafts, repository, schedule, service, sync
from app.followups.schedule import KIND_SHORT_WORDS, KIND_WORDS, DueState, Kind, Status
from app.followups.schemas import FollowupRead
from app.time_words import sent_words, span, when
from app.wire import keyset_cursor, parse_keyset_cursor

# Each Today section shows at most this many follow-ups; "Show more" pages through the rest.
TODAY_SHOWN = 50
# Today shows what the mailbox saw in this window, at most CAME_BACK_SHOWN of each.
CAME_BACK_WINDOW = timedelta(days=7)
CAME_BACK_SHOWN = 10

_SECTION_TITLES = {
    DueState.OVERDUE: "Overdue",
    DueState.DUE: "Due now",
    DueState.UPCOMING: "Coming up",
}


@dataclass(slots=True)  # not frozen: a frozen dataclass is slower to build, per card
class Card:
    """One follow-up as a Today card shows it, in words already."""

    id: str
    interview_id: str
    title: str  # "Thank-you note to Ann Lee"
    what: str  # "thank-you to Ann Lee", in each action's accessible name
    preview: str  # the draft's first lines, at most PREVIEW_CHARS
    about: str  # "Backend Engineer at Acme Corp"
    state_class: str  # "state-due", "status-sent", …
    badge: str  # its badge's modifier: "due", "sent", …
    state: str  # "due today at 15:00"
    note: str  # " (2 hours left)"
    due_state: DueState | None
    scheduled: bool
    sending: bool
    send_error: str | None
    recipient_email: str | None
    mailto_url: str
    # No address yet: where to add one (the interview's edit form, at that person's row).
    add_email_url: str | None
    # The *Send* button shows (the mailbox sends, there is an address, nothing on its way).
    send: bool
    # *Mark sent* is the primary action: due or late, and no *Send* to prefer.
    mark_primary: bool
    # Snoozing to tomorrow would move a thank-you past its window: why, in words.
    snooze_warning: str | None


@dataclass(frozen=True, slots=True)
class _Words:
    """What every card of one page is worded against: the user's zone, day and moment."""

    tz: ZoneInfo
    today: date
    now: datetime
    can_send: bool
    snooze_at: datetime  # where *Snooze* moves a follow-up
    snooze_words: str  # snooze_at in words, "tomorrow at 9:00"


def _words(user: User, now: datetime, can_send: bool) -> _Words:
    tz = sync.tz_of(user)
    today = now.astimezone(tz).date()
    snooze_at = snooze_until_tomorrow(user, now)
    return _Words(tz, today, now, can_send, snooze_at, when(snooze_at, tz, today))


# A card previews this much of its draft: a glance, not the letter (the page stays light).
PREVIEW_LINES, PREVIEW_CHARS = 3, 200


def _preview(body: str) -> str:
    """The draft's first non-empty lines, cut at PREVIEW_CHARS."""
    lines = []
    for line in body[: PREVIEW_CHARS * 2].splitlines():
        if line.strip():
            lines.append(line.strip())
            if len(lines) == PREVIEW_LINES:
                break
    text = "\n".join(lines)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1].rstrip() + "…"


def _past_window(kind: str, due_at: datetime, moved_to: datetime) -> bool:
    """A thank-you moved to start after its deadline: it would go out late."""
    return kind == Kind.THANK_YOU and moved_to > due_at


# By the kind's value, as rows hold it: no Kind(…) per card.
_KIND_WORDS = {kind.value: words for kind, words in KIND_WORDS.items()}
_KIND_SHORT_WORDS = {kind.value: words for kind, words in KIND_SHORT_WORDS.items()}


def _title(kind: str, subject: str, name: str | None, nobody: str) -> str:
    what = subject if kind == Kind.CUSTOM else _KIND_WORDS[kind]
    return f"{what} to {name or nobody}"


def add_email_url(interview_id: str, person_id: object | None) -> str:
    """Where a follow-up's missing address is added: the interview's edit form, focused on
    the recipient's email field (or at its people, when there is nobody to write to yet)."""
    url = f"/interviews/{interview_id}/edit"
    return f"{url}?person={person_id}" if person_id else f"{url}#people-list"


def _card(values: Mapping[str, Any], company: str, role: str, words: _Words) -> Card:
    """A card from READ_COLUMNS (a row mapping, with `person_id` if it has one), with its
    interview's company and role."""
    status = values["status"]
    due_at, not_before = values["due_at"], values["not_before"]
    due_state = schedule.due_state(Status(status), not_before, due_at, words.now)
    note = ""
    due_words = None
    if status == Status.SENT:
        state_class = "status-sent"
        state = sent_words(values["sent_via"], values["sent_at"], words.tz, words.today)
    elif status != Status.SCHEDULED:
        state_class, state = f"status-{status}", status.capitalize()
    elif due_state is DueState.OVERDUE:
        state_class, state = "state-overdue", f"{span(words.now - due_at)} late"
        note = f" (was due {when(due_at, words.tz, words.today)})"
    elif due_state is DueState.DUE:
        due_words = when(due_at, words.tz, words.today)
        state_class, state = "state-due", f"due {due_words}"
        note = f" ({span(due_at - words.now)} left)"
    else:
        state_class = "state-upcoming"
        state = f"send from {when(not_before, words.tz, words.today)}"
    email = values["recipient_email"]
    sending = status == Status.SCHEDULED and values["send_requested_at"] is not None
    send = words.can_send and bool(email) and not sending
    kind, name = values["kind"], values["recipient_name"]
    snooze_warning = None
    if due_state is not DueState.OVERDUE and _past_window(kind, due_at, words.snooze_at):
        snooze_warning = (
            f"Snoozing to {words.snooze_words} moves this thank-you past its window (due by "
            f"{due_words or when(due_at, words.tz, words.today)})."
        )
    return Card(
        id=str(values["id"]),
        interview_id=str(values["interview_id"]),
        title=_title(kind, values["subject"], name, "(no recipient yet)"),
        what=f"{_KIND_SHORT_WORDS[kind]} to {name or 'nobody yet'}",
        preview=_preview(values["body"]),
        about=f"{role} at {company}",
        state_class=state_class,
        badge=state_class.partition("-")[2],
        state=state,
        note=note,
        due_state=due_state,
        scheduled=status == Status.SCHEDULED,
        sending=sending,
        send_error=values["send_error"],
        recipient_email=email,
        mailto_url=drafts.mailto_url(email, values["subject"], values["body"]),
        add_email_url=(
            None if email else add_email_url(str(values["interview_id"]), values.get("person_id"))
        ),
        send=send,
        # Not while the app sends it, nor beside *Send*.
        mark_primary=due_state is not DueState.UPCOMING and not (words.can_send and email),
        snooze_warning=snooze_warning,
    )


@dataclass(frozen=True, slots=True)
class Sent:
    """A follow-up that went out lately through the mailbox."""

    interview_id: str
    title: str
    about: str
    sent: str  # "Sent by Followup today at 14:02"


@dataclass(frozen=True, slots=True)
class CameBack:
    """A reply the mailbox saw lately, on one interview."""

    interview_id: str
    who: str  # "Ann Lee", or "Someone" when they left the interview
    about: str
    replied: str  # "Replied 3 hours ago — check-in cancelled"
    subject: str | None


@dataclass(frozen=True, slots=True)
class Day:
    """Upcoming cards that can be sent from one day (in the user's zone), under its heading."""

    heading: str  # "Tomorrow", "Thursday 3 December"
    cards: list[Card]


def day_heading(day: date, today: date) -> str:
    """A day as a heading of Coming up: "Today", "Tomorrow", "Thursday 3 December" (with
    the year when it is not this one)."""
    delta = (day - today).days
    if delta == 0:
        return "Today"
    if delta == 1:
        return "Tomorrow"
    words = f"{day.strftime('%A')} {day.day} {day.strftime('%B')}"
    return words if day.year == today.year else f"{words} {day.year}"


def by_day(cards: list[Card], starts: Mapping[str, datetime], words: _Words) -> list[Day]:
    """Cards grouped by the local day they can be sent from (`starts`: not_before by card
    id), earliest day first, each day's cards in the order given."""
    groups: dict[date, list[Card]] = {}
    for c in cards:
        groups.setdefault(starts[c.id].astimezone(words.tz).date(), []).append(c)
    return [Day(day_heading(day, words.today), groups[day]) for day in sorted(groups)]


@dataclass(frozen=True, slots=True)
class Section:
    """One of overdue, due and upcoming: at most TODAY_SHOWN cards, and how many in all."""

    key: str
    title: str
    cards: list[Card]
    total: int
    more: str | None  # the cursor of the next page, when there is more
    # Coming up only: its cards by the day they can be sent from.
    days: list[Day] | None = None


@dataclass(frozen=True)
class Today:
    sections: list[Section]
    # Scheduled follow-ups per (due state, kind), counted in SQL: the sections show at
    # most TODAY_SHOWN each, the counts cover them all.
    counts: dict[tuple[DueState, str], int] = field(default_factory=dict)
    # What the mailbox saw lately: replies (which cancel check-ins) and what went out
    # through it, so the user sees why something left the list.
    came_back: list[CameBack] = field(default_factory=list)
    sent_lately: list[Sent] = field(default_factory=list)
    # Sent since Monday (the user's zone), and how many of those went out by their due_at.
    sent_this_week: int = 0
    on_time_this_week: int = 0

    @property
    def week(self) -> str:
        """One line: "3 sent this week · 2 on time"."""
        return f"{self.sent_this_week} sent this week · {self.on_time_this_week} on time"

    def total(self, state: str) -> int:
        due_state = DueState(state)
        return sum(n for (s, _kind), n in self.counts.items() if s is due_state)

    @property
    def empty(self) -> bool:
        return not (any(s.cards for s in self.sections) or self.came_back or self.sent_lately)

    @property
    def summary(self) -> str:
        """One line: "2 thank-you notes due, 1 overdue"."""
        overdue = self.total("overdue")
        due = self.total("due")
        if not (overdue or due):
            upcoming = self.total("upcoming")
            if upcoming:
                return f"Nothing due right now; {_count(upcoming, 'follow-up')} coming up."
            return "Nothing to send."
        parts = []
        for kind, noun in (
            (Kind.THANK_YOU, "thank-you note"),
            (Kind.CHECK_IN, "check-in"),
            (Kind.CUSTOM, "follow-up"),
        ):
            count = self.counts.get((DueState.DUE, kind.value), 0)
            if count:
                parts.append(_count(count, noun))
        line = " and ".join(parts) + " due" if parts else ""
        if overdue:
            line = f"{line}, {overdue} overdue" if line else f"{overdue} overdue"
        return line[0].upper() + line[1:]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _next_cursor(rows: list[Any], limit: int) -> str | None:
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return keyset_cursor(last["due_at"], last["id"])


def week_start(user: User, now: datetime) -> datetime:
    """The start of this week in the user's zone (Monday, midnight), as a UTC instant."""
    tz = sync.tz_of(user)
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    return datetime.combine(monday, time(0), tzinfo=tz).astimezone(UTC)


def _days(rows: list[Any], cards: list[Card], words: _Words) -> list[Day]:
    return by_day(cards, {str(row["id"]): row["not_before"] for row in rows}, words)


def _section_cards(rows: list[Any], state: DueState, words: _Words) -> list[Card]:
    cards = [_card(row, row["company"], row["role"], words) for row in rows]
    # A row the SQL put in this section but the rules put elsewhere (an edge of snoozing)
    # is left out rather than shown under the wrong heading.
    return [c for c in cards if c.due_state is state]


def _came_back(row: Mapping[str, Any], words: _Words) -> CameBack:
    cancelled = int(row["n"] or 0)
    replied = f"Replied {span(words.now - row['sent_at'])} ago"
    if cancelled:
        replied += f" — {'check-in' if cancelled == 1 else f'{cancelled} check-ins'} cancelled"
    return CameBack(
        interview_id=str(row["interview_id"]),
        who=row["recipient_name"] or "Someone",
        about=f"{row['role']} at {row['company']}",
        replied=replied,
        subject=row["subject"],
    )


def _sent(row: Mapping[str, Any], words: _Words) -> Sent:
    return Sent(
        interview_id=str(row["interview_id"]),
        title=_title(row["kind"], row["subject"], row["recipient_name"], "(no recipient)"),
        about=f"{row['role']} at {row['company']}",
        sent=sent_words(row["sent_via"], row["sent_at"], words.tz, words.today),
    )


async def today(session: AsyncSession, *, user: User, now: datetime) -> Today:
    """What to send: overdue first, then due, then what comes next; each section at most
    TODAY_SHOWN (fetched as TODAY_SHOWN + 1 to know whether there is more)."""
    rows = await repository.today_rows(session, user.id, now=now, **today_params(user, now))
    return from_rows(rows, user=user, now=now)


def today_params(user: User, now: datetime) -> dict[str, Any]:
    """The bounds of Today's statement (repository.today_statement), besides user and now."""
    return {
        "limit": TODAY_SHOWN + 1,
        "since": now - CAME_BACK_WINDOW,
        "recent_limit": CAME_BACK_SHOWN,
        "week_start": week_start(user, now),
    }


def from_rows(rows: Sequence[Mapping[Any, Any]], *, user: User, now: datetime) -> Today:
    """Today from its statement's rows (the general path's, or the fast path's on
    Postgres: app.followups.reads.today_rows)."""
    parts: dict[str, list[Any]] = {}
    for row in rows:
        parts.setdefault(row["part"], []).append(row)
    mailbox = parts.get(repository.MAILBOX)
    can_send = mailbox is not None and service.mailbox_sends(
        bool(mailbox[0]["n"]), mailbox[0]["status"]
    )
    words = _words(user, now, can_send)
    counts = {
        (DueState(row["part"].removeprefix(repository.COUNT)), row["kind"]): row["n"]
        for part in (repository.COUNT + state.value for state in DueState)
        for row in parts.get(part, ())
    }
    week = {
        row["part"]: row["n"]
        for part in (repository.WEEK_ON_TIME, repository.WEEK_LATE)
        for row in parts.get(part, ())
    }
    on_time = week.get(repository.WEEK_ON_TIME, 0)
    result = Today(
        sections=[],
        counts=counts,
        sent_this_week=on_time + week.get(repository.WEEK_LATE, 0),
        on_time_this_week=on_time,
        came_back=[_came_back(r, words) for r in parts.get(repository.CAME_BACK, ())],
        sent_lately=[_sent(r, words) for r in parts.get(repository.SENT_LATELY, ())],
    )
    for state in DueState.OVERDUE, DueState.DUE, DueState.UPCOMING:
        section_rows = parts.get(state.value, [])
        cards = _section_cards(section_rows[:TODAY_SHOWN], state, words)
        result.sections.append(
            Section(
                key=state.value,
                title=_SECTION_TITLES[state],
                cards=cards,
                total=result.total(state.value),
                more=_next_cursor(section_rows, TODAY_SHOWN),
                days=_days(section_rows, cards, words) if state is DueState.UPCOMING else None,
            )
        )
    return result


@dataclass(frozen=True)
class More:
    """The next page of one Today section ("Show more")."""

    state: DueState
    cards: list[Card]
    next_cursor: str | None
    days: list[Day] | None = None  # Coming up's, by day (see Section.days)


async def more(
    session: AsyncSession,
    *,
    user: User,
    state: DueState,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> More:
    after = parse_keyset_cursor(cursor)
    rows = await repository.today_section_after(
        session, user.id, state, after=after, limit=limit + 1, now=now
    )
    words = _words(user, now, await service.can_send(session, user=user))
    cards = _section_cards(rows[:limit], state, words)
    days = _days(rows, cards, words) if state is DueState.UPCOMING else None
    return More(state, cards, _next_cursor(rows, limit), days)


async def card(
    session: AsyncSession, *, user: User, followup_id: uuid.UUID, now: datetime, can_send: bool
) -> tuple[FollowupRead, Card]:
    """One follow-up as the API reads it and as its Today card shows it (`can_send`: the
    user's mailbox sends)."""
    row = await service.get(session, user=user, followup_id=followup_id)
    names = await repository.interview_names(session, user.id, row.interview_id)
    company, role = names if names is not None else ("", "")
    words = _words(user, now, can_send)
    values = service.read_values(row)
    shown = _card({**values, "person_id": row.person_id}, company, role, words)
    return service.read_of(values, now), shown


_NOUNS = {Kind.THANK_YOU: "thank-you note", Kind.CHECK_IN: "check-in", Kind.CUSTOM: "follow-up"}
_DONE = {Status.SENT: "Marked sent", Status.SKIPPED: "Skipped", Status.SCHEDULED: "Moved"}


@dataclass(frozen=True, slots=True)
class Done:
    """What the message after an action on a Today card says, and how to take it back."""

    id: str
    message: str  # "Marked sent: thank-you note to Ann Lee."
    # The PATCH body that puts the card back as it was (the API's own fields), if any.
    undo: str | None
    warning: str | None  # a snooze that moved a thank-you past its window


def done(before: FollowupRead, after: FollowupRead, *, user: User, now: datetime) -> Done:
    """The message for an action that turned `before` into `after`. Marking sent or skipping
    is undone by going back to `scheduled`; a snooze by the times it had."""
    tz = sync.tz_of(user)
    today = now.astimezone(tz).date()
    what = f"{_NOUNS[after.kind]} to {after.recipient_name or 'nobody yet'}"
    undo: dict[str, str] | None = None
    warning = None
    if before.status != Status.SCHEDULED and after.status == Status.SCHEDULED:
        message = f"Back on Today: {what}."
    else:
        message = f"{_DONE.get(after.status, 'Updated')}: {what}"
        if after.status == Status.SCHEDULED:
            message += f", until {when(after.not_before, tz, today)}"
        message += "."
    if before.status == Status.SCHEDULED and after.status in (Status.SENT, Status.SKIPPED):
        undo = {"status": Status.SCHEDULED.value}
    moved = (before.not_before, before.due_at) != (after.not_before, after.due_at)
    if before.status == after.status == Status.SCHEDULED and moved:
        undo = {"not_before": before.not_before.isoformat(), "due_at": before.due_at.isoformat()}
        if before.due_at >= now and _past_window(after.kind, before.due_at, after.not_before):
            warning = (
                f"This thank-you was due by {when(before.due_at, tz, today)}: it now goes "
                "out after its window."
            )
    return Done(str(after.id), message, json.dumps(undo) if undo else None, warning)


def snooze_until_tomorrow(user: User, now: datetime) -> datetime:
    """Where "Snooze" moves a follow-up: tomorrow at the user's send hour."""
    tz = sync.tz_of(user)
    day = now.astimezone(tz).date() + timedelta(days=1)
    return schedule.local_send_time(day, user.send_hour, tz)
