"""Self-hosting pieces without a Docker engine: compose.yaml, .env.example, the Dockerfile and
the release workflow say what the README promises; the image's command migrates once (one
step, under a lock when several start together) and serves; the entrypoint, the worker and
`FOLLOWUP_MIGRATE=0` migrate nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import __version__
from app.config import Settings
from app.db import sync_url
from tests.browser.live import free_port
from tests.helpers import POSTGRES, migrate

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
    assert db["image"].startswith("docker.io/library/postgres:")
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


def test_compose_runs_the_released_image_of_this_version_or_builds_it() -> None:
    for name in ("app", "worker"):
        service = _compose()["services"][name]
        image = re.fullmatch(r"\$\{FOLLOWUP_IMAGE:-(.+)\}", service["image"])
        assert image is not None, "FOLLOWUP_IMAGE may name another image"
        assert image.group(1) == f"ghcr.io/followup-app/followup:{__version__}"
        assert service["build"] == "."


def test_compose_names_every_image_with_its_registry() -> None:
    """Podman and strict Docker setups refuse short names (`postgres:15`)."""
    for service in _compose()["services"].values():
        image = service["image"].removeprefix("${FOLLOWUP_IMAGE:-")
        registry = image.split("/")[0]
        assert "." in registry, f"{image} does not name its registry"
    for line in re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M):
        assert line.startswith("docker.io/library/"), line


def test_compose_gives_the_worker_time_to_finish_and_passes_the_password_apart() -> None:
    services = _compose()["services"]
    assert services["worker"]["stop_grace_period"] == "30s"
    for name in ("app", "worker"):
        environment = services[name]["environment"]
        url = make_url(environment["DATABASE_URL"])
        assert url.password is None and url.host == "db" and url.username == "followup"
        # libpq (migrations, pg_dump) and asyncpg (serving) read it from PGPASSWORD.
        assert environment["PGPASSWORD"] == "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}"
    # Why: inside a URL, an `@` in the password moves the host.
    assert make_url("postgresql://followup:p@ss@db:5432/followup").host != "db"


@pytest.mark.skipif(not POSTGRES, reason="needs Postgres: set TEST_DATABASE_URL")
def test_a_url_without_password_and_pgpassword_with_any_character_migrate_and_serve(
    empty_database: str, tmp_path: Path
) -> None:
    bare = make_url(empty_database).set(password=None).render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        cwd=tmp_path,
        env=_environment(bare, PGPASSWORD="p@ss/w#rd?%"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(_alembic_versions(empty_database)) == 1


def test_compose_uses_the_postgres_major_version_of_the_images_pg_dump() -> None:
    """`followup backup` runs pg_dump from the app image; it refuses a newer server."""
    db_major = re.search(r"postgres:(\d+)", _compose()["services"]["db"]["image"])
    assert db_major is not None
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "bookworm" in dockerfile and "postgresql-client" in dockerfile
    assert db_major.group(1) == "15", "Debian bookworm's postgresql-client is 15"


def test_env_example_names_only_settings_the_app_reads() -> None:
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert {"POSTGRES_PASSWORD", "SECRET_KEY", "FOLLOWUP_BASE_URL"} <= names
    unknown = names - _setting_names() - {"POSTGRES_PASSWORD"}
    assert not unknown, f".env.example names settings the app does not read: {unknown}"


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_dockerfile_runs_as_non_root_with_a_healthcheck_and_the_entrypoint() -> None:
    dockerfile = _dockerfile()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r'^HEALTHCHECK .*\n\s+CMD \["followup", "healthcheck"\]', dockerfile, re.M)
    assert 'ENTRYPOINT ["followup-entrypoint"]' in dockerfile
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M):
        for path in source.split():
            assert (ROOT / path).exists(), f"the Dockerfile copies {path}, which is missing"
    assert os.access(ENTRYPOINT, os.X_OK)


def test_dockerfile_installs_dependencies_before_copying_the_code() -> None:
    """A code change rebuilds one small layer; the dependencies' stays cached."""
    lines = _dockerfile().splitlines()
    dependencies = next(i for i, line in enumerate(lines) if "-r requirements.txt" in line)
    code = next(i for i, line in enumerate(lines) if line.startswith("COPY app "))
    first_copy = next(i for i, line in enumerate(lines) if line.startswith("COPY "))
    assert lines[first_copy] == "COPY pyproject.toml constraints.txt ./"
    assert first_copy < dependencies < code
    assert _dockerfile().count("--mount=type=cache,target=/root/.cache/pip") == 2
    assert "pip uninstall --yes pip setuptools wheel" in _dockerfile()


def test_dockerfile_labels_the_image_the_oci_way() -> None:
    labels = set(re.findall(r"(org\.opencontainers\.image\.[a-z.]+)=", _dockerfile()))
    assert {
        "org.opencontainers.image.title",
        "org.opencontainers.image.version",
        "org.opencontainers.image.revision",
        "org.opencontainers.image.created",
        "org.opencontainers.image.licenses",
    } <= labels
    assert f"ARG VERSION={__version__}" in _dockerfile()


def test_the_image_runs_under_any_uid_of_group_0_with_data_group_writable() -> None:
    dockerfile = _dockerfile()
    assert "USER 10001:0" in dockerfile
    assert "chown 10001:0 /data && chmod 2775 /data" in dockerfile


def test_the_image_trusts_forwarded_headers_from_private_networks_only() -> None:
    from uvicorn.middleware.proxy_headers import _TrustedHosts

    value = re.search(r"FORWARDED_ALLOW_IPS=(\S+)", _dockerfile())
    assert value is not None and "*" not in value.group(1)
    trusted = _TrustedHosts(value.group(1))
    for proxy in ("127.0.0.1", "10.1.2.3", "172.18.0.5", "192.168.1.10", "::1", "fd00::5"):
        assert proxy in trusted, proxy
    for stranger in ("203.0.113.9", "8.8.8.8", "172.32.0.1", "2001:db8::1"):
        assert stranger not in trusted, stranger


def test_the_release_workflow_builds_both_platforms_and_pushes_tags_to_ghcr() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    steps = workflow["jobs"]["image"]["steps"]
    uses = [str(step.get("uses", "")) for step in steps]
    build = next(
        step for step in steps if str(step.get("uses", "")).startswith("docker/build-push")
    )
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["push"] == "${{ startsWith(github.ref, 'refs/tags/v') }}"
    assert "labels" in build["with"]
    meta = steps[next(i for i, name in enumerate(uses) if name.startswith("docker/metadata"))]
    assert meta["with"]["images"] == "ghcr.io/${{ github.repository_owner }}/followup"
    assert workflow["jobs"]["image"]["permissions"]["packages"] == "write"


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
            ["followup", "migrate", "--wait", "30"],
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


@contextmanager
def _serving(database_url: str, tmp_path: Path, **extra: str) -> Iterator[tuple[int, Path]]:
    """The image's command, `followup-entrypoint followup serve`, on FOLLOWUP_PORT; yields the
    port and the log file once /healthz answers."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            ["sh", str(ENTRYPOINT), "followup", "serve"],
            cwd=tmp_path,
            env=_environment(database_url, FOLLOWUP_PORT=str(port), **extra),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
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
        assert process.poll() is None, log.read_text()
        yield port, log
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.skipif(not POSTGRES, reason="the image runs against Postgres: set TEST_DATABASE_URL")
def test_the_image_command_migrates_once_then_serves(empty_database: str, tmp_path: Path) -> None:
    with _serving(empty_database, tmp_path) as (port, log):
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", trust_env=False)
        assert health.json() == {"status": "ok", "version": __version__}
        checked = subprocess.run(
            ["followup", "healthcheck"],
            env=_environment(empty_database, FOLLOWUP_PORT=str(port)),
            capture_output=True,
            timeout=30,
        )
        assert checked.returncode == 0, checked.stderr
    output = log.read_text()
    assert output.count("migrated from empty") == 1, output
    assert "up to date" not in output, "one migration step per start, not two"


def test_healthcheck_fails_when_nothing_answers() -> None:
    done = subprocess.run(
        ["followup", "healthcheck", "--port", str(free_port()), "--timeout", "1"],
        env=_environment("sqlite://"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1 and "unhealthy" in done.stderr


def test_serve_gives_up_with_a_clear_message_when_the_database_never_answers(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens there
    done = subprocess.run(
        ["sh", str(ENTRYPOINT), "followup", "serve"],
        cwd=tmp_path,
        env=_environment(f"postgresql://postgres@127.0.0.1:{port}/followup", FOLLOWUP_DB_WAIT="2"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "did not answer within 2 s" in done.stderr and "not serving" in done.stderr


def test_the_entrypoint_migrates_nothing(tmp_path: Path) -> None:
    database = tmp_path / "data" / "followup.db"
    done = subprocess.run(
        ["sh", str(ENTRYPOINT), "echo", "ran"],
        cwd=tmp_path,
        env=_environment(f"sqlite:///{database}", FOLLOWUP_DATA_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0 and done.stdout == "ran\n", done.stderr
    assert not database.exists()


def test_the_entrypoint_says_clearly_when_the_data_folder_is_not_writable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o555)
    command = ["sh", str(ENTRYPOINT), "echo", "ran"]
    if os.getuid() == 0:  # root writes anywhere: run as nobody, as a container might
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    done = subprocess.run(
        command,
        cwd="/",
        env=_environment("sqlite://", FOLLOWUP_DATA_DIR=str(data)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert f"the data folder {data} is not writable by uid" in done.stderr
    assert "chown" in done.stderr


def test_serve_with_migrate_0_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    database = tmp_path / "followup.db"
    done = subprocess.run(
        ["followup", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=_environment(f"sqlite:///{database}", FOLLOWUP_MIGRATE="0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "the database has no schema yet" in done.stderr
    assert "Run `followup migrate` first" in done.stderr and "not serving" in done.stderr
    assert not database.exists()


def test_serve_makes_the_first_admin_from_the_environment_and_logs_json(tmp_path: Path) -> None:
    secret = tmp_path / "admin-password"
    secret.write_text("a long admin password\n")
    url = f"sqlite:///{tmp_path / 'followup.db'}"
    settings = {
        "FOLLOWUP_ADMIN_EMAIL": "Admin@Example.com",
        "FOLLOWUP_ADMIN_PASSWORD_FILE": str(secret),
        "FOLLOWUP_REGISTRATION": "open",
        "LOG_FORMAT": "json",
        "FOLLOWUP_ACCESS_LOG": "1",
    }
    with _serving(url, tmp_path, **settings) as (port, log):
        base = f"http://127.0.0.1:{port}"
        login = {"email": "admin@example.com", "password": "a long admin password"}
        signed_in = httpx.post(f"{base}/api/v1/auth/login", json=login, trust_env=False)
        assert signed_in.status_code == 200 and signed_in.json()["user"]["is_admin"] is True
        body = {"email": "eve@example.com", "password": "another password", "display_name": "Eve"}
        eve = httpx.post(f"{base}/api/v1/auth/register", json=body, trust_env=False)
        assert eve.status_code == 201 and eve.json()["is_admin"] is False
        request_id = eve.headers["x-request-id"]
    # A second start finds an account and makes nothing.
    with _serving(url, tmp_path, **settings) as (_port, second_log):
        pass
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "followup.access"]
    assert {"method": "POST", "path": "/api/v1/auth/register", "status": 201}.items() <= next(
        line for line in access if line["request_id"] == request_id
    ).items()
    assert any(line["logger"].startswith("uvicorn") for line in lines), "uvicorn's too"
    assert "Created the first admin, admin@example.com." in log.read_text()
    assert "Created the first admin" not in second_log.read_text()
    assert "a long admin password" not in log.read_text()


def test_the_worker_never_migrates_it_waits_for_the_schema_then_refuses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'followup.db'}"
    command = ["followup", "worker", "--once"]
    refused = subprocess.run(
        command,
        cwd=tmp_path,
        env=_environment(url, FOLLOWUP_DB_WAIT="0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "followup worker: the database has no schema yet" in refused.stderr
    assert not (tmp_path / "followup.db").exists()

    waiting = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=_environment(url, FOLLOWUP_DB_WAIT="60"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2)
    assert waiting.poll() is None, "it waits for `followup serve` to migrate"
    migrate(url)
    _out, errors = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, errors
