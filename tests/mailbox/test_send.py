"""Send through the user's own mailbox: the request's rules (202, 422, 409, idempotency,
isolation) and the worker's path through a real SMTP server (aiosmtpd with a login):
plain-text UTF-8 from the mailbox address, the Message-ID kept, check-ins threaded, refusals
and retries, exactly once with two workers."""

from __future__ import annotations

import asyncio
import email
import uuid
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app import clock as app_clock
from app.accounts.repository import user_by_email
from app.db import create_engine, create_sessionmaker
from app.followups.models import Followup
from app.interviews.models import Interview
from app.mailbox import send as mailbox_send
from app.mailbox.models import Mailbox
from app.reminders import service as reminders
from app.reminders.models import Outbox
from app.reminders.worker import Worker
from tests.helpers import POSTGRES, create_interview, user_headers
from tests.mailbox.conftest import (
    SMTP_USER,
    AuthSmtpServer,
    add_mailbox,
    run_worker_once,
    worker_settings,
)
from tests.mailbox.dovecot import Dovecot, MailUser
from tests.mailbox.dovecot import message as dovecot_message

ONLY_ANN = [{"name": "Ann Lee", "email": "ann@example.com", "role": "interviewer"}]


async def _thank_you(
    client: httpx.AsyncClient, headers: dict[str, str], **kw: Any
) -> dict[str, Any]:
    interview = await create_interview(client, headers, **kw)
    return next(f for f in interview["followups"] if f["kind"] == "thank_you")


async def _send(
    client: httpx.AsyncClient, headers: dict[str, str], followup_id: str, **extra: Any
) -> httpx.Response:
    return await client.post(f"/api/v1/followups/{followup_id}/send", headers={**headers, **extra})


async def _get(
    client: httpx.AsyncClient, headers: dict[str, str], followup_id: str
) -> dict[str, Any]:
    response = await client.get(f"/api/v1/followups/{followup_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def _outbox(app: Any) -> list[Outbox]:
    async with app.state.sessionmaker() as session:
        return list(
            await session.scalars(
                select(Outbox).where(Outbox.kind == "mailbox_send").order_by(Outbox.created_at)
            )
        )


async def _message_id(app: Any, followup_id: str) -> str | None:
    async with app.state.sessionmaker() as session:
        row = await session.scalar(select(Followup).where(Followup.id == uuid.UUID(followup_id)))
        assert row is not None
        return row.message_id


@pytest.fixture
async def jane_sends(
    client: httpx.AsyncClient, app: Any, jane: dict[str, str], mailbox_smtp: AuthSmtpServer
) -> dict[str, str]:
    await add_mailbox(app, "jane@example.com", smtp_port=mailbox_smtp.port)
    return jane


# The request


async def test_send_answers_202_with_the_followup_sending_and_queues_one_message(
    client: httpx.AsyncClient, app: Any, jane_sends: dict[str, str]
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    response = await _send(client, jane_sends, thank_you["id"])
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["id"] == thank_you["id"]
    assert body["status"] == "scheduled" and body["sending"] is True
    assert body["send_error"] is None
    rows = await _outbox(app)
    assert len(rows) == 1 and rows[0].payload["followup_id"] == thank_you["id"]
    # The Message-ID is made now, on the mailbox's domain, and kept on the follow-up.
    message_id = await _message_id(app, thank_you["id"])
    assert message_id == rows[0].payload["message_id"]
    assert message_id is not None and message_id.endswith("@example.org>")


async def test_a_second_click_while_sending_queues_no_second_message(
    client: httpx.AsyncClient, app: Any, jane_sends: dict[str, str]
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    first = await _send(client, jane_sends, thank_you["id"])
    second = await _send(client, jane_sends, thank_you["id"])
    assert first.status_code == second.status_code == 202
    assert second.json()["sending"] is True
    assert len(await _outbox(app)) == 1


async def test_a_followup_without_recipient_email_is_a_422_naming_it(
    client: httpx.AsyncClient, app: Any, jane_sends: dict[str, str]
) -> None:
    thank_you = await _thank_you(
        client, jane_sends, people=[{"name": "Ann Lee", "role": "interviewer"}]
    )
    response = await _send(client, jane_sends, thank_you["id"])
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["loc"] == ["recipient_email"]
    assert await _outbox(app) == []


async def test_without_a_mailbox_set_to_send_it_is_a_409_saying_so(
    client: httpx.AsyncClient, app: Any, jane: dict[str, str], mailbox_smtp: AuthSmtpServer
) -> None:
    thank_you = await _thank_you(client, jane)
    response = await _send(client, jane, thank_you["id"])
    assert response.status_code == 409
    assert "No mailbox is set to send" in response.json()["detail"]
    await add_mailbox(app, "jane@example.com", smtp_port=mailbox_smtp.port, send=False)
    response = await _send(client, jane, thank_you["id"])
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await _outbox(app) == []


async def test_a_followup_that_is_not_scheduled_is_a_409_saying_which(
    client: httpx.AsyncClient, app: Any, jane_sends: dict[str, str]
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    marked = await client.patch(
        f"/api/v1/followups/{thank_you['id']}", json={"status": "sent"}, headers=jane_sends
    )
    assert marked.status_code == 200
    response = await _send(client, jane_sends, thank_you["id"])
    assert response.status_code == 409
    assert "is sent" in response.json()["detail"]


async def test_an_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, app: Any, jane_sends: dict[str, str]
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    first = await _send(client, jane_sends, thank_you["id"], **{"Idempotency-Key": "send-1"})
    again = await _send(client, jane_sends, thank_you["id"], **{"Idempotency-Key": "send-1"})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert len(await _outbox(app)) == 1


async def test_another_users_followup_is_a_404_and_sends_nothing(
    client: httpx.AsyncClient, app: Any, jane_sends: dict[str, str]
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    bob = await user_headers(client, "bob@example.com", "Bob")
    response = await _send(client, bob, thank_you["id"])
    assert response.status_code == 404
    assert (await _send(client, bob, "not-an-id")).status_code == 404
    assert await _outbox(app) == []


# The worker


def _header(message: Message, name: str) -> str:
    """A header as a person reads it (RFC 2047 words decoded)."""
    return str(make_header(decode_header(str(message[name]))))


def _text_part(message: Message) -> Message:
    assert not message.is_multipart(), "plain text only, no HTML part"
    return message


async def test_the_worker_sends_plain_text_from_the_mailbox_without_instance_smtp(
    client: httpx.AsyncClient,
    app: Any,
    jane_sends: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    body = "Dear Ann,\n\nMerci — the café chat was great. ✓\n\nJane"
    edited = await client.patch(
        f"/api/v1/followups/{thank_you['id']}", json={"body": body}, headers=jane_sends
    )
    assert edited.status_code == 200
    assert (await _send(client, jane_sends, thank_you["id"])).status_code == 202
    assert mailbox_smtp.handler.received == []  # nothing goes out before the worker runs

    result = await mailbox_worker.run_once()

    assert result.sent == 1
    [received] = mailbox_smtp.handler.received
    message = _text_part(received.message)
    assert received.rcpt_tos == ["ann@example.com"]
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message["From"] == f"Jane Doe <{SMTP_USER}>"
    assert message["To"] == "Ann Lee <ann@example.com>"
    assert _header(message, "Subject") == thank_you["subject"]
    assert message["Date"]
    assert message["Message-ID"] == await _message_id(app, thank_you["id"])
    assert message["In-Reply-To"] is None
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode("utf-8").replace("\r\n", "\n").strip() == body
    after = await _get(client, jane_sends, thank_you["id"])
    assert after["status"] == "sent" and after["sent_via"] == "app"
    assert after["sending"] is False and after["send_error"] is None
    assert after["sent_at"] is not None
    assert [row.status for row in await _outbox(app)] == ["sent"]
    # Run again: nothing more goes out.
    await mailbox_worker.run_once()
    assert len(mailbox_smtp.handler.received) == 1


async def test_a_check_in_to_someone_thanked_is_threaded_onto_the_thank_you(
    client: httpx.AsyncClient,
    app: Any,
    jane_sends: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
) -> None:
    interview = await create_interview(client, jane_sends, people=ONLY_ANN)
    by_kind = {f["kind"]: f for f in interview["followups"]}
    await _send(client, jane_sends, by_kind["thank_you"]["id"])
    await mailbox_worker.run_once()
    await _send(client, jane_sends, by_kind["check_in"]["id"])
    await mailbox_worker.run_once()

    first, second = (r.message for r in mailbox_smtp.handler.received)
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"] == first["Message-ID"]
    assert _header(second, "Subject") == f"Re: {by_kind['thank_you']['subject']}"
    assert second["Message-ID"] != first["Message-ID"]
    assert (await _get(client, jane_sends, by_kind["check_in"]["id"]))["sent_via"] == "app"


async def test_a_550_leaves_it_scheduled_with_send_error_and_a_new_click_tries_again(
    client: httpx.AsyncClient,
    app: Any,
    jane_sends: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    await _send(client, jane_sends, thank_you["id"])
    mailbox_smtp.handler.answer = "550 5.1.1 Mailbox unavailable"

    result = await mailbox_worker.run_once()

    assert result.failed == 1
    after = await _get(client, jane_sends, thank_you["id"])
    assert after["status"] == "scheduled" and after["sending"] is False
    assert after["send_error"].startswith("Not sent: your mail server refused the message")
    assert "550" in after["send_error"]
    assert [row.status for row in await _outbox(app)] == ["failed"]
    # Not mail to the user: Settings' "emails that could not be delivered" leaves it out.
    async with app.state.sessionmaker() as session:
        user = await user_by_email(session, "jane@example.com")
        assert user is not None
        assert await reminders.failed_deliveries(session, user=user) == []
    # Never retried by itself…
    app_clock.clock.advance(timedelta(hours=1))
    await mailbox_worker.run_once()
    assert [row.status for row in await _outbox(app)] == ["failed"]
    # …but a click after the refusal is a new try, and clears the error.
    mailbox_smtp.handler.answer = None
    again = await _send(client, jane_sends, thank_you["id"])
    assert again.status_code == 202 and again.json()["send_error"] is None
    await mailbox_worker.run_once()
    assert (await _get(client, jane_sends, thank_you["id"]))["status"] == "sent"
    assert len(mailbox_smtp.handler.received) == 1


async def test_a_refused_password_is_a_send_error_saying_so(
    client: httpx.AsyncClient,
    app: Any,
    jane: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
) -> None:
    await add_mailbox(app, "jane@example.com", smtp_port=mailbox_smtp.port, password="wrong")
    thank_you = await _thank_you(client, jane)
    await _send(client, jane, thank_you["id"])
    await mailbox_worker.run_once()
    after = await _get(client, jane, thank_you["id"])
    assert after["status"] == "scheduled"
    assert "user name or password" in after["send_error"]
    assert mailbox_smtp.handler.received == []


async def test_a_password_that_no_longer_opens_is_a_send_error(
    client: httpx.AsyncClient,
    app: Any,
    jane_sends: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    await _send(client, jane_sends, thank_you["id"])
    await run_worker_once(app, secret_key="another-secret")
    after = await _get(client, jane_sends, thank_you["id"])
    assert after["status"] == "scheduled"
    assert "enter the password again" in after["send_error"]
    assert mailbox_smtp.handler.received == []


async def test_a_421_is_retried_with_backoff_then_sent_once(
    client: httpx.AsyncClient,
    app: Any,
    jane_sends: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    await _send(client, jane_sends, thank_you["id"])
    mailbox_smtp.handler.answer = "421 4.7.0 Try again later"

    first = await mailbox_worker.run_once()

    assert first.retrying == 1
    during = await _get(client, jane_sends, thank_you["id"])
    assert during["sending"] is True and during["send_error"] is None
    [row] = await _outbox(app)
    assert row.status == "pending" and row.due_at > app_clock.now()
    # Not due again at once: the backoff holds.
    await mailbox_worker.run_once()
    assert (await _outbox(app))[0].attempts == 1
    mailbox_smtp.handler.answer = None
    app_clock.clock.advance(timedelta(minutes=1))
    await mailbox_worker.run_once()
    assert len(mailbox_smtp.handler.received) == 1
    assert (await _get(client, jane_sends, thank_you["id"]))["status"] == "sent"


async def test_after_the_last_retry_it_stays_scheduled_with_send_error(
    client: httpx.AsyncClient,
    app: Any,
    jane_sends: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    await _send(client, jane_sends, thank_you["id"])
    mailbox_smtp.handler.answer = "421 4.7.0 Try again later"
    for _ in range(mailbox_send.MAX_ATTEMPTS):
        await mailbox_worker.run_once()
        app_clock.clock.advance(timedelta(hours=1))
    after = await _get(client, jane_sends, thank_you["id"])
    assert after["status"] == "scheduled" and after["sending"] is False
    assert f"after {mailbox_send.MAX_ATTEMPTS} tries" in after["send_error"]
    assert [row.status for row in await _outbox(app)] == ["failed"]


async def test_marked_sent_by_hand_meanwhile_the_queued_send_is_dropped(
    client: httpx.AsyncClient,
    app: Any,
    jane_sends: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    await _send(client, jane_sends, thank_you["id"])
    await client.patch(
        f"/api/v1/followups/{thank_you['id']}", json={"status": "sent"}, headers=jane_sends
    )
    await mailbox_worker.run_once()
    assert mailbox_smtp.handler.received == []
    [row] = await _outbox(app)
    assert row.status == "failed" and "sent now" in (row.last_error or "")
    assert (await _get(client, jane_sends, thank_you["id"]))["sent_via"] == "user"


async def test_a_mailbox_that_stopped_sending_drops_the_queued_send_and_says_so(
    client: httpx.AsyncClient,
    app: Any,
    jane_sends: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    await _send(client, jane_sends, thank_you["id"])
    async with app.state.sessionmaker.begin() as session:
        await session.execute(update(Mailbox).values(send=False))
    await mailbox_worker.run_once()
    assert mailbox_smtp.handler.received == []
    after = await _get(client, jane_sends, thank_you["id"])
    assert after["status"] == "scheduled" and "no longer set to send" in after["send_error"]


async def test_a_mail_server_on_a_refused_address_is_never_contacted(
    client: httpx.AsyncClient,
    app: Any,
    jane_sends: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    await _send(client, jane_sends, thank_you["id"])
    await run_worker_once(app, mail_allow="")
    assert mailbox_smtp.handler.received == []
    after = await _get(client, jane_sends, thank_you["id"])
    assert "not allowed" in after["send_error"]


async def _dovecot_mailbox(
    app: Any, email: str, smtp: AuthSmtpServer, dovecot: Dovecot, **kw: Any
) -> MailUser:
    """A dovecot account as the user's mailbox; the SMTP server takes the same login."""
    user = dovecot.add_user()
    smtp.logins[user.username] = user.password
    await add_mailbox(
        app,
        email,
        smtp_port=smtp.port,
        imap_port=dovecot.port,
        address=user.address,
        username=user.username,
        password=user.password,
        **kw,
    )
    return user


def _sent_copies(dovecot: Dovecot, user: MailUser, folder: str = "Sent") -> list[Message]:
    with dovecot.imap(user) as connection:
        connection.select(f'"{folder}"', readonly=True)
        status, data = connection.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        assert status == "OK"
        found = []
        for part in data:
            if isinstance(part, tuple):
                copy = email.message_from_bytes(part[1])
                copy["X-Test-Flags"] = part[0].decode()
                found.append(copy)
        return found


async def test_a_copy_of_what_went_out_is_appended_to_the_sent_folder(
    client: httpx.AsyncClient,
    app: Any,
    jane: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
    dovecot: Dovecot,
) -> None:
    user = await _dovecot_mailbox(app, "jane@example.com", mailbox_smtp, dovecot)
    thank_you = await _thank_you(client, jane)
    await _send(client, jane, thank_you["id"])
    await mailbox_worker.run_once()

    [received] = mailbox_smtp.handler.received
    assert received.message["From"] == f"Jane Doe <{user.address}>"
    [copy] = _sent_copies(dovecot, user)
    assert copy["Message-ID"] == received.message["Message-ID"]
    assert copy["Message-ID"] == await _message_id(app, thank_you["id"])
    assert "\\Seen" in copy["X-Test-Flags"]
    assert (await _get(client, jane, thank_you["id"]))["sent_via"] == "app"


async def test_a_copy_that_cannot_be_appended_does_not_unsend_or_resend(
    client: httpx.AsyncClient,
    app: Any,
    jane: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
    dovecot: Dovecot,
) -> None:
    await _dovecot_mailbox(
        app, "jane@example.com", mailbox_smtp, dovecot, sent_folder="No such folder"
    )
    thank_you = await _thank_you(client, jane)
    await _send(client, jane, thank_you["id"])
    await mailbox_worker.run_once()
    app_clock.clock.advance(timedelta(hours=1))
    await mailbox_worker.run_once()
    assert len(mailbox_smtp.handler.received) == 1
    after = await _get(client, jane, thank_you["id"])
    assert after["status"] == "sent" and after["send_error"] is None
    assert [row.status for row in await _outbox(app)] == ["sent"]


@pytest.mark.skipif(not POSTGRES, reason="SKIP LOCKED needs Postgres")
async def test_two_workers_send_each_requested_followup_exactly_once(
    client: httpx.AsyncClient, app: Any, jane_sends: dict[str, str], mailbox_smtp: AuthSmtpServer
) -> None:
    ids = []
    for n in range(10):
        interview = await create_interview(client, jane_sends, company=f"Company {n}")
        for f in interview["followups"]:
            ids.append(f["id"])
            assert (await _send(client, jane_sends, f["id"])).status_code == 202
    settings = worker_settings(app.state.settings.database_url)
    engines = [create_engine(settings.database_url) for _ in range(2)]
    try:
        workers = [Worker(settings, None, create_sessionmaker(e)) for e in engines]
        await asyncio.gather(*(w.run_once() for w in workers))
    finally:
        for engine in engines:
            await engine.dispose()
    sent_ids = [str(r.message["Message-ID"]) for r in mailbox_smtp.handler.received]
    assert len(sent_ids) == len(ids) == len(set(sent_ids))
    for followup_id in ids:
        assert (await _get(client, jane_sends, followup_id))["status"] == "sent"


# What the pages show


async def test_today_offers_send_then_shows_sending_then_sent_by_followup(
    client: httpx.AsyncClient,
    app: Any,
    jane_sends: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    html = {**jane_sends, "HX-Request": "true"}
    today = (await client.get("/", headers=html)).text
    assert f'hx-post="/api/v1/followups/{thank_you["id"]}/send"' in today
    card = await client.post(
        f"/api/v1/followups/{thank_you['id']}/send",
        headers={**html, "HX-Target": f"followup-{thank_you['id']}"},
    )
    assert card.status_code == 202
    assert card.headers["content-type"].startswith("text/html")
    assert "Sending…" in card.text and 'hx-trigger="every 2s"' in card.text
    assert "/send" not in card.text  # no second Send while it is on its way
    await mailbox_worker.run_once()
    polled = await client.get(
        f"/api/v1/followups/{thank_you['id']}",
        headers={**html, "HX-Target": f"followup-{thank_you['id']}"},
    )
    assert "Sent by Followup today at" in polled.text and "every 2s" not in polled.text
    today = (await client.get("/", headers=html)).text
    assert "Sent lately" in today and "Sent by Followup today at" in today


async def test_no_send_button_without_a_mailbox_that_can_send(
    client: httpx.AsyncClient, app: Any, jane: dict[str, str], mailbox_smtp: AuthSmtpServer
) -> None:
    await _thank_you(client, jane)
    html = {**jane, "HX-Request": "true"}
    assert "/send" not in (await client.get("/", headers=html)).text
    await add_mailbox(app, "jane@example.com", smtp_port=mailbox_smtp.port, status="error")
    assert "/send" not in (await client.get("/", headers=html)).text


async def test_a_refusal_shows_on_the_card(
    client: httpx.AsyncClient,
    app: Any,
    jane_sends: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    mailbox_worker: Worker,
) -> None:
    thank_you = await _thank_you(client, jane_sends)
    await _send(client, jane_sends, thank_you["id"])
    mailbox_smtp.handler.answer = "550 5.7.1 Relaying denied"
    await mailbox_worker.run_once()
    today = (await client.get("/", headers={**jane_sends, "HX-Request": "true"})).text
    assert "Not sent: your mail server refused the message (550 5.7.1 Relaying denied)" in today
    assert "Try sending again" in today


async def test_today_and_the_interview_page_show_a_reply_that_cancelled_the_check_in(
    client: httpx.AsyncClient, app: Any, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    check_in = next(f for f in interview["followups"] if f["kind"] == "check_in")
    bob = next(p for p in interview["people"] if p["name"] == "Bob Stone")
    # What the watch records for a reply (app/mailbox/watch.py, branch watch).
    async with app.state.sessionmaker.begin() as session:
        await session.execute(
            update(Interview)
            .where(Interview.id == uuid.UUID(interview["id"]))
            .values(
                last_reply_person_id=uuid.UUID(bob["id"]),
                last_reply_at=app_clock.now() - timedelta(days=2),
                last_reply_subject="Re: Thank you",
            )
        )
        await session.execute(
            update(Followup)
            .where(Followup.id == uuid.UUID(check_in["id"]))
            .values(status="cancelled", cancel_reason="replied")
        )
    html = {**jane, "HX-Request": "true"}
    today = (await client.get("/", headers=html)).text
    assert "Came back" in today
    assert "Bob Stone replied" in today and "Replied 2 days ago — check-in cancelled" in today
    page = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=html)).text
    assert "Replied 2 days ago — check-in cancelled" in page
    assert "Bob Stone replied 2 days ago" in page
    read = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=jane)).json()
    assert read["last_reply"]["person_id"] == bob["id"]
    assert read["last_reply"]["subject"] == "Re: Thank you"
    cancelled = next(f for f in read["followups"] if f["id"] == check_in["id"])
    assert cancelled["cancel_reason"] == "replied"
    # A week later it has left Today.
    app_clock.clock.advance(timedelta(days=6))
    assert "Came back" not in (await client.get("/", headers=html)).text


# The whole loop: Send, the copy in Sent, a reply in the INBOX, the watch cancels the check-in


async def test_send_then_a_reply_cancels_the_check_in_and_today_shows_why(
    client: httpx.AsyncClient,
    app: Any,
    jane: dict[str, str],
    mailbox_smtp: AuthSmtpServer,
    dovecot: Dovecot,
) -> None:
    starts = app_clock.now() - timedelta(days=2)
    interview = await create_interview(
        client,
        jane,
        starts_at=starts.isoformat(),
        people=[
            {"name": "Ann Lee", "email": "ann@acme.example", "role": "interviewer"},
            {"name": "Bob Stone", "email": "bob@acme.example", "role": "recruiter"},
        ],
    )
    by_kind = {f["kind"]: f for f in interview["followups"]}
    user = await _dovecot_mailbox(app, "jane@example.com", mailbox_smtp, dovecot)
    async with app.state.sessionmaker.begin() as session:
        await session.execute(update(Mailbox).values(watch=True))
    settings = worker_settings(app.state.settings.database_url, mail_poll_seconds=300.0)
    engine = create_engine(settings.database_url)
    worker = Worker(
        settings, None, create_sessionmaker(engine), mail_tls_context=dovecot.ssl_context()
    )
    try:
        assert (await _send(client, jane, by_kind["thank_you"]["id"])).status_code == 202
        await worker.run_once()

        [sent] = mailbox_smtp.handler.received
        [copy] = _sent_copies(dovecot, user)
        assert copy["Message-ID"] == sent.message["Message-ID"]
        thank_you = await _get(client, jane, by_kind["thank_you"]["id"])
        assert (thank_you["status"], thank_you["sent_via"]) == ("sent", "app")

        # Ann answers the thank-you from her mail client.
        replied_at = app_clock.now() + timedelta(minutes=5)
        dovecot.append(
            user,
            "INBOX",
            dovecot_message(
                subject=f"Re: {by_kind['thank_you']['subject']}",
                sender="Ann Lee <ann@acme.example>",
                to=f"Jane Doe <{user.address}>",
                date=replied_at,
                In_Reply_To=str(sent.message["Message-ID"]),
                References=str(sent.message["Message-ID"]),
                body="Thanks Jane, great to meet you. We'll be in touch.\n",
            ),
        )
        app_clock.clock.advance(timedelta(hours=1))
        await worker.run_once()
    finally:
        await engine.dispose()

    check_in = await _get(client, jane, by_kind["check_in"]["id"])
    assert (check_in["status"], check_in["cancel_reason"]) == ("cancelled", "replied")
    assert len(mailbox_smtp.handler.received) == 1  # nothing else went out
    today = (await client.get("/", headers={**jane, "HX-Request": "true"})).text
    assert "Came back" in today and "Ann Lee replied" in today
    assert "check-in cancelled" in today
    assert f'id="followup-{by_kind["check_in"]["id"]}"' not in today
    assert "Sent by Followup" in today
