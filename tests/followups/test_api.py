"""The schedule as the API applies it: changes, outcomes, snoozes, policy, templates, drafts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from app import clock
from tests.helpers import create_interview

Headers = dict[str, str]


def by_kind(interview: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in interview["followups"] if f["kind"] == kind]


async def patch_interview(
    client: httpx.AsyncClient, headers: Headers, interview: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    response = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json=changes, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def patch_followup(
    client: httpx.AsyncClient, headers: Headers, followup: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    response = await client.patch(
        f"/api/v1/followups/{followup['id']}", json=changes, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def keep(person: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A person as sent back in a PATCH of `people`."""
    kept = {k: person[k] for k in ("id", "name", "email", "title", "role")}
    kept.update(changes)
    return kept


async def test_removing_an_interviewer_cancels_their_thank_you_and_adding_one_schedules_one(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(client, jane)
    _ann, bob = interview["people"]
    changed = await patch_interview(
        client,
        jane,
        interview,
        people=[keep(bob), {"name": "Cy Park", "role": "interviewer", "email": "cy@example.com"}],
    )
    thank_yous = {f["recipient_name"]: f["status"] for f in by_kind(changed, "thank_you")}
    assert thank_yous == {"Ann Lee": "cancelled", "Cy Park": "scheduled"}


async def test_a_renamed_person_keeps_their_thank_you_and_its_draft_follows(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(client, jane)
    ann, bob = interview["people"]
    before = by_kind(interview, "thank_you")[0]
    changed = await patch_interview(
        client, jane, interview, people=[keep(ann, name="Annabel Lee"), keep(bob)]
    )
    after = by_kind(changed, "thank_you")[0]
    assert after["id"] == before["id"]
    assert after["recipient_name"] == "Annabel Lee"
    assert after["body"].startswith("Hi Annabel,")


async def test_with_no_interviewer_one_thank_you_goes_to_the_check_in_contact(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(
        client,
        jane,
        people=[
            {"name": "Rita Recruiter", "role": "recruiter"},
            {"name": "Hana Manager", "role": "hiring_manager", "email": "hana@example.com"},
        ],
    )
    (thank_you,) = by_kind(interview, "thank_you")
    (check_in,) = by_kind(interview, "check_in")
    assert thank_you["recipient_name"] == check_in["recipient_name"] == "Hana Manager"
    assert thank_you["mailto_url"].startswith("mailto:hana@example.com?subject=")

    changed = await patch_interview(
        client,
        jane,
        interview,
        people=[*(keep(p) for p in interview["people"]), {"name": "Ivo", "role": "interviewer"}],
    )
    statuses = {f["recipient_name"]: f["status"] for f in by_kind(changed, "thank_you")}
    assert statuses == {"Hana Manager": "cancelled", "Ivo": "scheduled"}


async def test_only_other_people_means_one_thank_you_and_one_check_in_to_nobody_yet(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(client, jane, people=[{"name": "Pat", "role": "other"}])
    assert [(f["kind"], f["recipient_name"]) for f in interview["followups"]] == [
        ("thank_you", None),
        ("check_in", None),
    ]
    assert interview["followups"][0]["mailto_url"].startswith("mailto:?subject=")
    assert interview["followups"][0]["body"].startswith("Hi there,")


async def test_moving_the_interview_recomputes_scheduled_but_not_snoozed_or_sent(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(
        client,
        jane,
        people=[
            {"name": "Ann Lee", "role": "interviewer"},
            {"name": "Al Bo", "role": "interviewer"},
            {"name": "Bob Stone", "role": "recruiter"},
        ],
    )
    al_thanks = next(f for f in by_kind(interview, "thank_you") if f["recipient_name"] == "Al Bo")
    (check_in,) = by_kind(interview, "check_in")
    snoozed = await patch_followup(
        client, jane, check_in, not_before="2026-12-28T10:00:00Z", due_at="2026-12-30T10:00:00Z"
    )
    assert snoozed["snoozed"] is True
    await patch_followup(client, jane, al_thanks, status="sent", sent_at="2026-12-01T16:00:00Z")

    moved = await patch_interview(client, jane, interview, starts_at="2026-12-02T14:00:00Z")
    thank_yous = {f["recipient_name"]: f for f in by_kind(moved, "thank_you")}
    ann_after, al_after = thank_yous["Ann Lee"], thank_yous["Al Bo"]
    assert ann_after["not_before"] == "2026-12-02T15:00:00Z"
    assert ann_after["due_at"] == "2026-12-04T15:00:00Z"
    assert al_after["status"] == "sent" and al_after["not_before"] == al_thanks["not_before"]
    assert by_kind(moved, "check_in")[0]["not_before"] == "2026-12-28T10:00:00Z"


async def test_outcomes_cancel_check_ins_and_pending_brings_them_back_recomputed(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(client, jane)
    rejected = await patch_interview(client, jane, interview, outcome="rejected")
    assert [f["status"] for f in rejected["followups"]] == ["scheduled", "cancelled"]
    # Moving the interview while cancelled still moves the cancelled check-in.
    await patch_interview(client, jane, interview, starts_at="2026-12-08T14:00:00Z")
    withdrawn = await patch_interview(client, jane, interview, outcome="withdrawn")
    assert [f["status"] for f in withdrawn["followups"]] == ["cancelled", "cancelled"]
    offer = await patch_interview(client, jane, interview, outcome="offer")
    assert [f["status"] for f in offer["followups"]] == ["cancelled", "cancelled"]
    pending = await patch_interview(client, jane, interview, outcome="pending")
    assert [f["status"] for f in pending["followups"]] == ["scheduled", "scheduled"]
    assert by_kind(pending, "check_in")[0]["not_before"] == "2026-12-22T09:00:00Z"


async def test_withdrawn_cancels_custom_follow_ups_too_and_pending_restores_them(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(client, jane)
    custom = await client.post(
        f"/api/v1/interviews/{interview['id']}/followups",
        json={"due_at": "2026-12-05T12:00:00Z", "subject": "Portfolio link", "body": "Here it is"},
        headers=jane,
    )
    assert custom.status_code == 201
    assert custom.headers["location"] == f"/api/v1/followups/{custom.json()['id']}"
    withdrawn = await patch_interview(client, jane, interview, outcome="withdrawn")
    assert {f["status"] for f in withdrawn["followups"]} == {"cancelled"}
    pending = await patch_interview(client, jane, interview, outcome=None)
    assert pending["outcome"] == "pending"
    assert {f["status"] for f in pending["followups"]} == {"scheduled"}


async def test_a_sent_check_in_starts_a_second_one_when_the_policy_asks_for_it(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    me = await client.patch(
        "/api/v1/me", json={"policy": {"second_check_in_after_days": 7}}, headers=jane
    )
    assert me.status_code == 200
    interview = await create_interview(client, jane)
    (check_in,) = by_kind(interview, "check_in")
    # Sent Tuesday 15 Dec: the second check-in is Tuesday 22 Dec at 09:00, to Bob again.
    await patch_followup(client, jane, check_in, status="sent", sent_at="2026-12-15T10:00:00Z")
    after = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=jane)).json()
    first, second = by_kind(after, "check_in")
    assert first["status"] == "sent"
    assert second["recipient_name"] == "Bob Stone"
    assert (second["not_before"], second["due_at"]) == (
        "2026-12-22T09:00:00Z",
        "2026-12-25T09:00:00Z",
    )


async def test_no_second_check_in_when_the_check_in_is_sent_after_an_outcome(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    await client.patch(
        "/api/v1/me", json={"policy": {"second_check_in_after_days": 7}}, headers=jane
    )
    interview = await create_interview(client, jane)
    await patch_interview(client, jane, interview, outcome="next_round")
    (check_in,) = by_kind(interview, "check_in")
    await patch_followup(client, jane, check_in, status="sent")
    after = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=jane)).json()
    assert len(by_kind(after, "check_in")) == 1


async def test_policy_and_time_zone_changes_recompute_scheduled_follow_ups(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(client, jane)
    me = await client.patch(
        "/api/v1/me",
        json={"timezone": "America/New_York", "policy": {"check_in_after_days": 7, "send_hour": 8}},
        headers=jane,
    )
    assert me.status_code == 200
    assert me.json()["policy"]["check_in_after_days"] == 7
    after = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=jane)).json()
    (check_in,) = by_kind(after, "check_in")
    # Ends 10:00 New York on Tue 1 Dec; +7 days = Tue 8 Dec, 08:00 EST = 13:00 UTC.
    assert check_in["not_before"] == "2026-12-08T13:00:00Z"
    reset = await client.patch("/api/v1/me", json={"policy": None}, headers=jane)
    assert reset.json()["policy"]["check_in_after_days"] == 14


async def test_template_changes_regenerate_unedited_drafts_only(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(client, jane)
    _thank_you, check_in = interview["followups"]
    edited = await patch_followup(client, jane, check_in, body="My own words.")
    assert edited["draft_edited"] is True
    response = await client.patch(
        "/api/v1/me",
        json={
            "templates": {
                "thank_you_subject": "Thanks, {recipient_first_name}! {{{company}}}",
                "check_in_body": "Any news about {role}?",
            }
        },
        headers=jane,
    )
    assert response.status_code == 200, response.text
    after = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=jane)).json()
    assert after["followups"][0]["subject"] == "Thanks, Ann! {Acme Corp}"
    assert after["followups"][1]["body"] == "My own words."
    restored = await patch_followup(client, jane, check_in, body=None, subject=None)
    assert restored["draft_edited"] is False
    assert restored["body"] == "Any news about Backend Engineer?"


async def test_unknown_placeholder_is_a_422_naming_the_template(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    response = await client.patch(
        "/api/v1/me", json={"templates": {"check_in_body": "Hi {salary}"}}, headers=jane
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "templates", "check_in_body"]
    me = (await client.get("/api/v1/me", headers=jane)).json()
    assert me["templates"]["check_in_body"] is None


async def test_marking_sent_then_back_to_scheduled_clears_sent_at(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(client, jane)
    thank_you = interview["followups"][0]
    sent = await patch_followup(client, jane, thank_you, status="sent")
    assert sent["sent_at"] is not None
    back = await patch_followup(client, jane, thank_you, status="scheduled")
    assert back["sent_at"] is None and back["due_state"] == "upcoming"
    skipped = await patch_followup(client, jane, thank_you, status="skipped")
    assert skipped["status"] == "skipped"
    refused = await client.patch(
        f"/api/v1/followups/{thank_you['id']}", json={"status": "cancelled"}, headers=jane
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "status"]


async def test_snoozing_past_the_deadline_keeps_the_window(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(client, jane)
    thank_you = interview["followups"][0]
    snoozed = await patch_followup(client, jane, thank_you, not_before="2026-12-10T09:00:00Z")
    assert (snoozed["not_before"], snoozed["due_at"]) == (
        "2026-12-10T09:00:00Z",
        "2026-12-12T09:00:00Z",
    )
    backwards = await client.patch(
        f"/api/v1/followups/{thank_you['id']}",
        json={"not_before": "2026-12-10T09:00:00Z", "due_at": "2026-12-09T09:00:00Z"},
        headers=jane,
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["loc"] == ["body", "due_at"]


async def test_due_state_filters_and_due_before(client: httpx.AsyncClient, jane: Headers) -> None:
    now = clock.now()
    # Ended 30 hours ago: the thank-you is due (48 h window); the check-in is upcoming.
    await create_interview(
        client, jane, company="Due Co", starts_at=(now - timedelta(hours=31)).isoformat()
    )
    # Ended 3 days ago: the thank-you is overdue.
    await create_interview(
        client, jane, company="Late Co", starts_at=(now - timedelta(days=3)).isoformat()
    )

    async def ids(query: str) -> list[tuple[str, str | None]]:
        response = await client.get(f"/api/v1/followups?{query}", headers=jane)
        assert response.status_code == 200, response.text
        return [(f["kind"], f["due_state"]) for f in response.json()["items"]]

    assert await ids("due_state=due") == [("thank_you", "due")] * 1
    assert await ids("due_state=overdue") == [("thank_you", "overdue")]
    assert await ids("due_state=upcoming&kind=check_in") == [("check_in", "upcoming")] * 2
    soon = (now + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert await ids(f"due_before={soon}") == [("thank_you", "overdue"), ("thank_you", "due")]
    everything = (await client.get("/api/v1/followups?limit=1", headers=jane)).json()
    assert everything["next_cursor"] is not None
    page_two = await client.get(
        f"/api/v1/followups?limit=10&cursor={everything['next_cursor']}", headers=jane
    )
    assert len(page_two.json()["items"]) == 3


async def test_editing_a_draft_freezes_it_against_interview_changes(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    interview = await create_interview(client, jane)
    thank_you = interview["followups"][0]
    await patch_followup(client, jane, thank_you, subject="Thank you, Ann")
    changed = await patch_interview(client, jane, interview, highlight="the on-call rotation")
    frozen, regenerated = changed["followups"]
    assert frozen["subject"] == "Thank you, Ann"
    assert "the event-sourcing migration" in frozen["body"]
    assert "the on-call rotation" not in frozen["body"]
    assert "Hi Bob" in regenerated["body"]
