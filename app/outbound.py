"""Deadlines for every call to a remote party (SMTP, webhooks, IMAP), named in one place, so
no receiver or mail server can hold a worker longer than its deadline.

A deadline bounds the whole attempt — resolving, connecting, TLS, sending, reading the
answer — not each read: a server that drips a byte every few seconds never trips a per-read
timeout. Workers claim rows for longer than a batch of attempts can take (`claim_for`), so
no other worker takes a row while an attempt on it can still be running. A stop (SIGTERM)
lets attempts in flight finish for `STOP_GRACE_SECONDS`, then cuts them short."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

# The default overall deadline of one attempt; Settings.outbound_timeout_seconds
# (FOLLOWUP_OUTBOUND_TIMEOUT_SECONDS) overrides it.
OUTBOUND_DEADLINE_SECONDS = 10.0
# A worker starts no attempt later than this after claiming a batch; it gives the rest back.
BATCH_BUDGET_SECONDS = 90
# On top of budget and deadline: the database writes around the attempts, and clocks that
# differ a little between the workers' hosts.
CLAIM_MARGIN_SECONDS = 60
# After a stop, attempts in flight get this long to finish before they are cut.
STOP_GRACE_SECONDS = 3.0


def claim_for(deadline: float) -> timedelta:
    """How long a worker claims a batch: the last attempt starts by the batch budget and
    ends by its deadline (or a stop's grace, which is shorter), so the claim outlasts it."""
    return timedelta(seconds=BATCH_BUDGET_SECONDS + deadline + CLAIM_MARGIN_SECONDS)


class DeadlineExceeded(TimeoutError):
    """The attempt took longer than its deadline and was abandoned."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")


class Interrupted(Exception):
    """The worker is stopping: the attempt was cut short (it may have reached the remote)."""

    def __init__(self) -> None:
        super().__init__("interrupted: the worker stopped")


class InFlight:
    """The attempts one worker has in flight, so that a stop can cut them short."""

    def __init__(self) -> None:
        self.stopping = False
        self._scopes: set[asyncio.Timeout] = set()

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Start no more attempts; end those in flight within `grace` seconds."""
        self.stopping = True
        for scope in self._scopes:
            self._shorten(scope, grace)

    def _shorten(self, scope: asyncio.Timeout, grace: float) -> None:
        cut = asyncio.get_running_loop().time() + grace
        when = scope.when()
        if when is None or when > cut:
            scope.reschedule(cut)

    @asynccontextmanager
    async def deadline(self, seconds: float) -> AsyncIterator[None]:
        """Run the body for at most `seconds`: DeadlineExceeded after that, Interrupted when
        a stop cuts it first."""
        scope = asyncio.timeout(seconds)
        try:
            async with scope:
                self._scopes.add(scope)
                if self.stopping:
                    self._shorten(scope, STOP_GRACE_SECONDS)
                try:
                    yield
                finally:
                    self._scopes.discard(scope)
        except TimeoutError as error:
            if not scope.expired():
                raise  # a timeout of the body's own, not ours
            if self.stopping:
                raise Interrupted from error
            raise DeadlineExceeded(seconds) from error


@asynccontextmanager
async def deadline(seconds: float) -> AsyncIterator[None]:
    """An overall deadline for one call made outside a worker (a test email, a check)."""
    async with InFlight().deadline(seconds):
        yield
