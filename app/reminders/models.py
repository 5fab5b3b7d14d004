"""Tables for reminders: the outbox of mail to deliver and password-reset tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import OWNED_BY_USER, Base, utcnow
from app.queue import UNSENT_INDEX_WHERE

# The rows retention may delete (app/retention.py): the WHERE of their partial index.
OUTBOX_DONE = text("status IN ('sent', 'failed')")
# A follow-up the user sends through their own mailbox (app/mailbox/send.py): not mail to
# the user, so not among "emails that could not be delivered" (the card says why instead).
MAILBOX_SEND = "mailbox_send"


class Outbox(Base):
    """One message to deliver. Written in the transaction that caused it; the worker sends it."""

    __tablename__ = "outbox"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    # At most one message per user and key: "digest:<local date>", "due_now:<follow-up id>".
    dedupe_key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # While `sending`, the claim holds until then; after that another worker may take it.
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index(None, "user_id", "status", "due_at"),
        # The worker's claim (app/queue.py): only unsent rows, by due time (issue 5).
        Index(
            "ix_outbox_due_at_unsent",
            "due_at",
            postgresql_where=UNSENT_INDEX_WHERE,
            sqlite_where=UNSENT_INDEX_WHERE,
        ),
        # Retention (app/retention.py): the oldest done rows, never the unsent ones.
        Index(
            "ix_outbox_created_at_done",
            "created_at",
            postgresql_where=OUTBOX_DONE,
            sqlite_where=OUTBOX_DONE,
        ),
    )


class PasswordReset(Base):
    """A single-use password-reset link. Only a hash of its token is stored."""

    __tablename__ = "password_resets"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    # The second serves retention (app/retention.py): every user's expired links.
    __table_args__ = (Index(None, "user_id", "expires_at"), Index(None, "expires_at"))
