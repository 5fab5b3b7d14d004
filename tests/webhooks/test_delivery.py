"""Webhooks delivered by the worker to a loopback receiver: signed, once, retried on 5xx,
never retried on 4xx, and never connecting to an address refused at delivery time."""

from __future__ import annotations

import ipaddress
import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.reminders.worker import Worker
from app.webhooks import addresses
from app.webhooks.models import WebhookDelivery
from tests.helpers import create_interview, user_headers
from tests.webhooks.conftest import RESPONSE_BODY, Receiver

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
EVENTS = ["followup.sent", "interview.created", "interview.outcome_changed"]


async def _hook(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    receiver: Receiver,
    *,
    events: list[str] = EVENTS,
    fmt: str = "json",
    host: str = "127.0.0.1",
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks",
        json={"url": f"http://{host}:{receiver.port}/in?x=1", "events": events, "format": fmt},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _log(
    client: httpx.AsyncClient, headers: dict[str, str], hook: dict[str, Any]
) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_create_outcome_change_and_mark_sent_are_each_delivered_once_and_signed(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver)
    interview = await create_interview(client, headers)
    changed = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"outcome": "next_round"},
        headers={**headers, "If-Match": "*"},
    )
    assert changed.status_code == 200, changed.text
    followup = interview["followups"][0]
    sent = await client.patch(
        f"/api/v1/followups/{followup['id']}",
        json={"status": "sent"},
        headers={**headers, "If-Match": "*"},
    )
    assert sent.status_code == 200, sent.text
    # Marking it sent again is no new event.
    again = await client.patch(
        f"/api/v1/followups/{followup['id']}",
        json={"status": "sent"},
        headers={**headers, "If-Match": "*"},
    )
    assert again.status_code == 200, again.text

    first = await worker.run_once(NOW)
    second = await worker.run_once(NOW + timedelta(hours=1))

    assert first.webhooks.delivered == 3 and second.webhooks.delivered == 0
    types = [r.headers["followup-event"] for r in receiver.requests]
    assert sorted(types) == sorted(EVENTS)
    for request in receiver.requests:
        assert request.method == "POST" and request.path == "/in?x=1"
        assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
        assert request.signature_valid(hook["secret"])
        assert not request.signature_valid("another secret")
        envelope = json.loads(request.body)
        assert envelope["version"] == 1 and envelope["type"] == request.headers["followup-event"]
        assert set(envelope) == {"version", "id", "type", "created_at", "data"}
    by_type = {json.loads(r.body)["type"]: json.loads(r.body)["data"] for r in receiver.requests}
    assert by_type["interview.created"]["interview_id"] == interview["id"]
    assert by_type["interview.outcome_changed"]["outcome"] == "next_round"
    assert by_type["interview.outcome_changed"]["previous_outcome"] == "pending"
    assert by_type["followup.sent"]["followup_id"] == followup["id"]
    log = await _log(client, headers, hook)
    assert {(d["status"], d["status_code"], d["attempts"]) for d in log} == {("delivered", 200, 1)}


async def test_events_are_written_only_for_subscribed_webhooks(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver, events=["followup.sent"])
    await create_interview(client, headers)
    assert await _log(client, headers, hook) == []
    assert (await worker.run_once(NOW)).webhooks.delivered == 0
    assert receiver.requests == []


async def test_a_500_is_retried_with_backoff_then_delivered(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver)
    receiver.statuses = [500]
    await create_interview(client, headers)

    down = await worker.run_once(NOW)
    assert (down.webhooks.retrying, down.webhooks.delivered) == (1, 0)
    # Not before its backoff has passed.
    assert (await worker.run_once(NOW + timedelta(seconds=1))).webhooks.delivered == 0
    up = await worker.run_once(NOW + timedelta(hours=1))
    assert up.webhooks.delivered == 1
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body  # the same event, again
    [delivery] = await _log(client, headers, hook)
    assert (delivery["status"], delivery["status_code"], delivery["attempts"]) == (
        "delivered",
        200,
        2,
    )


async def test_a_410_fails_and_is_not_retried(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver)
    receiver.statuses = [410]
    await create_interview(client, headers)

    assert (await worker.run_once(NOW)).webhooks.failed == 1
    assert (await worker.run_once(NOW + timedelta(days=1))).webhooks.statuses == []
    assert len(receiver.requests) == 1
    [delivery] = await _log(client, headers, hook)
    assert (delivery["status"], delivery["status_code"], delivery["attempts"]) == (
        "failed",
        410,
        1,
    )


async def test_the_delivery_log_never_holds_the_response_body(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver)
    receiver.statuses = [500, 404]
    await create_interview(client, headers)
    await worker.run_once(NOW)
    await worker.run_once(NOW + timedelta(hours=1))
    log = await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=headers)
    page = await client.get("/settings", headers={**headers, "Accept": "text/html"})
    assert RESPONSE_BODY.decode() not in log.text
    assert RESPONSE_BODY.decode() not in page.text
    async with worker.sessionmaker() as session:
        rows = list(await session.scalars(select(WebhookDelivery)))
    assert rows and all(RESPONSE_BODY.decode() not in repr(vars(r)) for r in rows)


async def test_a_name_resolving_to_loopback_at_delivery_time_is_never_connected(
    client: httpx.AsyncClient,
    receiver: Receiver,
    strict_worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def unknown(host: str, port: int) -> list[addresses.IPAddress]:
        raise socket.gaierror("not yet")

    async def loopback(host: str, port: int) -> list[addresses.IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")]

    headers = await user_headers(client)
    monkeypatch.setattr(addresses, "resolve", unknown)  # saved while it resolves nowhere
    hook = await _hook(client, headers, receiver, host="rebind.example")
    await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=headers)
    monkeypatch.setattr(addresses, "resolve", loopback)  # then it points at this machine

    result = await strict_worker.run_once(NOW)

    assert result.webhooks.failed == 1
    assert receiver.connections == 0 and receiver.requests == []
    [delivery] = await _log(client, headers, hook)
    assert delivery["status"] == "failed" and delivery["status_code"] is None
    assert "refused" in delivery["error"] and "loopback" in delivery["error"]


@pytest.mark.parametrize(
    "resolved", ["2002:7f00:1::1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "64:ff9b::7f00:1"]
)
async def test_a_name_resolving_to_a_transition_address_of_loopback_is_never_connected(
    client: httpx.AsyncClient,
    receiver: Receiver,
    strict_worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
    resolved: str,
) -> None:
    async def unknown(host: str, port: int) -> list[addresses.IPAddress]:
        raise socket.gaierror("not yet")

    async def tunnelled(host: str, port: int) -> list[addresses.IPAddress]:
        return [ipaddress.ip_address(resolved)]

    headers = await user_headers(client)
    monkeypatch.setattr(addresses, "resolve", unknown)
    hook = await _hook(client, headers, receiver, host="tunnel.example")
    await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=headers)
    monkeypatch.setattr(addresses, "resolve", tunnelled)

    result = await strict_worker.run_once(NOW)

    assert result.webhooks.failed == 1 and receiver.connections == 0
    [delivery] = await _log(client, headers, hook)
    assert delivery["status"] == "failed"
    assert "refused" in delivery["error"] and "127.0.0.1, a loopback address" in delivery["error"]


@pytest.mark.parametrize("url_host", ["2130706433", "0x7f.1", "127.1", "[::ffff:127.0.0.1]"])
async def test_refused_spellings_saved_while_allowed_are_refused_by_a_strict_worker(
    client: httpx.AsyncClient, receiver: Receiver, strict_worker: Worker, url_host: str
) -> None:
    headers = await user_headers(client)
    response = await client.post(
        "/api/v1/webhooks",
        json={"url": f"http://{url_host}:{receiver.port}/", "events": ["interview.created"]},
        headers=headers,
    )
    if response.status_code == 422:  # ::ffff: is refused even where 127.0.0.1 is allowed
        return
    assert response.status_code == 201, response.text
    await create_interview(client, headers)
    assert (await strict_worker.run_once(NOW)).webhooks.failed == 1
    assert receiver.connections == 0


async def test_the_test_button_is_delivered(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver, events=["followup.due"])
    response = await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=headers)
    assert response.status_code == 202
    assert (await worker.run_once(NOW)).webhooks.delivered == 1
    [request] = receiver.requests
    assert request.headers["followup-event"] == "webhook.test"
    assert request.signature_valid(hook["secret"])


async def test_due_and_overdue_follow_ups_are_sent_once_each(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    headers = await user_headers(client)
    await _hook(client, headers, receiver, events=["followup.due", "followup.overdue"])
    interview = await create_interview(client, headers, starts_at="2026-12-01T15:00:00Z")
    first = min(interview["followups"], key=lambda f: f["not_before"])
    not_before = datetime.fromisoformat(first["not_before"])
    due_at = datetime.fromisoformat(first["due_at"])

    await worker.run_once(not_before + timedelta(minutes=1))
    await worker.run_once(not_before + timedelta(minutes=2))
    due = [json.loads(r.body) for r in receiver.requests]
    assert first["id"] in {e["data"]["followup_id"] for e in due if e["type"] == "followup.due"}
    assert len({e["id"] for e in due}) == len(due)  # nothing twice

    await worker.run_once(due_at + timedelta(minutes=1))
    await worker.run_once(due_at + timedelta(minutes=2))
    events = [json.loads(r.body) for r in receiver.requests]
    overdue = [e for e in events if e["data"]["followup_id"] == first["id"]]
    assert sorted(e["type"] for e in overdue) == ["followup.due", "followup.overdue"]
    assert len({e["id"] for e in events}) == len(events)


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("slack", lambda r: "Interview added" in json.loads(r.body)["text"]),
        ("discord", lambda r: "Interview added" in json.loads(r.body)["content"]),
        (
            "ntfy",
            lambda r: (
                r.headers["title"] == "Interview added"
                and r.body.decode().startswith("Interview added:")
            ),
        ),
    ],
)
async def test_chat_presets(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker, fmt: str, check: Any
) -> None:
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver, events=["interview.created"], fmt=fmt)
    await create_interview(client, headers)
    assert (await worker.run_once(NOW)).webhooks.delivered == 1
    [request] = receiver.requests
    assert check(request)
    assert request.signature_valid(hook["secret"])


async def test_a_redirect_is_not_followed(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver, events=["interview.created"])
    receiver.statuses = [302]
    await create_interview(client, headers)
    assert (await worker.run_once(NOW)).webhooks.failed == 1
    assert len(receiver.requests) == 1
    [delivery] = await _log(client, headers, hook)
    assert delivery["status_code"] == 302 and "redirect" in delivery["error"]
