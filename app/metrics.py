"""Prometheus metrics at /metrics (FOLLOWUP_METRICS=1): requests by route template and
status, their latency, and gauges read from the database at scrape time (the outbox, webhook
deliveries by result, how far behind the mailbox watch is). Pure ASGI middleware."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from sqlalchemy import func, select

from app import __version__, clock
from app.mailbox.models import Mailbox
from app.reminders.models import Outbox
from app.webhooks.models import WebhookDelivery

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRICS_PATH = "/metrics"


class Metrics:
    def __init__(self, app: ASGIApp, *, engine: AsyncEngine) -> None:
        self.app = app
        self.engine = engine
        # One registry per app, so several apps in one process (the tests) do not collide.
        self.registry = CollectorRegistry()
        Gauge("followup_info", "The running version.", ["version"], registry=self.registry).labels(
            __version__
        ).set(1)
        self.requests = Counter(
            "followup_http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "followup_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.outbox = Gauge(
            "followup_outbox_messages",
            "Emails in the outbox by status (pending is the depth still to send).",
            ["status"],
            registry=self.registry,
        )
        self.deliveries = Gauge(
            "followup_webhook_deliveries",
            "Webhook deliveries kept (see the retention settings) by result.",
            ["status"],
            registry=self.registry,
        )
        self.watched = Gauge(
            "followup_mailboxes_watched", "Mailboxes the worker watches.", registry=self.registry
        )
        self.watch_lag = Gauge(
            "followup_mailbox_watch_lag_seconds",
            "Seconds since the watched mailbox checked longest ago was last checked.",
            registry=self.registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH:
            await self._expose(scope, send)
            return
        started = time.monotonic()
        status = 500

        async def observe_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe_status)
        finally:
            route = _route_template(scope)
            method = scope["method"]
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(time.monotonic() - started)

    async def _expose(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in {"GET", "HEAD"}:
            await _respond(send, 405, b"Method not allowed\n", "text/plain", [(b"allow", b"GET")])
            return
        await self._read_gauges()
        body = generate_latest(self.registry)
        await _respond(send, 200, body, CONTENT_TYPE_LATEST, head=scope["method"] == "HEAD")

    async def _read_gauges(self) -> None:
        """Three small aggregate queries; the tables are kept short by retention."""
        async with self.engine.connect() as connection:
            outbox = await connection.execute(
                select(Outbox.status, func.count()).group_by(Outbox.status)
            )
            deliveries = await connection.execute(
                select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
            )
            watched, oldest = (
                await connection.execute(
                    select(
                        func.count(),
                        func.min(func.coalesce(Mailbox.last_checked_at, Mailbox.created_at)),
                    ).where(Mailbox.watch.is_(True))
                )
            ).one()
        for gauge, rows in ((self.outbox, outbox), (self.deliveries, deliveries)):
            gauge.clear()
            for status, count in rows:
                gauge.labels(status).set(count)
        self.watched.set(watched)
        lag = (clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        self.watch_lag.set(max(lag, 0.0))


def _route_template(scope: Scope) -> str:
    """The matched route's template (`/api/v1/interviews/{interview_id}`), never the raw
    path, so label values stay few and hold no ids or tokens."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope["path"].startswith("/static/"):
        return "/static"
    return "unmatched"


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    head: bool = False,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else body})
