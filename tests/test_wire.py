"""Bad input at the edges of the wire types: each case here is one the fuzzer found (a 500, an
undocumented status, or a request the schema forbids that was accepted), pinned down."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import create_interview, interview_body


async def post_interview(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/interviews", json=interview_body(**overrides), headers=headers
    )


def assert_names(response: httpx.Response, *loc: str | int) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert list(loc) in [e["loc"] for e in response.json()["errors"]], response.json()


@pytest.mark.parametrize(
    "starts_at",
    [
        "0001-01-01T00:03:20+01:00",  # was a 500: before year 1 once in UTC
        "9999-12-31T23:00:00Z",  # was a 500: the schedule ran past year 9999
        "1899-12-31T12:00:00Z",
        0,  # was accepted as 1970-01-01 (Unix seconds)
        "1700000000",
        "2026-12-01",
        "2026-12-01T15:00",
    ],
)
async def test_an_instant_is_rfc_3339_with_an_offset_in_sane_years(
    client: httpx.AsyncClient, jane: dict[str, str], starts_at: Any
) -> None:
    assert_names(await post_interview(client, jane, starts_at=starts_at), "body", "starts_at")


async def test_a_filter_instant_is_checked_like_any_other(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    # `due_before=0.5` used to list everything due before 1970-01-01T00:00:00.5Z.
    response = await client.get("/api/v1/followups", params={"due_before": "0.5"}, headers=jane)
    assert_names(response, "query", "due_before")


@pytest.mark.parametrize("day", [0, "0", "20261220", "2026-12-20T00:00:00Z", "0001-01-01"])
async def test_a_date_is_yyyy_mm_dd(
    client: httpx.AsyncClient, jane: dict[str, str], day: Any
) -> None:
    response = await post_interview(client, jane, response_promised_by=day)
    assert_names(response, "body", "response_promised_by")


@pytest.mark.parametrize("minutes", ["60", True])
async def test_an_integer_is_a_json_number(
    client: httpx.AsyncClient, jane: dict[str, str], minutes: Any
) -> None:
    assert_names(
        await post_interview(client, jane, duration_minutes=minutes), "body", "duration_minutes"
    )
    response = await client.patch(
        "/api/v1/me", json={"notifications": {"due_now": "yes"}}, headers=jane
    )
    assert_names(response, "body", "notifications", "due_now")


async def test_an_integer_may_be_written_with_a_zero_fraction(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    created = await post_interview(client, jane, duration_minutes=45.0)
    assert created.status_code == 201, created.text
    assert created.json()["duration_minutes"] == 45


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("company", "Acme\x00"),  # was a 500 on Postgres: text cannot hold NUL
        ("notes", "\x00"),
        ("company", " " * 3 + "x" * 200),  # over 200 as sent, though not once trimmed
        ("company", "   "),
    ],
)
async def test_strings_are_storable_and_within_their_documented_length(
    client: httpx.AsyncClient, jane: dict[str, str], field: str, value: str
) -> None:
    assert_names(await post_interview(client, jane, **{field: value}), "body", field)


async def test_an_unpaired_surrogate_is_refused_not_a_500(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/interviews",
        content=b'{"company": "A\\ud800", "role": "r", "starts_at": "2026-12-01T15:00:00Z"}',
        headers={**jane, "Content-Type": "application/json"},
    )
    assert_names(response, "body", "company")


async def test_a_search_string_cannot_carry_nul(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    response = await client.get("/api/v1/interviews", params={"company": "a\x00"}, headers=jane)
    assert_names(response, "query", "company")


async def test_a_blank_optional_string_is_null_as_documented(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    created = await post_interview(client, jane, notes="", stage="  ")
    assert created.status_code == 201, created.text
    assert (created.json()["notes"], created.json()["stage"]) == (None, None)


async def test_null_on_a_required_field_is_refused_before_the_precondition(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    # A stale If-Match used to win (412) over the invalid body.
    response = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"company": None},
        headers={**jane, "If-Match": '"stale"'},
    )
    assert_names(response, "body", "company")


async def test_required_fields_are_documented_as_not_nullable_on_patch(
    client: httpx.AsyncClient,
) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for model, field in [
        ("InterviewUpdate", "company"),
        ("InterviewUpdate", "starts_at"),
        ("FollowupUpdate", "status"),
        ("FollowupUpdate", "due_at"),
        ("MeUpdate", "display_name"),
    ]:
        documented = schemas[model]["properties"][field]
        assert "anyOf" not in documented and "default" not in documented, (model, field)


@pytest.mark.parametrize("body", [b"\xff", b'{"company": "\xe9"}'])
async def test_a_body_that_is_not_utf_8_is_malformed_json(
    client: httpx.AsyncClient, jane: dict[str, str], body: bytes
) -> None:
    # FastAPI answered an undocumented 400.
    response = await client.post(
        "/api/v1/interviews", content=body, headers={**jane, "Content-Type": "application/json"}
    )
    assert_names(response, "body")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/v1/interviews", "GET, POST"),
        ("PUT", "/api/v1/interviews/x", "DELETE, GET, PATCH"),
        ("PUT", "/api/v1/me", "DELETE, GET, PATCH"),
        ("PUT", "/api/v1/tokens", "GET, POST"),
    ],
)
async def test_405_allows_every_method_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    # Starlette listed only the methods of the first route that matched the path.
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/problem+json"
