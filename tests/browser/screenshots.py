"""`make screenshots`: PNGs of the main pages for the README, from a live server on a
throwaway database with a realistic account.

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

from app import clock
from tests.browser.live import PASSWORD, launch_chromium, serve

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "jane.doe@example.com"
ZONE = "Europe/Berlin"


def _ago(**delta: float) -> str:
    return (clock.now() - timedelta(**delta)).replace(microsecond=0).isoformat()


def _person(name: str, role: str, title: str) -> dict[str, str]:
    email = name.lower().replace(" ", ".") + "@example.com"
    return {"name": name, "email": email, "role": role, "title": title}


def seed(base_url: str) -> dict[str, Any]:
    """Jane, in Berlin, a few weeks into her search: interviews in different states."""
    with httpx.Client(base_url=base_url, trust_env=False, timeout=30) as client:

        def call(method: str, path: str, **kwargs: Any) -> Any:
            response = client.request(method, path, **kwargs)
            assert response.is_success, f"{method} {path}: {response.text}"
            return response.json() if response.content else None

        call(
            "POST",
            "/api/v1/auth/register",
            json={"email": EMAIL, "password": PASSWORD, "display_name": "Jane Doe"},
        )
        token = call(
            "POST", "/api/v1/tokens", json={"name": "screenshots"}, auth=(EMAIL, PASSWORD)
        )["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        call("PATCH", "/api/v1/me", json={"timezone": ZONE})

        def interview(**body: Any) -> Any:
            return call("POST", "/api/v1/interviews", json=body)

        def mark_sent(followup: dict[str, Any]) -> None:
            call("PATCH", f"/api/v1/followups/{followup['id']}", json={"status": "sent"})

        acme = interview(
            company="Acme Corp",
            role="Backend Engineer",
            stage="Onsite",
            starts_at=_ago(hours=3),
            location="Acme HQ, Torstraße 1, Berlin",
            people=[
                _person("Ann Lee", "interviewer", "Staff Engineer"),
                _person("Carl Diaz", "interviewer", "Engineering Manager"),
                _person("Bob Stone", "recruiter", "Technical Recruiter"),
            ],
            highlight="the migration of billing to event sourcing",
            excitement="owning a platform thousands of shops rely on",
        )
        interview(
            company="Globex",
            role="Platform Engineer",
            stage="Video call",
            starts_at=_ago(days=3, hours=2),
            people=[
                _person("Priya Nair", "interviewer", "Principal Engineer"),
                _person("Tom Berg", "hiring_manager", "Head of Platform"),
            ],
            highlight="how they run Kubernetes at the edge",
            excitement="the small, senior team",
        )
        initech = interview(
            company="Initech",
            role="Site Reliability Engineer",
            stage="Phone screen",
            starts_at=_ago(days=9),
            people=[_person("Lena Fischer", "hiring_manager", "SRE Lead")],
            highlight="their incident reviews",
            excitement="on-call that is taken seriously",
        )
        for followup in initech["followups"]:
            if followup["kind"] == "thank_you":
                mark_sent(followup)
        umbrella = interview(
            company="Umbrella",
            role="Data Engineer",
            stage="Final round",
            starts_at=_ago(days=20),
            people=[
                _person("Omar Haddad", "interviewer", "Data Lead"),
                _person("Eva Klein", "hr", "People Partner"),
            ],
            highlight="the streaming pipeline",
            excitement="data quality work",
        )
        for followup in umbrella["followups"]:
            if followup["kind"] == "thank_you":
                mark_sent(followup)
        call("PATCH", f"/api/v1/interviews/{umbrella['id']}", json={"outcome": "rejected"})
        call("PATCH", "/api/v1/me", json={"board_sharing": "companies"})
        call(
            "POST",
            "/api/v1/group/templates",
            json={
                "kind": "check_in",
                "name": "Short and warm check-in",
                "subject": "{role} at {company}: any news?",
                "body": "Hi {recipient_first_name},\n\nI enjoyed our conversation on "
                "{interview_date} and am still very keen on the {role} role. Is there any "
                "news on next steps?\n\nBest,\n{sender_name}",
            },
        )
        return call("GET", f"/api/v1/interviews/{acme['id']}")  # type: ignore[no-any-return]


def seed_group(base_url: str) -> None:
    """Two more members of Jane's cohort, sharing counts on the group board."""
    members = [
        ("sam@example.com", "Sam Rivera", [2, 6, 12, 15, 24, 33], "counts"),
        ("mia@example.com", "Mia Chen", [1, 4, 9, 19, 40], "companies"),
        ("leo@example.com", "Leo Park", [5], "none"),
    ]
    with httpx.Client(base_url=base_url, trust_env=False, timeout=30) as client:
        for email, name, days_ago, sharing in members:
            client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "display_name": name},
            ).raise_for_status()
            made = client.post("/api/v1/tokens", json={"name": "demo"}, auth=(email, PASSWORD))
            headers = {"Authorization": f"Bearer {made.json()['token']}"}
            client.patch(
                "/api/v1/me", json={"timezone": ZONE, "board_sharing": sharing}, headers=headers
            ).raise_for_status()
            for n, days in enumerate(days_ago):
                created = client.post(
                    "/api/v1/interviews",
                    json={
                        "company": ["Hooli", "Pied Piper", "Stark", "Wayne", "Wonka", "Vandelay"][
                            n
                        ],
                        "role": "Engineer",
                        "starts_at": _ago(days=days),
                        "people": [_person("Alex Kim", "interviewer", "Engineer")],
                    },
                    headers=headers,
                )
                created.raise_for_status()
                for followup in created.json()["followups"]:
                    if followup["kind"] == "thank_you" and followup["due_state"] != "upcoming":
                        client.patch(
                            f"/api/v1/followups/{followup['id']}",
                            json={"status": "sent", "sent_at": _ago(days=days - 1)},
                            headers=headers,
                        ).raise_for_status()


def shoot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    print(
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
        f"{path.stat().st_size // 1024} KB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="followup-screenshots-") as tmp:
        workdir = Path(tmp)
        with serve(f"sqlite:///{workdir / 'demo.db'}", workdir) as server:
            acme = seed(server.base_url)
            seed_group(server.base_url)
            thank_you = next(f for f in acme["followups"] if f["recipient_name"] == "Ann Lee")
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                context = browser.new_context(
                    base_url=server.base_url,
                    viewport={"width": 1280, "height": 800},
                    timezone_id=ZONE,
                    locale="en-GB",
                )
                page = context.new_page()
                page.goto("/login")
                shoot(page, out / "sign-in.png")
                page.get_by_label("Email", exact=True).fill(EMAIL)
                page.get_by_label("Password", exact=True).fill(PASSWORD)
                page.get_by_role("button", name="Sign in", exact=True).click()
                page.wait_for_url(re.compile(r"/$"))

                shoot(page, out / "today.png")
                page.goto("/interviews")
                shoot(page, out / "interviews.png")
                page.goto(f"/interviews/{acme['id']}")
                shoot(page, out / "interview.png")
                page.goto(f"/followups/{thank_you['id']}")
                shoot(page, out / "draft.png")
                page.goto("/settings")
                shoot(page, out / "settings.png")
                page.goto("/group")
                shoot(page, out / "group.png")
                page.goto("/admin")
                shoot(page, out / "admin.png")

                page.set_viewport_size({"width": 360, "height": 740})
                page.goto("/")
                shoot(page, out / "today-phone.png")
                page.goto(f"/interviews/{acme['id']}")
                shoot(page, out / "interview-phone.png")
                signed_out = browser.new_context(
                    base_url=server.base_url, viewport={"width": 360, "height": 740}
                )
                login = signed_out.new_page()
                login.goto("/login")
                shoot(login, out / "sign-in-phone.png")
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
