"""Wire schemas for a user's data as one versioned document, and for the CSV import."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from app.followups.schedule import Kind, Role, Status
from app.followups.schemas import CancelReason, SentVia
from app.interviews.schemas import MAX_PEOPLE, InviteUid, Outcome
from app.me.schemas import Notifications, Policy, Templates
from app.wire import (
    Day,
    Input,
    Instant,
    Integer,
    OptStr200,
    OptStr2000,
    OptStr5000,
    OptStr20000,
    Storable,
    Str200,
    TimeZoneName,
)

FORMAT = "followup-export"
VERSION = 1
MAX_INTERVIEWS = 10_000
MAX_FOLLOWUPS = 200  # per interview: the plan makes a few, custom ones add to them

# Stored as is, never trimmed: a draft is exactly what the user or the template made.
Exact = Annotated[str, Storable]
BoardSharing = Literal["none", "counts", "companies"]


class ExportProfile(Input):
    """The account's settings (never its email, password, tokens or admin rights)."""

    display_name: Str200
    timezone: TimeZoneName
    policy: Policy = Field(default_factory=Policy)
    templates: Templates = Field(default_factory=Templates)
    notifications: Notifications = Field(default_factory=Notifications)
    board_sharing: BoardSharing = "none"


class ExportPerson(Input):
    id: uuid.UUID = Field(description="Referenced by the follow-ups' `person_id` and `plan_key`.")
    name: Str200
    email: EmailStr | None = None
    title: OptStr200 = None
    role: Role


class ExportFollowup(Input):
    id: uuid.UUID
    kind: Kind
    plan_key: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None,
        description="Which planned follow-up this is: `thank_you:<person id>`, `thank_you`, "
        "`check_in` or `check_in:2`; null for a custom one. Keeps the schedule behaving the "
        "same after an import (a person's thank-you follows that person).",
    )
    person_id: uuid.UUID | None = Field(
        default=None, description="The person (of this interview) it is addressed to."
    )
    recipient_name: Annotated[Exact, StringConstraints(max_length=200)] | None = None
    recipient_email: Annotated[Exact, StringConstraints(max_length=320)] | None = None
    not_before: Instant
    due_at: Instant
    status: Status
    sent_at: Instant | None = None
    subject: Annotated[Exact, StringConstraints(max_length=300)]
    body: Annotated[Exact, StringConstraints(max_length=20000)]
    snoozed: bool = Field(default=False, description="Moved by hand: times are not recomputed.")
    draft_edited: bool = Field(
        default=False, description="Edited by hand: the draft no longer follows the templates."
    )
    cancelled_by_outcome: bool = Field(
        default=False, description="Cancelled by an outcome: a return to `pending` restores it."
    )
    cancel_reason: CancelReason | None = Field(
        default=None,
        description="Why it was cancelled; only with status `cancelled` (absent: `outcome` "
        "when `cancelled_by_outcome`, else `removed`).",
    )
    sent_via: SentVia | None = Field(
        default=None, description="How it went out; only with status `sent` (absent: `user`)."
    )
    message_id: Annotated[Exact, StringConstraints(max_length=500)] | None = Field(
        default=None,
        description="The Message-ID of the email that went out: a later check-in is "
        "threaded onto it.",
    )
    created_at: Instant
    updated_at: Instant


class ExportLastReply(Input):
    person_id: uuid.UUID = Field(description="One of the interview's people, or one removed.")
    received_at: Instant
    subject: Annotated[Exact, StringConstraints(max_length=300)]


class ExportInterview(Input):
    id: uuid.UUID
    company: Str200
    role: Str200
    starts_at: Instant
    duration_minutes: Integer = Field(default=60, ge=1, le=1440)
    stage: OptStr200 = None
    location: OptStr2000 = None
    highlight: OptStr5000 = None
    excitement: OptStr5000 = None
    notes: OptStr20000 = None
    response_promised_by: Day | None = None
    outcome: Outcome = Outcome.PENDING
    invite_uid: InviteUid | None = Field(
        default=None, description="The `UID` of the calendar invite it was imported from."
    )
    invite_sequence: Integer | None = Field(default=None, ge=0)
    last_reply: ExportLastReply | None = Field(
        default=None, description="The latest reply the mailbox saw from one of the people."
    )
    created_at: Instant
    updated_at: Instant
    people: list[ExportPerson] = Field(
        default_factory=list, max_length=MAX_PEOPLE, description="In their order."
    )
    followups: list[ExportFollowup] = Field(
        default_factory=list, max_length=MAX_FOLLOWUPS, description="Ordered by due_at, then id."
    )


class ExportDocument(Input):
    """All of one user's data. `GET /api/v1/export` writes it; `POST /api/v1/import` reads it.
    The mailbox is not in it: its password never leaves the instance, and its settings
    without it could not connect."""

    format: Literal["followup-export"] = Field(description="Always `followup-export`.")
    version: Literal[1] = Field(description="The document's version; this instance reads 1.")
    exported_at: Instant
    profile: ExportProfile | None = Field(
        default=None, description="The account's settings; absent or null on import: kept as is."
    )
    interviews: list[ExportInterview] = Field(
        max_length=MAX_INTERVIEWS, description="Ordered by starts_at, then id."
    )


class ImportResult(BaseModel):
    interviews: int = Field(description="How many interviews were added.")
    people: int
    followups: int
    profile_applied: bool = Field(description="Whether the document's profile was applied.")
    added_to_existing: bool = Field(
        description="The account already had interviews: these were added beside them."
    )
    interview_ids: list[uuid.UUID] = Field(description="The new ids, in the document's order.")


class CsvPerson(BaseModel):
    name: str
    email: str | None
    role: str | None


class CsvRowError(BaseModel):
    column: str = Field(description="The column at fault (`row` for the line as a whole).")
    msg: str


class CsvRow(BaseModel):
    line: int = Field(description="The line in the file (the header is line 1).")
    company: str | None
    role: str | None
    starts_at: Instant | None = Field(description="The date and time, in `timezone`.")
    local_date: date | None
    local_time: str | None
    timezone: str | None
    stage: str | None
    duration_minutes: int | None
    location: str | None
    notes: str | None
    people: list[CsvPerson]
    errors: list[CsvRowError] = Field(description="Empty when the row can be imported.")


class CsvPreview(BaseModel):
    rows: list[CsvRow]
    valid: int = Field(description="Rows that would be created.")
    invalid: int = Field(description="Rows with errors; an import creates nothing while any.")


class CsvImported(BaseModel):
    created: int
    interview_ids: list[uuid.UUID]
