"""The README and docs/ stay true: every relative link points to a file that exists, and the
README's first interview with `curl`, pasted into a shell, works against a live server on
whatever day it runs (the suite also runs a year ahead and a year back under faketime)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
PASSWORD = "correct horse battery staple"


def _links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def test_the_docs_are_there() -> None:
    names = {page.name for page in PAGES}
    assert {"api.md", "self-hosting.md", "operations.md", "performance.md", "design.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_relative_links_point_to_existing_files(page: Path) -> None:
    broken = [
        target
        for target in _links(page)
        if target.split("#")[0] and not (page.parent / target.split("#")[0]).exists()
    ]
    assert broken == []


def test_the_readme_links_every_guide() -> None:
    readme_links = {target.split("#")[0] for target in _links(ROOT / "README.md")}
    for page in PAGES[1:]:
        assert f"docs/{page.name}" in readme_links


def _walk_through() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A first interview with `curl`", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_walk_through_has_no_placeholders_or_fixed_dates() -> None:
    script = _walk_through()
    assert not re.search(r"\d{4}-\d{2}-\d{2}", script)
    assert not re.search(r"\b[A-Z]+_ID\b(?!=)", script.replace("$FOLLOWUP_ID", ""))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through needs curl")
def test_the_readme_walk_through_works_on_any_date(tmp_path: Path) -> None:
    """The README's block runs as written (only the port differs) against a fresh instance on
    the machine's own clock, and ends with the due thank-you note marked sent."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("FOLLOWUP_NOW")
    }
    environment |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'readme.db'}",
        "FOLLOWUP_BASE_URL": base,
        "SECRET_KEY": "readme-secret",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}",
    }
    script = Path(sys.executable).with_name("followup")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

        walk = _walk_through().replace("B=http://127.0.0.1:8000", f"B={base}", 1)
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", walk],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr

        with httpx.Client(base_url=base, trust_env=False) as client:
            token = client.post(
                "/api/v1/tokens", auth=("jane@example.com", PASSWORD), json={"name": "check"}
            ).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            interviews = client.get("/api/v1/interviews", headers=headers).json()["items"]
            followups = client.get("/api/v1/followups", headers=headers).json()["items"]
            me = client.get("/api/v1/me", headers=headers).json()
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert me["timezone"] == "Europe/Berlin"
    assert [interview["company"] for interview in interviews] == ["Acme Corp"]
    sent = [followup for followup in followups if followup["status"] == "sent"]
    assert [(f["kind"], f["recipient_email"]) for f in sent] == [("thank_you", "ann@example.com")]
