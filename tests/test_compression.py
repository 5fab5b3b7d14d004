"""Compressed answers: gzip when the client accepts it and the answer is big enough; ETags
that still work for If-Match and If-None-Match."""

from __future__ import annotations

import gzip
import json

import httpx

from app.web.compression import MINIMUM_SIZE
from tests.helpers import create_interview

GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


def vary_of(response: httpx.Response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",")}


async def raw_get(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> tuple[httpx.Response, bytes]:
    """The answer and its body as sent, not decoded."""
    async with client.stream("GET", url, headers=headers) as response:
        return response, b"".join([chunk async for chunk in response.aiter_raw()])


async def test_a_big_answer_is_gzipped_for_a_client_that_accepts_it(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    for n in range(3):
        await create_interview(client, jane, company=f"Company {n}")
    zipped, sent = await raw_get(client, "/api/v1/interviews", {**jane, **GZIP})
    plain, body = await raw_get(client, "/api/v1/interviews", {**jane, **PLAIN})
    assert len(body) >= MINIMUM_SIZE
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) == len(sent) < len(body) / 3
    assert gzip.decompress(sent) == body
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) == len(body)
    # Either may be cached for the other client: caches must key on Accept-Encoding.
    assert "accept-encoding" in vary_of(zipped) and "accept-encoding" in vary_of(plain)


async def test_a_small_answer_is_sent_as_it_is(client: httpx.AsyncClient) -> None:
    response, body = await raw_get(client, "/healthz", GZIP)
    assert len(body) < MINIMUM_SIZE
    assert "content-encoding" not in response.headers
    assert json.loads(body)["status"] == "ok"


async def test_a_gzipped_object_keeps_its_etag_for_if_match_and_if_none_match(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    url = f"/api/v1/interviews/{interview['id']}"
    zipped, _ = await raw_get(client, url, {**jane, **GZIP})
    plain, _ = await raw_get(client, url, {**jane, **PLAIN})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == plain.headers["etag"]
    assert zipped.headers["etag"].startswith('"')  # strong, as DESIGN promises
    patched = await client.patch(
        url,
        json={"notes": "went well"},
        headers={**jane, **GZIP, "If-Match": zipped.headers["etag"]},
    )
    assert patched.status_code == 200


async def test_a_compressed_static_file_has_a_weak_etag_that_still_answers_304(
    client: httpx.AsyncClient,
) -> None:
    zipped, sent = await raw_get(client, "/static/htmx.min.js", GZIP)
    plain, body = await raw_get(client, "/static/htmx.min.js", PLAIN)
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(sent) == body
    # Strong for the plain bytes (byte ranges of them may be asked for), weak once
    # compressed: If-Range never mixes the two.
    assert plain.headers["etag"].startswith('"')
    assert zipped.headers["etag"] == "W/" + plain.headers["etag"]
    again = await client.get(
        "/static/htmx.min.js", headers={**GZIP, "If-None-Match": zipped.headers["etag"]}
    )
    assert again.status_code == 304
