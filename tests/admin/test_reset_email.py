"""When the instance has SMTP set up, an admin's reset also emails the member a link of
their own: a real SMTP server on loopback receives it through the worker."""

from __future__ import annotations

import re
from typing import Any

from app.db import create_engine, create_sessionmaker
from app.reminders import mail
from app.reminders.worker import Worker
from tests.admin.conftest import account
from tests.helpers import client_of
from tests.reminders.conftest import SmtpServer, mail_settings, smtp

__all__ = ["smtp"]  # the fixture, used by name


async def test_an_admin_reset_also_emails_the_member_a_link_when_smtp_is_set_up(
    make_app: Any, database_url: str, smtp: SmtpServer
) -> None:
    settings = mail_settings(database_url, smtp)
    app = make_app(
        **{k: getattr(settings, k) for k in ("smtp_host", "smtp_port", "smtp_from")},
        smtp_starttls=False,
    )
    async with client_of(app) as client:
        admin = await account(client, "ada@example.com", "Ada Admin")
        member = await account(client, "bob@example.com", "Bob Member")
        response = await client.post(
            f"/api/v1/admin/users/{member.id}/password-reset", headers=admin.headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["emailed"] is True
        link = response.json()["link"]

    config = mail.mail_config(settings)
    assert config is not None
    engine = create_engine(settings.database_url)
    try:
        await Worker(settings, config, create_sessionmaker(engine)).run_once()
    finally:
        await engine.dispose()
    (received,) = smtp.handler.received
    assert received.rcpt_tos == ["bob@example.com"]
    body = received.message.get_payload(0).get_payload(decode=True).decode()  # type: ignore[union-attr]
    # A link of its own (the shown one is stored nowhere, so it cannot be emailed later).
    emailed = re.search(r"http://testserver/reset-password\?token=[\w-]+", body)
    assert emailed is not None and emailed.group(0) != link
    assert "24 hours" in body and "admin" in body
