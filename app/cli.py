"""The `followup` command: serve, migrate, add users, make invites, print the OpenAPI document."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from typing import TYPE_CHECKING

from pydantic import TypeAdapter, ValidationError

from app import __version__, clock
from app.command import add_healthcheck_arguments, default_port, healthcheck
from app.config import Settings, project_path

if TYPE_CHECKING:
    from app.reminders.mail import MailConfig


def alembic_config(database_url: str) -> object:
    from alembic.config import Config

    ini = project_path("alembic.ini")
    config = Config(str(ini))
    config.set_main_option("script_location", str(ini.parent / "alembic"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def migrate(settings: Settings) -> tuple[str | None, str | None]:
    """Upgrades to head; returns the revision before and after, as read under the lock.
    Exits (status 1, naming the tables) when the migrations left rows referencing nothing:
    they are rolled back, and the database stays as it was."""
    from alembic import command

    from app.db import ForeignKeyViolation

    config = alembic_config(settings.database_url)
    try:
        command.upgrade(config, "head")  # type: ignore[arg-type]
    except ForeignKeyViolation as error:
        raise SystemExit(
            f"Migrations rolled back: they would leave broken references ({error})."
        ) from None
    attributes = config.attributes  # type: ignore[attr-defined]
    return attributes.get("revision_before"), attributes.get("revision_after")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import subprocess

    import uvicorn

    from app import logs, memory

    # The one migration step of a start (FOLLOWUP_MIGRATE=0: only a check that the schema is
    # current). In a child process, so the serving process never imports Alembic (measured:
    # ~10 MB of RSS it would keep for its whole life); same environment, same settings.
    step = ["migrate"] if settings.migrate_on_start else ["migrate", "--check"]
    migration = subprocess.run(
        [sys.executable, "-m", "app.cli", *step, "--wait", f"{settings.db_wait_seconds:g}"],
        check=False,
    )
    if migration.returncode != 0:
        what = "migrations failed" if settings.migrate_on_start else "the schema is not current"
        print(f"followup serve: {what}; not serving.", file=sys.stderr)
        return migration.returncode
    _create_first_admin(settings)
    memory.tune_allocator()  # before uvicorn starts its workers: they inherit it
    uvicorn.run(
        "app.main:create_served_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        access_log=False,  # the app's own access log (FOLLOWUP_ACCESS_LOG) redacts secrets
        log_config=logs.log_config(settings),
        log_level=settings.log_level.lower(),
    )
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    if args.wait > 0:
        _wait_for_database(settings, args.wait)
    if args.check:
        require_current_schema(settings, "followup")
        print("Database is up to date.")
        return 0
    before, after = migrate(settings)
    if before == after:
        print(f"Database is up to date (revision {after}).")
    else:
        print(f"Database migrated from {before or 'empty'} to {after}.")
    return 0


def _wait_for_database(settings: Settings, seconds: float) -> None:
    """Retries until the database accepts connections (a container starting beside it)."""
    import time

    from sqlalchemy import create_engine, pool, text
    from sqlalchemy.exc import OperationalError

    from app.db import sqlite_file, sync_url

    if sqlite_file(settings.database_url):
        return  # an embedded file: nothing to wait for
    engine = create_engine(sync_url(settings.database_url), poolclass=pool.NullPool)
    deadline = time.monotonic() + seconds
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return
            except OperationalError:
                if time.monotonic() >= deadline:
                    raise SystemExit(
                        f"The database did not answer within {seconds:g} s; check DATABASE_URL."
                    ) from None
                time.sleep(1)
    finally:
        engine.dispose()


def schema_revisions(settings: Settings) -> tuple[str | None, str | None, set[str]]:
    """The database's Alembic revision (None: no schema yet), this version's head and every
    revision this version knows."""
    from pathlib import Path

    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, pool

    from app.db import sqlite_file, sync_url

    script = ScriptDirectory.from_config(alembic_config(settings.database_url))  # type: ignore[arg-type]
    known = {revision.revision for revision in script.walk_revisions()}
    head = script.get_current_head()
    path = sqlite_file(settings.database_url)
    if path and not Path(path).exists():
        return None, head, known  # not created yet (connecting would create the file)
    engine = create_engine(sync_url(settings.database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision(), head, known
    finally:
        engine.dispose()


def require_current_schema(settings: Settings, command: str, wait: float = 0) -> None:
    """Exits with a clear message unless the database has this version's schema; waits up
    to `wait` seconds for it first (another process may be migrating it)."""
    import time

    deadline = time.monotonic() + wait
    while True:
        current, head, known = schema_revisions(settings)
        if current == head:
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(1)
    if current is None:
        state = f"the database has no schema yet (this version needs revision {head})"
    elif current not in known:
        raise SystemExit(
            f"{command}: the database is at revision {current}, which this version "
            f"({__version__}) does not know: a newer Followup migrated it. Run that version, "
            "or restore the backup taken before the upgrade."
        )
    else:
        state = (
            f"the database schema is out of date (revision {current}; this version needs {head})"
        )
    raise SystemExit(
        f"{command}: {state}. Run `followup migrate` first, or start `followup serve`, which "
        "migrates at start unless FOLLOWUP_MIGRATE=0."
    )


def _create_first_admin(settings: Settings) -> None:
    """FOLLOWUP_ADMIN_EMAIL with FOLLOWUP_ADMIN_PASSWORD(_FILE): the first account, an admin,
    made before serving, so no visitor can register first; nothing once any account exists."""
    from sqlalchemy.exc import IntegrityError

    from app.accounts.schemas import RegisterIn

    if not settings.admin_email:
        return
    if not settings.admin_password:
        raise SystemExit(
            "FOLLOWUP_ADMIN_EMAIL is set without FOLLOWUP_ADMIN_PASSWORD_FILE (or "
            "FOLLOWUP_ADMIN_PASSWORD): set one, or unset FOLLOWUP_ADMIN_EMAIL."
        )
    try:
        data = RegisterIn(
            email=settings.admin_email,
            password=settings.admin_password,
            display_name=settings.admin_email.split("@")[0],
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors()
        )
        raise SystemExit(f"FOLLOWUP_ADMIN_EMAIL / FOLLOWUP_ADMIN_PASSWORD: {problems}") from None
    try:
        user_id = asyncio.run(
            _add_user(settings, data.email, data.password, data.display_name, True, first=True)
        )
    except IntegrityError:
        user_id = None  # another replica starting at the same time made it
    if user_id is not None:
        print(f"Created the first admin, {data.email.lower()}.", file=sys.stderr)


def _read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise SystemExit("The passwords differ.")
        return password
    return sys.stdin.readline().rstrip("\n")


async def _add_user(
    settings: Settings, email: str, password: str, name: str, admin: bool, *, first: bool = False
) -> str | None:
    """The new account's id; with `first`, None (and nothing made) when any account exists."""
    from sqlalchemy import exists, select

    from app.accounts import service
    from app.accounts.models import User
    from app.accounts.repository import user_by_email
    from app.db import create_engine, create_sessionmaker

    engine = create_engine(settings.database_url)
    try:
        # Commits when the block ends, `return` included (a `return` inside
        # `async for … in session_scope()` would leave the generator before its commit).
        async with create_sessionmaker(engine).begin() as session:
            if first and await session.scalar(select(exists().select_from(User))):
                return None
            if await user_by_email(session, email) is not None:
                raise SystemExit(f"An account with the email {email} already exists.")
            now = clock.now()
            user = User(
                email=email.lower(),
                password_hash=service.hash_password(password),
                display_name=name,
                is_admin=admin,
                created_at=now,
                updated_at=now,
            )
            session.add(user)
            await session.flush()
            return str(user.id)
    finally:
        await engine.dispose()


def _user_add(args: argparse.Namespace, settings: Settings) -> int:
    from app.accounts.schemas import RegisterIn

    password = _read_password()
    try:
        data = RegisterIn(
            email=args.email, password=password, display_name=args.name or args.email.split("@")[0]
        )
    except ValidationError as error:
        for item in error.errors():
            print(f"{'.'.join(map(str, item['loc']))}: {item['msg']}", file=sys.stderr)
        return 2
    require_current_schema(settings, "followup user add")
    user_id = asyncio.run(
        _add_user(settings, data.email, data.password, data.display_name, args.admin)
    )
    print(f"Created {data.email.lower()} ({'admin' if args.admin else 'member'}), id {user_id}.")
    return 0


async def _make_invite(settings: Settings, days: int, note: str | None) -> str:
    from app.accounts import service
    from app.db import create_engine, create_sessionmaker

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            _invite, code = await service.make_invite(
                session, created_by=None, now=clock.now(), days=days, note=note
            )
            return code
    finally:
        await engine.dispose()


def _invite(args: argparse.Namespace, settings: Settings) -> int:
    from app.admin.schemas import InviteCreate

    try:
        data = InviteCreate(note=args.note, expires_in_days=args.expires_in_days)
    except ValidationError as error:
        for item in error.errors():
            print(f"--{str(item['loc'][0]).replace('_', '-')}: {item['msg']}", file=sys.stderr)
        return 2
    require_current_schema(settings, "followup invite")
    code = asyncio.run(_make_invite(settings, data.expires_in_days, data.note))
    days = data.expires_in_days
    print(f"{settings.base_url}/register?invite={code}")
    print(
        f'(or register through the API with "invite_code": "{code}"; '
        f"valid for {days} day{'s' if days != 1 else ''}, once)"
    )
    return 0


def _openapi(_args: argparse.Namespace, _settings: Settings) -> int:
    print(openapi_json())
    return 0


def openapi_json() -> str:
    """The OpenAPI document exactly as committed in openapi.json (independent of settings)."""
    from app.main import create_app

    app = create_app(Settings(database_url="sqlite:///:memory:", secret_key="-"))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def _mail_config(settings: Settings) -> MailConfig | None:
    """The SMTP settings, None when email is off; incomplete ones stop the command (exit 2)."""
    from app.reminders import mail

    try:
        return mail.mail_config(settings)
    except mail.MailSettingsError as error:
        print(f"Email settings are incomplete: {error}.", file=sys.stderr)
        raise SystemExit(2) from None


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from app.reminders import worker

    config = _mail_config(settings)
    if config is None:
        print(
            "Email is off (no SMTP_HOST set): the worker delivers webhooks, and sends only "
            "what users send through their own mailboxes."
        )
    from app import logs

    logs.configure(settings)
    if settings.db_wait_seconds > 0:
        _wait_for_database(settings, settings.db_wait_seconds)
    # Never migrates: `followup serve` (or `followup migrate`) does; waits for it a while.
    require_current_schema(settings, "followup worker", wait=settings.db_wait_seconds)
    try:
        return asyncio.run(worker.run(settings, config, once=args.once, interval=args.interval))
    except worker.AnotherWorkerRunning as error:
        print(f"Not starting: {error}.", file=sys.stderr)
        return 3


def _send_test_email(args: argparse.Namespace, settings: Settings) -> int:
    from app.reminders import mail, worker

    config = _mail_config(settings)
    if config is None:
        print("Email is off: set SMTP_HOST and SMTP_FROM first.", file=sys.stderr)
        return 2
    try:
        message_id = asyncio.run(worker.send_test_email(settings, config, args.address))
    except ValueError as error:
        print(f"Not sent: {error}.", file=sys.stderr)
        return 2
    except (mail.TransientMailError, mail.PermanentMailError) as error:
        kind = "temporary" if isinstance(error, mail.TransientMailError) else "permanent"
        print(
            f"Not sent ({kind} failure) via {config.host}:{config.port}: {error}", file=sys.stderr
        )
        return 1
    print(f"Sent a test email to {args.address} via {config.host}:{config.port} ({message_id}).")
    return 0


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.portability import backup

    try:
        print(backup.backup(settings.database_url, Path(args.path), settings=settings))
    except backup.BackupError as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        return error.code
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.portability import backup

    try:
        print(backup.restore(settings.database_url, Path(args.path), settings=settings))
    except backup.BackupError as error:
        print(f"Restore failed: {error}", file=sys.stderr)
        return error.code
    # Never migrates: the restored schema is the backup's until `followup migrate` (or the
    # start of `followup serve`) brings it to this version's.
    current, head, _known = schema_revisions(settings)
    state = (
        "the schema is this version's"
        if current == head
        else f"schema revision {current}: `followup migrate` brings it to this version's ({head})"
    )
    print(f"{backup.user_count(settings.database_url)} account(s); {state}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="followup", description=__doc__)
    parser.add_argument("--version", action="version", version=f"followup {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply pending migrations, then serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=default_port(), help="$FOLLOWUP_PORT, else 8000")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        help="proxies trusted for X-Forwarded-For/Proto ($FORWARDED_ALLOW_IPS, else 127.0.0.1)",
    )
    serve.set_defaults(run=_serve)

    migrate_command = commands.add_parser("migrate", help="apply migrations (alembic upgrade head)")
    migrate_command.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="wait up to this long for the database to accept connections",
    )
    migrate_command.add_argument(
        "--check",
        action="store_true",
        help="migrate nothing: exit 1 with a message unless the schema is this version's",
    )
    migrate_command.set_defaults(run=_migrate)
    healthcheck_command = commands.add_parser(
        "healthcheck", help="exit 0 when the local server answers /healthz (container checks)"
    )
    add_healthcheck_arguments(healthcheck_command)

    user = commands.add_parser("user", help="manage accounts").add_subparsers(
        dest="user_command", required=True
    )
    add = user.add_parser("add", help="create an account (password from a prompt or stdin)")
    add.add_argument("email")
    add.add_argument("--name", help="display name (default: the part of the email before @)")
    add.add_argument("--admin", action="store_true", help="make the account an admin")
    add.set_defaults(run=_user_add)

    invite = commands.add_parser("invite", help="print a one-time invite link")
    invite.add_argument("--note", help="who it is for (shown to admins in the invite list)")
    invite.add_argument(
        "--expires-in-days", type=int, default=7, help="how long it stays valid, 1-90 (default: 7)"
    )
    invite.set_defaults(run=_invite)
    commands.add_parser("openapi", help="print the OpenAPI document").set_defaults(run=_openapi)

    worker = commands.add_parser("worker", help="deliver reminder emails from the outbox")
    worker.add_argument("--once", action="store_true", help="process what is due now, then exit")
    worker.add_argument(
        "--interval", type=float, default=30.0, help="seconds between rounds (default: 30)"
    )
    worker.set_defaults(run=_worker)
    test_email = commands.add_parser("send-test-email", help="send one email now to check SMTP")
    test_email.add_argument("address")
    test_email.set_defaults(run=_send_test_email)

    backup = commands.add_parser(
        "backup", help="write a consistent backup of the whole instance (safe while it runs)"
    )
    backup.add_argument("path", help="the backup file to write")
    backup.set_defaults(run=_backup)
    restore = commands.add_parser(
        "restore", help="bring a backup back into an empty database (migrates nothing)"
    )
    restore.add_argument("path", help="a file written by `followup backup`")
    restore.set_defaults(run=_restore)

    args = parser.parse_args(argv)
    if args.command == "healthcheck":
        return healthcheck(args.port, args.timeout)
    try:
        TypeAdapter(Settings)  # settings errors surface here, with the variable named
        settings = Settings()
    except ValidationError as error:
        for item in error.errors():
            where = f"setting {item['loc'][0]}: " if item["loc"] else "settings: "
            print(f"{where}{item['msg']}", file=sys.stderr)
        return 2
    result: int = args.run(args, settings)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
