"""One Idempotency-Key sent twice at once: one request does the work, the other is told to
retry (409 with Retry-After), and its retry replays the first answer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.idempotency import Idempotency
from tests.helpers import POSTGRES, interview_body, token_for

Headers = dict[str, str]


def first_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next key lookup finds nothing, as it does while the first request with that key
    is still in flight (its answer not yet committed); the request then runs on."""
    replay = Idempotency.replay
    calls = 0

    async def lookup_during_first(self: Idempotency) -> Any:
        nonlocal calls
        calls += 1
        return None if calls == 1 else await replay(self)

    monkeypatch.setattr(Idempotency, "replay", lookup_during_first)


async def test_a_duplicate_sent_while_the_first_is_in_flight_gets_409_with_retry_after(
    client: httpx.AsyncClient, jane: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyed = {**jane, "Idempotency-Key": "same-key"}
    first = await client.post("/api/v1/interviews", json=interview_body(), headers=keyed)
    assert first.status_code == 201
    first_in_flight(monkeypatch)
    duplicate = await client.post("/api/v1/interviews", json=interview_body(), headers=keyed)
    assert duplicate.status_code == 409, duplicate.text
    assert duplicate.headers["retry-after"] == "1"
    assert duplicate.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in duplicate.json()["detail"]
    listed = (await client.get("/api/v1/interviews", headers=jane)).json()["items"]
    assert [i["id"] for i in listed] == [first.json()["id"]]  # the duplicate wrote nothing
    retry = await client.post("/api/v1/interviews", json=interview_body(), headers=keyed)
    assert (retry.status_code, retry.json()) == (201, first.json())


@pytest.mark.skipif(
    not POSTGRES,
    reason="SQLite has one writer at a time: a duplicate waits for the first to commit "
    "(its token's last use is a write) and then replays its answer",
)
async def test_two_truly_concurrent_posts_with_one_key_give_one_201_and_one_409(
    client: httpx.AsyncClient, jane: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two tokens of one user, so neither request waits on the other's token row.
    other = {"Authorization": f"Bearer {await token_for(client, 'jane@example.com')}"}
    looked_up = 0
    both = asyncio.Event()
    replay = Idempotency.replay

    async def replay_then_wait(self: Idempotency) -> Any:
        # Each waits after its lookup until the other has looked too: both found nothing.
        nonlocal looked_up
        answer = await replay(self)
        looked_up += 1
        if looked_up == 2:
            both.set()
        await asyncio.wait_for(both.wait(), timeout=30)
        return answer

    monkeypatch.setattr(Idempotency, "replay", replay_then_wait)
    answers = await asyncio.gather(
        *(
            client.post(
                "/api/v1/interviews",
                json=interview_body(),
                headers={**auth, "Idempotency-Key": "same-key"},
            )
            for auth in (jane, other)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    created, conflict = sorted(answers, key=lambda a: a.status_code)
    assert conflict.headers["retry-after"] == "1"
    listed = (await client.get("/api/v1/interviews", headers=jane)).json()["items"]
    assert [i["id"] for i in listed] == [created.json()["id"]]


async def test_every_post_that_takes_an_idempotency_key_documents_the_409_and_retry_after(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    keyed = [
        (path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    ]
    assert len(keyed) >= 5
    for path, operation in keyed:
        conflict = operation["responses"].get("409")
        assert conflict is not None, path
        assert "Retry-After" in conflict.get("headers", {}), path
        assert "Idempotency-Key" in conflict["description"], path
