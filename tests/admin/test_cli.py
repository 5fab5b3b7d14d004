"""`followup invite --note --expires-in-days`: the invite shows up in the admin's list."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.admin.conftest import account
from tests.test_cli import cli_env, followup

__all__ = ["cli_env"]  # the fixture, used by name


async def test_invite_with_a_note_and_a_lifetime_is_listed_for_the_admin(
    cli_env: pytest.MonkeyPatch, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    status = await followup(cli_env, "invite", "--note", "Dana, May", "--expires-in-days", "30")
    assert status == 0
    out = capsys.readouterr().out
    assert out.startswith("https://followup.example/register?invite=")
    assert "valid for 30 days, once" in out
    (invite,) = (await client.get("/api/v1/admin/invites", headers=admin.headers)).json()["items"]
    assert (invite["note"], invite["status"]) == ("Dana, May", "pending")
    lifetime = datetime.fromisoformat(invite["expires_at"]) - datetime.fromisoformat(
        invite["created_at"]
    )
    assert lifetime == timedelta(days=30)


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--expires-in-days", "0"], "--expires-in-days"),
        (["--expires-in-days", "91"], "--expires-in-days"),
        (["--note", "x" * 201], "--note"),
    ],
)
async def test_an_invalid_invite_option_exits_2_naming_it_and_makes_nothing(
    cli_env: pytest.MonkeyPatch,
    client: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    named: str,
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    assert await followup(cli_env, "invite", *argv) == 2
    assert capsys.readouterr().err.startswith(f"{named}:")
    listed: Any = (await client.get("/api/v1/admin/invites", headers=admin.headers)).json()
    assert listed["items"] == []
