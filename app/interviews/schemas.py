"""Wire schemas for interviews and the people on them."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, EmailStr, Field

from app.followups.schedule import Role
from app.followups.schemas import FollowupRead
from app.wire import (
    Day,
    Input,
    Instant,
    Integer,
    NotNull,
    OptStr200,
    OptStr2000,
    OptStr5000,
    OptStr20000,
    Str200,
)

MAX_PEOPLE = 50
INVITE_UID_MAX = 500

InviteUid = Annotated[str, Field(min_length=1, max_length=INVITE_UID_MAX)]


class Outcome(StrEnum):
    PENDING = "pending"
    NEXT_ROUND = "next_round"
    OFFER = "offer"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    NO_RESPONSE = "no_response"
    CANCELLED = "cancelled"


class PersonIn(Input):
    id: uuid.UUID | None = Field(
        default=None,
        description="On PATCH: the id of a person to keep and update; absent for a new person.",
    )
    name: Str200
    email: EmailStr | None = None
    title: OptStr200 = None
    role: Role


class PersonRead(BaseModel):
    id: uuid.UUID
    name: str
    email: str | None
    title: str | None
    role: Role


class InterviewCreate(Input):
    company: Str200 = Field(examples=["Acme Corp"])
    role: Str200 = Field(description="The job title.", examples=["Backend Engineer"])
    starts_at: Instant = Field(examples=["2026-12-01T15:00:00+01:00"])
    duration_minutes: Integer = Field(default=60, ge=1, le=1440)
    stage: OptStr200 = Field(default=None, examples=["Onsite"])
    location: OptStr2000 = None
    people: list[PersonIn] = Field(default_factory=list, max_length=MAX_PEOPLE)
    highlight: OptStr5000 = Field(
        default=None,
        description="Something you discussed, to mention in the thank-you note.",
        examples=["the migration of the billing system to event sourcing"],
    )
    excitement: OptStr5000 = Field(
        default=None,
        description="What excites you about the role.",
        examples=["working on infrastructure that thousands of shops rely on"],
    )
    notes: OptStr20000 = None
    response_promised_by: Day | None = Field(
        default=None, description="The day they said they would get back to you (your time zone)."
    )
    outcome: Outcome = Outcome.PENDING
    invite_uid: InviteUid | None = Field(
        default=None,
        description="The `UID` of the calendar invite this interview comes from (as "
        "`import-invite` answers it): a later import of the same invite updates this interview. "
        "One interview per invite: an existing one is a 409.",
    )
    invite_sequence: Integer | None = Field(
        default=None, ge=0, description="The invite's `SEQUENCE` (with `invite_uid`)."
    )


class InterviewUpdate(Input):
    """A partial update: absent fields stay; null clears an optional field or puts back its
    default (a 422 on a required one). `people` replaces the list: an item with an `id`
    updates that person, one without is new, and a person left out is removed."""

    company: NotNull[Str200] = None
    role: NotNull[Str200] = None
    starts_at: NotNull[Instant] = None
    duration_minutes: Integer | None = Field(default=None, ge=1, le=1440)
    stage: OptStr200 = None
    location: OptStr2000 = None
    people: list[PersonIn] | None = Field(default=None, max_length=MAX_PEOPLE)
    highlight: OptStr5000 = None
    excitement: OptStr5000 = None
    notes: OptStr20000 = None
    response_promised_by: Day | None = None
    outcome: Outcome | None = None


class LastReply(BaseModel):
    """The latest reply the mailbox saw from a person of the interview."""

    person_id: uuid.UUID = Field(
        description="Who replied (they may since have left the interview's people)."
    )
    received_at: Instant
    subject: str


class InterviewRead(BaseModel):
    id: uuid.UUID
    company: str
    role: str
    starts_at: Instant
    duration_minutes: int
    ends_at: Instant
    stage: str | None
    location: str | None
    people: list[PersonRead]
    highlight: str | None
    excitement: str | None
    notes: str | None
    response_promised_by: date | None
    outcome: Outcome
    invite_uid: str | None = Field(
        description="The `UID` of the calendar invite it was imported from, if it was."
    )
    invite_sequence: int | None = Field(description="That invite's `SEQUENCE`.")
    last_reply: LastReply | None = Field(
        description="The latest reply your mailbox saw from one of the people, after the "
        "interview; null when none (or no mailbox is connected)."
    )
    followups: list[FollowupRead] = Field(description="Ordered by due_at, then id.")
    created_at: Instant
    updated_at: Instant
