"""What a message seen by the watch means, from its headers alone: pure functions of the
headers and of what the user's interviews and follow-ups are, no database, no clock.

A message in the sent folder to a person of an interview marks that person's follow-up
sent; a message in the inbox from a person (or answering a message Followup knows) is a
reply. Automatic replies and the user's own messages never count."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from app.followups.schedule import Status

INBOX, SENT = "inbox", "sent"
THANK_YOU, CHECK_IN = "thank_you", "check_in"

_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
# Subjects of automatic replies, the last resort when the headers do not say so.
_AUTOMATIC_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|out of (the )?office|undeliverable|undelivered mail"
    r"|delivery status notification|mail delivery (failed|failure|subsystem)"
    r"|returned mail|delivery failure|abwesenheitsnotiz|r[ée]ponse automatique)",
    re.IGNORECASE,
)
_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_ROBOT_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})


class Headers(Protocol):
    """What the watch reads of a message (app/mailbox/imap.py HeaderSummary)."""

    @property
    def uid(self) -> int: ...
    @property
    def message_id(self) -> str | None: ...
    @property
    def in_reply_to(self) -> Sequence[str] | str | None: ...
    @property
    def references(self) -> Sequence[str] | str | None: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def from_(self) -> Sequence[tuple[str, str]]: ...
    @property
    def to(self) -> Sequence[tuple[str, str]]: ...
    @property
    def cc(self) -> Sequence[tuple[str, str]]: ...
    @property
    def date(self) -> datetime | None: ...
    @property
    def internal_date(self) -> datetime | None: ...
    @property
    def auto_submitted(self) -> str | None: ...
    @property
    def x_autoreply(self) -> str | None: ...
    @property
    def precedence(self) -> str | None: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def return_path(self) -> str | None: ...


@dataclass(frozen=True)
class PersonFact:
    id: uuid.UUID
    email: str  # lower case


@dataclass(frozen=True)
class InterviewFact:
    id: uuid.UUID
    end: datetime
    people: tuple[PersonFact, ...]


@dataclass(frozen=True)
class FollowupFact:
    id: uuid.UUID
    interview_id: uuid.UUID
    kind: str
    person_id: uuid.UUID | None
    status: str
    not_before: datetime
    message_id: str | None  # normalised (normalise_message_id)


@dataclass(frozen=True)
class Reply:
    """An answer from `person_id` about `interview_id`."""

    interview_id: uuid.UUID
    person_id: uuid.UUID | None
    received_at: datetime
    subject: str


def normalise_message_id(value: str | None) -> str | None:
    """The id inside the angle brackets (or the bare value), stripped; None when empty."""
    if not value:
        return None
    found = _ANGLE_ID.search(value)
    text = (found.group(1) if found else value).strip().strip("<>").strip()
    return text or None


def referenced_ids(headers: Headers) -> list[str]:
    """Every Message-ID the message answers: In-Reply-To, then References."""
    found: list[str] = []
    values: list[str] = []
    for header in (headers.in_reply_to, headers.references):
        values.extend([header] if isinstance(header, str) else list(header or ()))
    for value in values:
        ids = _ANGLE_ID.findall(value) or ([value.strip()] if value.strip() else [])
        for one in ids:
            normal = normalise_message_id(one)
            if normal and normal not in found:
                found.append(normal)
    return found


def message_time(headers: Headers) -> datetime | None:
    """The message's Date, else when the server received it (INTERNALDATE); UTC."""
    when = headers.date or headers.internal_date
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def message_key(role: str, headers: Headers) -> str:
    """What the watch keeps of a message that changed something: SHA-256 of the folder's
    role and the normalised Message-ID. A message without one is known by its sender, date
    and subject instead (stable across UIDVALIDITY resets, unlike its UID)."""
    message_id = normalise_message_id(headers.message_id)
    if message_id is not None:
        source = f"{role}\0{message_id}"
    else:
        sender = ",".join(address for _name, address in headers.from_)
        when = message_time(headers)
        source = (
            f"{role}\0no-id\0{sender}\0{when.isoformat() if when else ''}\0{headers.subject or ''}"
        )
    return hashlib.sha256(source.encode()).hexdigest()


def _addresses(pairs: Iterable[tuple[str, str]]) -> list[str]:
    return [address.strip().lower() for _name, address in pairs if address and address.strip()]


def is_automatic(headers: Headers) -> bool:
    """Out of office, vacation, bounces, lists: anything a person did not write."""
    auto = (headers.auto_submitted or "").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return True
    if headers.x_autoreply and headers.x_autoreply.strip():
        return True
    if (headers.precedence or "").strip().lower() in _AUTOMATIC_PRECEDENCE:
        return True
    content_type = (headers.content_type or "").strip().lower()
    if content_type.startswith("multipart/report"):
        return True
    for address in _addresses(headers.from_):
        if address.partition("@")[0] in _ROBOT_LOCAL_PARTS:
            return True
    if (headers.return_path or "").replace(" ", "") == "<>":  # a bounce's null sender
        return True
    return bool(_AUTOMATIC_SUBJECT.match(headers.subject or ""))


def own_addresses(
    account_email: str, mailbox_address: str | None = None, mailbox_username: str | None = None
) -> frozenset[str]:
    """The user's own addresses, lower-cased: the account's email and the mailbox's address
    (and its user name when that is an address). Mail from them is never a reply; on an
    invite they are the user, not someone met."""
    candidates = (account_email, mailbox_address, mailbox_username)
    return frozenset(a.lower() for a in candidates if a and "@" in a)


def is_own(headers: Headers, own_addresses: frozenset[str]) -> bool:
    return any(address in own_addresses for address in _addresses(headers.from_))


def people_addressed(headers: Headers) -> list[str]:
    """The To and Cc addresses, lower case, each once, in order."""
    seen: list[str] = []
    for address in _addresses([*headers.to, *headers.cc]):
        if address not in seen:
            seen.append(address)
    return seen


def sender_address(headers: Headers) -> str | None:
    addresses = _addresses(headers.from_)
    return addresses[0] if addresses else None


def _latest_before(
    interviews: Iterable[InterviewFact], address: str, when: datetime
) -> list[tuple[InterviewFact, PersonFact]]:
    """The interviews `address` is a person of that ended before `when`, latest first."""
    found = [
        (interview, person)
        for interview in interviews
        for person in interview.people
        if person.email == address and interview.end < when
    ]
    found.sort(key=lambda pair: (pair[0].end, str(pair[0].id)), reverse=True)
    # One entry per interview (a person listed twice on one interview counts once).
    unique: list[tuple[InterviewFact, PersonFact]] = []
    for pair in found:
        if all(pair[0].id != other[0].id for other in unique):
            unique.append(pair)
    return unique


def _sent_target(
    followups: Sequence[FollowupFact], person_id: uuid.UUID, when: datetime
) -> FollowupFact | None:
    """The person's scheduled thank-you, else their scheduled check-in once it may go."""
    mine = [f for f in followups if f.person_id == person_id and f.status == Status.SCHEDULED]
    for followup in sorted(mine, key=lambda f: f.not_before):
        if followup.kind == THANK_YOU:
            return followup
    for followup in sorted(mine, key=lambda f: f.not_before):
        if followup.kind == CHECK_IN and followup.not_before <= when:
            return followup
    return None


def followups_sent(
    headers: Headers,
    *,
    interviews: Sequence[InterviewFact],
    followups: Sequence[FollowupFact],
) -> list[FollowupFact]:
    """A message in the sent folder: the follow-ups it is, one per person it went to (To or
    Cc) — for each, on the most recent interview that ended before it and has one to mark.
    The app's own sent copy (its Message-ID is a follow-up's) and automatic messages are
    nothing."""
    when = message_time(headers)
    message_id = normalise_message_id(headers.message_id)
    if when is None or is_automatic(headers):
        return []
    if message_id is not None and any(f.message_id == message_id for f in followups):
        return []
    chosen: list[FollowupFact] = []
    for address in people_addressed(headers):
        for interview, person in _latest_before(interviews, address, when):
            of_interview = [f for f in followups if f.interview_id == interview.id]
            target = _sent_target(of_interview, person.id, when)
            if target is not None:
                if target not in chosen:
                    chosen.append(target)
                break
    return chosen


def reply_of(
    headers: Headers,
    *,
    own_addresses: frozenset[str],
    interviews: Sequence[InterviewFact],
    followups: Sequence[FollowupFact],
) -> Reply | None:
    """A message in the inbox: the reply it is, or None.

    Answering a follow-up Followup knows (In-Reply-To / References) ties it to that
    follow-up's interview (the person: the sender if listed there, else whom the follow-up
    went to); otherwise a sender who is a person of an interview ties it to the most recent
    of their interviews that ended before the message. Either way, dated after the end."""
    when = message_time(headers)
    if when is None or is_automatic(headers) or is_own(headers, own_addresses):
        return None
    subject = (headers.subject or "")[:300]
    sender = sender_address(headers)
    by_id = {i.id: i for i in interviews}
    known = {f.message_id: f for f in followups if f.message_id}
    for ref in referenced_ids(headers):
        answered = known.get(ref)
        interview = by_id.get(answered.interview_id) if answered else None
        if answered is None or interview is None or not interview.end < when:
            continue
        listed = next((p for p in interview.people if sender and p.email == sender), None)
        person_id = listed.id if listed else answered.person_id
        return Reply(interview.id, person_id, when, subject)
    if sender is None:
        return None
    latest = _latest_before(interviews, sender, when)
    if not latest:
        return None
    interview, person = latest[0]
    return Reply(interview.id, person.id, when, subject)
