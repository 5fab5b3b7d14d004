"""CSV import of interviews: a preview with per-row errors, then all rows or none."""

from __future__ import annotations

from typing import Any

import httpx

Headers = dict[str, str]
CSV = {"Content-Type": "text/csv"}

GOOD = (
    "\ufeffCompany,ROLE,Date,Time,TimeZone,People,stage,duration_minutes,location,notes\r\n"
    "Acme Corp,Backend Engineer,2026-12-01,15:00,Europe/Berlin,"
    '"Jane Doe <jane@acme.example> (hiring_manager); Sam Lee (interviewer)",Onsite,90,'
    'Berlin office,"Two lines,\nwith a comma"\r\n'
    "Globex,Platform Engineer,2026-12-03,09:30,,Ann Lee <ann@globex.example> (Recruiter),,,,\r\n"
)


async def post_csv(
    client: httpx.AsyncClient, headers: Headers, text: str, **params: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/import/csv", content=text.encode(), headers={**headers, **CSV}, params=params
    )


async def interviews_of(client: httpx.AsyncClient, headers: Headers) -> list[dict[str, Any]]:
    return (await client.get("/api/v1/interviews", headers=headers)).json()["items"]  # type: ignore[no-any-return]


async def test_a_good_file_creates_every_interview_with_its_follow_ups_planned(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    await client.patch("/api/v1/me", json={"timezone": "America/New_York"}, headers=jane)
    response = await post_csv(client, jane, GOOD)
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 2
    acme, globex = await interviews_of(client, jane)
    assert acme["starts_at"] == "2026-12-01T14:00:00Z"  # 15:00 in Berlin
    assert globex["starts_at"] == "2026-12-03T14:30:00Z"  # 09:30 in the user's New York
    assert [(p["name"], p["email"], p["role"]) for p in acme["people"]] == [
        ("Jane Doe", "jane@acme.example", "hiring_manager"),
        ("Sam Lee", None, "interviewer"),
    ]
    assert (acme["duration_minutes"], acme["stage"], acme["notes"]) == (
        90,
        "Onsite",
        "Two lines,\nwith a comma",
    )
    kinds = sorted(f["kind"] for f in acme["followups"])
    assert kinds == ["check_in", "thank_you"]
    assert response.json()["interview_ids"] == [acme["id"], globex["id"]]


async def test_the_preview_shows_each_row_and_names_the_column_of_each_error(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    text = (
        "company,role,date,time,timezone,people\n"
        "Acme,Engineer,2026-12-01,15:00,Europe/Berlin,Sam Lee (interviewer)\n"
        "Globex,Engineer,01/12/2026,25:00,Mars/Olympus,Sam Lee; Ann <not-an-email> (boss)\n"
        "\n"
        f"{'x' * 201},,2026-02-30,09:00,,\n"
    )
    response = await post_csv(client, jane, text, dry_run="true")
    assert response.status_code == 200, response.text
    preview = response.json()
    assert (preview["valid"], preview["invalid"]) == (1, 2)
    good, bad, worse = preview["rows"]
    assert (good["line"], good["starts_at"], good["errors"]) == (2, "2026-12-01T14:00:00Z", [])
    assert good["people"] == [{"name": "Sam Lee", "email": None, "role": "interviewer"}]
    columns = {e["column"] for e in bad["errors"]}
    assert bad["line"] == 3
    assert {"date", "time", "timezone", "people"} <= columns
    assert any("person 1 (Sam Lee): add a role" in e["msg"] for e in bad["errors"])
    assert any("unknown role 'boss'" in e["msg"] for e in bad["errors"])
    assert worse["line"] == 5  # the blank line is skipped but counted
    assert {e["column"] for e in worse["errors"]} == {"company", "role", "date"}
    assert await interviews_of(client, jane) == []


async def test_an_import_with_any_bad_row_creates_nothing_and_lists_every_row_error(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    text = (
        "company,role,date,time\n"
        "Acme,Engineer,2026-12-01,15:00\n"
        "Globex,Engineer,2026-12-01,7pm\n"
        "Initech,,2026-12-01,10:00\n"
    )
    response = await post_csv(client, jane, text)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["loc"] for e in errors] == [["body", 3, "time"], ["body", 4, "role"]]
    assert await interviews_of(client, jane) == []


async def test_a_wall_time_skipped_by_daylight_saving_moves_forward_by_the_gap(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    text = "company,role,date,time,timezone\nAcme,Engineer,2026-03-08,02:30,America/New_York\n"
    preview = (await post_csv(client, jane, text, dry_run="true")).json()
    assert preview["rows"][0]["starts_at"] == "2026-03-08T07:30:00Z"  # 03:30 EDT


async def test_a_bad_header_an_empty_file_and_too_many_rows_are_422s(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    missing = await post_csv(client, jane, "company,role,date\nAcme,Eng,2026-12-01\n")
    assert missing.json()["errors"] == [
        {"loc": ["body", 1, "header"], "msg": "the column 'time' is missing"}
    ]
    unknown = await post_csv(client, jane, "company,role,date,time,salary\n", dry_run="true")
    assert unknown.status_code == 422
    assert "unknown column 'salary'" in unknown.json()["detail"]
    empty = await post_csv(client, jane, "")
    assert (empty.status_code, empty.json()["errors"][0]["loc"]) == (422, ["body"])
    only_header = await post_csv(client, jane, "company,role,date,time\n")
    assert only_header.status_code == 422
    rows = "company,role,date,time\n" + "Acme,Eng,2026-12-01,10:00\n" * 1001
    too_many = await post_csv(client, jane, rows, dry_run="true")
    assert too_many.status_code == 422
    assert "at most 1,000 rows" in too_many.json()["detail"]
    not_utf8 = await client.post(
        "/api/v1/import/csv", content="café".encode("latin-1"), headers={**jane, **CSV}
    )
    assert not_utf8.status_code == 422
    assert "UTF-8" in not_utf8.json()["detail"]


async def test_an_uploaded_file_works_like_a_text_csv_body(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    response = await client.post(
        "/api/v1/import/csv",
        files={"file": ("interviews.csv", GOOD.encode(), "text/csv")},
        headers=jane,
    )
    assert response.status_code == 201, response.text
    assert len(await interviews_of(client, jane)) == 2


async def test_the_sample_csv_linked_from_settings_imports_cleanly(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    sample = await client.get("/settings/sample.csv")
    assert sample.headers["content-type"].startswith("text/csv")
    preview = (await post_csv(client, jane, sample.text, dry_run="true")).json()
    assert preview["invalid"] == 0 and preview["valid"] == 2


async def test_the_preview_for_htmx_is_a_table_with_a_confirm_button_only_when_all_rows_are_good(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    htmx = {**jane, **CSV, "HX-Request": "true"}
    good = await client.post("/api/v1/import/csv?dry_run=true", content=GOOD, headers=htmx)
    assert good.headers["content-type"].startswith("text/html")
    assert "<table" in good.text and "Import 2 interviews" in good.text
    bad = await client.post(
        "/api/v1/import/csv?dry_run=true",
        content="company,role,date,time\nAcme,Eng,2026-13-01,10:00\n",
        headers=htmx,
    )
    assert "date: is not a date in the calendar" in bad.text
    assert "Import 0" not in bad.text and 'hx-post="/api/v1/import/csv"' not in bad.text


async def test_a_huge_people_cell_is_read_in_linear_time_and_refused_clearly(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    cell = " " * 120_000 + "<"
    text = f'company,role,date,time,people\nAcme,Eng,2026-12-01,10:00,"{cell}"\n'
    preview = await post_csv(client, jane, text, dry_run="true")
    assert preview.status_code == 200
    (error,) = preview.json()["rows"][0]["errors"]
    assert error["column"] == "people" and "Name <email> (role)" in error["msg"]
