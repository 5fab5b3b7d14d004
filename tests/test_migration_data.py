"""Migrations keep the data: every step down and back up keeps each row the schema at both ends
of the step holds, and a migration that leaves a row breaking a foreign key fails instead."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, select, text

from app import cli, clock
from app.cli import alembic_config
from app.db import sync_url
from app.main import create_app
from tests.helpers import PASSWORD, ROOT, client_of, interview_body, make_settings

# The tables the data set below fills (every one there is as this is written).
FILLED = [
    "api_tokens",
    "followups",
    "group_templates",
    "idempotency_keys",
    "instance_settings",
    "interviews",
    "invites",
    "mailbox_folders",
    "mailbox_messages",
    "mailboxes",
    "outbox",
    "password_resets",
    "people",
    "users",
    "web_sessions",
    "webhook_deliveries",
    "webhooks",
]


@dataclass
class Table:
    columns: set[str]
    rows: dict[tuple[Any, ...], dict[str, Any]]  # by primary key


def _snapshot(url: str) -> dict[str, Table]:
    """Every row of every table there is now, read through reflection (not the models), so
    tables that later migrations add are compared too."""
    engine = create_engine(sync_url(url))
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        tables = {}
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                if table.name == "alembic_version":
                    continue
                key = [column.name for column in table.primary_key.columns]
                rows = connection.execute(select(table)).mappings()
                tables[table.name] = Table(
                    columns={column.name for column in table.columns},
                    rows={tuple(row[k] for k in key): dict(row) for row in rows},
                )
        return tables
    finally:
        engine.dispose()


def _lost(before: dict[str, Table], after: dict[str, Table]) -> list[str]:
    """What a step lost or changed: of each table that exists at both ends, the rows and the
    values of the columns that exist at both ends (a column the step drops takes its values
    with it, and one it adds is new)."""
    problems = []
    for name in sorted(before.keys() & after.keys()):
        old, new = before[name], after[name]
        if missing := old.rows.keys() - new.rows.keys():
            problems.append(f"{name}: {len(missing)} of {len(old.rows)} rows gone")
        if extra := new.rows.keys() - old.rows.keys():
            problems.append(f"{name}: {len(extra)} rows appeared")
        columns = old.columns & new.columns
        for key in sorted(old.rows.keys() & new.rows.keys(), key=str):
            changed = {c for c in columns if old.rows[key][c] != new.rows[key][c]}
            if changed:
                problems.append(f"{name} {key}: {sorted(changed)} changed")
    return problems


def _revisions(url: str) -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(url))  # type: ignore[arg-type]
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _fill(url: str) -> None:
    """A small instance in use, made through the API: an admin and a member who joined by
    invite, tokens and web sessions, interviews with people and follow-ups scheduled, sent,
    skipped, snoozed and cancelled, a webhook with deliveries, a mailbox, a password reset in the
    outbox,
    an idempotent create, a shared template and the group settings."""
    app = create_app(make_settings(url))
    try:
        async with client_of(app) as client:
            ada = await _account(client, "ada@example.com", "Ada Admin")
            invite = _ok(
                await client.post("/api/v1/admin/invites", json={"note": "Dana"}, headers=ada),
                201,
            )
            _ok(await client.post("/api/v1/admin/invites", json={}, headers=ada), 201)
            dana = await _account(client, "dana@example.com", "Dana Member", invite["code"])
            for email in ("ada@example.com", "dana@example.com"):
                login = {"email": email, "password": PASSWORD}
                _ok(await client.post("/api/v1/auth/login", json=login))
            client.cookies.clear()

            hook = {"url": "https://93.184.215.14/hook", "format": "json"}
            events = ["followup.sent", "interview.created"]
            webhook = _ok(
                await client.post(
                    "/api/v1/webhooks", json={**hook, "events": events}, headers=dana
                ),
                201,
            )
            _ok(await client.post(f"/api/v1/webhooks/{webhook['id']}/test", headers=dana), 202)

            past = (clock.now() - timedelta(days=2)).isoformat()
            made = [
                _ok(
                    await client.post(
                        "/api/v1/interviews",
                        json=interview_body(company=company, starts_at=past),
                        headers={**dana, "Idempotency-Key": f"create-{company}"},
                    ),
                    201,
                )
                for company in ("Acme Corp", "Globex", "Initech")
            ]
            _ok(await client.post("/api/v1/interviews", json=interview_body(), headers=ada), 201)
            acme, globex, _initech = made
            thank_you = [next(f for f in i["followups"] if f["kind"] == "thank_you") for i in made]
            patch = "/api/v1/followups/{}"
            _ok(
                await client.patch(
                    patch.format(thank_you[0]["id"]), json={"status": "sent"}, headers=dana
                )
            )
            _ok(
                await client.patch(
                    patch.format(thank_you[1]["id"]), json={"status": "skipped"}, headers=dana
                )
            )
            later = clock.now() + timedelta(days=3)
            snooze = {
                "not_before": later.isoformat(),
                "due_at": (later + timedelta(days=1)).isoformat(),
            }
            _ok(await client.patch(patch.format(thank_you[2]["id"]), json=snooze, headers=dana))
            custom = {"due_at": later.isoformat(), "subject": "Portfolio link", "body": "Here."}
            _ok(
                await client.post(
                    f"/api/v1/interviews/{acme['id']}/followups", json=custom, headers=dana
                ),
                201,
            )
            _ok(
                await client.patch(
                    f"/api/v1/interviews/{globex['id']}", json={"outcome": "rejected"}, headers=dana
                )
            )

            _ok(await client.patch("/api/v1/me", json={"board_sharing": "counts"}, headers=dana))
            mailbox = {
                "address": "dana@example.com",
                "username": "dana@example.com",
                "password": "app password",
                "imap": {"host": "93.184.215.14", "port": 993, "security": "tls"},
                "smtp": {"host": "93.184.215.14", "port": 587, "security": "starttls"},
            }
            _ok(await client.put("/api/v1/me/mailbox", json=mailbox, headers=dana), 201)
            _ok(
                await client.post(
                    "/api/v1/auth/password-reset", json={"email": "dana@example.com"}
                ),
                202,
            )  # queued: its link is made as the worker sends it
            dana_id = _ok(await client.get("/api/v1/me", headers=dana))["id"]
            reset = f"/api/v1/admin/users/{dana_id}/password-reset"
            _ok(await client.post(reset, headers=ada), 201)  # the admin's link: stored hashed
            template = {"kind": "thank_you", "name": "Warm", "subject": "Thanks", "body": "Hi."}
            _ok(await client.post("/api/v1/group/templates", json=template, headers=ada), 201)
            _ok(
                await client.patch(
                    "/api/v1/group/settings", json={"members_may_publish": True}, headers=ada
                )
            )
    finally:
        await app.state.engine.dispose()
    _watched(url, "dana@example.com")


def _watched(url: str, email: str) -> None:
    """What the mailbox watch keeps of the user's mailbox: a folder's position and a counted
    message's hash (a watch pass would need an IMAP server)."""
    from app.accounts.models import User
    from app.mailbox.models import Mailbox, MailboxFolder, MailboxMessage

    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            user_id, mailbox_id = connection.execute(
                select(Mailbox.user_id, Mailbox.id)
                .join(User.__table__, User.id == Mailbox.user_id)
                .where(User.email == email)
            ).one()
            now = clock.now()
            connection.execute(
                MailboxFolder.__table__.insert().values(
                    id=uuid.uuid4(),
                    user_id=user_id,
                    mailbox_id=mailbox_id,
                    role="inbox",
                    name="INBOX",
                    uidvalidity=1700000000,
                    last_uid=42,
                    updated_at=now,
                )
            )
            connection.execute(
                MailboxMessage.__table__.insert().values(
                    id=uuid.uuid4(), user_id=user_id, key="ab" * 32, created_at=now
                )
            )
    finally:
        engine.dispose()


async def _account(
    client: httpx.AsyncClient, email: str, name: str, code: str | None = None
) -> dict[str, str]:
    body = {"email": email, "password": PASSWORD, "display_name": name, "invite_code": code}
    _ok(await client.post("/api/v1/auth/register", json=body), 201)
    client.cookies.clear()
    token = _ok(
        await client.post("/api/v1/tokens", json={"name": "cli"}, auth=(email, PASSWORD)), 201
    )
    return {"Authorization": f"Bearer {token['token']}"}


async def test_every_step_down_and_back_up_keeps_every_row(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "head")  # type: ignore[arg-type]
    await _fill(empty_database)
    previous = _snapshot(empty_database)
    # Tables added later are compared too, with whatever rows the app puts in them.
    assert not [name for name in FILLED if not previous[name].rows]

    revisions = _revisions(empty_database)
    # Down to the first revision (below it there are no tables), then back up to head.
    steps = [("downgrade", r) for r in reversed(revisions[:-1])]
    steps += [("upgrade", r) for r in revisions[1:]]
    for direction, revision in steps:
        getattr(command, direction)(config, revision)
        now = _snapshot(empty_database)
        lost = _lost(previous, now)
        assert not lost, f"{direction} to {revision} lost data: {lost}"
        previous = now


# A migration with a bug: it leaves a web session of an account that does not exist (on
# Postgres it has to switch enforcement off for that, as a careless data copy might).
ORPHANING_MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "0ad0ad0ad0ad"
down_revision = "{head}"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL session_replication_role = replica")
    op.execute(
        "INSERT INTO web_sessions VALUES ('orphan', '00000000000000000000000000000001', 'x', "
        "'2026-11-25 12:00:00', '2026-12-25 12:00:00')"
    )
    op.create_table("kept_only_if_all_goes_well", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    pass
"""


def test_a_migration_leaving_a_broken_reference_fails_naming_the_table_and_is_rolled_back(
    empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command.upgrade(alembic_config(empty_database), "head")  # type: ignore[arg-type]
    head = _revisions(empty_database)[-1]
    scripts = tmp_path / "alembic"
    shutil.copytree(ROOT / "alembic", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "orphaning.py").write_text(ORPHANING_MIGRATION.format(head=head))

    def with_the_bad_migration(url: str) -> Any:
        config = alembic_config(url)
        config.set_main_option("script_location", str(scripts))  # type: ignore[attr-defined]
        return config

    monkeypatch.setattr(cli, "alembic_config", with_the_bad_migration)
    monkeypatch.setenv("DATABASE_URL", empty_database)
    with pytest.raises(SystemExit) as exited:
        cli.main(["migrate"])
    assert exited.value.code == (
        "Migrations rolled back: they would leave broken references "
        "(web_sessions: 1 row(s) reference users rows that do not exist)."
    )
    after = _snapshot(empty_database)
    assert "kept_only_if_all_goes_well" not in after and not after["web_sessions"].rows
    engine = create_engine(sync_url(empty_database))
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == head
    engine.dispose()
