"""Outbound deadlines: one overall deadline per attempt, a stop cuts attempts short, and a
claim outlasts every attempt a batch can start."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app import outbound
from app.reminders.worker import BATCH as MAIL_BATCH
from app.webhooks.deliver import BATCH as WEBHOOK_BATCH
from tests.helpers import make_settings


@pytest.mark.parametrize("deadline", [0.5, outbound.OUTBOUND_DEADLINE_SECONDS, 300])
def test_a_claim_outlasts_the_last_attempt_a_batch_can_start(deadline: float) -> None:
    # A batch starts no attempt after its budget, and an attempt ends by its deadline (or
    # by the stop grace): nobody else may take the row until then, with room to spare.
    last_attempt_ends = outbound.BATCH_BUDGET_SECONDS + max(deadline, outbound.STOP_GRACE_SECONDS)
    assert outbound.claim_for(deadline) > timedelta(seconds=last_attempt_ends)
    assert outbound.claim_for(deadline) - timedelta(seconds=last_attempt_ends) >= timedelta(
        seconds=30
    )


def test_a_batch_is_bounded_by_its_budget_not_by_its_size() -> None:
    # Batches are larger than budget ÷ deadline: the budget check, not the batch size, is
    # what keeps a batch of slow receivers inside its claim.
    for batch in (MAIL_BATCH, WEBHOOK_BATCH):
        assert batch * outbound.OUTBOUND_DEADLINE_SECONDS > outbound.BATCH_BUDGET_SECONDS


def test_the_deadline_is_a_setting_with_a_default_of_ten_seconds(database_url: str) -> None:
    assert make_settings(database_url).outbound_timeout_seconds == 10
    assert make_settings(database_url, outbound_timeout_seconds=2.5).outbound_timeout_seconds == 2.5
    with pytest.raises(ValueError, match="greater than 0"):
        make_settings(database_url, outbound_timeout_seconds=0)


async def test_a_deadline_ends_the_whole_call_not_each_step() -> None:
    async def drip() -> None:
        for _ in range(100):
            await asyncio.sleep(0.05)  # every step is quick; together they are not

    with pytest.raises(outbound.DeadlineExceeded, match=r"^timed out after 0\.2 s$"):
        async with outbound.deadline(0.2):
            await drip()


async def test_a_stop_cuts_attempts_in_flight_after_the_grace_and_the_rest_finish() -> None:
    in_flight = outbound.InFlight()
    finished: list[str] = []

    async def attempt(name: str, seconds: float) -> str:
        try:
            async with in_flight.deadline(600):
                await asyncio.sleep(seconds)
                finished.append(name)
        except outbound.Interrupted as error:
            return str(error)
        return "done"

    quick = asyncio.create_task(attempt("quick", 0.1))
    stalled = asyncio.create_task(attempt("stalled", 600))
    await asyncio.sleep(0)
    in_flight.stop(grace=0.3)
    results = await asyncio.wait_for(asyncio.gather(quick, stalled), 10)
    assert results == ["done", "interrupted: the worker stopped"]
    assert finished == ["quick"] and in_flight.stopping


async def test_a_timeout_of_the_body_s_own_is_not_taken_for_the_deadline() -> None:
    with pytest.raises(TimeoutError) as raised:
        async with outbound.deadline(10):
            raise TimeoutError("resolver")
    assert not isinstance(raised.value, outbound.DeadlineExceeded)
