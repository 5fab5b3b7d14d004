"""Imports every table, so `Base.metadata` is complete for Alembic and the tests."""

from app.accounts.models import ApiToken, Invite, LoginAttempt, User, WebSession
from app.db import Base
from app.followups.models import Followup
from app.group.models import GroupTemplate, InstanceSettings
from app.idempotency import IdempotencyKey
from app.interviews.models import Interview, Person
from app.mailbox.models import Mailbox, MailboxFolder, MailboxMessage
from app.reminders.models import Outbox, PasswordReset
from app.webhooks.models import Webhook, WebhookDelivery

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "Followup",
    "GroupTemplate",
    "IdempotencyKey",
    "InstanceSettings",
    "Interview",
    "Invite",
    "LoginAttempt",
    "Mailbox",
    "MailboxFolder",
    "MailboxMessage",
    "Outbox",
    "PasswordReset",
    "Person",
    "User",
    "WebSession",
    "Webhook",
    "WebhookDelivery",
    "metadata",
]
