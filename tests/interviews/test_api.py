"""The interview API end to end, as a tool author would use it."""

from __future__ import annotations

import httpx

from app.followups.schedule import DueState
from app.interviews import service
from app.interviews.schemas import InterviewRead
from tests.helpers import PASSWORD, create_interview, interview_body


async def test_register_token_create_list_patch_outcome_send_delete(
    client: httpx.AsyncClient,
) -> None:
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": "Jane@Example.com", "password": PASSWORD, "display_name": "Jane Doe"},
    )
    assert registered.status_code == 201
    assert registered.json()["email"] == "jane@example.com"
    assert registered.json()["is_admin"] is True

    token = await client.post(
        "/api/v1/tokens", json={"name": "cal"}, auth=("JANE@example.com", PASSWORD)
    )
    assert token.status_code == 201
    auth = {"Authorization": f"Bearer {token.json()['token']}"}

    created = await client.post("/api/v1/interviews", json=interview_body(), headers=auth)
    assert created.status_code == 201
    interview = created.json()
    assert created.headers["location"] == f"/api/v1/interviews/{interview['id']}"
    assert [f["kind"] for f in interview["followups"]] == ["thank_you", "check_in"]
    thank_you, check_in = interview["followups"]
    assert thank_you["recipient_name"] == "Ann Lee"
    assert thank_you["not_before"] == "2026-12-01T15:00:00Z"
    assert thank_you["due_at"] == "2026-12-03T15:00:00Z"
    assert "Hi Ann," in thank_you["body"] and "event-sourcing migration" in thank_you["body"]
    assert check_in["recipient_name"] == "Bob Stone"
    assert check_in["not_before"] == "2026-12-15T09:00:00Z"

    listed = await client.get("/api/v1/interviews", headers=auth)
    assert [i["id"] for i in listed.json()["items"]] == [interview["id"]]
    assert listed.json()["next_cursor"] is None

    patched = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"response_promised_by": "2026-12-20"},
        headers={**auth, "If-Match": created.headers["etag"]},
    )
    assert patched.status_code == 200
    check_in = patched.json()["followups"][-1]
    # Promised Sunday 20th + 1 grace day = Monday 21st, 09:00 UTC.
    assert check_in["not_before"] == "2026-12-21T09:00:00Z"

    stale = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"notes": "x"},
        headers={**auth, "If-Match": created.headers["etag"]},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"

    offer = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json={"outcome": "offer"}, headers=auth
    )
    statuses = {f["kind"]: f["status"] for f in offer.json()["followups"]}
    assert statuses == {"thank_you": "scheduled", "check_in": "cancelled"}

    sent = await client.patch(
        f"/api/v1/followups/{thank_you['id']}",
        json={"status": "sent", "sent_at": "2026-12-01T18:00:00+01:00"},
        headers=auth,
    )
    assert sent.status_code == 200
    assert sent.json()["status"] == "sent"
    assert sent.json()["sent_at"] == "2026-12-01T17:00:00Z"
    assert sent.json()["due_state"] is None

    deleted = await client.delete(f"/api/v1/interviews/{interview['id']}", headers=auth)
    assert deleted.status_code == 204
    assert deleted.content == b""
    gone = await client.get(f"/api/v1/interviews/{interview['id']}", headers=auth)
    assert gone.status_code == 404
    followups = await client.get("/api/v1/followups", headers=auth)
    assert followups.json()["items"] == []


async def test_what_a_create_answers_is_what_is_stored(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    body = interview_body(
        people=[
            {"name": "Ann Lee", "email": "ann@example.com", "role": "interviewer"},
            {"name": "Cy Park", "role": "interviewer", "title": "Staff Engineer"},
            {"name": "Bob Stone", "email": "bob@example.com", "role": "hiring_manager"},
        ],
        stage="Onsite",
        notes="whiteboard",
        response_promised_by="2026-12-09",
    )
    created = await client.post("/api/v1/interviews", json=body, headers=jane)
    assert created.status_code == 201
    answered = created.json()
    assert [p["name"] for p in answered["people"]] == ["Ann Lee", "Cy Park", "Bob Stone"]
    kinds = sorted(f["kind"] for f in answered["followups"])
    assert kinds == ["check_in", "thank_you", "thank_you"]  # to each interviewer, then Bob
    due = [(f["due_at"], f["id"]) for f in answered["followups"]]
    assert due == sorted(due)
    stored = await client.get(f"/api/v1/interviews/{answered['id']}", headers=jane)
    assert stored.json() == answered
    assert stored.headers["etag"] == created.headers["etag"]


async def test_a_create_answers_the_documented_model_byte_for_byte_with_its_etag(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    """The answer is written from the rows (service.answer), not from the models: it is the
    JSON the models write, and its ETag is theirs."""
    me = await client.patch("/api/v1/me", json={"timezone": "Asia/Kolkata"}, headers=jane)
    assert me.status_code == 200, me.text
    body = interview_body(
        starts_at="2026-12-01T15:00:00.5-08:00",
        notes='Ünïcode ✓, "quotes", </script> 😀',
        response_promised_by="2026-12-24",
        invite_uid="uid-7@calendar.example",
        invite_sequence=3,
        people=[
            {"name": "Ann Lee", "email": "ann@example.com", "role": "interviewer"},
            {"name": "Dr. Bo Ng", "role": "hr", "title": "People partner"},
        ],
    )
    created = await client.post("/api/v1/interviews", json=body, headers=jane)
    assert created.status_code == 201, created.text
    read = InterviewRead.model_validate_json(created.content)
    assert read.model_dump_json().encode() == created.content
    assert created.headers["etag"] == service.etag(read)
    assert [f.due_state for f in read.followups] == [DueState.UPCOMING] * 2


async def test_list_pages_with_a_stable_cursor(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    for day in range(1, 6):
        await create_interview(client, jane, starts_at=f"2026-12-0{day}T10:00:00Z")
    first = (await client.get("/api/v1/interviews?limit=2", headers=jane)).json()
    assert len(first["items"]) == 2
    # A new interview earlier than the cursor does not shift the next page.
    await create_interview(client, jane, starts_at="2026-11-01T10:00:00Z")
    second = (
        await client.get(f"/api/v1/interviews?limit=2&cursor={first['next_cursor']}", headers=jane)
    ).json()
    starts = [i["starts_at"] for i in first["items"] + second["items"]]
    assert starts == [f"2026-12-0{d}T10:00:00Z" for d in range(1, 5)]


async def test_garbage_cursor_and_limit_are_422_naming_the_parameter(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    bad_cursor = await client.get("/api/v1/interviews?cursor=nonsense", headers=jane)
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["errors"][0]["loc"] == ["query", "cursor"]
    for limit in (0, 201, "x"):
        response = await client.get(f"/api/v1/followups?limit={limit}", headers=jane)
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "limit"]


async def test_idempotency_key_replays_and_creates_nothing_twice(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    headers = {**jane, "Idempotency-Key": "abc-1"}
    first = await client.post("/api/v1/interviews", json=interview_body(), headers=headers)
    again = await client.post("/api/v1/interviews", json=interview_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["location"] == first.headers["location"]
    listed = (await client.get("/api/v1/interviews", headers=jane)).json()
    assert len(listed["items"]) == 1

    different = await client.post(
        "/api/v1/interviews", json=interview_body(company="Other"), headers=headers
    )
    assert different.status_code == 422
    assert different.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]


async def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    cases = [
        ({"starts_at": "2026-12-01T15:00:00"}, ["body", "starts_at"]),
        ({"starts_at": "2026-02-30T15:00:00Z"}, ["body", "starts_at"]),
        ({"company": ""}, ["body", "company"]),
        ({"company": "x" * 201}, ["body", "company"]),
        ({"duration_minutes": -5}, ["body", "duration_minutes"]),
        ({"outcome": "ghosted"}, ["body", "outcome"]),
        ({"response_promised_by": "2026-13-01"}, ["body", "response_promised_by"]),
        ({"people": [{"name": "A", "role": "boss"}]}, ["body", "people", 0, "role"]),
        (
            {"people": [{"name": "A", "email": "not-an-email", "role": "hr"}]},
            ["body", "people", 0, "email"],
        ),
        ({"people": [{"name": "A"}]}, ["body", "people", 0, "role"]),
        ({"surprise": 1}, ["body", "surprise"]),
    ]
    for override, loc in cases:
        response = await client.post(
            "/api/v1/interviews", json=interview_body(**override), headers=jane
        )
        assert response.status_code == 422, override
        assert response.headers["content-type"] == "application/problem+json"
        assert loc in [e["loc"] for e in response.json()["errors"]], response.json()
    malformed = await client.post(
        "/api/v1/interviews",
        content=b"{not json",
        headers={**jane, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 422
    assert (await client.get("/api/v1/interviews", headers=jane)).json()["items"] == []


async def test_unknown_and_malformed_ids_are_404_problems(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    for path in (
        "/api/v1/interviews/not-a-uuid",
        "/api/v1/interviews/00000000-0000-0000-0000-000000000000",
        "/api/v1/followups/123",
    ):
        response = await client.get(path, headers=jane)
        assert response.status_code == 404
        assert response.json()["status"] == 404


async def test_errors_are_problems_for_401_405_and_unknown_paths(client: httpx.AsyncClient) -> None:
    unauthenticated = await client.get("/api/v1/interviews")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["content-type"] == "application/problem+json"
    assert "Bearer" in unauthenticated.headers["www-authenticate"]
    wrong_method = await client.put("/api/v1/interviews")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405
    nowhere = await client.get("/api/v1/nowhere")
    assert nowhere.status_code == 404
    assert nowhere.headers["content-type"] == "application/problem+json"
