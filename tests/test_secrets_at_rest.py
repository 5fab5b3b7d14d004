"""Shown-once secrets (reset links, API tokens, invites, session cookies, calendar feed URLs)
are stored in no form that opens anything: every text column of every table is searched for
them. Webhook signing secrets are the one exception, and must be: the worker signs with them."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from app.db import create_engine, create_sessionmaker
from app.reminders import mail
from app.reminders.worker import Worker
from app.tables import metadata
from tests.admin.conftest import account
from tests.helpers import PASSWORD, client_of, login, register
from tests.reminders.conftest import SmtpServer, mail_settings, smtp

__all__ = ["smtp"]  # the fixture, used by name

NEW_PASSWORD = "a brand new passphrase"
SECOND_PASSWORD = "yet another passphrase"


async def places_holding(app: Any, secret: str) -> list[str]:
    """`table.column` for every stored value (as text, JSON included) containing `secret`."""
    found: list[str] = []
    async with app.state.sessionmaker() as session:
        for table in metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
                    if secret in text:
                        found.append(f"{table.name}.{column}")
    return found


def token_of(link: str) -> str:
    [token] = parse_qs(urlsplit(link).query)["token"]
    return token


def emailed_link(smtp: SmtpServer, to: str) -> str:
    """The reset link in the one message `to` received, from its text part."""
    [received] = [r for r in smtp.handler.received if r.rcpt_tos == [to]]
    text = received.message.get_payload(0).get_payload(decode=True).decode()  # type: ignore[union-attr]
    match = re.search(r"http://testserver/reset-password\?token=[\w-]+", text)
    assert match is not None, text
    return match.group(0)


def mail_app(make_app: Any, database_url: str, smtp: SmtpServer) -> Any:
    settings = mail_settings(database_url, smtp)
    return make_app(
        **{k: getattr(settings, k) for k in ("smtp_host", "smtp_port", "smtp_from")},
        smtp_starttls=False,
    )


async def run_worker(database_url: str, smtp: SmtpServer) -> None:
    settings = mail_settings(database_url, smtp)
    config = mail.mail_config(settings)
    assert config is not None
    engine = create_engine(settings.database_url)
    try:
        await Worker(settings, config, create_sessionmaker(engine)).run_once()
    finally:
        await engine.dispose()


async def confirm(client: httpx.AsyncClient, token: str, password: str) -> int:
    response = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": password}
    )
    return response.status_code


async def test_a_self_service_reset_link_is_stored_nowhere_and_the_emailed_one_works_once(
    make_app: Any, database_url: str, smtp: SmtpServer
) -> None:
    app = mail_app(make_app, database_url, smtp)
    async with client_of(app) as client:
        await register(client)
        asked = await client.post("/api/v1/auth/password-reset", json={"email": "jane@example.com"})
        assert asked.status_code == 202
        await run_worker(database_url, smtp)

        link = emailed_link(smtp, "jane@example.com")
        assert await places_holding(app, token_of(link)) == []
        assert await places_holding(app, link) == []

        assert await confirm(client, token_of(link), NEW_PASSWORD) == 204
        assert await confirm(client, token_of(link), SECOND_PASSWORD) == 422
        assert (await login(client, "jane@example.com", NEW_PASSWORD)).status_code == 200
        assert await places_holding(app, token_of(link)) == []


async def test_an_admin_reset_stores_neither_the_shown_nor_the_emailed_link(
    make_app: Any, database_url: str, smtp: SmtpServer
) -> None:
    app = mail_app(make_app, database_url, smtp)
    async with client_of(app) as client:
        admin = await account(client, "ada@example.com", "Ada Admin")
        member = await account(client, "bob@example.com", "Bob Member")
        response = await client.post(
            f"/api/v1/admin/users/{member.id}/password-reset", headers=admin.headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["emailed"] is True
        shown = response.json()["link"]
        await run_worker(database_url, smtp)

        emailed = emailed_link(smtp, "bob@example.com")
        for secret in (shown, token_of(shown), emailed, token_of(emailed)):
            assert await places_holding(app, secret) == [], secret

        # Two links to one reset: the first one used sets the password, the other is dead.
        assert await confirm(client, token_of(emailed), NEW_PASSWORD) == 204
        assert await confirm(client, token_of(shown), SECOND_PASSWORD) == 422
        assert (await login(client, "bob@example.com", NEW_PASSWORD)).status_code == 200


async def test_the_emailed_admin_reset_link_says_the_admin_made_it_and_lasts_a_day(
    make_app: Any, database_url: str, smtp: SmtpServer
) -> None:
    app = mail_app(make_app, database_url, smtp)
    async with client_of(app) as client:
        admin = await account(client, "ada@example.com", "Ada Admin")
        member = await account(client, "bob@example.com", "Bob Member")
        await client.post(f"/api/v1/admin/users/{member.id}/password-reset", headers=admin.headers)
        await run_worker(database_url, smtp)
    [received] = smtp.handler.received
    text = received.message.get_payload(0).get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "admin" in text and "24 hours" in text
    assert str(received.message["Subject"]) == "Reset your Followup password"


async def test_no_shown_once_secret_is_stored_in_clear(client: httpx.AsyncClient, app: Any) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    secrets: dict[str, str] = {}

    token = await client.post("/api/v1/tokens", json={"name": "cli"}, auth=(admin.email, PASSWORD))
    secrets["API token"] = token.json()["token"]

    invite = await client.post("/api/v1/admin/invites", json={}, headers=admin.headers)
    secrets["invite code"] = invite.json()["code"]
    secrets["invite link"] = invite.json()["link"]

    signed_in = await client.post(
        "/api/v1/auth/login", json={"email": member.email, "password": PASSWORD}
    )
    secrets["session cookie"] = signed_in.cookies["followup_session"]

    reset = await client.post(
        f"/api/v1/admin/users/{member.id}/password-reset", headers=admin.headers
    )
    secrets["reset link (no SMTP)"] = reset.json()["link"]
    secrets["reset token (no SMTP)"] = token_of(reset.json()["link"])

    rotated = await client.post(
        "/api/v1/me/calendar-token",
        headers={**admin.headers, "Idempotency-Key": "rotate-1"},
    )
    secrets["calendar feed URL"] = rotated.json()["calendar_url"]
    secrets["calendar feed token"] = rotated.json()["calendar_url"].rsplit("/", 1)[-1]

    for name, secret in secrets.items():
        assert await places_holding(app, secret) == [], name


async def test_a_webhook_secret_is_stored_because_the_worker_signs_with_it(
    client: httpx.AsyncClient, app: Any
) -> None:
    headers = (await account(client, "ada@example.com", "Ada Admin")).headers
    hook = {"url": "https://93.184.215.14/hook", "events": ["followup.sent"], "format": "json"}
    created = await client.post("/api/v1/webhooks", json=hook, headers=headers)
    assert created.status_code == 201, created.text
    assert await places_holding(app, created.json()["secret"]) == ["webhooks.secret"]
