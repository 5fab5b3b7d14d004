"""A slow receiver cannot hold a worker: every POST has an overall deadline, a claim outlasts
what a batch can take, and other receivers are delivered meanwhile (issue 10)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app import outbound
from app.clock import Clock
from app.webhooks.deliver import DeliveryRound
from app.webhooks.models import WebhookDelivery
from tests.helpers import create_interview, user_headers
from tests.stalling import eventually, staller
from tests.webhooks.conftest import Receiver, worker_for

# Short for the tests; the receiver drips faster than this, so only an overall deadline ends it.
DEADLINE = 3.0
DRIP_EVERY = 1.0
# How long a test waits for what must end (before the fix: never).
LIMIT = 20.0


async def _hook(
    client: httpx.AsyncClient, headers: dict[str, str], port: int, events: list[str]
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks",
        json={"url": f"http://127.0.0.1:{port}/in", "events": events},
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


async def test_a_receiver_dripping_a_byte_a_second_holds_a_delivery_only_until_the_deadline(
    client: httpx.AsyncClient, app: Any
) -> None:
    async with staller(interval=DRIP_EVERY) as receiver:
        headers = await user_headers(client)
        hook = await _hook(client, headers, receiver.port, ["interview.created"])
        await create_interview(client, headers)
        worker, engine = worker_for(
            app, webhook_allow="127.0.0.1", outbound_timeout_seconds=DEADLINE
        )
        try:
            started = time.monotonic()
            result = await asyncio.wait_for(worker.run_once(), LIMIT)
            held = time.monotonic() - started
        finally:
            await engine.dispose()
    print(f"\nA receiver dripping a byte every {DRIP_EVERY:g} s held the worker {held:.2f} s")
    assert receiver.requests == 1
    assert result.webhooks.retrying == 1
    [delivery] = await _log(client, headers, hook)
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert delivery["error"] == f"timed out after {DEADLINE:g} s"


async def test_a_second_worker_never_posts_a_delivery_the_first_is_still_stalled_on(
    client: httpx.AsyncClient, app: Any, clock: Clock
) -> None:
    async with staller(interval=DRIP_EVERY) as receiver:
        headers = await user_headers(client)
        await _hook(client, headers, receiver.port, ["interview.created"])
        await create_interview(client, headers)
        first, first_engine = worker_for(
            app, webhook_allow="127.0.0.1", outbound_timeout_seconds=DEADLINE
        )
        second, second_engine = worker_for(
            app, webhook_allow="127.0.0.1", outbound_timeout_seconds=DEADLINE
        )
        start = clock.now()
        holding = asyncio.create_task(first.run_once(start))
        try:
            await receiver.stalled()
            async with app.state.sessionmaker() as session:
                claimed_until = await session.scalar(select(WebhookDelivery.claimed_until))
            # The last moment the first worker can still be sending: it starts no attempt
            # after its batch budget, and an attempt ends by its deadline.
            latest = start + timedelta(seconds=outbound.BATCH_BUDGET_SECONDS + DEADLINE)
            assert claimed_until is not None and claimed_until > latest
            # The second worker looks then, and when the old two-minute claim ran out.
            for at in (latest, start + timedelta(minutes=2, seconds=1)):
                try:
                    result = await asyncio.wait_for(second.run_once(at), LIMIT)
                except TimeoutError:
                    pytest.fail(f"the second worker stalled too ({receiver.requests} POSTs)")
                assert result.webhooks == DeliveryRound()
            assert not holding.done() and receiver.open == 1
            assert (await asyncio.wait_for(holding, LIMIT)).webhooks.retrying == 1
        finally:
            holding.cancel()
            await first_engine.dispose()
            await second_engine.dispose()
    assert receiver.requests == 1 and receiver.most_open == 1


async def test_other_receivers_are_delivered_while_one_stalls_and_a_stop_cuts_it_short(
    client: httpx.AsyncClient, app: Any, receiver: Receiver, clock: Clock
) -> None:
    async with staller(interval=DRIP_EVERY) as slow:
        headers = await user_headers(client)
        slow_hook = await _hook(
            client, headers, slow.port, ["interview.created", "interview.outcome_changed"]
        )
        interview = await create_interview(client, headers)  # the slow receiver's, first
        clock.advance(timedelta(seconds=1))
        await _hook(client, headers, receiver.port, ["interview.outcome_changed"])
        changed = await client.patch(
            f"/api/v1/interviews/{interview['id']}",
            json={"outcome": "next_round"},
            headers={**headers, "If-Match": "*"},
        )
        assert changed.status_code == 200, changed.text
        # A deadline far longer than the test: only the stop ends the stalled attempt.
        worker, engine = worker_for(app, webhook_allow="127.0.0.1", outbound_timeout_seconds=600)
        running = asyncio.create_task(worker.run_once())
        try:
            await slow.stalled()
            await eventually(lambda: receiver.requests, LIMIT)
            assert slow.open == 1  # still stalled
            worker.stop()
            result = await asyncio.wait_for(running, LIMIT)
        finally:
            running.cancel()
            await engine.dispose()
    assert result.webhooks.delivered == 1 and slow.requests == 1
    log = {d["event"]: d for d in await _log(client, headers, slow_hook)}
    # The cut attempt is retried soon and counts; the one not begun is given back.
    assert log["interview.created"]["status"] == "pending"
    assert log["interview.created"]["error"] == "interrupted: the worker stopped"
    assert log["interview.created"]["attempts"] == 1
    assert log["interview.outcome_changed"]["status"] == "pending"
    assert log["interview.outcome_changed"]["attempts"] == 0
