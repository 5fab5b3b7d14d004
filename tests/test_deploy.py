"""Self-hosting pieces without a Docker engine: compose.yaml, .env.example and the Dockerfile
say what the README promises, and the image's entrypoint script migrates once and serves when
several processes start together against one Postgres."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from app.config import Settings
from app.db import sync_url
from tests.browser.live import free_port
from tests.conftest import POSTGRES

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _setting_names() -> set[str]:
    return {
        str(field.validation_alias)
        for field in Settings.model_fields.values()
        if field.validation_alias is not None
    }


def test_compose_runs_the_app_the_worker_and_postgres_with_a_volume_and_a_healthcheck() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"app", "worker", "db"}

    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "Postgres keeps its data in a named volume"

    for name in ("app", "worker"):
        service = services[name]
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert "@db:5432/" in service["environment"]["DATABASE_URL"]
        assert "SECRET_KEY" in service["environment"], "replicas and the worker share one secret"
        assert service["env_file"] == ".env"
    assert services["worker"]["command"] == ["followup", "worker"]
    assert services["app"]["ports"] == ["127.0.0.1:8000:8000"]


def test_compose_uses_the_postgres_major_version_of_the_images_pg_dump() -> None:
    """`followup backup` runs pg_dump from the app image; it refuses a newer server."""
    db_major = re.match(r"postgres:(\d+)", _compose()["services"]["db"]["image"])
    assert db_major is not None
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "bookworm" in dockerfile and "postgresql-client" in dockerfile
    assert db_major.group(1) == "15", "Debian bookworm's postgresql-client is 15"


def test_env_example_names_only_settings_the_app_reads() -> None:
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert {"POSTGRES_PASSWORD", "SECRET_KEY", "FOLLOWUP_BASE_URL"} <= names
    unknown = names - _setting_names() - {"POSTGRES_PASSWORD"}
    assert not unknown, f".env.example names settings the app does not read: {unknown}"


def test_dockerfile_runs_as_non_root_with_a_healthcheck_and_the_entrypoint() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD .*/healthz", dockerfile, re.M)
    assert 'ENTRYPOINT ["followup-entrypoint"]' in dockerfile
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M):
        for path in source.split():
            assert (ROOT / path).exists(), f"the Dockerfile copies {path}, which is missing"
    assert os.access(ENTRYPOINT, os.X_OK)


# -- the entrypoint, outside Docker, against Postgres ------------------------------------------


def _environment(database_url: str, **extra: str) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "entrypoint-test-secret",
        **extra,
    }


def _alembic_versions(database_url: str) -> list[str]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
    finally:
        engine.dispose()


@pytest.mark.skipif(not POSTGRES, reason="replicas share one Postgres: set TEST_DATABASE_URL")
def test_processes_starting_together_migrate_once(empty_database: str, tmp_path: Path) -> None:
    starts = [
        subprocess.Popen(
            ["sh", str(ENTRYPOINT), "true"],
            cwd=tmp_path,
            env=_environment(empty_database),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [start.communicate(timeout=120)[0] for start in starts]

    assert [start.returncode for start in starts] == [0, 0, 0], outputs
    migrated = [output for output in outputs if "migrated from empty" in output]
    assert len(migrated) == 1, outputs
    assert sum("is up to date" in output for output in outputs) == 2, outputs
    assert len(_alembic_versions(empty_database)) == 1


@pytest.mark.skipif(not POSTGRES, reason="the image runs against Postgres: set TEST_DATABASE_URL")
def test_entrypoint_migrates_then_serves(empty_database: str, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "entrypoint.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [
                "sh",
                str(ENTRYPOINT),
                "followup",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=tmp_path,
            env=_environment(empty_database),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        health = None
        for _ in range(300):
            if process.poll() is not None:
                break
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1, trust_env=False)
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        assert health is not None and health.json() == {"status": "ok"}, log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "migrated from empty" in log.read_text()


def test_entrypoint_gives_up_with_a_clear_message_when_the_database_never_answers(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens there
    done = subprocess.run(
        ["sh", str(ENTRYPOINT), "true"],
        cwd=tmp_path,
        env=_environment(f"postgresql://postgres@127.0.0.1:{port}/followup", FOLLOWUP_DB_WAIT="2"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "did not answer within 2 s" in done.stderr
