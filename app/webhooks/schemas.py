"""Wire schemas for webhooks: what a user registers, what they see, and the delivery log."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from app.wire import Input, Instant


class Event(StrEnum):
    FOLLOWUP_DUE = "followup.due"
    FOLLOWUP_OVERDUE = "followup.overdue"
    FOLLOWUP_SENT = "followup.sent"
    INTERVIEW_CREATED = "interview.created"
    INTERVIEW_OUTCOME_CHANGED = "interview.outcome_changed"
    INTERVIEW_REPLIED = "interview.replied"


class Format(StrEnum):
    JSON = "json"
    SLACK = "slack"
    DISCORD = "discord"
    NTFY = "ntfy"


def _one_or_many(value: Any) -> Any:
    # A form with one box ticked sends a string, not a list.
    return [value] if isinstance(value, str) else value


class WebhookCreate(Input):
    url: str = Field(
        min_length=1,
        max_length=2000,
        examples=["https://hooks.slack.com/services/T000/B000/XXXX"],
        description="http or https; private, loopback and link-local addresses are refused.",
    )
    events: Annotated[list[Event], BeforeValidator(_one_or_many)] = Field(
        min_length=1, max_length=10, examples=[["followup.due", "followup.sent"]]
    )
    format: Format = Field(default=Format.JSON, description="The body: generic JSON or a preset.")


class WebhookRead(BaseModel):
    id: uuid.UUID
    url: str
    events: list[Event]
    format: Format
    created_at: Instant


class WebhookCreated(WebhookRead):
    secret: str = Field(
        description="Signs every delivery (`Followup-Signature`). Shown only in this response."
    )


class DeliveryRead(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    event: str = Field(examples=["followup.sent"])
    status: str = Field(description="`pending`, `sending`, `delivered` or `failed`.")
    status_code: int | None = Field(description="The receiver's HTTP status, last attempt.")
    attempts: int
    error: str | None = Field(description="Why the last attempt failed, in our words.")
    created_at: Instant
    last_attempt_at: Instant | None
    delivered_at: Instant | None
