"""Retention: the worker deletes rows of tables that only grow (sent mail, webhook deliveries,
idempotency keys, expired sessions and reset links) once they are old enough, a bounded batch
at a time, and never a message or delivery still waiting to go out."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Delete, TextClause, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import LoginAttempt, WebSession
from app.config import Settings
from app.idempotency import IdempotencyKey
from app.reminders.models import OUTBOX_DONE, Outbox, PasswordReset
from app.webhooks.models import DELIVERY_DONE, WebhookDelivery

log = logging.getLogger("followup.retention")

# Rows per DELETE, each in its own transaction: a backlog never holds locks for long.
BATCH = 1000
EVERY = timedelta(hours=1)
# A run's share of a worker round; what is left is carried on next round, not in an hour.
BUDGET_SECONDS = 20.0
# Expired sessions and reset links stay a day, so "expired" is still what a late click sees.
EXPIRED_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Rule:
    """Rows of `table` whose `column` is older than `keep(settings)` go (None keeps them
    all). `only` narrows to rows that are done; it is the WHERE of the partial index that
    serves the rule, written the same so both databases choose that index."""

    table: Any
    column: Any
    keep: Callable[[Settings], timedelta | None]
    only: ColumnElement[bool] | TextClause | None = None

    @property
    def name(self) -> str:
        return str(self.table.__tablename__)


def _days(days: int) -> timedelta | None:
    return timedelta(days=days) if days > 0 else None


def _hours(hours: int) -> timedelta | None:
    return timedelta(hours=hours) if hours > 0 else None


# Invites are kept: the admin's list is their history, and only admins make them.
RULES: tuple[Rule, ...] = (
    Rule(Outbox, Outbox.created_at, lambda s: _days(s.retention_outbox_days), OUTBOX_DONE),
    Rule(
        WebhookDelivery,
        WebhookDelivery.created_at,
        lambda s: _days(s.retention_deliveries_days),
        DELIVERY_DONE,
    ),
    Rule(
        IdempotencyKey,
        IdempotencyKey.created_at,
        lambda s: _hours(s.retention_idempotency_hours),
    ),
    Rule(WebSession, WebSession.expires_at, lambda s: EXPIRED_GRACE),
    Rule(PasswordReset, PasswordReset.expires_at, lambda s: EXPIRED_GRACE),
    # A sign-in window that has ended counts nothing any more.
    Rule(
        LoginAttempt,
        LoginAttempt.window_started_at,
        lambda s: timedelta(seconds=s.login_window_seconds),
    ),
)


def batch_statement(rule: Rule, *, before: datetime, batch: int) -> Delete:
    """Delete at most `batch` of the oldest rows before `before`, chosen by primary key
    through the index on the rule's column. Rows another worker is deleting are skipped
    (SKIP LOCKED on Postgres; SQLite has one worker), so workers never wait on each other."""
    key = list(rule.table.__table__.primary_key.columns)
    chosen = select(*key).where(rule.column < before)
    if rule.only is not None:
        chosen = chosen.where(rule.only)
    chosen = chosen.order_by(rule.column).limit(batch).with_for_update(skip_locked=True)
    target = key[0] if len(key) == 1 else tuple_(*key)
    return delete(rule.table).where(target.in_(chosen)).execution_options(synchronize_session=False)


async def prune(
    sessionmaker: async_sessionmaker[AsyncSession],
    rule: Rule,
    *,
    before: datetime,
    batch: int = BATCH,
    go_on: Callable[[], bool] = lambda: True,
) -> tuple[int, bool]:
    """Delete the rule's rows before `before`, batch after batch, each batch committed on its
    own; stops when a batch comes back short, or early when `go_on()` says so.
    Returns how many went, and whether none is left."""
    statement = batch_statement(rule, before=before, batch=batch)
    total = 0
    while True:
        async with sessionmaker.begin() as session:
            result = await session.execute(statement)
        deleted = int(result.rowcount)  # type: ignore[attr-defined]
        total += deleted
        if deleted < batch:
            return total, True
        if not go_on():
            return total, False


async def prune_all(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime,
    *,
    rules: Sequence[Rule] = RULES,
    batch: int = BATCH,
    go_on: Callable[[], bool] = lambda: True,
) -> tuple[dict[str, int], bool]:
    """Apply every rule at `now`: how many rows went from each table, and whether all done."""
    counts: dict[str, int] = {}
    for rule in rules:
        keep = rule.keep(settings)
        if keep is None:
            continue
        counts[rule.name], finished = await prune(
            sessionmaker, rule, before=now - keep, batch=batch, go_on=go_on
        )
        if not finished:
            return counts, False
    return counts, True


class Pruner:
    """Prunes at most once per `every` in this process (each worker process its own), and
    carries a backlog larger than one round's budget on to the next round."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        stopping: Callable[[], bool] = lambda: False,
        every: timedelta = EVERY,
        batch: int = BATCH,
        budget_seconds: float = BUDGET_SECONDS,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.stopping = stopping
        self.every = every
        self.batch = batch
        self.budget_seconds = budget_seconds
        self.last_run: datetime | None = None

    def due(self, now: datetime) -> bool:
        # A clock set back counts as due, rather than waiting out the difference.
        return self.last_run is None or not self.last_run <= now < self.last_run + self.every

    async def run_due(self, now: datetime) -> dict[str, int] | None:
        """Prune when due; the counts per table, or None when not due or it failed (the
        round goes on: pruning must never stop mail or webhooks)."""
        if not self.due(now):
            return None
        self.last_run = now
        deadline = time.monotonic() + self.budget_seconds
        try:
            counts, finished = await prune_all(
                self.sessionmaker,
                self.settings,
                now,
                batch=self.batch,
                go_on=lambda: not self.stopping() and time.monotonic() < deadline,
            )
        except Exception:
            log.exception("pruning failed; trying again in %s", self.every)
            return None
        if not finished:
            self.last_run = None
        if any(counts.values()) or not finished:
            log.info(json.dumps({"event": "pruned", "finished": finished, **counts}))
        return counts
