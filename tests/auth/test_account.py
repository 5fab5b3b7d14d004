"""A member's own account: changing the password, and deleting the account with its data."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app import clock
from app.accounts.models import User
from app.group.models import GroupTemplate
from app.mailbox.models import Mailbox, MailboxFolder, MailboxMessage
from app.reminders import service as reminders
from app.tables import metadata
from tests.helpers import PASSWORD, client_of, create_interview, register, sign_in, token_for

NEW_PASSWORD = "a brand new passphrase"
USER_TABLES = sorted(t.name for t in metadata.sorted_tables if "user_id" in t.columns)


def locs(response: httpx.Response) -> list[list[str | int]]:
    assert response.headers["content-type"] == "application/problem+json"
    return [e["loc"] for e in response.json()["errors"]]


# Changing the password


async def test_changing_the_password_ends_other_sessions_but_not_this_one(app: Any) -> None:
    async with client_of(app) as here, client_of(app) as elsewhere:
        await register(here, "jane@example.com")
        token = await token_for(here, "jane@example.com")
        csrf = await sign_in(here, "jane@example.com")
        await sign_in(elsewhere, "jane@example.com")

        changed = await here.post(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers={"X-CSRF-Token": csrf},
        )
        assert (changed.status_code, changed.content) == (204, b"")

        assert (await here.get("/api/v1/me")).status_code == 200
        assert (await elsewhere.get("/api/v1/me")).status_code == 401
        tool = await here.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert tool.status_code == 200  # API tokens are not sessions: they stay
        old = await elsewhere.post(
            "/api/v1/auth/login", json={"email": "jane@example.com", "password": PASSWORD}
        )
        assert old.status_code == 401
        await sign_in(elsewhere, "jane@example.com", NEW_PASSWORD)


async def test_a_wrong_current_password_is_422_naming_it_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    headers = {"Authorization": f"Bearer {await token_for(client, 'jane@example.com')}"}
    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=headers,
    )
    assert wrong.status_code == 422
    assert locs(wrong) == [["body", "current_password"]]
    await sign_in(client, "jane@example.com")


async def test_a_short_new_password_is_422_naming_it(client: httpx.AsyncClient) -> None:
    await register(client)
    headers = {"Authorization": f"Bearer {await token_for(client, 'jane@example.com')}"}
    short = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=headers,
    )
    assert short.status_code == 422 and locs(short) == [["body", "new_password"]]


async def test_guessing_the_current_password_is_throttled_like_signing_in(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    headers = {"Authorization": f"Bearer {await token_for(client, 'jane@example.com')}"}
    body = {"current_password": "guess", "new_password": NEW_PASSWORD}
    statuses = [
        (await client.post("/api/v1/me/password", json=body, headers=headers)).status_code
        for _ in range(6)
    ]
    assert statuses == [422] * 5 + [429]


# Deleting the account


async def fill_every_table(app: Any, client: httpx.AsyncClient, email: str) -> dict[str, str]:
    """An account with a row in every table that has a user_id; its token headers."""
    user = await register(client, email, email.split("@")[0])
    headers = {"Authorization": f"Bearer {await token_for(client, email)}"}
    await create_interview(client, {**headers, "Idempotency-Key": f"key-{email}"})
    hook = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.215.14/hook", "events": ["followup.sent"]},
        headers=headers,
    )
    assert hook.status_code == 201, hook.text
    tested = await client.post(f"/api/v1/webhooks/{hook.json()['id']}/test", headers=headers)
    assert tested.status_code < 300, tested.text
    reset = await client.post("/api/v1/auth/password-reset", json={"email": email})
    assert reset.status_code == 202  # queued; its link is made when the worker sends it
    server = {"host": "93.184.215.14", "port": 993, "security": "tls"}
    mailbox = {
        "address": email,
        "username": email,
        "password": "pw",
        "imap": server,
        "smtp": server,
    }
    connected = await client.put("/api/v1/me/mailbox", json=mailbox, headers=headers)
    assert connected.status_code == 201, connected.text
    async with client_of(app) as browser:
        await sign_in(browser, email)
    async with app.state.sessionmaker() as session:
        member = await session.get(User, uuid.UUID(user["id"]))
        assert member is not None
        await reminders.issue_password_reset(
            session,
            settings=app.state.settings,
            user=member,
            now=clock.now(),
            valid_for=timedelta(hours=1),
        )
        # What the mailbox watch keeps: a folder's position, a counted message's hash.
        mailbox_id = await session.scalar(
            select(Mailbox.id).where(Mailbox.user_id == uuid.UUID(user["id"]))
        )
        assert mailbox_id is not None
        session.add(
            MailboxFolder(
                user_id=member.id,
                mailbox_id=mailbox_id,
                role="inbox",
                name="INBOX",
                uidvalidity=1,
                last_uid=7,
            )
        )
        session.add(MailboxMessage(user_id=member.id, key="cd" * 32))
        session.add(
            GroupTemplate(
                user_id=uuid.UUID(user["id"]),
                kind="thank_you",
                name="Mine",
                subject="Thanks",
                body="Hi",
            )
        )
        await session.commit()
    return headers


async def rows_per_table(app: Any, user_id: str) -> dict[str, int]:
    counts = {}
    async with app.state.sessionmaker() as session:
        for name in USER_TABLES:
            table = metadata.tables[name]
            query = select(func.count()).select_from(table)
            counts[name] = await session.scalar(query.where(table.c.user_id == uuid.UUID(user_id)))
    return counts


async def user_id_of(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return (await client.get("/api/v1/me", headers=headers)).json()["id"]  # type: ignore[no-any-return]


async def test_deleting_the_account_removes_every_row_of_it_and_nothing_of_others(
    app: Any, client: httpx.AsyncClient
) -> None:
    others = await fill_every_table(app, client, "ada@example.com")
    mine = await fill_every_table(app, client, "jane@example.com")
    my_id, their_id = await user_id_of(client, mine), await user_id_of(client, others)
    mine_before = await rows_per_table(app, my_id)
    theirs_before = await rows_per_table(app, their_id)
    empty = [table for table, count in mine_before.items() if count == 0]
    assert empty == [], f"teach fill_every_table() to put a row in {empty}"

    deleted = await client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=mine
    )
    assert (deleted.status_code, deleted.content) == (204, b"")

    assert await rows_per_table(app, my_id) == dict.fromkeys(USER_TABLES, 0)
    assert await rows_per_table(app, their_id) == theirs_before
    assert (await client.get("/api/v1/me", headers=mine)).status_code == 401
    signing_in = await client.post(
        "/api/v1/auth/login", json={"email": "jane@example.com", "password": PASSWORD}
    )
    assert signing_in.status_code == 401
    assert (await client.get("/api/v1/interviews", headers=others)).json()["items"]


async def test_deleting_signs_out_the_browser_that_did_it(app: Any) -> None:
    async with client_of(app) as browser:
        await register(browser, "ada@example.com")
        await register(browser, "jane@example.com")
        csrf = await sign_in(browser, "jane@example.com")
        deleted = await browser.request(
            "DELETE",
            "/api/v1/me",
            json={"password": PASSWORD},
            headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        )
        assert deleted.status_code == 204
        assert deleted.headers["hx-redirect"] == "/login"
        assert (await browser.get("/api/v1/me")).status_code == 401


@pytest.mark.parametrize("password", ["not my password", ""])
async def test_a_wrong_password_deletes_nothing_and_is_422_naming_it(
    client: httpx.AsyncClient, password: str
) -> None:
    await register(client, "ada@example.com")
    await register(client)
    headers = {"Authorization": f"Bearer {await token_for(client, 'jane@example.com')}"}
    await create_interview(client, headers)
    refused = await client.request(
        "DELETE", "/api/v1/me", json={"password": password}, headers=headers
    )
    assert refused.status_code == 422 and locs(refused) == [["body", "password"]]
    assert len((await client.get("/api/v1/interviews", headers=headers)).json()["items"]) == 1


async def test_without_a_body_nothing_is_deleted(client: httpx.AsyncClient) -> None:
    await register(client)
    headers = {"Authorization": f"Bearer {await token_for(client, 'jane@example.com')}"}
    refused = await client.delete("/api/v1/me", headers=headers)
    assert refused.status_code == 422
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200


async def test_the_only_admin_with_other_members_cannot_delete_their_account(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "ada@example.com", "Ada Admin")
    admin = {"Authorization": f"Bearer {await token_for(client, 'ada@example.com')}"}
    await register(client, "jane@example.com")
    refused = await client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=admin
    )
    assert refused.status_code == 409
    assert "make another member admin first" in refused.json()["detail"]
    assert (await client.get("/api/v1/me", headers=admin)).status_code == 200


async def test_the_only_account_of_an_instance_can_delete_itself(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "ada@example.com", "Ada Admin")
    admin = {"Authorization": f"Bearer {await token_for(client, 'ada@example.com')}"}
    deleted = await client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=admin
    )
    assert deleted.status_code == 204
    # The instance is empty again: the next account to register is its admin.
    assert (await register(client, "new@example.com"))["is_admin"] is True
