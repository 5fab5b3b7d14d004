"""The mailbox loop in a real browser: a user connects a dovecot mailbox on Settings, sends a
thank-you with *Send*, the hiring side replies, the worker runs, and the check-in leaves
Today as "replied" (issue 11's "done when")."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app import clock
from tests.browser.conftest import new_context
from tests.browser.live import LiveServer, api, followup_command, serve, sign_up
from tests.browser.test_today import item
from tests.helpers import interview_body
from tests.mailbox.conftest import AuthSmtpServer
from tests.mailbox.dovecot import Dovecot, MailUser
from tests.mailbox.dovecot import message as mail_message

SECRET = "browser-secret"  # what tests.browser.live.serve gives the server


@pytest.fixture
def smtp() -> Iterator[AuthSmtpServer]:
    server = AuthSmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of its own that may reach the loopback dovecot and aiosmtpd."""
    with serve(
        f"sqlite:///{tmp_path / 'mailbox.db'}", tmp_path, FOLLOWUP_MAIL_ALLOW="127.0.0.1"
    ) as s:
        yield s


def run_worker(server: LiveServer, tmp_path: Path) -> None:
    """`followup worker --once` on the server's database, with no instance SMTP at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    env.update(
        DATABASE_URL=server.database_url,
        SECRET_KEY=SECRET,
        FOLLOWUP_MAIL_ALLOW="127.0.0.1",
        FOLLOWUP_MAIL_POLL_SECONDS="1",
    )
    done = subprocess.run(
        [*followup_command(), "worker", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def connect_mailbox(page: Page, account: MailUser, dovecot: Dovecot, smtp: AuthSmtpServer) -> None:
    page.goto("/settings")
    section = page.locator("#settings-mailbox")
    section.get_by_label("Email address").fill(account.address)
    section.get_by_label("User name").fill(account.username)
    section.get_by_label("App password").fill(account.password)
    for side, port in (("imap", dovecot.port), ("smtp", smtp.port)):
        page.locator(f"#mailbox-{side}-host").fill("127.0.0.1")
        page.locator(f"#mailbox-{side}-port").fill(str(port))
        page.locator(f"#mailbox-{side}-security").select_option("none")
    section.get_by_label("Send: allow sending a follow-up from Followup").check()
    section.get_by_role("button", name="Connect mailbox").click()
    expect(page.locator("#settings-mailbox").get_by_role("button", name="Save")).to_be_visible()


def test_connect_send_a_thank_you_and_a_reply_takes_the_check_in_off_today(
    browser: Browser,
    mail_server: LiveServer,
    dovecot: Dovecot,
    smtp: AuthSmtpServer,
    tmp_path: Path,
) -> None:
    # A real-looking address: the form refuses reserved domains such as .test.
    account = dovecot.add_user(f"jane-{uuid.uuid4().hex[:8]}@example.com")
    smtp.logins[account.username] = account.password
    context = new_context(browser, mail_server)
    try:
        page = context.new_page()
        sign_up(page)
        starts = clock.now() - timedelta(hours=3)
        api(
            page,
            "POST",
            "/api/v1/interviews",
            interview_body(
                starts_at=starts.isoformat(timespec="seconds"),
                people=[
                    {"name": "Ann Lee", "email": "ann@acme.example", "role": "interviewer"},
                    {"name": "Bob Stone", "email": "bob@acme.example", "role": "recruiter"},
                ],
            ),
        )
        connect_mailbox(page, account, dovecot, smtp)

        page.goto("/")
        thank_you = item(page, "Thank-you note to Ann Lee")
        expect(item(page, "Check-in to Bob Stone")).to_have_count(1)
        thank_you.get_by_role("button", name="Send to ann@acme.example").click()
        expect(thank_you).to_contain_text("Sending…")
        assert smtp.handler.received == []  # nothing before the worker

        run_worker(mail_server, tmp_path)
        # The card asks again every 2 s and shows what happened.
        expect(thank_you).to_contain_text("Sent by Followup")
        [sent] = smtp.handler.received
        assert sent.rcpt_tos == ["ann@acme.example"]

        dovecot.append(
            account,
            "INBOX",
            mail_message(
                subject=f"Re: {sent.message['Subject']}",
                sender="Ann Lee <ann@acme.example>",
                to=f"Jane Doe <{account.address}>",
                date=clock.now() - timedelta(minutes=1),
                In_Reply_To=str(sent.message["Message-ID"]),
                References=str(sent.message["Message-ID"]),
                body="Thank you, Jane! We will be in touch soon.\n",
            ),
        )
        time.sleep(1.2)  # the mailbox is due again after FOLLOWUP_MAIL_POLL_SECONDS
        run_worker(mail_server, tmp_path)

        page.goto("/")
        came_back = page.locator("#came-back-list")
        expect(came_back).to_contain_text("Ann Lee replied")
        expect(came_back).to_contain_text("check-in cancelled")
        expect(item(page, "Check-in to Bob Stone")).to_have_count(0)
        assert len(smtp.handler.received) == 1
    finally:
        context.close()
