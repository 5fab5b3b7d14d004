"""Every request body is capped before it is read: 1 MB, 10 MB for an import, 2 MB for a
CSV; over the cap is a 413 problem naming the limit, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from tests.helpers import PASSWORD, client_of, interview_body

MB = 1024 * 1024
Headers = dict[str, str]


def padded(document: Any, size: int) -> bytes:
    """`document` as JSON, padded with trailing spaces to exactly `size` bytes (still valid)."""
    raw = json.dumps(document).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


async def chunked(raw: bytes, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """`raw` as a streamed body: httpx sends it without Content-Length."""
    for start in range(0, len(raw), chunk):
        yield raw[start : start + chunk]


def assert_too_large(response: httpx.Response, limit: str) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/too-large")
    assert problem["status"] == 413
    assert limit in problem["detail"]


async def interviews_of(client: httpx.AsyncClient, headers: Headers) -> list[Any]:
    return (await client.get("/api/v1/interviews", headers=headers)).json()["items"]  # type: ignore[no-any-return]


async def test_a_content_length_over_1_mb_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    # A valid interview, padded with whitespace: only its size is wrong.
    response = await client.post(
        "/api/v1/interviews",
        content=padded(interview_body(), MB + 1),
        headers={**jane, "Content-Type": "application/json"},
    )
    assert_too_large(response, "1 MB")
    assert response.headers["connection"] == "close"
    assert await interviews_of(client, jane) == []


async def test_a_chunked_body_over_1_mb_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    response = await client.post(
        "/api/v1/interviews",
        content=chunked(padded(interview_body(), MB + 1)),
        headers={**jane, "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_too_large(response, "1 MB")
    assert await interviews_of(client, jane) == []


async def test_an_anonymous_sign_in_over_the_cap_is_refused_before_it_is_parsed(
    client: httpx.AsyncClient,
) -> None:
    body = padded({"email": "jane@example.com", "password": PASSWORD}, 2 * MB)
    declared = await client.post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert_too_large(declared, "1 MB")
    streamed = await client.post(
        "/api/v1/auth/login", content=chunked(body), headers={"Content-Type": "application/json"}
    )
    assert_too_large(streamed, "1 MB")


async def test_a_body_of_exactly_1_mb_passes_declared_or_chunked(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    body = padded(interview_body(), MB)
    headers = {**jane, "Content-Type": "application/json"}
    declared = await client.post("/api/v1/interviews", content=body, headers=headers)
    assert declared.status_code == 201, declared.text
    streamed = await client.post("/api/v1/interviews", content=chunked(body), headers=headers)
    assert streamed.status_code == 201, streamed.text
    assert len(await interviews_of(client, jane)) == 2


async def test_an_import_takes_10_mb_and_not_a_byte_more(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    document = (await client.get("/api/v1/export", headers=jane)).json()
    headers = {**jane, "Content-Type": "application/json"}
    at_cap = await client.post(
        "/api/v1/import", content=chunked(padded(document, 10 * MB)), headers=headers
    )
    assert at_cap.status_code == 201, at_cap.text
    over = await client.post(
        "/api/v1/import", content=chunked(padded(document, 10 * MB + 1)), headers=headers
    )
    assert_too_large(over, "10 MB")


async def test_a_csv_import_takes_2_mb(client: httpx.AsyncClient, jane: Headers) -> None:
    csv = b"company,role,date,time\nAcme Corp,Engineer,2026-12-01,15:00\n"
    headers = {**jane, "Content-Type": "text/csv"}
    at_cap = await client.post(
        "/api/v1/import/csv?dry_run=true",
        content=csv + b"\n" * (2 * MB - len(csv)),
        headers=headers,
    )
    assert at_cap.status_code == 200, at_cap.text
    over = await client.post(
        "/api/v1/import/csv", content=chunked(csv + b"\n" * (2 * MB)), headers=headers
    )
    assert_too_large(over, "2 MB")
    assert await interviews_of(client, jane) == []


async def test_a_web_form_post_over_the_cap_is_refused_too(client: httpx.AsyncClient) -> None:
    form = {"email": "jane@example.com", "password": PASSWORD, "notes": "x" * (2 * MB)}
    response = await client.post("/api/v1/auth/login", data=form)
    assert_too_large(response, "1 MB")
    page = await client.post(
        "/settings/templates/preview", data=form, headers={"Accept": "text/html"}
    )
    assert page.status_code == 413
    assert page.headers["content-type"].startswith("text/html")
    assert "1 MB" in page.text


async def test_the_limits_are_settings(make_app: Callable[..., Any]) -> None:
    app = make_app(body_limit_bytes=1000, import_body_limit_bytes=5000)
    async with client_of(app) as client:
        response = await client.post("/api/v1/auth/login", content=b" " * 1001)
        assert response.status_code == 413
        assert "1,000 bytes" in response.json()["detail"]
        response = await client.post("/api/v1/import", content=b" " * 5001)
        assert "5,000 bytes" in response.json()["detail"]


async def test_every_operation_that_takes_a_body_documents_413(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    with_body = [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert len(with_body) > 10
    for method, path, operation in with_body:
        assert "413" in operation["responses"], (method, path)
