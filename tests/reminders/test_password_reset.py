"""Password reset: no account enumeration, a single-use link that expires in an hour."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app import clock
from app.errors import Invalid
from app.reminders import service
from app.reminders.models import Outbox
from tests.conftest import PASSWORD, client_of, register

NEW_PASSWORD = "a brand new passphrase"


async def _outbox(app: Any) -> list[Outbox]:
    async with app.state.sessionmaker() as session:
        return list(await session.scalars(select(Outbox)))


def _token(row: Outbox) -> str:
    match = re.search(r"token=([\w-]+)", row.payload["text"])
    assert match is not None
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
    client: httpx.AsyncClient, app: Any
) -> None:
    await register(client)
    login = await client.post(
        "/api/v1/auth/login", json={"email": "jane@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    assert (await client.get("/api/v1/me")).status_code == 200
    await client.post("/api/v1/auth/password-reset", json={"email": "jane@example.com"})
    token = _token((await _outbox(app))[0])
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


async def test_an_expired_or_unknown_token_is_refused(client: httpx.AsyncClient, app: Any) -> None:
    await register(client)
    await client.post("/api/v1/auth/password-reset", json={"email": "jane@example.com"})
    token = _token((await _outbox(app))[0])
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
