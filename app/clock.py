"""The one clock: the app, the worker, the CLI and the model defaults read "now" here, so a
test (or a demo) sets the time in one place and every part of Followup agrees on it.

Real UTC time by default. `FOLLOWUP_NOW` (an RFC 3339 instant) starts the clock at that
instant when the process starts; it then ticks in real time. With `FOLLOWUP_NOW_SINCE` (a
Unix time) the clock read `FOLLOWUP_NOW` at that real moment instead, so processes started
one after another share one timeline. Tests start it at a fixed instant, or freeze it, so no
assertion depends on the day the suite runs.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

ENVIRONMENT_VARIABLE = "FOLLOWUP_NOW"
SINCE_VARIABLE = "FOLLOWUP_NOW_SINCE"


class Clock:
    """Real time shifted by an offset, or frozen at one instant."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC) + self._offset

    def start_at(self, instant: datetime, *, since: datetime | None = None) -> None:
        """The clock reads `instant` at the real moment `since` (default: now), and ticks in
        real time from there."""
        self._frozen = None
        self._offset = _aware(instant) - (since or datetime.now(UTC))

    def freeze(self, instant: datetime) -> None:
        """The clock reads `instant` until it is moved or started again."""
        self._frozen = _aware(instant)

    def advance(self, delta: timedelta) -> None:
        if self._frozen is not None:
            self._frozen += delta
        else:
            self._offset += delta

    def reset(self) -> None:
        """Back to real time, or to `FOLLOWUP_NOW` when it is set."""
        self._frozen = None
        self._offset = timedelta(0)
        start = os.environ.get(ENVIRONMENT_VARIABLE)
        if start:
            since = os.environ.get(SINCE_VARIABLE)
            self.start_at(_instant(start), since=_unix_time(since) if since else None)


def environment(instant: datetime, since: datetime) -> dict[str, str]:
    """The variables that start another process's clock on the same timeline."""
    return {
        ENVIRONMENT_VARIABLE: _aware(instant).isoformat(),
        SINCE_VARIABLE: repr(_aware(since).timestamp()),
    }


def _instant(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"{ENVIRONMENT_VARIABLE} is not an RFC 3339 instant: {value!r}") from None
    if instant.tzinfo is None:
        raise SystemExit(f"{ENVIRONMENT_VARIABLE} needs an offset, e.g. Z: {value!r}")
    return instant


def _unix_time(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError):
        raise SystemExit(f"{SINCE_VARIABLE} is not a Unix time: {value!r}") from None


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("the clock takes aware instants only")
    return instant.astimezone(UTC)


clock = Clock()
clock.reset()


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return clock.now()
