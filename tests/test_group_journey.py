"""A group's instance end to end, as issue 6 states it done: the admin invites a member, the
member records an interview, sends the thank-you and shares counts on the board, and a backup
taken while the instance runs is restored into a second instance with nothing missing."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from app import clock
from tests.browser.live import followup_command, serve
from tests.helpers import PASSWORD


def _token(client: httpx.Client, email: str) -> dict[str, str]:
    made = client.post("/api/v1/tokens", json={"name": "journey"}, auth=(email, PASSWORD))
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


def _register(client: httpx.Client, email: str, name: str, code: str | None = None) -> Any:
    body: dict[str, Any] = {"email": email, "password": PASSWORD, "display_name": name}
    if code is not None:
        body["invite_code"] = code
    return client.post("/api/v1/auth/register", json=body)


def _followup(database_url: str, workdir: Path, *argv: str) -> str:
    done = subprocess.run(
        [*followup_command(), *argv],
        cwd=workdir,
        env={**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "browser-secret"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _without_moment(export: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in export.items() if key != "exported_at"}


def test_a_group_invites_records_shares_and_survives_a_restore_on_a_second_instance(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    first, second = new_database(), new_database()
    with (
        serve(first, tmp_path, FOLLOWUP_REGISTRATION="invite") as instance,
        httpx.Client(base_url=instance.base_url, trust_env=False, timeout=30) as client,
    ):
        assert _register(client, "ada@example.com", "Ada Admin").status_code == 201
        admin = _token(client, "ada@example.com")

        # Invite-only: no code, no account; the admin's invite admits exactly one person.
        assert _register(client, "eve@example.com", "Eve").status_code in {403, 422}
        invite = client.post(
            "/api/v1/admin/invites", json={"note": "Dana, May cohort"}, headers=admin
        )
        assert invite.status_code == 201, invite.text
        code = invite.json()["code"]
        assert _register(client, "dana@example.com", "Dana Member", code).status_code == 201
        assert _register(client, "sam@example.com", "Sam", code).status_code in {403, 409, 422}
        dana = _token(client, "dana@example.com")

        # Dana records an interview that ended yesterday and sends the thank-you on time.
        starts_at = (clock.now() - timedelta(days=1)).replace(microsecond=0)
        interview = client.post(
            "/api/v1/interviews",
            json={
                "company": "Acme Corp",
                "role": "Backend Engineer",
                "starts_at": starts_at.isoformat(),
                "notes": "private: salary talk",
                "people": [
                    {"name": "Ann Lee", "email": "ann@acme.example.com", "role": "interviewer"}
                ],
            },
            headers=dana,
        )
        assert interview.status_code == 201, interview.text
        thank_you = next(f for f in interview.json()["followups"] if f["kind"] == "thank_you")
        sent = client.patch(
            f"/api/v1/followups/{thank_you['id']}", json={"status": "sent"}, headers=dana
        )
        assert sent.status_code == 200, sent.text
        shared = client.patch("/api/v1/me", json={"board_sharing": "counts"}, headers=dana)
        assert shared.status_code == 200, shared.text

        board = client.get("/api/v1/group/board", headers=admin).json()
        [row] = board["members"]
        assert row["display_name"] == "Dana Member"
        this_week = row["weeks"][-1] if row["weeks"][-1]["interviews"] else row["weeks"][-2]
        assert this_week["interviews"] == 1
        assert sum(week["thank_yous_on_time"] for week in row["weeks"]) == 1
        assert row["streak"] >= 1
        assert "Acme" not in str(board) and "salary" not in str(board)
        assert board["members_not_sharing"] == 1  # Ada shares nothing

        exported = client.get("/api/v1/export", headers=dana).json()
        members = client.get("/api/v1/admin/users", headers=admin).json()["items"]

        # A backup while the instance runs, restored into a second, empty instance.
        backup = tmp_path / "group.backup"
        _followup(first, tmp_path, "backup", str(backup))

    _followup(second, tmp_path, "restore", str(backup))
    with (
        serve(second, tmp_path, FOLLOWUP_REGISTRATION="invite") as restored,
        httpx.Client(base_url=restored.base_url, trust_env=False, timeout=30) as client,
    ):
        # The same tokens open the same accounts: nothing was re-keyed or lost.
        assert client.get("/api/v1/export", headers=dana).json() | {
            "exported_at": None
        } == exported | {"exported_at": None}
        assert client.get("/api/v1/admin/users", headers=admin).json()["items"] == members
        again = client.get("/api/v1/group/board", headers=admin).json()
        assert again["members"] == board["members"]
        # The invite stays used on the restored instance.
        assert _register(client, "sam@example.com", "Sam", code).status_code in {403, 409, 422}
