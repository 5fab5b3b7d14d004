"""Two `followup serve` processes on one database behind the same clients (README "Scaling"):
sessions, tokens, the sign-in throttle, idempotency, ETags and deactivation hold across
them as they do on one, because the app keeps nothing that matters in a process's memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.browser.live import PASSWORD, LiveServer, serve
from tests.helpers import interview_body, new_databases

COOKIE = "followup_session"


class Replica:
    """A client of one server; requests carry only the headers given (no cookie jar, so
    a cookie goes to the other server only when a test sends it there)."""

    def __init__(self, server: LiveServer) -> None:
        self.client = httpx.Client(base_url=server.base_url, timeout=30, trust_env=False)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.client.cookies.clear()
        return self.client.request(method, path, **kwargs)


@dataclass
class Replicas:
    a: Replica
    b: Replica
    admin: dict[str, str]  # the headers of the instance's admin (its first account)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """Two servers on one new database, with the same SECRET_KEY (tests/browser/live.py)."""
    workdir = tmp_path_factory.mktemp("replicas")
    with new_databases(workdir) as new_database:
        url = new_database()
        with serve(url, workdir) as server_a, serve(url, workdir) as server_b:
            a, b = Replica(server_a), Replica(server_b)
            register(a, "admin@example.com", "Ada Admin")
            _, admin = make_token(a, "admin@example.com")
            yield Replicas(a, b, admin)
            a.client.close()
            b.client.close()


def register(server: Replica, email: str, name: str = "Jane Doe") -> dict[str, Any]:
    response = server.request(
        "POST",
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "display_name": name},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def sign_in(server: Replica, email: str, password: str = PASSWORD) -> httpx.Response:
    return server.request("POST", "/api/v1/auth/login", json={"email": email, "password": password})


def make_token(server: Replica, email: str) -> tuple[str, dict[str, str]]:
    response = server.request(
        "POST", "/api/v1/tokens", json={"name": "cli"}, auth=(email, PASSWORD)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], {"Authorization": f"Bearer {response.json()['token']}"}


def test_a_session_made_on_one_server_works_on_the_other_until_signed_out_on_either(
    replicas: Replicas,
) -> None:
    a, b = replicas.a, replicas.b
    register(a, "session@example.com")
    signed_in = sign_in(a, "session@example.com")
    assert signed_in.status_code == 200, signed_in.text
    cookie = {"Cookie": f"{COOKIE}={signed_in.cookies[COOKIE]}"}
    csrf = {"X-CSRF-Token": signed_in.json()["csrf_token"]}

    me = b.request("GET", "/api/v1/me", headers=cookie)
    assert me.status_code == 200 and me.json()["email"] == "session@example.com"
    # The CSRF token A issued is good on B too: an unsafe request through B.
    created = b.request("POST", "/api/v1/interviews", json=interview_body(), headers=cookie | csrf)
    assert created.status_code == 201, created.text

    assert a.request("POST", "/api/v1/auth/logout", headers=cookie | csrf).status_code == 204
    assert b.request("GET", "/api/v1/me", headers=cookie).status_code == 401


def test_a_token_made_on_one_server_works_on_the_other_and_once_revoked_on_neither(
    replicas: Replicas,
) -> None:
    a, b = replicas.a, replicas.b
    register(b, "token@example.com")
    token_id, bearer = make_token(b, "token@example.com")
    assert a.request("GET", "/api/v1/me", headers=bearer).status_code == 200
    assert b.request("GET", "/api/v1/me", headers=bearer).status_code == 200

    assert a.request("DELETE", f"/api/v1/tokens/{token_id}", headers=bearer).status_code == 204
    refused = b.request("GET", "/api/v1/me", headers=bearer)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


def test_the_sign_in_throttle_counts_guesses_sent_to_either_server(
    replicas: Replicas,
) -> None:
    a, b = replicas.a, replicas.b
    register(a, "guessed@example.com")
    # Five wrong passwords (the default limit per account), alternating servers.
    statuses = [
        sign_in(server, "guessed@example.com", "wrong password").status_code
        for server in (a, b, a, b, a)
    ]
    assert statuses == [401] * 5
    # The sixth is refused on the server that saw only two: even with the right password.
    throttled = sign_in(b, "guessed@example.com")
    assert throttled.status_code == 429, throttled.text
    assert int(throttled.headers["retry-after"]) > 0
    assert sign_in(a, "guessed@example.com").status_code == 429


def test_an_idempotent_retry_sent_to_the_other_server_answers_the_original_and_adds_nothing(
    replicas: Replicas,
) -> None:
    a, b = replicas.a, replicas.b
    register(a, "retry@example.com")
    _, bearer = make_token(a, "retry@example.com")
    keyed = bearer | {"Idempotency-Key": "interview-1"}
    body = interview_body(company="Retry Ltd")

    first = a.request("POST", "/api/v1/interviews", json=body, headers=keyed)
    retry = b.request("POST", "/api/v1/interviews", json=body, headers=keyed)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    listed = b.request("GET", "/api/v1/interviews", params={"company": "Retry Ltd"}, headers=bearer)
    assert [item["id"] for item in listed.json()["items"]] == [first.json()["id"]]
    # The same key with another body is refused by either server.
    other = interview_body(company="Other Ltd")
    assert b.request("POST", "/api/v1/interviews", json=other, headers=keyed).status_code == 422


def test_an_etag_from_one_server_is_a_valid_if_match_on_the_other_until_stale(
    replicas: Replicas,
) -> None:
    a, b = replicas.a, replicas.b
    register(b, "etag@example.com")
    _, bearer = make_token(b, "etag@example.com")
    created = a.request("POST", "/api/v1/interviews", json=interview_body(), headers=bearer)
    url = f"/api/v1/interviews/{created.json()['id']}"
    etag = a.request("GET", url, headers=bearer).headers["etag"]
    assert b.request("GET", url, headers=bearer).headers["etag"] == etag

    changed = b.request("PATCH", url, json={"stage": "Onsite"}, headers=bearer | {"If-Match": etag})
    assert changed.status_code == 200, changed.text
    stale = a.request("PATCH", url, json={"stage": "Final"}, headers=bearer | {"If-Match": etag})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert b.request("GET", url, headers=bearer).json()["stage"] == "Onsite"
    fresh = {"If-Match": changed.headers["etag"]}
    assert (
        a.request("PATCH", url, json={"stage": "Final"}, headers=bearer | fresh).status_code == 200
    )


def test_a_member_deactivated_on_one_server_is_refused_on_the_other_from_the_next_request(
    replicas: Replicas,
) -> None:
    a, b = replicas.a, replicas.b
    member = register(b, "member@example.com", "Max Member")
    _, member_bearer = make_token(b, "member@example.com")
    assert b.request("GET", "/api/v1/me", headers=member_bearer).status_code == 200

    deactivated = a.request(
        "PATCH",
        f"/api/v1/admin/users/{member['id']}",
        json={"is_active": False},
        headers=replicas.admin,
    )
    assert deactivated.status_code == 200, deactivated.text
    assert b.request("GET", "/api/v1/me", headers=member_bearer).status_code == 401
