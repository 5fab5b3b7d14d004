"""Settings → Your data in a real browser: the CSV preview, its confirmation, a JSON import
and the download link."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.live import User, api

BAD_CSV = (
    "company,role,date,time,people\n"
    "Acme Corp,Backend Engineer,2026-12-01,15:00,Sam Lee (interviewer)\n"
    "Globex,Platform Engineer,2026-12-32,15:00,Ann Lee\n"
)
GOOD_CSV = (
    "company,role,date,time,people\n"
    "Acme Corp,Backend Engineer,2026-12-01,15:00,Sam Lee (interviewer)\n"
    "Globex,Platform Engineer,2026-12-03,09:30,Ann Lee <ann@globex.example> (recruiter)\n"
)


def test_a_csv_preview_shows_row_errors_and_a_good_file_imports_on_confirm(
    page: Page, signed_up: User, tmp_path: Path
) -> None:
    page.goto("/settings")
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(BAD_CSV)
    good.write_text(GOOD_CSV)

    page.get_by_label("CSV file", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="Preview import", exact=True).click()
    preview = page.locator("#csv-preview")
    expect(preview).to_contain_text("1 row ready, 1 with errors")
    line_3 = page.locator("#csv-line-3")
    expect(line_3).to_contain_text("date: is not a date in the calendar")
    expect(line_3).to_contain_text("people: person 1 (Ann Lee): add a role")
    expect(page.locator("#csv-line-2")).to_contain_text("OK")
    expect(preview.get_by_role("button")).to_have_count(0)  # nothing to confirm

    page.get_by_label("CSV file", exact=True).set_input_files(str(good))
    page.get_by_role("button", name="Preview import", exact=True).click()
    expect(preview).to_contain_text("2 rows ready")
    page.get_by_role("button", name="Import 2 interviews", exact=True).click()
    expect(preview).to_contain_text("Imported 2 interviews")
    expect(page.locator("#flash")).to_have_text("Import done.")

    items = api(page, "GET", "/api/v1/interviews")["items"]
    assert [i["company"] for i in items] == ["Acme Corp", "Globex"]
    assert all(i["followups"] for i in items)


def test_an_export_file_imports_from_settings_and_the_download_link_gives_it(
    page: Page, signed_up: User, tmp_path: Path
) -> None:
    page.goto("/settings")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my data", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.startswith("followup-export-")
    document = json.loads(Path(download.path()).read_text())
    assert document["format"] == "followup-export" and document["interviews"] == []

    document["interviews"] = [
        {
            "id": "0b0f5d8e-3f6c-4c52-9a55-0e9a0d7f1a01",
            "company": "Imported Inc",
            "role": "Engineer",
            "starts_at": "2026-12-01T14:00:00Z",
            "created_at": "2026-11-28T10:00:00Z",
            "updated_at": "2026-11-28T10:00:00Z",
        }
    ]
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(document))
    page.get_by_label("Export file (.json)", exact=True).set_input_files(str(exported))
    page.get_by_role("button", name="Import export file", exact=True).click()
    expect(page.locator("#data-import-result")).to_contain_text("Imported 1 interview")

    broken = tmp_path / "broken.json"
    broken.write_text('{"format": ')
    page.get_by_label("Export file (.json)", exact=True).set_input_files(str(broken))
    page.get_by_role("button", name="Import export file", exact=True).click()
    expect(page.locator("#alerts")).to_contain_text("Malformed JSON")
    assert [i["company"] for i in api(page, "GET", "/api/v1/interviews")["items"]] == [
        "Imported Inc"
    ]
