"""A deterministic data generator: a fresh Postgres database filled through the product's tables.

`python -m bench.seed` (BENCH_SIZE=XS|S|M|L, BENCH_DB, BENCH_PG_URL) drops and recreates the
database, runs `followup migrate` on it, then bulk-loads users (each with an API token),
interviews with their people, and follow-ups in every status spread over a year, with COPY.
A few busy users (BUSY_USERS, apart from the others) have a full week on top: 60 thank-yous
due, 20 overdue and 30 coming, so their E1 `due` page is full (50 items and a cursor) and
their Today shows 100 follow-ups. The plaintext tokens (and a few interview ids per user) go
to a JSON file for the load generator. Same seed, same day: same rows.
"""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Json
from sqlalchemy import Table

from app import clock
from app.accounts.service import TOKEN_PREFIX, hash_password, hash_secret
from app.followups import drafts
from app.reminders.models import Outbox
from app.tables import ApiToken, Followup, Interview, Person, User

SEED = 20261125
PASSWORD = "bench password 2026"
SIZES = {"XS": (5, 10), "S": (1000, 10), "M": (1000, 100), "L": (1000, 1000)}
# Busy users per size, seeded after the others from their own random stream (so the other
# users' rows do not change), each with the same week whatever the size.
BUSY_USERS = {"XS": 1, "S": 10, "M": 10, "L": 10}
BUSY_DUE_INTERVIEWS = 20  # ended in the last 40 hours, 3 interviewers each: 60 thank-yous due
BUSY_OVERDUE_INTERVIEWS = 10  # 5 to 12 days ago, 2 interviewers each: 20 thank-yous overdue
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"

COMPANIES = [
    "Acme Analytics",
    "Borealis Health",
    "Cobalt Robotics",
    "Driftwood Games",
    "Ember Energy",
    "Fjord Logistics",
    "Granite Bank",
    "Helix Bio",
    "Ionic Labs",
    "Juniper Retail",
    "Kestrel Aerospace",
    "Lumen Media",
    "Meridian Insurance",
    "Nimbus Cloud",
    "Orchid Foods",
    "Pioneer Legal",
    "Quartz Security",
    "Riverbend Schools",
    "Summit Travel",
    "Tidal Networks",
]
ROLES = [
    "Backend Engineer",
    "Data Analyst",
    "Product Designer",
    "Site Reliability Engineer",
    "Engineering Manager",
    "Frontend Developer",
    "Product Manager",
    "QA Engineer",
]
STAGES = ["Phone screen", "Technical interview", "Onsite", "Final round", "Hiring manager chat"]
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Eve", "Farah", "Gus", "Hana", "Ivan", "Jun", "Kofi"]
LAST = ["Alvarez", "Brown", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ito"]
ZONES = ["UTC", "Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Tokyo"]
HIGHLIGHTS = [
    "the migration of the billing system to event sourcing",
    "how the team runs blameless post-mortems",
    "the roadmap for the mobile app",
    None,
]


def admin_url() -> str:
    return os.environ.get("BENCH_PG_URL", DEFAULT_PG).rstrip("/")


def database_name() -> str:
    return os.environ.get("BENCH_DB", "followup_bench")


def database_url(name: str | None = None) -> str:
    return f"{admin_url()}/{name or database_name()}"


def recreate_database(name: str) -> None:
    with psycopg.connect(f"{admin_url()}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_exists(name: str) -> bool:
    with psycopg.connect(f"{admin_url()}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return found is not None


def mark_seeded(name: str, size: str) -> None:
    """Record in the database's comment what was seeded and when (for kept databases)."""
    marker = json.dumps({"size": size, "seed": SEED, "seeded_at": datetime.now(UTC).isoformat()})
    with psycopg.connect(f"{admin_url()}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(marker)
            )
        )


def seeded_marker(name: str) -> dict[str, Any] | None:
    with psycopg.connect(f"{admin_url()}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        found: dict[str, Any] = json.loads(row[0])
    except ValueError:
        return None
    return found


def user_ids(url: str) -> list[str]:
    """The seeded users in seeding order (their emails are numbered)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id FROM users WHERE email LIKE 'user%' ORDER BY email LIMIT 100"
        ).fetchall()
    return [str(r[0]) for r in rows]


def drop_database(name: str) -> None:
    with psycopg.connect(f"{admin_url()}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def migrate(url: str) -> None:
    followup = Path(sys.executable).with_name("followup")
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(followup), "migrate"], check=True, env=env, cwd=ROOT, capture_output=True)


def _default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)
    return None


class Copier:
    """Rows for one table, completed with the model's Python-side defaults, COPYed in batches."""

    def __init__(self, conn: psycopg.Connection[Any], table: Table) -> None:
        self.conn, self.table = conn, table
        self.columns = [c for c in table.columns]
        self.rows: list[tuple[Any, ...]] = []
        self.count = 0

    def add(self, **values: Any) -> None:
        self.rows.append(
            tuple(values[c.key] if c.key in values else _default(c) for c in self.columns)
        )

    def flush(self) -> None:
        if not self.rows:
            return
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.table.name),
            sql.SQL(", ").join(sql.Identifier(c.name) for c in self.columns),
        )
        with self.conn.cursor() as cur, cur.copy(statement) as copy:
            for row in self.rows:
                copy.write_row(row)
        self.count += len(self.rows)
        self.rows.clear()


@dataclass
class Seeded:
    size: str
    users: int
    interviews: int
    people: int
    followups: int
    outbox: int
    seconds: float


def _token(rng: random.Random) -> str:
    return TOKEN_PREFIX + base64.urlsafe_b64encode(rng.randbytes(32)).decode().rstrip("=")


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _status(rng: random.Random, due_at: datetime, now: datetime) -> str:
    roll = rng.random()
    if due_at < now:
        # Mostly handled; some left overdue, some skipped or cancelled by an outcome.
        return (
            "sent"
            if roll < 0.7
            else "skipped"
            if roll < 0.8
            else "cancelled"
            if roll < 0.88
            else "scheduled"
        )
    return "scheduled" if roll < 0.9 else "sent"


def _outcome(rng: random.Random, starts_at: datetime, now: datetime) -> str:
    if now - starts_at < timedelta(days=21):
        return "pending"
    return rng.choice(
        ["pending", "next_round", "offer", "rejected", "rejected", "no_response", "withdrawn"]
    )


def seed(
    size: str,
    url: str,
    out: Path,
    *,
    reference: datetime | None = None,
    log: Callable[[str], None] = print,
) -> Seeded:
    """Fill the (migrated, empty) database at `url`; write tokens and ids to `out`."""
    n_users, per_user = SIZES[size]
    rng = random.Random(SEED)
    now = (reference or clock.now()).replace(minute=0, second=0, microsecond=0)
    started = time.monotonic()
    password_hash = hash_password(PASSWORD)  # argon2 is slow: one hash, shared by every user
    templates = drafts.UserTemplates()
    credentials: list[dict[str, Any]] = []
    with psycopg.connect(url) as conn:
        users = Copier(conn, User.__table__)  # type: ignore[arg-type]
        tokens = Copier(conn, ApiToken.__table__)  # type: ignore[arg-type]
        interviews = Copier(conn, Interview.__table__)  # type: ignore[arg-type]
        people = Copier(conn, Person.__table__)  # type: ignore[arg-type]
        followups = Copier(conn, Followup.__table__)  # type: ignore[arg-type]
        outbox = Copier(conn, Outbox.__table__)  # type: ignore[arg-type]
        copiers = (users, tokens, interviews, people, followups, outbox)
        for u in range(n_users):
            user_id = _uuid(rng)
            first, last = rng.choice(FIRST), rng.choice(LAST)
            created = now - timedelta(days=400)
            email = f"user{u:05d}@bench.example"
            users.add(
                id=user_id,
                email=email,
                password_hash=password_hash,
                display_name=f"{first} {last}",
                is_admin=u == 0,
                is_active=True,
                timezone=rng.choice(ZONES),
                created_at=created,
                updated_at=created,
                calendar_salt=rng.randbytes(16).hex(),
            )
            token = _token(rng)
            tokens.add(
                id=_uuid(rng),
                user_id=user_id,
                name="bench",
                token_hash=hash_secret(token),
                created_at=created,
                last_used_at=None,
            )
            made = 0
            interview_ids: list[str] = []
            scheduled: list[str] = []
            while made < per_user:
                interview_id = _uuid(rng)
                # Spread over a year: eleven months back to one month ahead.
                starts_at = now - timedelta(minutes=rng.randrange(-30 * 1440, 335 * 1440))
                starts_at = starts_at.replace(second=0, microsecond=0)
                company, role = rng.choice(COMPANIES), rng.choice(ROLES)
                highlight = rng.choice(HIGHLIGHTS)
                outcome = _outcome(rng, starts_at, now)
                interviews.add(
                    id=interview_id,
                    user_id=user_id,
                    company=company,
                    role=role,
                    starts_at=starts_at,
                    duration_minutes=rng.choice([30, 45, 60, 90]),
                    stage=rng.choice(STAGES),
                    location="https://meet.example/" + rng.randbytes(5).hex(),
                    highlight=highlight,
                    excitement="the team's focus on quality" if rng.random() < 0.5 else None,
                    notes=None,
                    response_promised_by=None,
                    outcome=outcome,
                    created_at=starts_at - timedelta(days=3),
                    updated_at=starts_at,
                )
                interview_ids.append(str(interview_id))
                staff: list[tuple[uuid.UUID, str, str, str]] = []
                for position in range(rng.randint(1, 3) + 1):
                    person_id = _uuid(rng)
                    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                    person_role = "hiring_manager" if position == 0 else "interviewer"
                    mail = f"person{position}.{made}@{company.split()[0].lower()}.example"
                    people.add(
                        id=person_id,
                        user_id=user_id,
                        interview_id=interview_id,
                        position=position,
                        name=name,
                        email=mail,
                        title=None,
                        role=person_role,
                    )
                    staff.append((person_id, name, mail, person_role))
                end = starts_at + timedelta(minutes=60)
                plans = [
                    (
                        f"thank_you:{pid}",
                        "thank_you",
                        pid,
                        name,
                        mail,
                        end,
                        end + timedelta(hours=48),
                    )
                    for pid, name, mail, r in staff
                    if r == "interviewer"
                ]
                manager = staff[0]
                check_in = end + timedelta(days=14)
                plans.append(
                    (
                        "check_in",
                        "check_in",
                        manager[0],
                        manager[1],
                        manager[2],
                        check_in,
                        check_in + timedelta(days=1),
                    )
                )
                for plan_key, kind, pid, name, mail, not_before, due_at in plans:
                    if made >= per_user:
                        break
                    made += 1
                    status = _status(rng, due_at, now)
                    if outcome == "withdrawn" and status == "scheduled":
                        status = "cancelled"
                    draft = drafts.render_draft(
                        kind,
                        drafts.DraftContext(
                            recipient_name=name,
                            company=company,
                            role=role,
                            interview_date=date(starts_at.year, starts_at.month, starts_at.day),
                            highlight=highlight,
                            excitement=None,
                            sender_name=f"{first} {last}",
                        ),
                        templates,
                    )
                    followup_id = _uuid(rng)
                    followups.add(
                        id=followup_id,
                        user_id=user_id,
                        interview_id=interview_id,
                        kind=kind,
                        plan_key=plan_key,
                        person_id=pid,
                        recipient_name=name,
                        recipient_email=mail,
                        not_before=not_before,
                        due_at=due_at,
                        status=status,
                        sent_at=min(due_at, now) - timedelta(hours=3) if status == "sent" else None,
                        subject=draft.subject,
                        body=draft.body,
                        snoozed=False,
                        draft_edited=False,
                        cancelled_by_outcome=status == "cancelled",
                        created_at=starts_at,
                        updated_at=starts_at,
                    )
                    # The worker's queue: a "due now" mail per follow-up, sent once its time
                    # came (a few still pending: what the next claim finds), pending if ahead.
                    if status == "scheduled" and len(scheduled) < 5:
                        scheduled.append(str(followup_id))
                    if not_before <= now:
                        state = "pending" if rng.random() < 0.01 else "sent"
                    else:
                        state = "pending"
                    _add_due_now(
                        outbox, rng, user_id, email, followup_id, draft.subject, not_before, state
                    )
            if len(followups.rows) >= 20000:  # parents first: foreign keys are checked on arrival
                for copier in copiers:
                    copier.flush()
            credentials.append(
                {
                    "id": str(user_id),
                    "email": email,
                    "token": token,
                    "interviews": rng.sample(interview_ids, min(5, len(interview_ids))),
                    "scheduled": scheduled,
                }
            )
        busy = [
            _seed_busy(b, now, password_hash, templates, copiers) for b in range(BUSY_USERS[size])
        ]
        for copier in copiers:
            copier.flush()
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "size": size,
                "password": PASSWORD,
                "seeded_at": now.isoformat(),
                "users": credentials,
                "busy": busy,
            }
        )
    )
    result = Seeded(
        size,
        users.count,
        interviews.count,
        people.count,
        followups.count,
        outbox.count,
        time.monotonic() - started,
    )
    log(
        f"seeded {size}: {result.users} users, {result.interviews} interviews, "
        f"{result.people} people, {result.followups} follow-ups, {result.outbox} outbox rows "
        f"in {result.seconds:.1f} s"
    )
    return result


def _seed_busy(
    index: int,
    now: datetime,
    password_hash: str,
    templates: drafts.UserTemplates,
    copiers: tuple[Copier, ...],
) -> dict[str, Any]:
    """One busy user: a full week of interviews whose thank-yous are due or overdue."""
    users, tokens, interviews, people, followups, outbox = copiers
    rng = random.Random(SEED * 1000 + index)
    user_id = _uuid(rng)
    created = now - timedelta(days=400)
    email = f"busy{index:03d}@bench.example"
    sender = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    users.add(
        id=user_id,
        email=email,
        password_hash=password_hash,
        display_name=sender,
        is_admin=False,
        is_active=True,
        timezone="UTC",
        created_at=created,
        updated_at=created,
        calendar_salt=rng.randbytes(16).hex(),
    )
    token = _token(rng)
    tokens.add(
        id=_uuid(rng),
        user_id=user_id,
        name="bench",
        token_hash=hash_secret(token),
        created_at=created,
        last_used_at=None,
    )
    week = [
        (now - timedelta(hours=2 + 38 * i / BUSY_DUE_INTERVIEWS), 3)
        for i in range(BUSY_DUE_INTERVIEWS)
    ] + [
        (now - timedelta(days=5 + 7 * i / BUSY_OVERDUE_INTERVIEWS), 2)
        for i in range(BUSY_OVERDUE_INTERVIEWS)
    ]
    interview_ids = []
    for n, (ended, interviewers) in enumerate(week):
        ended = ended.replace(second=0, microsecond=0)
        starts_at = ended - timedelta(minutes=60)
        interview_id = _uuid(rng)
        company, role = COMPANIES[n % len(COMPANIES)], rng.choice(ROLES)
        interviews.add(
            id=interview_id,
            user_id=user_id,
            company=company,
            role=role,
            starts_at=starts_at,
            duration_minutes=60,
            stage=rng.choice(STAGES),
            location="https://meet.example/" + rng.randbytes(5).hex(),
            highlight=HIGHLIGHTS[n % len(HIGHLIGHTS)],
            excitement=None,
            notes=None,
            response_promised_by=None,
            outcome="pending",
            created_at=starts_at - timedelta(days=3),
            updated_at=starts_at,
        )
        interview_ids.append(str(interview_id))
        staff = []
        for position in range(interviewers + 1):
            person_id, name = _uuid(rng), f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            mail = f"person{position}.{n}@{company.split()[0].lower()}.example"
            role_of = "hiring_manager" if position == 0 else "interviewer"
            people.add(
                id=person_id,
                user_id=user_id,
                interview_id=interview_id,
                position=position,
                name=name,
                email=mail,
                title=None,
                role=role_of,
            )
            staff.append((person_id, name, mail, role_of))
        # Thank-yous to the interviewers (due or overdue, all still to send); a check-in to
        # the hiring manager two weeks on (coming).
        plans = [
            (f"thank_you:{pid}", "thank_you", pid, name, mail, ended, ended + timedelta(hours=48))
            for pid, name, mail, r in staff
            if r == "interviewer"
        ]
        manager = staff[0]
        check_in = ended + timedelta(days=14)
        plans.append(
            (
                "check_in",
                "check_in",
                manager[0],
                manager[1],
                manager[2],
                check_in,
                check_in + timedelta(days=1),
            )
        )
        for plan_key, kind, pid, name, mail, not_before, due_at in plans:
            draft = drafts.render_draft(
                kind,
                drafts.DraftContext(
                    recipient_name=name,
                    company=company,
                    role=role,
                    interview_date=starts_at.date(),
                    highlight=HIGHLIGHTS[n % len(HIGHLIGHTS)],
                    excitement=None,
                    sender_name=sender,
                ),
                templates,
            )
            followup_id = _uuid(rng)
            followups.add(
                id=followup_id,
                user_id=user_id,
                interview_id=interview_id,
                kind=kind,
                plan_key=plan_key,
                person_id=pid,
                recipient_name=name,
                recipient_email=mail,
                not_before=not_before,
                due_at=due_at,
                status="scheduled",
                sent_at=None,
                subject=draft.subject,
                body=draft.body,
                snoozed=False,
                draft_edited=False,
                cancelled_by_outcome=False,
                created_at=starts_at,
                updated_at=starts_at,
            )
            state = "sent" if not_before <= now else "pending"
            _add_due_now(outbox, rng, user_id, email, followup_id, draft.subject, not_before, state)
    return {"id": str(user_id), "email": email, "token": token, "interviews": interview_ids[:5]}


def _add_due_now(
    outbox: Copier,
    rng: random.Random,
    user_id: uuid.UUID,
    email: str,
    followup_id: uuid.UUID,
    subject: str,
    not_before: datetime,
    state: str,
) -> None:
    """The worker's "due now" mail for one follow-up: `sent` once its time came, else `pending`."""
    outbox.add(
        id=_uuid(rng),
        user_id=user_id,
        kind="due_now",
        dedupe_key=f"due_now:{followup_id}",
        payload=Json(
            {
                "to": email,
                "subject": f"Due: {subject}",
                "text": f"Open the draft: /followups/{followup_id}",
            }
        ),
        due_at=not_before,
        status=state,
        attempts=1 if state == "sent" else 0,
        claimed_until=None,
        last_error=None,
        sent_at=not_before if state == "sent" else None,
        created_at=not_before,
    )


def prepare(size: str, out: Path) -> Seeded:
    """A fresh, migrated database, seeded."""
    name = database_name()
    recreate_database(name)
    migrate(database_url(name))
    return seed(size, database_url(name), out)


def main(argv: Sequence[str] | None = None) -> int:
    size = os.environ.get("BENCH_SIZE", "M").upper()
    if size not in SIZES:
        raise SystemExit(f"BENCH_SIZE must be one of {', '.join(SIZES)}")
    prepare(size, ROOT / "bench" / ".work" / f"credentials-{size}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
