"""If-Match prevents lost updates: of many writes sent at once with the same ETag, exactly one
is made and every other one is a 412 (and changes nothing), on follow-ups, interviews, /me and
admin members, on SQLite and Postgres."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.admin.conftest import account
from tests.helpers import create_interview

WRITERS = 50  # sent at once, all with the same ETag
ROUNDS = 2


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Over ASGI as elsewhere, but an error in the app is a 500 rather than raised, so that
    the other requests of a race still finish (and end their transactions)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


Send = Callable[[int, int, str], Awaitable[httpx.Response]]
Read = Callable[[], Awaitable[httpx.Response]]


async def rounds_of_races(read: Read, send: Send) -> list[dict[int, int]]:
    """ROUNDS rounds of WRITERS concurrent writes (`send(round, writer, etag)`), all with the
    ETag `read()` answers with before the round; the statuses of each round. After a round
    the winner's ETag is the one stored."""
    results: list[dict[int, int]] = []
    for number in range(ROUNDS):
        before = await read()
        assert before.status_code == 200, before.text
        responses = await asyncio.gather(
            *(send(number, i, before.headers["etag"]) for i in range(WRITERS))
        )
        results.append(dict(Counter(r.status_code for r in responses)))
        for response in responses:
            if response.status_code == 412:
                assert response.headers["content-type"] == "application/problem+json"
        winners = [r for r in responses if r.status_code == 200]
        if len(winners) == 1:
            assert (await read()).headers["etag"] == winners[0].headers["etag"]
    return results


def exactly_one_winner() -> list[dict[int, int]]:
    return [{200: 1, 412: WRITERS - 1}] * ROUNDS


async def test_one_of_many_follow_up_patches_with_the_same_etag_wins(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    url = f"/api/v1/followups/{interview['followups'][0]['id']}"

    async def send(number: int, writer: int, etag: str) -> httpx.Response:
        return await client.patch(
            url,
            json={"subject": f"Round {number}, writer {writer}"},
            headers={**jane, "If-Match": etag},
        )

    results = await rounds_of_races(lambda: client.get(url, headers=jane), send)
    assert results == exactly_one_winner(), f"statuses per round: {results}"
    assert (
        (await client.get(url, headers=jane)).json()["subject"].startswith(f"Round {ROUNDS - 1},")
    )


async def test_one_of_many_interview_patches_with_the_same_etag_wins(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    url = f"/api/v1/interviews/{interview['id']}"

    async def send(number: int, writer: int, etag: str) -> httpx.Response:
        return await client.patch(
            url,
            json={"notes": f"Round {number}, writer {writer}"},
            headers={**jane, "If-Match": etag},
        )

    results = await rounds_of_races(lambda: client.get(url, headers=jane), send)
    assert results == exactly_one_winner(), f"statuses per round: {results}"


async def test_of_patches_and_deletes_of_an_interview_with_the_same_etag_one_wins(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    url = f"/api/v1/interviews/{interview['id']}"
    etag = (await client.get(url, headers=jane)).headers["etag"]

    async def send(writer: int) -> httpx.Response:
        headers = {**jane, "If-Match": etag}
        if writer % 2:
            return await client.delete(url, headers=headers)
        return await client.patch(url, json={"notes": f"writer {writer}"}, headers=headers)

    responses = await asyncio.gather(*(send(i) for i in range(WRITERS)))
    statuses = Counter(r.status_code for r in responses)
    # The losers are 412 (the interview changed) or 404 (it is gone), never a second success.
    assert statuses[200] + statuses[204] == 1, f"statuses: {statuses}"
    assert set(statuses) <= {200, 204, 404, 412}, statuses


async def test_one_of_many_me_patches_with_the_same_etag_wins(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    async def send(number: int, writer: int, etag: str) -> httpx.Response:
        return await client.patch(
            "/api/v1/me",
            json={"display_name": f"Jane {number}.{writer}"},
            headers={**jane, "If-Match": etag},
        )

    results = await rounds_of_races(lambda: client.get("/api/v1/me", headers=jane), send)
    assert results == exactly_one_winner(), f"statuses per round: {results}"


async def test_one_of_many_admin_patches_of_a_member_with_the_same_etag_wins(
    client: httpx.AsyncClient,
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    url = f"/api/v1/admin/users/{member.id}"

    async def send(number: int, writer: int, etag: str) -> httpx.Response:
        # Every writer makes the same change (the member admin, then not, ...): the first
        # one changes the ETag, so the others' is stale.
        body: dict[str, Any] = {"is_admin": number % 2 == 0}
        return await client.patch(url, json=body, headers={**admin.headers, "If-Match": etag})

    # There is no GET of one member: an empty patch answers with the stored state's ETag.
    results = await rounds_of_races(lambda: client.patch(url, json={}, headers=admin.headers), send)
    assert results == exactly_one_winner(), f"statuses per round: {results}"
