"""Tables for interviews and the people met at them."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import OWNED_BY_USER, Base, utcnow


class Interview(Base):
    __tablename__ = "interviews"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    company: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    stage: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(2000))
    highlight: Mapped[str | None] = mapped_column(Text)
    excitement: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    response_promised_by: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20), default="pending")
    # The latest reply the mailbox saw from a person of the interview (`last_reply`): who
    # (no foreign key: the person may since have left the list), when, and its subject.
    last_reply_person_id: Mapped[uuid.UUID | None]
    last_reply_at: Mapped[datetime | None]
    last_reply_subject: Mapped[str | None] = mapped_column(String(300))
    # The calendar invite it was imported from: a later import of the same UID updates it.
    invite_uid: Mapped[str | None] = mapped_column(String(500))
    invite_sequence: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index(None, "user_id", "starts_at", "id"),
        Index(None, "user_id", "company"),
        Index(None, "user_id", "invite_uid", unique=True),
    )


class Person(Base):
    __tablename__ = "people"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    interview_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    title: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))

    __table_args__ = (Index(None, "user_id", "interview_id", "position"),)
