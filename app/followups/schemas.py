"""Wire schemas for follow-ups."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from app.followups.schedule import DueState, Kind, Status
from app.wire import Body, Input, Instant, NotNull, OptStr200, Str300


class CancelReason(StrEnum):
    OUTCOME = "outcome"
    REPLIED = "replied"
    REMOVED = "removed"
    USER = "user"


class SentVia(StrEnum):
    USER = "user"
    MAILBOX = "mailbox"
    APP = "app"


class FollowupRead(BaseModel):
    id: uuid.UUID
    interview_id: uuid.UUID
    kind: Kind
    recipient_name: str | None
    recipient_email: str | None
    not_before: Instant = Field(description="From this instant the follow-up is due.")
    due_at: Instant = Field(description="After this instant the follow-up is overdue.")
    status: Status
    sent_at: Instant | None
    subject: str
    body: str
    due_state: DueState | None = Field(
        description="upcoming, due or overdue, computed at the time of the request; "
        "null unless scheduled."
    )
    mailto_url: str = Field(description="Opens the draft in a mail client (RFC 6068).")
    draft_edited: bool = Field(
        description="The subject or body was edited by hand: the draft no longer follows "
        "the interview or the templates. PATCH subject or body to null to undo."
    )
    snoozed: bool = Field(
        description="The times were moved by hand: the schedule no longer recomputes them. "
        "Moving them back to the times the schedule gives (as Today's Undo does) clears it."
    )
    cancel_reason: CancelReason | None = Field(
        description="Why it was cancelled (null unless `cancelled`): `outcome` (the "
        "interview's outcome; a return to `pending` restores it), `replied` (the mailbox saw "
        "a reply), `removed` (its person left the interview) or `user`."
    )
    sent_via: SentVia | None = Field(
        description="How it went out (null unless `sent`): `user` (marked by hand), "
        "`mailbox` (seen in your sent folder) or `app` (sent through your mailbox)."
    )
    send_error: str | None = Field(
        description="Why the last send through your mailbox was refused; null once it goes "
        "out or when it was never sent that way."
    )
    sending: bool = Field(
        default=False,
        description="A send through your mailbox was asked for (POST …/send) and the worker "
        "has not finished it yet.",
    )


class SettableStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"
    SKIPPED = "skipped"


class FollowupUpdate(Input):
    """Mark sent, skip, reschedule, snooze or edit the draft. Absent fields stay as they are."""

    status: NotNull[SettableStatus] = None
    sent_at: Instant | None = Field(
        default=None, description="When it was sent; defaults to now when marking sent."
    )
    not_before: NotNull[Instant] = Field(default=None, description="Snooze: the new start.")
    due_at: NotNull[Instant] = Field(default=None, description="Snooze: the new deadline.")
    subject: Str300 | None = Field(default=None, description="null puts back the generated draft.")
    body: Body | None = Field(default=None, description="null puts back the generated draft.")


class FollowupCreate(Input):
    """A custom follow-up on an interview, with its own draft."""

    recipient_name: OptStr200 = None
    recipient_email: EmailStr | None = None
    not_before: Instant | None = Field(
        default=None, description="Defaults to now (or due_at, if that is earlier)."
    )
    due_at: Instant
    subject: Str300
    body: Body = ""


DueStateFilter = Literal["upcoming", "due", "overdue"]
