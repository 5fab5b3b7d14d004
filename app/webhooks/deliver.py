"""Delivering webhook events: the body for each format, the signature, and one POST that
connects only to an address checked at that moment.

How the address is pinned: the host is resolved here (`addresses.checked_addresses`), every
address it resolves to is checked, and httpx then connects to that checked IP literally
(the URL carries the IP), with the `Host` header set to the original host and, for https,
the TLS server name (SNI, and so certificate verification) set to it through httpx's
`sni_hostname` extension. So a name that resolves differently a moment later (DNS rebinding)
cannot steer the connection. Redirects are not followed, the response body is never read,
and the whole attempt — resolving, connecting, sending, waiting for the status line — has one
overall deadline (app/outbound.py), so a receiver that drips its answer cannot hold a worker.
Deliveries to different receivers go out side by side (a few at a time), so one slow
receiver delays only its own."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import outbound
from app.webhooks import addresses, repository
from app.webhooks.events import ENVELOPE_VERSION, DiscordMessage, Envelope, SlackMessage
from app.webhooks.models import Webhook, WebhookDelivery

log = logging.getLogger("followup.worker")

BATCH = 50
# Receivers delivered to at once within a batch; each one's deliveries go in order.
RECEIVERS_AT_ONCE = 4
MAX_ATTEMPTS = 12
USER_AGENT = "Followup-Webhooks/1"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` and hex HMAC-SHA256 of `timestamp + "." + body` with the webhook's secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def standard_key(secret: str) -> bytes:
    """The key Standard Webhooks sign with: the bytes the base64 after `whsec_` encodes.
    Secrets are standard base64; those made before were URL-safe and unpadded, which this
    reads too (`-` and `_` are the only letters that differ, and never both kinds in one)."""
    encoded = secret.removeprefix("whsec_")
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return secret.encode()  # not base64 at all: the secret as text, still a valid key


def sign_standard(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """`webhook-signature` (Standard Webhooks): `v1,` and base64 HMAC-SHA256 of
    `{id}.{timestamp}.{body}`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def envelope(row: WebhookDelivery) -> dict[str, Any]:
    return Envelope[dict[str, Any]](
        version=ENVELOPE_VERSION,
        id=row.event_id,
        type=row.event_type,
        created_at=row.created_at,
        data=row.data,
    ).model_dump(mode="json")


def summary(event: str, data: dict[str, Any]) -> tuple[str, str]:
    """A title and one line of text for chat presets."""
    who = data.get("recipient_name") or "your contact"
    where = f"{data.get('role', '')} at {data.get('company', '')}".strip()
    subject = data.get("subject") or ""
    lines = {
        "followup.due": ("Follow-up due", f"Follow-up to {who} ({where}) is due: {subject}"),
        "followup.overdue": ("Follow-up overdue", f"Follow-up to {who} ({where}) is overdue"),
        "followup.sent": ("Follow-up sent", f"Follow-up to {who} ({where}) marked sent"),
        "interview.created": ("Interview added", f"Interview added: {where}"),
        "interview.outcome_changed": (
            "Interview outcome",
            f"Interview {where}: outcome is now {data.get('outcome', '')}",
        ),
        "interview.replied": (
            "Reply received",
            f"{(data.get('person') or {}).get('name') or 'Someone'} replied about {where}: "
            f"{subject}",
        ),
    }
    return lines.get(event, ("Followup test", "This is a test event from Followup."))


def body_for(fmt: str, row: WebhookDelivery) -> tuple[bytes, dict[str, str]]:
    """The request body and its content headers, for the webhook's format."""
    title, text = summary(row.event_type, row.data)
    if fmt == "slack":
        payload: Any = SlackMessage(text=f"*{title}*\n{text}").model_dump()
    elif fmt == "discord":
        payload = DiscordMessage(content=f"**{title}**\n{text}").model_dump()
    elif fmt == "ntfy":
        # ntfy reads a plain-text message; header values must stay on one line.
        return text.encode(), {
            "Content-Type": "text/plain; charset=utf-8",
            "Title": title.replace("\r", " ").replace("\n", " "),
        }
    else:
        payload = envelope(row)
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return body, {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Outcome:
    """What one attempt did: `delivered`, `retry`, `failed` or `interrupted` (the worker
    stopped mid-attempt); status code; our error text."""

    result: str
    status_code: int | None = None
    error: str | None = None


def _ip_url(target: addresses.Target, address: addresses.IPAddress) -> str:
    host = f"[{address}]" if address.version == 6 else str(address)
    return f"{target.scheme}://{host}:{target.port}{target.path}"


async def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow: addresses.Allow,
    deadline: float = outbound.OUTBOUND_DEADLINE_SECONDS,
    in_flight: outbound.InFlight | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Outcome:
    """One POST to `url` within `deadline` seconds overall (or until `in_flight` is stopped),
    connecting only to a checked address; never reads the response body."""
    try:
        async with (in_flight or outbound.InFlight()).deadline(deadline):
            return await _post(
                url, body, headers, allow=allow, seconds=deadline, transport=transport
            )
    except outbound.Interrupted as error:
        return Outcome("interrupted", error=str(error))
    except outbound.DeadlineExceeded as error:
        return Outcome("retry", error=str(error))


async def _post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow: addresses.Allow,
    seconds: float,
    transport: httpx.AsyncBaseTransport | None,
) -> Outcome:
    try:
        target = addresses.parse(url)
        checked = await addresses.checked_addresses(target, allow)
    except addresses.Refused as error:
        return Outcome("failed", error=f"refused: {error}")
    except (OSError, TimeoutError) as error:
        return Outcome("retry", error=f"cannot resolve {target.host}: {error.__class__.__name__}")
    request_headers = {**headers, "Host": target.host_header, "User-Agent": USER_AGENT}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    last = Outcome("retry", error="no address")
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(seconds),
        follow_redirects=False,
        trust_env=False,
        transport=transport,
    ) as client:
        for address in checked:
            request = client.build_request(
                "POST",
                _ip_url(target, address),
                content=body,
                headers=request_headers,
                extensions=extensions,
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.TimeoutException:
                return Outcome("retry", error="timed out")
            except httpx.HTTPError as error:
                last = Outcome("retry", error=f"cannot connect: {error.__class__.__name__}")
                continue  # try the next checked address
            await response.aclose()  # the body is never read, stored or shown
            code = response.status_code
            if 200 <= code < 300:
                return Outcome("delivered", code)
            if code >= 500:
                return Outcome("retry", code, f"HTTP {code}")
            if 300 <= code < 400:
                return Outcome("failed", code, f"HTTP {code} (redirects are not followed)")
            return Outcome("failed", code, f"HTTP {code}")
    return last


def request_for(hook: Webhook, row: WebhookDelivery, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery, signed both ways: Standard Webhooks (`webhook-*`,
    for their libraries) and Followup's own (`Followup-*`, as before)."""
    body, headers = body_for(hook.format, row)
    timestamp = str(int(now.timestamp()))
    event_id = str(row.event_id)
    return body, {
        **headers,
        "webhook-id": event_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": sign_standard(hook.secret, event_id, timestamp, body),
        "Followup-Event": row.event_type,
        "Followup-Event-Id": event_id,
        "Followup-Timestamp": timestamp,
        "Followup-Signature": sign(hook.secret, timestamp, body),
    }


@dataclass
class DeliveryRound:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    statuses: list[str] = field(default_factory=list)


def _receiver(url: str) -> str:
    """Deliveries to one host and port share a turn: a slow one delays only its own."""
    return urlsplit(url).netloc.lower()


class Deliverer:
    """Claims due webhook deliveries and POSTs them; used by the worker's webhook loop."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        allow: addresses.Allow,
        backoff: Callable[[int], timedelta],
        deadline: float = outbound.OUTBOUND_DEADLINE_SECONDS,
        in_flight: outbound.InFlight | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.allow = allow
        self.backoff = backoff
        self.deadline = deadline
        self.in_flight = in_flight or outbound.InFlight()
        self.transport = transport

    async def run_once(self, now: datetime | None, clock: Callable[[], datetime]) -> DeliveryRound:
        result = DeliveryRound()
        while not self.in_flight.stopping:
            at = now or clock()
            async with self.sessionmaker.begin() as session:
                rows = await repository.claim(
                    session,
                    now=at,
                    claimed_until=at + outbound.claim_for(self.deadline),
                    limit=BATCH,
                )
            if not rows:
                break
            await self._deliver(rows, at, result)
        return result

    async def _deliver(
        self, rows: list[tuple[WebhookDelivery, Webhook]], now: datetime, result: DeliveryRound
    ) -> None:
        started = time.monotonic()
        turns: dict[str, list[tuple[WebhookDelivery, Webhook]]] = {}
        for row, hook in rows:
            turns.setdefault(_receiver(hook.url), []).append((row, hook))
        slots = asyncio.Semaphore(RECEIVERS_AT_ONCE)
        async with asyncio.TaskGroup() as group:
            for turn in turns.values():
                group.create_task(self._deliver_in_turn(turn, now, started, slots, result))

    async def _deliver_in_turn(
        self,
        rows: Sequence[tuple[WebhookDelivery, Webhook]],
        now: datetime,
        started: float,
        slots: asyncio.Semaphore,
        result: DeliveryRound,
    ) -> None:
        """One receiver's deliveries in order. No attempt starts after the batch budget
        (the claim covers budget + deadline) or a stop; those rows are given back."""
        async with slots:
            for index, (row, hook) in enumerate(rows):
                late = time.monotonic() - started > outbound.BATCH_BUDGET_SECONDS
                if self.in_flight.stopping or late:
                    async with self.sessionmaker.begin() as session:
                        await repository.release(session, [r.id for r, _h in rows[index:]])
                    return
                await self._attempt(row, hook, now, result)

    async def _attempt(
        self, row: WebhookDelivery, hook: Webhook, now: datetime, result: DeliveryRound
    ) -> None:
        body, headers = request_for(hook, row, now)
        outcome = await post(
            hook.url,
            body,
            headers,
            allow=self.allow,
            deadline=self.deadline,
            in_flight=self.in_flight,
            transport=self.transport,
        )
        status = self._status(outcome, row.attempts)
        values: dict[str, object] = {
            "status": status,
            "claimed_until": None,
            "response_status": outcome.status_code,
            "last_error": outcome.error,
            "last_attempt_at": now,
        }
        if status == repository.DELIVERED:
            values["delivered_at"] = now
            result.delivered += 1
        elif status == repository.PENDING:
            # Cut short by a stop: due again at once, for the next worker.
            interrupted = outcome.result == "interrupted"
            values["due_at"] = now if interrupted else now + self.backoff(row.attempts)
            result.retrying += 1
        else:
            result.failed += 1
        async with self.sessionmaker.begin() as session:
            await repository.mark(session, row.id, **values)
        result.statuses.append(status)
        log.info(
            json.dumps(
                {
                    "event": "webhook_delivery",
                    "delivery_id": str(row.id),
                    "webhook_id": str(hook.id),
                    "user_id": str(row.user_id),
                    "type": row.event_type,
                    "status": status,
                    "attempt": row.attempts,
                    **({"status_code": outcome.status_code} if outcome.status_code else {}),
                    **({"error": outcome.error} if outcome.error else {}),
                }
            )
        )

    @staticmethod
    def _status(outcome: Outcome, attempts: int) -> str:
        if outcome.result == "delivered":
            return repository.DELIVERED
        if outcome.result in ("retry", "interrupted") and attempts < MAX_ATTEMPTS:
            return repository.PENDING
        return repository.FAILED
