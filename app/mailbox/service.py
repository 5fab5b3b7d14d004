"""Mailbox rules: save the settings (hosts checked, password sealed), read them back without
the password, test both sides now, and open the sealed password for the watch and the send."""

from __future__ import annotations

from app.config import Settings
from app.mailbox import secrets
from app.mailbox.models import Mailbox


def password_of(settings: Settings, mailbox: Mailbox) -> str:
    """The mailbox's password in clear, for a connection; raises `secrets.Unreadable` when
    it no longer opens (SECRET_KEY changed)."""
    return secrets.open_sealed(settings.secret, mailbox.user_id, mailbox.password_sealed)
