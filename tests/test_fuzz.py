"""Property-based fuzzing of the REST API: schemathesis drives a real `followup serve` with
cases drawn from the OpenAPI document, and every answer must be as documented (no 5xx, a
documented status and content type, a body that matches its schema)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation

from app.cli import openapi_json
from tests.browser.live import followup_command, free_port
from tests.helpers import PASSWORD, POSTGRES, interview_body, wipe

# Fixed, so a run is repeatable; override to explore (e.g. FUZZ_SEED=7 FUZZ_EXAMPLES=300).
SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
EMAIL = "fuzzer@example.com"
STARTUP_SECONDS = 60

# Checks left out, each because it contradicts the documented design (DESIGN.md, "REST API v1").
DISABLED_CHECKS = {
    # Expects every schema-valid request to succeed, but the contract defines 4xx answers to
    # requests no schema can rule out: a stale `If-Match` (412), an `Idempotency-Key` reused
    # with another body (422), a well-formed but made-up `cursor` or `invite_code` (422), and
    # rules across fields or stored state (`due_at` before `not_before`, `sent_at` on a
    # follow-up that is not sent, an unknown person `id`, an unknown template placeholder).
    "positive_data_acceptance",
}

# The document the server serves: `followup openapi` prints it, and the fixture checks that
# the running server serves exactly this. It is loaded here rather than fetched from the
# server, because schemathesis 4.32's lazy loader (`schemathesis.pytest.from_fixture`) reads
# `Node._nodeid`, which pytest 9 no longer has; and the explicit examples are drawn at
# collection, before any server runs.
DOCUMENT = json.loads(openapi_json())
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # The test sends real credentials; made-up ones would only get the 401 they
                # earn, and blur `ignored_auth`, which probes without and with wrong ones.
                "with-security-parameters": False,
            },
            "checks": {name: {"enabled": False} for name in DISABLED_CHECKS},
        }
    ),
)


@schemathesis.serializer("text/csv")
def csv_text(_context: Any, value: Any) -> bytes:
    """The CSV import takes text: what the fuzzer draws is sent as is, in UTF-8 (an unpaired
    surrogate makes bytes that are not UTF-8, which the endpoint must refuse with a 422)."""
    return (value if isinstance(value, str) else json.dumps(value)).encode("utf-8", "surrogatepass")


@schemathesis.serializer("text/calendar", "message/rfc822")
def invite_text(_context: Any, value: Any) -> bytes:
    """A calendar invite (or the email carrying one) is text, sent as is, like the CSV."""
    return (value if isinstance(value, str) else json.dumps(value)).encode("utf-8", "surrogatepass")


# Path parameters the fuzzer sometimes points at objects that exist (see `_seed_data`).
KNOWN_PARAMETERS = (
    "interview_id",
    "followup_id",
    "token_id",
    "feed_token",
    "webhook_id",
    "user_id",
    "invite_id",
    "template_id",
)
KNOWN, CURRENT = "known-object-", "-current"
# Operations that never answer 2xx to the fuzzer: it does not know a password that works
# (to sign in, change the password or delete the account), nor a password-reset token
# (only the emailed link carries one; tests/reminders and tests/admin use it).
NEVER_SUCCEED = {
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/password-reset/confirm",
    "POST /api/v1/me/password",
    "DELETE /api/v1/me",
}
STATUSES: defaultdict[str, set[int]] = defaultdict(set)
# Operations on the mailbox, which one DELETE removes: each case finds it there again.
MAILBOX_NEEDED = {
    "GET /api/v1/me/mailbox",
    "DELETE /api/v1/me/mailbox",
    "POST /api/v1/me/mailbox/test",
}


@dataclass
class FuzzServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    token: str = ""
    ids: dict[str, list[str]] = field(default_factory=dict)
    # Ids only DELETE gets, so deleting does not leave the other operations nothing to find.
    doomed: dict[str, list[str]] = field(default_factory=dict)


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`followup serve` exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"`followup serve` did not become healthy:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _seed_data(server: FuzzServer) -> None:
    """A user (the admin), a token, interviews with people and follow-ups, members and
    invites for the fuzzer to find."""
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=30) as client:
        registered = client.post(
            "/api/v1/auth/register",
            json={"email": EMAIL, "password": PASSWORD, "display_name": "Fuzz Tester"},
        )
        assert registered.status_code == 201, registered.text

        def new_token(name: str) -> dict[str, Any]:
            response = client.post("/api/v1/tokens", json={"name": name}, auth=(EMAIL, PASSWORD))
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

        server.token = new_token("fuzzer")["token"]
        auth = {"Authorization": f"Bearer {server.token}"}
        spare = new_token("spare")

        def new_interview(**overrides: Any) -> dict[str, Any]:
            response = client.post(
                "/api/v1/interviews", json=interview_body(**overrides), headers=auth
            )
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

        kept = [new_interview(), new_interview(company="Globex", starts_at="2026-03-02T09:30:00Z")]
        custom = client.post(
            f"/api/v1/interviews/{kept[0]['id']}/followups",
            json={"subject": "Portfolio link", "due_at": "2026-12-10T12:00:00Z"},
            headers=auth,
        )
        assert custom.status_code == 201, custom.text
        doomed = [new_interview(company=f"Doomed {n}") for n in range(3)]
        me = client.get("/api/v1/me", headers=auth).json()

        def new_webhook() -> dict[str, Any]:
            response = client.post(
                "/api/v1/webhooks",
                json={"url": "https://93.184.215.14/hook", "events": ["followup.sent"]},
                headers=auth,
            )
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

        webhooks = [new_webhook(), new_webhook()]

        def new_member(n: int) -> str:
            response = client.post(
                "/api/v1/auth/register",
                json={"email": f"m{n}@example.com", "password": PASSWORD, "display_name": "M"},
            )
            assert response.status_code == 201, response.text
            return response.json()["id"]  # type: ignore[no-any-return]

        def new_invite() -> str:
            response = client.post("/api/v1/admin/invites", json={}, headers=auth)
            assert response.status_code == 201, response.text
            return response.json()["id"]  # type: ignore[no-any-return]

        # Never the fuzzer's own id: it could make a member admin, step down itself, and
        # then every admin operation would answer 403 for the rest of the run.
        members = [new_member(n) for n in range(2)]
        invites = [new_invite() for _ in range(3)]

        def new_group_template(name: str) -> dict[str, Any]:
            # The fuzzer's account is the first, so an admin: it may publish.
            response = client.post(
                "/api/v1/group/templates",
                json={"kind": "thank_you", "name": name, "subject": "Thanks", "body": "Thank you."},
                headers=auth,
            )
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

        templates = [new_group_template(f"Shared {n}") for n in range(4)]
        server.ids = {
            "feed_token": [feed_token_of(me)],
            "interview_id": [i["id"] for i in kept],
            "followup_id": [f["id"] for i in kept for f in i["followups"]] + [custom.json()["id"]],
            "token_id": [spare["id"]],
            "webhook_id": [w["id"] for w in webhooks],
            "user_id": members,
            "invite_id": invites[:1],
            "template_id": [t["id"] for t in templates[:2]],
        }
        server.doomed = {
            "interview_id": [i["id"] for i in doomed],
            "token_id": [spare["id"]],
            "webhook_id": [webhooks[1]["id"]],
            "invite_id": invites[1:],
            "template_id": [t["id"] for t in templates[2:]],
        }


def _seed_mailbox(server: FuzzServer) -> None:
    """The fuzzer's mailbox, as seeded (after a DELETE, or a PUT to servers that take long):
    set to send, so follow-ups can be sent (POST …/send queues them; no worker runs here)."""
    closed = {"host": "127.0.0.1", "port": 9, "security": "none"}
    mailbox = {
        "address": EMAIL,
        "username": EMAIL,
        "password": "app password",
        "imap": closed,
        "smtp": closed,
        "watch": False,
        "send": True,
    }
    response = httpx.put(
        f"{server.base_url}/api/v1/me/mailbox",
        json=mailbox,
        headers={"Authorization": f"Bearer {server.token}"},
        trust_env=False,
    )
    assert response.status_code in (200, 201), response.text


@pytest.fixture(scope="module")
def fuzz_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzServer]:
    workdir = tmp_path_factory.mktemp("fuzz")
    # On SQLite the server gets a file of its own; on Postgres it shares the test database,
    # registers its own user, and leaves the database empty as every other test does.
    url = database_url if POSTGRES else f"sqlite:///{workdir / 'server.db'}"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FOLLOWUP_REGISTRATION": "open",
        "FOLLOWUP_BASE_URL": base_url,
        "SECRET_KEY": "fuzz-secret",
        # Failed logins are fuzzed by the hundred from one address, and `ignored_auth` probes
        # with the same wrong credentials again and again: keep the throttle (tested on its
        # own in tests/auth) out of the way, so they meet authentication, not only the 429.
        "FOLLOWUP_LOGIN_LIMIT": "1000000",
        "FOLLOWUP_LOGIN_ADDRESS_LIMIT": "1000000",
        # The seeded mailbox's servers: a closed port on loopback, so a test fails at once.
        "FOLLOWUP_MAIL_ALLOW": "127.0.0.1",
    }
    log = workdir / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*followup_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(base_url, process, log)
        served = httpx.get(f"{base_url}/openapi.json", trust_env=False).json()
        assert served == DOCUMENT, "the server serves another document than the one fuzzed"
        server = FuzzServer(base_url=base_url, process=process, log=log)
        _seed_data(server)
        _seed_mailbox(server)
        yield server
    finally:
        _stop(process)
        if POSTGRES:
            wipe(database_url)


@pytest.fixture(scope="module")
def http_session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # 127.0.0.1 only: no proxy from the environment
        yield session


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half the time, point the request at an object that exists, and then half the time
    with an If-Match that holds. Cases are drawn before the server runs, so this draws a
    placeholder that `_aim_at_known_objects` fills in."""
    known = {
        name: st.builds(
            "{}{}{}".format, st.just(KNOWN), st.integers(0, 9), st.sampled_from(["", CURRENT])
        )
        for name in path_parameters or {}
        if name in KNOWN_PARAMETERS
    }
    if not path_parameters or not known:
        return st.just(path_parameters)
    generated = {name: st.just(value) for name, value in path_parameters.items()}
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries({**generated, **known}))


FEED_TOKENS: list[str] = []


def _aim_at_known_objects(case: Any, server: FuzzServer) -> None:
    pools = server.doomed if case.method.upper() == "DELETE" else server.ids
    if FEED_TOKENS:
        server.ids["feed_token"] = FEED_TOKENS
    for name, value in list(case.path_parameters.items()):
        if isinstance(value, str) and value.startswith(KNOWN):
            index, current = value.removeprefix(KNOWN)[0], value.endswith(CURRENT)
            pool = pools[name]
            case.path_parameters[name] = pool[int(index) % len(pool)]
            # A made-up If-Match is almost always stale (412), so a valid change would
            # never get through; unless the header is the part meant to be invalid.
            negative = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
            if current and "If-Match" in (case.headers or {}) and not negative:
                case.headers["If-Match"] = "*"


def _credentials(case: Any, server: FuzzServer) -> dict[str, str]:
    operation = case.operation.definition.raw
    if operation.get("operationId") == "create_token":
        basic = base64.b64encode(f"{EMAIL}:{PASSWORD}".encode()).decode()
        return {"Authorization": f"Basic {basic}"}
    if operation.get("security"):
        return {"Authorization": f"Bearer {server.token}"}
    return {}


@schema.parametrize()
def test_every_operation_answers_fuzzed_input_as_documented(
    case: Any, fuzz_server: FuzzServer, http_session: requests.Session
) -> None:
    _aim_at_known_objects(case, fuzz_server)
    if case.operation.label in MAILBOX_NEEDED:
        _seed_mailbox(fuzz_server)
    case.call_and_validate(
        base_url=fuzz_server.base_url,
        session=http_session,
        headers=_credentials(case, fuzz_server),
    )


@schema.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    STATUSES[case.operation.label].add(response.status_code)
    if case.operation.label == "POST /api/v1/me/calendar-token" and response.status_code == 200:
        # The old feed URL is gone: aim the feed's requests at the new one.
        FEED_TOKENS[:] = [feed_token_of(response.json())]


def feed_token_of(me: dict[str, Any]) -> str:
    url: str = me["calendar_url"]
    return url.rsplit("/", 1)[1].removesuffix(".ics")


def test_the_fuzzer_got_past_authentication_and_validation() -> None:
    # Guards the guard: a fuzzer whose every request bounced off a 401 or a 422 would pass
    # while testing nothing.
    if not STATUSES:
        pytest.skip("needs the fuzzing test to run first, in the same session")
    operations = {f"{m.upper()} {p}" for p, ops in DOCUMENT["paths"].items() for m in ops}
    assert set(STATUSES) == operations
    missed = {
        label: sorted(statuses)
        for label, statuses in STATUSES.items()
        if label not in NEVER_SUCCEED and not any(200 <= s < 300 for s in statuses)
    }
    assert missed == {}, "no request of these operations succeeded"


def test_fuzzing_left_no_error_in_the_server_log(fuzz_server: FuzzServer) -> None:
    # A failure the responses did not show (e.g. after the answer was sent) still logs one.
    log = fuzz_server.log.read_text()
    assert "Traceback" not in log, log
