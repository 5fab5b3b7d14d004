"""Export and import: a round trip gives back the same data, and a bad document writes nothing."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
from sqlalchemy import update

from app.accounts.models import User
from app.config import Settings
from tests.helpers import create_interview, user_headers
from tests.interviews.test_invites import send
from tests.portability.conftest import OUTCOMES, normalised, row_counts, seed_everything

Headers = dict[str, str]


async def export_of(client: httpx.AsyncClient, headers: Headers) -> dict[str, Any]:
    response = await client.get("/api/v1/export", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def import_into(
    client: httpx.AsyncClient, headers: Headers, document: Any, **params: str
) -> httpx.Response:
    return await client.post("/api/v1/import", json=document, headers=headers, params=params)


async def test_export_then_import_into_a_new_account_gives_back_exactly_the_same_data(
    app: Any, client: httpx.AsyncClient, jane: Headers
) -> None:
    await seed_everything(client, jane)
    async with app.state.sessionmaker.begin() as session:
        await session.execute(update(User).values(board_sharing="companies"))
    exported = await export_of(client, jane)

    bob = await user_headers(client, "bob@example.com", "Bob Brown")
    imported = await import_into(client, bob, exported)
    assert imported.status_code == 201, imported.text
    result = imported.json()
    assert result["profile_applied"] is True and result["added_to_existing"] is False
    assert result["interviews"] == len(OUTCOMES)
    again = await export_of(client, bob)

    assert normalised(again) == normalised(exported)
    # Ids are new; the references between people and follow-ups follow them.
    assert {i["id"] for i in again["interviews"]}.isdisjoint(
        i["id"] for i in exported["interviews"]
    )
    for interview in again["interviews"]:
        people = {p["id"] for p in interview["people"]}
        for f in interview["followups"]:
            assert f["person_id"] is None or f["person_id"] in people


async def test_the_seeded_account_really_has_every_kind_of_state(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    """Guards the round trip above: it compares something worth comparing."""
    await seed_everything(client, jane)
    document = await export_of(client, jane)
    followups = [f for i in document["interviews"] for f in i["followups"]]
    assert {i["outcome"] for i in document["interviews"]} == set(OUTCOMES)
    assert {f["status"] for f in followups} == {"scheduled", "sent", "skipped", "cancelled"}
    assert {f["kind"] for f in followups} == {"thank_you", "check_in", "custom"}
    assert any(f["snoozed"] for f in followups) and any(f["draft_edited"] for f in followups)
    assert any(f["cancelled_by_outcome"] for f in followups)
    assert "check_in:2" in {f["plan_key"] for f in followups}
    people = {p["id"] for i in document["interviews"] for p in i["people"]}
    assert any(
        f["plan_key"].startswith("thank_you:") and f["plan_key"][10:] not in people
        for f in followups
        if f["plan_key"]
    ), "a thank-you whose person was removed"
    assert document["profile"]["policy"]["second_check_in_after_days"] == 7
    assert (
        document["profile"]["templates"]["thank_you_subject"] == "Thanks, {recipient_first_name}!"
    )


async def test_the_export_is_an_attachment_ordered_by_start_and_holds_no_secrets(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    await create_interview(client, jane, starts_at="2026-12-05T10:00:00Z", company="Later")
    await create_interview(client, jane, starts_at="2026-12-01T10:00:00Z", company="Sooner")
    response = await client.get("/api/v1/export", headers=jane)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="followup-export-'
    )
    document = response.json()
    assert (document["format"], document["version"]) == ("followup-export", 1)
    assert [i["company"] for i in document["interviews"]] == ["Sooner", "Later"]
    text = response.text
    assert "jane@example.com" not in text and "password" not in text


async def test_a_schedule_restored_by_import_behaves_as_before(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    """The flags come back: removing the person whose thank-you was sent changes nothing of
    it, and a return to pending restores what an outcome cancelled."""
    interview = await create_interview(client, jane, outcome="offer")
    bob = await user_headers(client, "bob@example.com", "Bob Brown")
    await import_into(client, bob, await export_of(client, jane))
    (copy_of,) = (await export_of(client, bob))["interviews"]
    assert [f["status"] for f in copy_of["followups"] if f["kind"] == "check_in"] == ["cancelled"]
    back = await client.patch(
        f"/api/v1/interviews/{copy_of['id']}", json={"outcome": "pending"}, headers=bob
    )
    statuses = {f["kind"]: f["status"] for f in back.json()["followups"]}
    assert statuses["check_in"] == "scheduled"
    assert len(back.json()["followups"]) == len(interview["followups"])


async def test_import_into_an_account_with_interviews_adds_them_and_keeps_its_settings(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    await create_interview(client, jane, company="Mine")
    await client.patch("/api/v1/me", json={"timezone": "Asia/Tokyo"}, headers=jane)
    document = await export_of(client, jane)
    document["profile"]["timezone"] = "America/Chicago"
    response = await import_into(client, jane, document)
    assert response.status_code == 201, response.text
    assert response.json()["added_to_existing"] is True
    assert response.json()["profile_applied"] is False
    after = await export_of(client, jane)
    assert [i["company"] for i in after["interviews"]] == ["Mine", "Mine"]
    assert after["profile"]["timezone"] == "Asia/Tokyo"
    # …unless asked.
    forced = await import_into(client, jane, document, profile="true")
    assert forced.json()["profile_applied"] is True
    assert (await export_of(client, jane))["profile"]["timezone"] == "America/Chicago"


async def test_a_bad_row_deep_in_the_document_writes_nothing_and_every_error_is_located(
    client: httpx.AsyncClient, jane: Headers, settings: Settings
) -> None:
    await seed_everything(client, jane)
    document = await export_of(client, jane)
    bob = await user_headers(client, "bob@example.com", "Bob Brown")
    before = row_counts(settings.database_url)

    bad = copy.deepcopy(document)
    bad["interviews"][3]["company"] = "x" * 201
    bad["interviews"][5]["followups"][1]["status"] = "lost"
    response = await import_into(client, bob, bad)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    locations = [e["loc"] for e in response.json()["errors"]]
    assert ["body", "interviews", 3, "company"] in locations
    assert ["body", "interviews", 5, "followups", 1, "status"] in locations

    # References are checked too, before anything is written.
    bad = copy.deepcopy(document)
    bad["interviews"][4]["followups"][0]["person_id"] = bad["interviews"][0]["people"][0]["id"]
    bad["interviews"][5]["followups"][2]["plan_key"] = bad["interviews"][5]["followups"][1][
        "plan_key"
    ]
    response = await import_into(client, bob, bad)
    assert response.status_code == 422, response.text
    locations = [e["loc"] for e in response.json()["errors"]]
    assert ["body", "interviews", 4, "followups", 0, "person_id"] in locations
    assert ["body", "interviews", 5, "followups", 2, "plan_key"] in locations

    assert row_counts(settings.database_url) == before
    profile = (await client.get("/api/v1/me", headers=bob)).json()
    assert (profile["display_name"], profile["timezone"]) == ("Bob Brown", "UTC")


async def test_an_unknown_version_or_format_is_a_422_naming_it(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    document = await export_of(client, jane)
    response = await import_into(client, jane, {**document, "version": 2, "interviews": "?"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body", "version"], "msg": "unsupported version 2; this instance reads version 1"}
    ]
    response = await import_into(client, jane, {**document, "format": "something-else"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "format"]


async def test_malformed_json_a_wrong_type_and_a_huge_body_are_refused(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    malformed = await client.post(
        "/api/v1/import",
        content=b'{"format": ',
        headers={**jane, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["loc"] == ["body"]
    wrong_type = await client.post(
        "/api/v1/import", content=b"{}", headers={**jane, "Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    huge = await client.post(
        "/api/v1/import",
        content=b" " * (10 * 1024 * 1024 + 1),
        headers={**jane, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.headers["content-type"] == "application/problem+json"


async def test_an_import_retried_with_its_idempotency_key_adds_nothing_twice(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    await create_interview(client, jane)
    document = await export_of(client, jane)
    keyed = {**jane, "Idempotency-Key": "import-1"}
    first = await import_into(client, keyed, document)
    second = await import_into(client, keyed, document)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert len((await export_of(client, jane))["interviews"]) == 2


async def test_an_export_file_uploaded_from_a_form_imports_the_same(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    await create_interview(client, jane)
    document = await export_of(client, jane)
    bob = await user_headers(client, "bob@example.com", "Bob Brown")
    response = await client.post(
        "/api/v1/import",
        files={"file": ("export.json", json.dumps(document).encode(), "application/json")},
        headers=bob,
    )
    assert response.status_code == 201, response.text
    assert normalised(await export_of(client, bob)) == normalised(document)
    missing = await client.post("/api/v1/import", files={"other": ("x", b"")}, headers=bob)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "file"]


async def test_an_export_holds_only_your_own_data(client: httpx.AsyncClient, jane: Headers) -> None:
    await create_interview(client, jane, company="Jane's secret employer")
    bob = await user_headers(client, "bob@example.com", "Bob Brown")
    response = await client.get("/api/v1/export", headers=bob)
    assert response.json()["interviews"] == []
    assert "secret employer" not in response.text


async def test_one_persons_thank_you_listed_twice_under_two_spellings_is_a_422(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    await create_interview(client, jane)
    document = await export_of(client, jane)
    interview = document["interviews"][0]
    (thank_you,) = [f for f in interview["followups"] if f["kind"] == "thank_you"]
    twin = {
        **thank_you,
        "plan_key": thank_you["plan_key"].upper().replace("THANK_YOU", "thank_you"),
    }
    interview["followups"].append(twin)
    response = await import_into(client, jane, document)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "loc": [
                "body",
                "interviews",
                0,
                "followups",
                len(interview["followups"]) - 1,
                "plan_key",
            ],
            "msg": "listed twice on this interview",
        }
    ]


async def test_an_interview_from_an_invite_keeps_its_uid_across_export_and_import(
    client: httpx.AsyncClient, jane: Headers
) -> None:

    made = (await send(client, jane, "outlook.ics", expected=201)).json()
    exported = await export_of(client, jane)
    [kept] = [i for i in exported["interviews"] if i["invite_uid"] == made["invite_uid"]]
    assert kept["invite_sequence"] == made["invite_sequence"]

    # Into the same account it would be a second interview from one invite: refused whole.
    before = await export_of(client, jane)
    again = await import_into(client, jane, exported)
    assert again.status_code == 422, again.text
    assert again.json()["errors"][0]["loc"] == ["body", "interviews", 0, "invite_uid"]
    assert normalised(await export_of(client, jane)) == normalised(before)

    # Into a new account it is that invite's interview: its update moves it, not a new one.
    bob = await user_headers(client, "bob@example.com", "Bob Brown")
    assert (await import_into(client, bob, exported)).status_code == 201
    updated = await send(client, bob, "outlook_update.ics", expected=200)
    assert updated.json()["starts_at"] != made["starts_at"]
    assert len((await export_of(client, bob))["interviews"]) == 1
