"""The `followup` command: accounts from the shell, invites and the OpenAPI document."""

from __future__ import annotations

import asyncio
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import __version__
from app.cli import alembic_config, main, openapi_json, schema_revisions
from app.config import Settings
from tests.helpers import PASSWORD, ROOT, client_of, register


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, app: Any) -> pytest.MonkeyPatch:
    """The command's environment: the test database (wiped after the test, by `app`) and a
    known base URL."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FOLLOWUP_BASE_URL", "https://followup.example")
    return monkeypatch


async def followup(cli_env: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    """Run `followup ARGV…` with `stdin`; it runs its own event loop, so in a thread."""
    cli_env.setattr("sys.stdin", io.StringIO(stdin))
    return await asyncio.to_thread(main, list(argv))


async def test_user_add_creates_an_admin_who_can_get_a_token_with_basic(
    cli_env: pytest.MonkeyPatch, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await followup(cli_env, "user", "add", "X@Example.com", "--admin", stdin=PASSWORD)
    assert status == 0
    assert "x@example.com (admin)" in capsys.readouterr().out
    token = await client.post(
        "/api/v1/tokens", json={"name": "cli"}, auth=("x@example.com", PASSWORD)
    )
    assert token.status_code == 201
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['token']}"}
    )
    assert me.json()["email"] == "x@example.com"
    assert me.json()["is_admin"] is True
    assert me.json()["display_name"] == "X"


async def test_user_add_without_admin_makes_a_member_with_the_given_name(
    cli_env: pytest.MonkeyPatch, client: httpx.AsyncClient
) -> None:
    status = await followup(
        cli_env, "user", "add", "sam@example.com", "--name", "Sam Poe", stdin=PASSWORD + "\n"
    )
    assert status == 0
    login = await client.post(
        "/api/v1/auth/login", json={"email": "sam@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    assert login.json()["user"]["is_admin"] is False
    assert login.json()["user"]["display_name"] == "Sam Poe"


async def test_user_add_keeps_a_password_exactly_as_typed_but_for_the_newline(
    cli_env: pytest.MonkeyPatch, client: httpx.AsyncClient
) -> None:
    password = "  spaces around, and a very long tail " + "z" * 500 + " "
    assert await followup(cli_env, "user", "add", "sam@example.com", stdin=password + "\n") == 0
    good = {"email": "sam@example.com", "password": password}
    stripped = {"email": "sam@example.com", "password": password.strip()}
    assert (await client.post("/api/v1/auth/login", json=good)).status_code == 200
    assert (await client.post("/api/v1/auth/login", json=stripped)).status_code == 401


async def test_user_add_refuses_a_taken_email_in_any_case(
    cli_env: pytest.MonkeyPatch, client: httpx.AsyncClient
) -> None:
    await register(client, "jane@example.com")
    with pytest.raises(SystemExit, match="already exists"):
        await followup(cli_env, "user", "add", "JANE@example.com", stdin=PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [("not-an-email", PASSWORD, "email"), ("sam@example.com", "short", "password")],
)
async def test_user_add_refuses_bad_input_naming_the_field_and_creates_nothing(
    cli_env: pytest.MonkeyPatch,
    client: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
    email: str,
    password: str,
    field: str,
) -> None:
    assert await followup(cli_env, "user", "add", email, stdin=password) == 2
    assert capsys.readouterr().err.startswith(f"{field}:")
    # Nothing was created: the next account is still the first one, the admin.
    assert (await register(client, "jane@example.com"))["is_admin"] is True


async def test_invite_prints_a_link_whose_code_registers_one_user_in_invite_mode(
    cli_env: pytest.MonkeyPatch,
    make_app: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with client_of(make_app(registration="invite")) as client:
        await register(client, "jane@example.com")
        assert await followup(cli_env, "invite") == 0
        link = capsys.readouterr().out.splitlines()[0]
        found = re.fullmatch(r"https://followup\.example/register\?invite=([A-Za-z0-9_-]+)", link)
        assert found, link
        body = {
            "email": "bob@example.com",
            "password": PASSWORD,
            "display_name": "Bob",
            "invite_code": found.group(1),
        }
        accepted = await client.post("/api/v1/auth/register", json=body)
        assert accepted.status_code == 201
        assert accepted.json()["is_admin"] is False
        again = await client.post(
            "/api/v1/auth/register", json={**body, "email": "carol@example.com"}
        )
        assert again.status_code == 422


def test_openapi_prints_exactly_the_committed_openapi_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    committed = json.loads((ROOT / "openapi.json").read_text())
    assert json.loads(openapi_json()) == committed
    assert main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == committed


def test_openapi_does_not_depend_on_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    before = openapi_json()
    monkeypatch.setenv("FOLLOWUP_BASE_URL", "https://elsewhere.example")
    monkeypatch.setenv("FOLLOWUP_REGISTRATION", "closed")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert openapi_json() == before


def test_version_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"followup {__version__}\n"
    script = str(Path(sys.executable).with_name("followup"))
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=30)
    assert done.stdout == f"followup {__version__}\n"


def _old_database(url: str) -> str:
    """A database one migration behind this version; returns its revision."""
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config(url)
    previous = ScriptDirectory.from_config(config).get_revision("head").down_revision  # type: ignore[arg-type, union-attr]
    command.upgrade(config, str(previous))  # type: ignore[arg-type]
    revision = schema_revisions(Settings(database_url=url))[0]
    assert revision is not None
    return revision


@pytest.mark.parametrize("argv", [["user", "add", "sam@example.com"], ["invite"]])
async def test_user_add_and_invite_refuse_an_out_of_date_schema_and_migrate_nothing(
    monkeypatch: pytest.MonkeyPatch, empty_database: str, argv: list[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    with pytest.raises(SystemExit, match="the database has no schema yet") as refused:
        await asyncio.to_thread(main, argv)
    assert "Run `followup migrate` first" in str(refused.value)
    revision = _old_database(empty_database)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    with pytest.raises(
        SystemExit, match=f"out of date \\(revision {revision}; this version needs "
    ):
        await asyncio.to_thread(main, argv)
    assert schema_revisions(Settings(database_url=empty_database))[0] == revision


def test_migrate_check_says_whether_the_schema_is_current(
    monkeypatch: pytest.MonkeyPatch, empty_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database)
    revision = _old_database(empty_database)
    with pytest.raises(SystemExit, match="out of date"):
        main(["migrate", "--check"])
    assert schema_revisions(Settings(database_url=empty_database))[0] == revision
    assert main(["migrate"]) == 0
    assert main(["migrate", "--check"]) == 0
    assert capsys.readouterr().out.endswith("Database is up to date.\n")


def test_a_schema_newer_than_this_version_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from sqlalchemy import create_engine, text

    from app.db import sync_url

    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        (head,) = connection.execute(text("SELECT version_num FROM alembic_version")).one()
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    try:
        monkeypatch.setenv("DATABASE_URL", database_url)
        with pytest.raises(SystemExit, match="revision f00dfeed, which this version"):
            main(["migrate", "--check"])
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        engine.dispose()


def test_secrets_come_from_files_and_not_twice(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in [
        ("SECRET_KEY", "from-a-file"),
        ("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}"),
        ("SMTP_PASSWORD", " spaces kept "),
        ("FOLLOWUP_ADMIN_PASSWORD", "admin password"),
    ]:
        (tmp_path / name).write_text(value + "\n")
        monkeypatch.setenv(f"{name}_FILE", str(tmp_path / name))
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.secret_key == "from-a-file"
    assert settings.database_url == f"sqlite:///{tmp_path / 'x.db'}"
    assert settings.smtp_password == " spaces kept "
    assert settings.admin_password == "admin password"

    monkeypatch.setenv("SECRET_KEY", "also-set")
    assert main(["migrate", "--check"]) == 2
    assert "SECRET_KEY and SECRET_KEY_FILE are both set" in capsys.readouterr().err
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.setenv("SMTP_PASSWORD_FILE", str(tmp_path / "missing"))
    assert main(["migrate", "--check"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("setting SMTP_PASSWORD_FILE: ") and "cannot read" in error
