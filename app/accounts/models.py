"""Tables for accounts: users, their web sessions, API tokens, invites and sign-in attempts."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import OWNED_BY_USER, Base, utcnow
from app.followups.schedule import DEFAULT_POLICY


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Stored lower-cased: emails are compared without regard to case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # False while the zone is the default nobody picked: signing in from a browser may then
    # set it to the browser's zone. Picking one (UTC included) makes it the user's choice.
    timezone_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Follow-up policy (DESIGN.md "Policy").
    thank_you_within_hours: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_POLICY.thank_you_within_hours
    )
    check_in_after_days: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_POLICY.check_in_after_days
    )
    check_in_grace_days: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_POLICY.check_in_grace_days
    )
    send_hour: Mapped[int] = mapped_column(Integer, default=DEFAULT_POLICY.send_hour)
    skip_weekends: Mapped[bool] = mapped_column(Boolean, default=DEFAULT_POLICY.skip_weekends)
    second_check_in_after_days: Mapped[int | None] = mapped_column(Integer)

    # Draft templates; null means the built-in default.
    thank_you_subject: Mapped[str | None] = mapped_column(Text)
    thank_you_body: Mapped[str | None] = mapped_column(Text)
    check_in_subject: Mapped[str | None] = mapped_column(Text)
    check_in_body: Mapped[str | None] = mapped_column(Text)

    # The calendar feed's URL is derived from this and the instance secret; a new salt
    # (128 random bits) rotates it. Nothing that would open the feed is stored.
    calendar_salt: Mapped[str | None] = mapped_column(
        String(32), default=lambda: secrets.token_hex(16)
    )

    # Notifications.
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=True)
    due_now: Mapped[bool] = mapped_column(Boolean, default=False)

    # What the group board shows of this member: "none" (default), "counts" or "companies".
    board_sharing: Mapped[str] = mapped_column(String(16), default="none", server_default="none")


class WebSession(Base):
    """A signed-in browser. Only a hash of the cookie's secret is stored."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    # The second serves retention (app/retention.py): every user's expired sessions.
    __table_args__ = (Index(None, "user_id", "expires_at"), Index(None, "expires_at"))


class ApiToken(Base):
    """A personal API token. Only a hash of the secret is stored."""

    __tablename__ = "api_tokens"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    __table_args__ = (Index(None, "user_id", "created_at", "id"),)


class Invite(Base):
    """A one-time invitation to register. Only a hash of the code is stored."""

    __tablename__ = "invites"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who the admin meant it for ("Dana from the May cohort"); shown only to admins.
    note: Mapped[str | None] = mapped_column(String(200))


class LoginAttempt(Base):
    """Password checks in the current window for one account or one client address, shared
    by every app process. Keyed by a hash, so no email or address is kept here in clear."""

    __tablename__ = "login_attempts"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_started_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer)

    # The worker prunes windows that have ended (app/retention.py).
    __table_args__ = (Index(None, "window_started_at"),)
