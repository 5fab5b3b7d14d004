"""Helpers for the portability tests: an account with every kind of state, and comparisons of
export documents and databases that ignore what may change (ids, export time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from app.db import sync_url
from app.tables import metadata
from tests.helpers import create_interview

Headers = dict[str, str]
ROLES = ["interviewer", "recruiter", "hiring_manager", "hr", "other"]
OUTCOMES = ["pending", "next_round", "offer", "rejected", "withdrawn", "no_response"]


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def patch_followup(
    client: httpx.AsyncClient, headers: Headers, followup_id: str, **changes: Any
) -> Any:
    return await _ok(
        await client.patch(f"/api/v1/followups/{followup_id}", json=changes, headers=headers)
    )


async def seed_everything(client: httpx.AsyncClient, headers: Headers) -> None:
    """Changed settings and templates; an interview per outcome; people of every role; sent,
    skipped, snoozed, edited, outcome-cancelled, custom and second check-in follow-ups; and a
    thank-you whose person was removed."""
    await _ok(
        await client.patch(
            "/api/v1/me",
            json={
                "display_name": "Jane Q. Doe",
                "timezone": "Europe/Berlin",
                "policy": {
                    "thank_you_within_hours": 24,
                    "check_in_after_days": 10,
                    "send_hour": 8,
                    "skip_weekends": False,
                    "second_check_in_after_days": 7,
                },
                "templates": {
                    "thank_you_subject": "Thanks, {recipient_first_name}!",
                    "check_in_body": "Hello {recipient_name}, any news about {role}? {{sic}}",
                },
                "notifications": {"daily_digest": False, "due_now": True},
            },
            headers=headers,
        )
    )
    everyone = [
        {"name": f"{role.title()} Person", "email": f"{role}@example.com", "role": role}
        for role in ROLES
    ]
    everyone[0]["title"] = "Staff Engineer"
    everyone.append({"name": "Second Interviewer", "role": "interviewer"})
    made = []
    for day, outcome in enumerate(OUTCOMES, start=1):
        made.append(
            await create_interview(
                client,
                headers,
                company=f"Company {outcome}",
                starts_at=f"2026-11-{day + 1:02d}T10:00:00+01:00",
                duration_minutes=30 + day,
                stage="Onsite",
                location="https://meet.example/x",
                notes="Line one\nline two",
                response_promised_by="2026-12-20" if day % 2 else None,
                people=everyone,
            )
        )
    first = made[0]
    thank_yous = [f for f in first["followups"] if f["kind"] == "thank_you"]
    check_in = next(f for f in first["followups"] if f["kind"] == "check_in")
    await patch_followup(
        client, headers, thank_yous[0]["id"], status="sent", sent_at="2026-11-02T18:00:00Z"
    )
    await patch_followup(client, headers, thank_yous[1]["id"], status="skipped")
    # Sent while pending: the policy plans a second check-in.
    await patch_followup(
        client, headers, check_in["id"], status="sent", sent_at="2026-11-13T09:00:00Z"
    )
    second = made[1]
    for followup in second["followups"]:
        if followup["kind"] == "thank_you":
            await patch_followup(
                client,
                headers,
                followup["id"],
                not_before="2026-11-05T08:00:00Z",
                due_at="2026-11-06T08:00:00Z",
            )
            await patch_followup(client, headers, followup["id"], subject="My own words")
            break
    await _ok(
        await client.post(
            f"/api/v1/interviews/{second['id']}/followups",
            json={
                "subject": "Portfolio link",
                "body": "Here it is.",
                "due_at": "2026-12-01T12:00:00Z",
            },
            headers=headers,
        ),
        201,
    )
    # Remove a person from the third interview: their thank-you is cancelled, and its
    # plan key still names them.
    third = made[2]
    kept = [
        {k: p[k] for k in ("id", "name", "email", "title", "role")} for p in third["people"][1:]
    ]
    await _ok(
        await client.patch(
            f"/api/v1/interviews/{third['id']}", json={"people": kept}, headers=headers
        )
    )
    # Outcomes last, so that they cancel what is still scheduled (and remember it).
    for interview, outcome in zip(made, OUTCOMES, strict=True):
        if outcome != "pending":
            await _ok(
                await client.patch(
                    f"/api/v1/interviews/{interview['id']}",
                    json={"outcome": outcome},
                    headers=headers,
                )
            )


def _person_refs(people: list[dict[str, Any]]) -> Callable[[str | None], str | None]:
    """A person id as the person's position; ids of people no longer listed, in turn."""
    position = {p["id"]: n for n, p in enumerate(people)}
    gone: dict[str, str] = {}

    def person(ref: str | None) -> str | None:
        if ref is None:
            return None
        if ref in position:
            return f"person {position[ref]}"
        return gone.setdefault(ref, f"removed person {len(gone)}")

    return person


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """The document without what an import may change: ids (people are referred to by their
    position instead) and `exported_at`. Follow-ups that share a `due_at` are sorted by
    their content, since their order otherwise depends on their ids."""
    result = {k: v for k, v in document.items() if k != "exported_at"}
    interviews = []
    for interview in document["interviews"]:
        person = _person_refs(interview["people"])

        followups = []
        for f in interview["followups"]:
            plan_key = f["plan_key"]
            if plan_key and plan_key.startswith("thank_you:"):
                plan_key = "thank_you:" + str(person(plan_key.removeprefix("thank_you:")))
            followups.append(
                {
                    **{k: v for k, v in f.items() if k != "id"},
                    "plan_key": plan_key,
                    "person_id": person(f["person_id"]),
                }
            )
        interviews.append(
            {
                **{k: v for k, v in interview.items() if k != "id"},
                "people": [{k: v for k, v in p.items() if k != "id"} for p in interview["people"]],
                "followups": sorted(
                    followups, key=lambda f: (f["due_at"], repr(sorted(f.items())))
                ),
            }
        )
    result["interviews"] = interviews
    return result


def row_counts(database_url: str) -> dict[str, int]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return {
                table.name: connection.execute(
                    text(f"SELECT count(*) FROM {table.name}")
                ).scalar_one()
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def table_rows(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two databases with equal contents compare equal."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(
                    (tuple(row) for row in connection.execute(table.select())), key=repr
                )
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()
