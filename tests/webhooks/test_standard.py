"""Deliveries as receivers check them: signed as Standard Webhooks specify (verified with the
official `standardwebhooks` library), and each body as the OpenAPI document's `webhooks`
describe it."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema_rs
import pytest
from sqlalchemy import update
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from app import clock as app_clock
from app.interviews.models import Interview, Person
from app.reminders.worker import Worker
from app.webhooks import deliver, service
from app.webhooks.models import Webhook, WebhookDelivery
from tests.helpers import create_interview, user_headers
from tests.webhooks.conftest import Receiver

EVENTS = ["followup.sent", "interview.created", "interview.outcome_changed"]


async def _hook(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    receiver: Receiver,
    *,
    events: list[str],
    fmt: str = "json",
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks",
        json={"url": f"http://127.0.0.1:{receiver.port}/in", "events": events, "format": fmt},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _cause_events(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """An interview created, its outcome changed, a follow-up marked sent."""
    interview = await create_interview(client, headers)
    changed = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json={"outcome": "next_round"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    sent = await client.patch(
        f"/api/v1/followups/{interview['followups'][0]['id']}",
        json={"status": "sent"},
        headers=headers,
    )
    assert sent.status_code == 200, sent.text
    return interview


async def test_every_delivery_verifies_with_the_standard_webhooks_library(
    client: httpx.AsyncClient,
    receiver: Receiver,
    worker: Worker,
    clock: app_clock.Clock,
) -> None:
    # The library checks `webhook-timestamp` against the receiver's own clock (5 minutes
    # either way), so here the app's clock is the machine's, as in production.
    clock.freeze(datetime.now(UTC))
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver, events=EVENTS)
    await _cause_events(client, headers)
    await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=headers)

    assert (await worker.run_once(clock.now())).webhooks.delivered == 4
    receiving = StandardWebhook(hook["secret"])  # the secret as shown, `whsec_…`
    for request in receiver.requests:
        envelope = receiving.verify(request.body, request.headers)
        assert envelope == json.loads(request.body)
        assert request.headers["webhook-id"] == envelope["id"]
        assert request.headers["webhook-id"] == request.headers["followup-event-id"]
        assert request.headers["webhook-timestamp"] == request.headers["followup-timestamp"]
        assert request.signature_valid(hook["secret"])  # Followup's own signature, as before
        with pytest.raises(WebhookVerificationError):
            receiving.verify(request.body + b" ", request.headers)
        with pytest.raises(WebhookVerificationError):
            StandardWebhook(base64.b64encode(b"another secret").decode()).verify(
                request.body, request.headers
            )
    assert sorted(json.loads(r.body)["type"] for r in receiver.requests) == sorted(
        [*EVENTS, "webhook.test"]
    )


async def test_a_delivery_replayed_later_is_refused_by_the_library(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker, clock: app_clock.Clock
) -> None:
    clock.freeze(datetime.now(UTC) - timedelta(minutes=10))
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver, events=["interview.created"])
    await create_interview(client, headers)
    await worker.run_once(clock.now())
    [request] = receiver.requests
    with pytest.raises(WebhookVerificationError, match="too old"):
        StandardWebhook(hook["secret"]).verify(request.body, request.headers)


async def test_an_ntfy_delivery_is_signed_the_same_way(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker, clock: app_clock.Clock
) -> None:
    clock.freeze(datetime.now(UTC))
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver, events=["interview.created"], fmt="ntfy")
    await create_interview(client, headers)
    await worker.run_once(clock.now())
    [request] = receiver.requests
    assert request.body.decode().startswith("Interview added:")
    StandardWebhook(hook["secret"]).verify(request.body, request.headers, json_parse=False)


async def test_a_secret_made_before_standard_base64_still_signs_both_ways(
    client: httpx.AsyncClient,
    receiver: Receiver,
    worker: Worker,
    clock: app_clock.Clock,
) -> None:
    clock.freeze(datetime.now(UTC))
    headers = await user_headers(client)
    hook = await _hook(client, headers, receiver, events=["interview.created"])
    # What secrets looked like before: URL-safe base64, unpadded (here with both `-` and `_`).
    old = "whsec_-_" + secrets.token_urlsafe(30)
    async with worker.sessionmaker.begin() as session:
        await session.execute(
            update(Webhook).where(Webhook.id == uuid.UUID(hook["id"])).values(secret=old)
        )
    await create_interview(client, headers)
    await worker.run_once(clock.now())
    [request] = receiver.requests
    assert request.signature_valid(old)
    # README: such a secret's key is its URL-safe base64 decoded; the library takes the bytes.
    key = base64.urlsafe_b64decode(old.removeprefix("whsec_") + "==")
    StandardWebhook(key).verify(request.body, request.headers)


async def test_a_new_secret_is_whsec_and_32_random_bytes_in_standard_base64(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    headers = await user_headers(client)
    shown = [
        (await _hook(client, headers, receiver, events=["interview.created"]))["secret"]
        for _ in range(2)
    ]
    for secret in shown:
        assert secret.startswith("whsec_")
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        assert len(key) == 32 and deliver.standard_key(secret) == key
    assert shown[0] != shown[1]


def _validator(document: dict[str, Any], event: str) -> Any:
    """The documented JSON body of `event` (any format), with the document's components."""
    schema = document["webhooks"][event]["post"]["requestBody"]["content"]["application/json"]
    envelope = schema["schema"]["anyOf"][0]
    return jsonschema_rs.Draft202012Validator(
        {**envelope, "components": document["components"]}
    ), jsonschema_rs.Draft202012Validator(
        {**schema["schema"], "components": document["components"]}
    )


@pytest.mark.parametrize("fmt", ["json", "slack", "discord"])
async def test_every_delivered_body_is_as_the_document_describes_it(
    client: httpx.AsyncClient, receiver: Receiver, worker: Worker, fmt: str
) -> None:
    document = (await client.get("/openapi.json")).json()
    headers = await user_headers(client)
    everything = [*EVENTS, "followup.due", "followup.overdue"]
    hook = await _hook(client, headers, receiver, events=everything, fmt=fmt)
    await _cause_events(client, headers)
    await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=headers)
    # Another interview's thank-you becomes due, then overdue.
    later = await create_interview(client, headers, company="Globex")
    first = min(later["followups"], key=lambda f: f["not_before"])
    await worker.run_once(datetime.fromisoformat(first["not_before"]) + timedelta(minutes=1))
    await worker.run_once(datetime.fromisoformat(first["due_at"]) + timedelta(minutes=1))

    kinds = {r.headers["followup-event"] for r in receiver.requests}
    assert kinds == {*everything, "webhook.test"}
    for request in receiver.requests:
        event = request.headers["followup-event"]
        envelope, any_format = _validator(document, event)
        body = json.loads(request.body)
        any_format.validate(body)
        assert envelope.is_valid(body) == (fmt == "json"), (event, body)
        documented = {p["name"].lower() for p in document["webhooks"][event]["post"]["parameters"]}
        sent = {name for name in request.headers if name.startswith(("webhook-", "followup-"))}
        assert sent <= documented, sent - documented


@pytest.mark.parametrize("still_there", [True, False])
async def test_a_reply_event_is_as_the_document_describes_it(
    client: httpx.AsyncClient, still_there: bool
) -> None:
    # The mailbox watch builds it with this function (tests/mailbox deliver it for real).
    document = (await client.get("/openapi.json")).json()
    now = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    interview = Interview(
        id=uuid.uuid4(), company="Acme", role="Engineer", starts_at=now, outcome="pending"
    )
    person = Person(id=uuid.uuid4(), name="Ann Lee", email="ann@example.com")
    data = service.replied_data(
        interview,
        person=person if still_there else None,
        person_id=person.id,
        received_at=now,
        subject="Re: Thank you",
    )
    row = WebhookDelivery(
        event_id=uuid.uuid4(), event_type="interview.replied", data=data, created_at=now
    )
    body = json.loads(json.dumps(deliver.envelope(row)))
    envelope, _any_format = _validator(document, "interview.replied")
    envelope.validate(body)
    expected = {"id": str(person.id)}
    if still_there:
        expected |= {"name": "Ann Lee", "email": "ann@example.com"}
    assert body["data"]["person"] == expected
    assert body["data"]["received_at"] == "2026-12-02T09:30:00Z"
