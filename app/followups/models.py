"""The follow-up table: one email to send, with its window, status and draft."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import OWNED_BY_USER, Base, utcnow
from app.interviews.models import Interview


class Followup(Base):
    __tablename__ = "followups"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    interview_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    # Which planned follow-up this row is ("thank_you:<person>", "check_in", …); null for custom.
    plan_key: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    recipient_email: Mapped[str | None] = mapped_column(String(320))
    not_before: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    sent_at: Mapped[datetime | None]
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # Moved by hand: the schedule no longer recomputes its times.
    snoozed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Edited by hand: the draft no longer follows the interview or the templates.
    draft_edited: Mapped[bool] = mapped_column(Boolean, default=False)
    # Cancelled by an outcome: a return to `pending` brings it back.
    cancelled_by_outcome: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why it was cancelled (null unless `cancelled`): outcome | replied | removed | user.
    cancel_reason: Mapped[str | None] = mapped_column(String(20))
    # How it went out (null unless `sent`): user (marked by hand) | mailbox (seen in the
    # user's sent folder) | app (sent through the user's mailbox on request).
    sent_via: Mapped[str | None] = mapped_column(String(20))
    # The Message-ID of the email that went out (sent by the app or seen in the mailbox):
    # a later check-in to the same person is threaded onto it.
    message_id: Mapped[str | None] = mapped_column(String(500))
    # Why the last send through the mailbox was refused; cleared when it goes out.
    send_error: Mapped[str | None] = mapped_column(Text)
    # When a send through the mailbox was asked for; cleared when it went out or was
    # refused. While set on a scheduled follow-up, it shows "Sending…".
    send_requested_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        # One row per planned follow-up; also serves "the follow-ups of this interview".
        UniqueConstraint("user_id", "interview_id", "plan_key"),
        Index(None, "user_id", "due_at", "id"),
        Index(None, "user_id", "status", "due_at", "id"),
        # The group board's weekly counts: what a member sent in the last few weeks.
        Index(None, "user_id", "sent_at"),
    )


def joins_its_interview() -> ColumnElement[bool]:
    """The join of a follow-up to its interview, on the owner too: on Citus (sharded by
    user_id) the two rows are then joined on the user's shard (README "Scaling")."""
    return and_(Interview.user_id == Followup.user_id, Interview.id == Followup.interview_id)
