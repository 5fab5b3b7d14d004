"""Tables for the user's mailbox: its settings (password sealed), where the watch has read up
to in each folder, and the messages that changed something (so each counts once)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import OWNED_BY_USER, Base, utcnow


class Mailbox(Base):
    """One per user: where to read (IMAP) and send (SMTP), and how the last check went."""

    __tablename__ = "mailboxes"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    address: Mapped[str] = mapped_column(String(320))
    username: Mapped[str] = mapped_column(String(320))
    # The app password, sealed with a key derived from SECRET_KEY (app/mailbox/secrets.py).
    password_sealed: Mapped[str] = mapped_column(Text)
    imap_host: Mapped[str] = mapped_column(String(253))
    imap_port: Mapped[int] = mapped_column(Integer)
    imap_security: Mapped[str] = mapped_column(String(10))
    smtp_host: Mapped[str] = mapped_column(String(253))
    smtp_port: Mapped[int] = mapped_column(Integer)
    smtp_security: Mapped[str] = mapped_column(String(10))
    # Null: the INBOX, and the folder the server marks \Sent (RFC 6154).
    inbox_folder: Mapped[str | None] = mapped_column(String(300))
    sent_folder: Mapped[str | None] = mapped_column(String(300))
    watch: Mapped[bool] = mapped_column(Boolean, default=True)
    send: Mapped[bool] = mapped_column(Boolean, default=False)
    # unchecked | ok | error, from the last test or watch pass.
    status: Mapped[str] = mapped_column(String(10), default="unchecked")
    last_checked_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Watch passes that failed in a row; the next pass waits longer after each (backoff).
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_watch_at: Mapped[datetime | None]
    # While a worker watches it, the claim holds until then; after that another may take it.
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # The worker's claim: watched mailboxes by when they are next due.
    __table_args__ = (Index(None, "watch", "next_watch_at"),)


class MailboxFolder(Base):
    """How far the watch has read one folder: its UIDVALIDITY and the last UID seen."""

    __tablename__ = "mailbox_folders"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"))
    # inbox | sent
    role: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "mailbox_id", "role"),)


class MailboxMessage(Base):
    """A message that changed something (a follow-up sent, a reply recorded), by a hash of
    its Message-ID: it never counts twice, across crashes, workers and UIDVALIDITY resets.
    Nothing else of the message is kept."""

    __tablename__ = "mailbox_messages"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # SHA-256 (hex) of the folder's role and the normalised Message-ID.
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "key"),)
