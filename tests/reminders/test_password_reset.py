"""Password reset: no account enumeration, a single-use link that expires in an hour, made
by the worker as it sends the email (so the outbox never holds it)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app import clock
from app.accounts import repository as auth_repository
from app.errors import Invalid
from app.reminders import service
from app.reminders.models import Outbox
from app.reminders.worker import Worker
from tests.helpers import PASSWORD, client_of, register
from tests.reminders.conftest import SmtpServer

NEW_PASSWORD = "a brand new passphrase"


async def _outbox(app: Any) -> list[Outbox]:
    async with app.state.sessionmaker() as session:
        return list(await session.scalars(select(Outbox)))


async def _emailed_token(worker: Worker, smtp: SmtpServer) -> str:
    """Send what is queued; the token in the last email's link."""
    await worker.run_once()
    message = smtp.handler.received[-1].message
    text = message.get_payload(0).get_payload(decode=True).decode()  # type: ignore[union-attr]
    match = re.search(r"/reset-password\?token=([\w-]+)", text)
    assert match is not None, text
    return match.group(1)


async def test_reset_answers_202_for_unknown_and_known_emails_alike(
    client: httpx.AsyncClient, app: Any
) -> None:
    await register(client)
    unknown = await client.post("/api/v1/auth/password-reset", json={"email": "no@example.com"})
    known = await client.post("/api/v1/auth/password-reset", json={"email": "JANE@example.com"})
    assert (unknown.status_code, known.status_code) == (202, 202)
    assert unknown.content == known.content == b""
    [row] = await _outbox(app)
    assert (row.kind, row.payload["to"]) == ("password_reset", "jane@example.com")


async def test_a_reset_link_works_once_and_ends_other_sessions(
    client: httpx.AsyncClient, worker: Worker, smtp: SmtpServer
) -> None:
    await register(client)
    login = await client.post(
        "/api/v1/auth/login", json={"email": "jane@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    assert (await client.get("/api/v1/me")).status_code == 200
    await client.post("/api/v1/auth/password-reset", json={"email": "jane@example.com"})
    token = await _emailed_token(worker, smtp)
    body = {"token": token, "password": NEW_PASSWORD}
    confirmed = await client.post("/api/v1/auth/password-reset/confirm", json=body)
    assert confirmed.status_code == 204
    assert (await client.get("/api/v1/me")).status_code == 401  # the old session is gone
    again = await client.post("/api/v1/auth/password-reset/confirm", json=body)
    assert again.status_code == 422
    assert again.json()["errors"][0]["loc"] == ["body", "token"]
    old = await client.post(
        "/api/v1/auth/login", json={"email": "jane@example.com", "password": PASSWORD}
    )
    new = await client.post(
        "/api/v1/auth/login", json={"email": "jane@example.com", "password": NEW_PASSWORD}
    )
    assert (old.status_code, new.status_code) == (401, 200)


async def test_an_expired_or_unknown_token_is_refused(
    client: httpx.AsyncClient, app: Any, worker: Worker, smtp: SmtpServer
) -> None:
    await register(client)
    await client.post("/api/v1/auth/password-reset", json={"email": "jane@example.com"})
    token = await _emailed_token(worker, smtp)
    later = clock.now() + timedelta(hours=1, minutes=1)
    async with app.state.sessionmaker() as session:
        with pytest.raises(Invalid):
            await service.reset_password(session, token=token, password=NEW_PASSWORD, now=later)
    unknown = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": "nope", "password": NEW_PASSWORD}
    )
    assert unknown.status_code == 422


async def test_a_fourth_reset_request_within_the_hour_sends_nothing_more(
    client: httpx.AsyncClient, app: Any
) -> None:
    await register(client)
    for _ in range(5):
        answer = await client.post(
            "/api/v1/auth/password-reset", json={"email": "jane@example.com"}
        )
        assert answer.status_code == 202  # the same answer: nothing tells the cap is reached
    assert len(await _outbox(app)) == service.RESETS_PER_HOUR


async def test_the_forgot_password_page_asks_for_the_email_and_answers_the_same_for_anyone(
    make_app: Any,
) -> None:
    app = make_app(smtp_host="127.0.0.1", smtp_from="followup@example.org")
    async with client_of(app) as client:
        await register(client)
        client.cookies.clear()
        page = await client.get("/forgot-password")
        assert page.status_code == 200
        assert 'hx-post="/api/v1/auth/password-reset"' in page.text
        assert "/forgot-password" in (await client.get("/login")).text
        answers = [
            await client.post(
                "/api/v1/auth/password-reset",
                json={"email": email},
                headers={"HX-Request": "true"},
            )
            for email in ("jane@example.com", "nobody@example.com")
        ]
    assert [a.status_code for a in answers] == [202, 202]
    assert all("a link to set a new password is on its way" in a.text for a in answers)


async def test_without_outgoing_mail_the_forgot_password_page_points_to_the_admin(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/forgot-password")
    assert page.status_code == 200
    assert "Ask the person who runs it" in page.text
    assert "hx-post" not in page.text.split("<main", 1)[-1]


async def test_the_queued_reset_email_holds_no_link(client: httpx.AsyncClient, app: Any) -> None:
    await register(client)
    await client.post("/api/v1/auth/password-reset", json={"email": "jane@example.com"})
    [row] = await _outbox(app)
    assert "reset-password" not in str(row.payload) and "token" not in str(row.payload)
    assert row.payload["valid_for_seconds"] == 3600


async def test_a_reset_email_queued_for_a_since_deactivated_member_is_not_sent(
    client: httpx.AsyncClient, app: Any, worker: Worker, smtp: SmtpServer
) -> None:
    await register(client, "ada@example.com", "Ada Admin")
    await register(client)
    await client.post("/api/v1/auth/password-reset", json={"email": "jane@example.com"})
    async with app.state.sessionmaker.begin() as session:
        user = await auth_repository.user_by_email(session, "jane@example.com")
        assert user is not None
        user.is_active = False
    result = await worker.run_once()
    assert (result.sent, result.failed, smtp.handler.received) == (0, 1, [])
    [row] = await _outbox(app)
    assert row.status == "failed" and "deactivated" in (row.last_error or "")


async def test_using_one_reset_link_ends_the_others_of_the_account(
    client: httpx.AsyncClient, worker: Worker, smtp: SmtpServer
) -> None:
    await register(client)
    await client.post("/api/v1/auth/password-reset", json={"email": "jane@example.com"})
    first = await _emailed_token(worker, smtp)
    await client.post("/api/v1/auth/password-reset", json={"email": "jane@example.com"})
    second = await _emailed_token(worker, smtp)
    assert first != second
    used = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": second, "password": NEW_PASSWORD}
    )
    assert used.status_code == 204
    stale = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": first, "password": PASSWORD}
    )
    assert stale.status_code == 422
