"""Tables for webhooks: the user's endpoints, and one delivery row per event and endpoint."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import OWNED_BY_USER, Base, utcnow
from app.queue import UNSENT_INDEX_WHERE

# The rows retention may delete (app/retention.py): the WHERE of their partial index.
DELIVERY_DONE = text("status IN ('delivered', 'failed')")


class Webhook(Base):
    """An endpoint the user registered; `secret` signs every delivery (shown once)."""

    __tablename__ = "webhooks"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    format: Mapped[str] = mapped_column(String(20))
    # Kept in clear so the worker can sign; never returned after creation.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index(None, "user_id", "created_at"),)


class WebhookDelivery(Base):
    """One event to POST to one webhook. Written in the transaction that caused the event;
    the worker claims it (SKIP LOCKED) and records each attempt's outcome here."""

    __tablename__ = "webhook_deliveries"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    # Deterministic for events the worker finds (due, overdue), so each is sent once.
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None]
    response_status: Mapped[int | None] = mapped_column(Integer)
    # Our own words for what went wrong (never the receiver's response body).
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "webhook_id", "event_id"),
        Index(None, "user_id", "status", "due_at"),
        # The worker's claim (app/queue.py): only unsent rows, by due time (issue 5).
        Index(
            "ix_webhook_deliveries_due_at_unsent",
            "due_at",
            postgresql_where=UNSENT_INDEX_WHERE,
            sqlite_where=UNSENT_INDEX_WHERE,
        ),
        Index(None, "user_id", "webhook_id", "created_at"),
        # Retention (app/retention.py): the oldest finished rows, never the pending ones.
        Index(
            "ix_webhook_deliveries_created_at_done",
            "created_at",
            postgresql_where=DELIVERY_DONE,
            sqlite_where=DELIVERY_DONE,
        ),
    )
