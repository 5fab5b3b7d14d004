"""The wheel runs on its own: built from the checkout, installed into a fresh venv, it migrates
and serves pages from anywhere (templates/ and alembic/ travel inside it)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from app import __version__
from tests.browser.live import free_port
from tests.helpers import POSTGRES

ROOT = Path(__file__).resolve().parent.parent


def _build_wheel(into: Path) -> Path:
    # No build isolation: offline, with the venv's pinned setuptools (the dev extra).
    build = ["wheel", "--no-deps", "--no-build-isolation", "-q", "--wheel-dir", str(into)]
    subprocess.run(
        [sys.executable, "-m", "pip", *build, str(ROOT)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    (wheel,) = into.glob("followup-*.whl")
    return wheel


@pytest.mark.wheel
# The wheel serves on its own SQLite file whatever the suite's database, so the SQLite run
# covers it; CI runs the Postgres suite beside that one, and two builds from one checkout
# would share its build/ folder.
@pytest.mark.skipif(POSTGRES, reason="builds from the checkout; the SQLite run covers it")
def test_the_wheel_installed_in_a_fresh_venv_migrates_and_serves(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    assert wheel.name == f"followup-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"followup-{__version__}.dist-info/METADATA").decode()
    for shipped in (
        "app/_project/alembic.ini",
        "app/_project/alembic/env.py",
        "app/_project/templates/base.html",
        "app/static/htmx.min.js",
        f"followup-{__version__}.dist-info/licenses/LICENSE",
    ):
        assert shipped in names, shipped
    assert not any("__pycache__" in name for name in names)
    assert "License-Expression: MIT" in metadata

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = ["--python", str(python), "install", "-q", "--no-deps", str(wheel)]
    subprocess.run(
        [sys.executable, "-m", "pip", *install],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # The dependencies are the test venv's (nothing is downloaded); the app is the wheel's.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "DATABASE_URL"}}
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'followup.db'}",
        FOLLOWUP_DATA_DIR=str(workdir),
    )
    where = subprocess.run(
        [str(python), "-c", "import app; print(app.__file__)"],
        cwd=workdir,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(site), where

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [str(venv / "bin" / "followup"), "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        health = None
        for _ in range(300):
            if server.poll() is not None:
                break
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1, trust_env=False)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None, log.read_text()
        assert health.json() == {"status": "ok", "version": __version__}
        page = {"Accept": "text/html"}
        login = httpx.get(
            f"http://127.0.0.1:{port}/", headers=page, trust_env=False, follow_redirects=True
        )
        assert login.status_code == 200 and "<form" in login.text, "templates are in the wheel"
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert "migrated from empty" in log.read_text()
