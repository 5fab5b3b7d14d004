"""Mail is never held up by a slow party: an SMTP send has one overall deadline, and mail goes
out while a webhook receiver stalls (issue 10)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from app import clock
from app.accounts.repository import user_by_email
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.reminders import mail
from app.reminders.worker import Worker
from tests.helpers import create_interview, make_settings, user_headers
from tests.reminders.conftest import SmtpServer, mail_settings, queue_deliveries
from tests.stalling import SMTP_DRIP, SMTP_START, eventually, staller

DEADLINE = 3.0
LIMIT = 20.0


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The app lets webhooks reach the loopback receiver."""
    return make_settings(database_url, webhook_allow="127.0.0.1")


async def test_an_smtp_server_greeting_a_line_a_second_is_given_up_at_the_deadline(
    database_url: str,
) -> None:
    async with staller(
        start=SMTP_START, drip=SMTP_DRIP, reads_request=False, interval=1.0
    ) as server:
        config = mail.mail_config(
            make_settings(
                database_url,
                smtp_host="127.0.0.1",
                smtp_port=server.port,
                smtp_from="followup@example.com",
                smtp_starttls=False,
                outbound_timeout_seconds=DEADLINE,
            )
        )
        assert config is not None
        message = mail.build_message(
            sender=config.sender,
            to_name="Jane",
            to_address="jane@example.com",
            subject="Hello",
            text="Hello",
            html_body="<p>Hello</p>",
            message_id=mail.new_message_id(config),
        )
        with pytest.raises(mail.TransientMailError, match=f"^timed out after {DEADLINE:g} s$"):
            await asyncio.wait_for(mail.send(config, message), LIMIT)


async def test_mail_due_while_a_webhook_receiver_stalls_goes_out_without_waiting(
    client: httpx.AsyncClient, app: Any, smtp: SmtpServer
) -> None:
    async with staller() as receiver:
        headers = await user_headers(client)
        response = await client.post(
            "/api/v1/webhooks",
            json={"url": f"http://127.0.0.1:{receiver.port}/", "events": ["interview.created"]},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        await create_interview(client, headers)
        settings = mail_settings(
            app.state.settings.database_url,
            smtp,
            webhook_allow="127.0.0.1",
            outbound_timeout_seconds=600,  # only the stop ends the stalled POST
        )
        config = mail.mail_config(settings)
        assert config is not None
        engine = create_engine(settings.database_url)
        worker = Worker(settings, config, create_sessionmaker(engine))
        running = asyncio.create_task(worker.run_forever(interval=0.2))
        try:
            await receiver.stalled()
            async with app.state.sessionmaker.begin() as session:
                user = await user_by_email(session, "jane@example.com")
                assert user is not None
                await queue_deliveries(session, user.id, 1, now=clock.now(), tag="meanwhile")
            due = time.monotonic()
            await eventually(lambda: smtp.handler.received, LIMIT)
            print(
                f"\nMail due while a receiver stalled went out {time.monotonic() - due:.2f} s later"
            )
            assert receiver.open == 1  # the receiver is still stalling the POST
            assert smtp.handler.message_ids() == ["<meanwhile-0@followup.test>"]
            worker.stop()
            await asyncio.wait_for(running, LIMIT)
        finally:
            running.cancel()
            await engine.dispose()
