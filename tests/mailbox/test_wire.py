"""What the mailbox adds to follow-ups and interviews on the wire (`cancel_reason`,
`sent_via`, `send_error`, `last_reply`), set by every path that exists without a mailbox,
and carried by the export and the import."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from app.followups.models import Followup
from app.interviews.models import Interview
from tests.helpers import NOW, create_interview


def by_kind(interview: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in interview["followups"] if f["kind"] == kind]


async def patch_interview(
    client: httpx.AsyncClient, headers: dict[str, str], interview_id: str, **change: Any
) -> dict[str, Any]:
    response = await client.patch(
        f"/api/v1/interviews/{interview_id}", json=change, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_new_follow_up_has_no_reason_no_way_sent_no_error(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    assert interview["last_reply"] is None
    for row in interview["followups"]:
        assert row["cancel_reason"] is None
        assert row["sent_via"] is None
        assert row["send_error"] is None
        assert "message_id" not in row
    listed = (await client.get("/api/v1/followups", headers=jane)).json()["items"]
    assert {r["cancel_reason"] for r in listed} == {None}


async def test_an_outcome_cancels_with_reason_outcome_and_pending_clears_it(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    rejected = await patch_interview(client, jane, interview["id"], outcome="rejected")
    (check_in,) = by_kind(rejected, "check_in")
    assert check_in["status"] == "cancelled" and check_in["cancel_reason"] == "outcome"
    assert {f["cancel_reason"] for f in by_kind(rejected, "thank_you")} == {None}
    pending = await patch_interview(client, jane, interview["id"], outcome="pending")
    (check_in,) = by_kind(pending, "check_in")
    assert check_in["status"] == "scheduled" and check_in["cancel_reason"] is None


async def test_a_person_who_leaves_takes_their_thank_you_with_reason_removed(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    _ann, bob = interview["people"]
    without_ann = [{k: bob[k] for k in ("id", "name", "email", "role")}]
    changed = await patch_interview(client, jane, interview["id"], people=without_ann)
    (thank_you,) = [f for f in by_kind(changed, "thank_you") if f["recipient_name"] == "Ann Lee"]
    assert thank_you["status"] == "cancelled" and thank_you["cancel_reason"] == "removed"
    # Withdrawn afterwards: what the person's leaving cancelled keeps its reason.
    withdrawn = await patch_interview(client, jane, interview["id"], outcome="withdrawn")
    reasons = {f["recipient_name"]: f["cancel_reason"] for f in by_kind(withdrawn, "thank_you")}
    assert reasons["Ann Lee"] == "removed"


async def test_marking_sent_by_hand_is_sent_via_user_and_back_to_scheduled_clears_it(
    client: httpx.AsyncClient, jane: dict[str, str], app: Any
) -> None:
    interview = await create_interview(client, jane)
    (thank_you,) = by_kind(interview, "thank_you")
    url = f"/api/v1/followups/{thank_you['id']}"
    sent = await client.patch(url, json={"status": "sent"}, headers=jane)
    assert sent.json()["sent_via"] == "user"
    async with app.state.sessionmaker() as session, session.begin():
        row = await session.scalar(
            select(Followup).where(Followup.id == uuid.UUID(thank_you["id"]))
        )
        assert row is not None
        row.message_id, row.send_error = "<abc@example.com>", "refused"
    back = (await client.patch(url, json={"status": "scheduled"}, headers=jane)).json()
    assert back["sent_via"] is None and back["sent_at"] is None and back["send_error"] is None
    async with app.state.sessionmaker() as session:
        row = await session.scalar(
            select(Followup).where(Followup.id == uuid.UUID(thank_you["id"]))
        )
        assert row is not None and row.message_id is None
    skipped = (await client.patch(url, json={"status": "skipped"}, headers=jane)).json()
    assert skipped["sent_via"] is None and skipped["cancel_reason"] is None


async def test_a_follow_up_the_mailbox_saw_sent_keeps_sent_via_when_marked_again(
    client: httpx.AsyncClient, jane: dict[str, str], app: Any
) -> None:
    interview = await create_interview(client, jane)
    (thank_you,) = by_kind(interview, "thank_you")
    async with app.state.sessionmaker() as session, session.begin():
        row = await session.scalar(
            select(Followup).where(Followup.id == uuid.UUID(thank_you["id"]))
        )
        assert row is not None
        row.status, row.sent_at, row.sent_via = "sent", NOW, "mailbox"
    url = f"/api/v1/followups/{thank_you['id']}"
    again = (await client.patch(url, json={"status": "sent"}, headers=jane)).json()
    assert again["sent_via"] == "mailbox"


async def test_a_check_in_cancelled_by_a_reply_stays_cancelled_when_the_interview_changes(
    client: httpx.AsyncClient, jane: dict[str, str], app: Any
) -> None:
    interview = await create_interview(client, jane)
    (check_in,) = by_kind(interview, "check_in")
    async with app.state.sessionmaker() as session, session.begin():
        row = await session.scalar(select(Followup).where(Followup.id == uuid.UUID(check_in["id"])))
        assert row is not None
        row.status, row.cancel_reason = "cancelled", "replied"
    moved = await patch_interview(client, jane, interview["id"], duration_minutes=90)
    (check_in,) = by_kind(moved, "check_in")
    assert check_in["status"] == "cancelled" and check_in["cancel_reason"] == "replied"
    for outcome in ("rejected", "pending"):
        changed = await patch_interview(client, jane, interview["id"], outcome=outcome)
        (check_in,) = by_kind(changed, "check_in")
        assert check_in["cancel_reason"] == "replied"


async def set_last_reply(app: Any, interview_id: str, person_id: str) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        interview = await session.scalar(
            select(Interview).where(Interview.id == uuid.UUID(interview_id))
        )
        assert interview is not None
        interview.last_reply_person_id = uuid.UUID(person_id)
        interview.last_reply_at = NOW - timedelta(hours=1)
        interview.last_reply_subject = "Re: Thank you"


async def test_an_interview_shows_its_last_reply(
    client: httpx.AsyncClient, jane: dict[str, str], app: Any
) -> None:
    interview = await create_interview(client, jane)
    ann = interview["people"][0]
    await set_last_reply(app, interview["id"], ann["id"])
    read = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=jane)).json()
    assert read["last_reply"] == {
        "person_id": ann["id"],
        "received_at": "2026-11-25T11:00:00Z",
        "subject": "Re: Thank you",
    }


async def test_the_export_carries_the_mailbox_fields_and_the_import_maps_them(
    client: httpx.AsyncClient, jane: dict[str, str], app: Any
) -> None:
    interview = await create_interview(client, jane)
    ann = interview["people"][0]
    await set_last_reply(app, interview["id"], ann["id"])
    (thank_you,) = by_kind(interview, "thank_you")
    async with app.state.sessionmaker() as session, session.begin():
        row = await session.scalar(
            select(Followup).where(Followup.id == uuid.UUID(thank_you["id"]))
        )
        assert row is not None
        row.status, row.sent_at, row.sent_via = "sent", NOW, "app"
        row.message_id = "<thanks-1@example.com>"
    await patch_interview(client, jane, interview["id"], outcome="rejected")
    document = (await client.get("/api/v1/export", headers=jane)).json()
    (exported,) = document["interviews"]
    assert exported["last_reply"]["person_id"] == ann["id"]
    rows = {f["kind"]: f for f in exported["followups"]}
    assert rows["thank_you"]["sent_via"] == "app"
    assert rows["thank_you"]["message_id"] == "<thanks-1@example.com>"
    assert rows["check_in"]["cancel_reason"] == "outcome"

    imported = await client.post("/api/v1/import", json=document, headers=jane)
    assert imported.status_code == 201, imported.text
    new_id = imported.json()["interview_ids"][0]
    copy = (await client.get(f"/api/v1/interviews/{new_id}", headers=jane)).json()
    new_ann = copy["people"][0]
    assert new_ann["id"] != ann["id"]
    assert copy["last_reply"]["person_id"] == new_ann["id"]
    copied = {f["kind"]: f for f in copy["followups"]}
    assert copied["thank_you"]["sent_via"] == "app"
    assert copied["check_in"]["cancel_reason"] == "outcome"
    async with app.state.sessionmaker() as session:
        message_ids = set(
            await session.scalars(
                select(Followup.message_id).where(Followup.interview_id == uuid.UUID(new_id))
            )
        )
    assert "<thanks-1@example.com>" in message_ids
    # Still restored by a return to pending, like the original.
    restored = await patch_interview(client, jane, new_id, outcome="pending")
    assert by_kind(restored, "check_in")[0]["status"] == "scheduled"


async def test_an_export_from_before_the_mailbox_gets_reasons_on_import(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    await patch_interview(client, jane, interview["id"], outcome="rejected")
    (thank_you,) = by_kind(interview, "thank_you")
    await client.patch(
        f"/api/v1/followups/{thank_you['id']}", json={"status": "sent"}, headers=jane
    )
    document = (await client.get("/api/v1/export", headers=jane)).json()
    for row in document["interviews"][0]["followups"]:
        for name in ("cancel_reason", "sent_via", "message_id"):
            row.pop(name, None)
    document["interviews"][0].pop("last_reply")
    imported = await client.post("/api/v1/import", json=document, headers=jane)
    assert imported.status_code == 201, imported.text
    new_id = imported.json()["interview_ids"][0]
    copy = (await client.get(f"/api/v1/interviews/{new_id}", headers=jane)).json()
    rows = {f["kind"]: f for f in copy["followups"]}
    assert rows["check_in"]["cancel_reason"] == "outcome"
    assert rows["thank_you"]["sent_via"] == "user"
    assert copy["last_reply"] is None


async def test_an_import_refuses_a_reason_that_does_not_fit_the_status(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    await create_interview(client, jane)
    document = (await client.get("/api/v1/export", headers=jane)).json()
    rows = document["interviews"][0]["followups"]
    rows[0]["cancel_reason"] = "user"
    rows[1]["sent_via"] = "app"
    response = await client.post("/api/v1/import", json=document, headers=jane)
    assert response.status_code == 422
    locs = [e["loc"] for e in response.json()["errors"]]
    assert ["body", "interviews", 0, "followups", 0, "cancel_reason"] in locs
    assert ["body", "interviews", 0, "followups", 1, "sent_via"] in locs
