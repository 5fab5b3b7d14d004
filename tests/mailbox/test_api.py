"""The mailbox API: save (hosts checked, password sealed and never shown), read, disconnect,
test both sides now; the status it records; and isolation between users."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.mailbox import secrets
from app.mailbox.models import Mailbox, MailboxFolder
from tests.helpers import client_of, interview_body, user_headers
from tests.reminders.conftest import free_port

PASSWORD = "s3cret-app-Passw0rd"
URL = "/api/v1/me/mailbox"


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "address": "jane@example.com",
        "username": "jane@example.com",
        "password": PASSWORD,
        "imap": {"host": "93.184.215.14", "port": 993, "security": "tls"},
        "smtp": {"host": "93.184.215.14", "port": 587, "security": "starttls"},
    }
    data.update(overrides)
    return data


@pytest.fixture
async def mail_app(make_app: Any) -> Any:
    """The app as the tests run it: loopback mail servers allowed."""
    return make_app(mail_allow="127.0.0.1")


@pytest.fixture
async def client(mail_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(mail_app) as c:
        yield c


@pytest.fixture
async def jane(client: httpx.AsyncClient) -> dict[str, str]:
    return await user_headers(client)


async def stored(app: Any, user_email: str = "jane@example.com") -> Mailbox | None:
    from app.accounts.models import User

    async with app.state.sessionmaker() as session:
        user_id = await session.scalar(select(User.id).where(User.email == user_email))
        result: Mailbox | None = await session.scalar(
            select(Mailbox).where(Mailbox.user_id == user_id)
        )
        return result


def assert_problem(response: httpx.Response, status: int, loc: list[str] | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if loc is not None:
        assert loc in [e["loc"] for e in response.json()["errors"]], response.text


# --- save, read, disconnect -----------------------------------------------------------------


async def test_no_mailbox_is_a_404_problem(client: httpx.AsyncClient, jane: dict[str, str]) -> None:
    assert_problem(await client.get(URL, headers=jane), 404)
    assert_problem(await client.delete(URL, headers=jane), 404)
    assert_problem(await client.post(URL + "/test", headers=jane), 404)


async def test_put_creates_with_201_then_replaces_with_200_never_showing_the_password(
    client: httpx.AsyncClient, jane: dict[str, str], mail_app: Any
) -> None:
    created = await client.put(URL, json=body(), headers=jane)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == URL
    read = created.json()
    assert read["password_set"] is True
    assert "password" not in read
    assert read["status"] == "unchecked"
    assert read["last_checked_at"] is None and read["last_error"] is None
    assert read["imap"] == {"host": "93.184.215.14", "port": 993, "security": "tls"}
    assert read["watch"] is True and read["send"] is False
    assert read["inbox_folder"] is None and read["sent_folder"] is None
    assert PASSWORD not in created.text

    got = await client.get(URL, headers=jane)
    assert got.status_code == 200
    assert got.json() == read
    assert got.headers["etag"] == created.headers["etag"]

    replaced = await client.put(URL, json=body(send=True), headers=jane)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["send"] is True
    assert replaced.headers["etag"] != created.headers["etag"]

    mailbox = await stored(mail_app)
    assert mailbox is not None
    assert PASSWORD not in mailbox.password_sealed
    assert secrets.open_sealed("test-secret", mailbox.user_id, mailbox.password_sealed) == PASSWORD


async def test_password_left_out_keeps_the_saved_one_and_is_required_the_first_time(
    client: httpx.AsyncClient, jane: dict[str, str], mail_app: Any
) -> None:
    without = body()
    del without["password"]
    assert_problem(await client.put(URL, json=without, headers=jane), 422, ["body", "password"])
    assert await stored(mail_app) is None

    assert (await client.put(URL, json=body(), headers=jane)).status_code == 201
    kept = await client.put(URL, json={**without, "address": "j@example.com"}, headers=jane)
    assert kept.status_code == 200, kept.text
    mailbox = await stored(mail_app)
    assert mailbox is not None and mailbox.address == "j@example.com"
    assert secrets.open_sealed("test-secret", mailbox.user_id, mailbox.password_sealed) == PASSWORD

    nulled = await client.put(URL, json={**without, "password": None}, headers=jane)
    assert nulled.status_code == 200


async def set_status(app: Any, status: str, error: str | None = None) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        mailbox = await session.scalar(select(Mailbox))
        assert mailbox is not None
        mailbox.status, mailbox.last_error = status, error
        session.add(
            MailboxFolder(
                user_id=mailbox.user_id,
                mailbox_id=mailbox.id,
                role="sent",
                name="Sent",
                uidvalidity=7,
                last_uid=42,
            )
        )


async def folder_rows(app: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(MailboxFolder)) or 0)


@pytest.mark.parametrize(
    ("change", "unchecked", "folders_reset"),
    [
        ({"address": "other@example.com"}, False, False),
        ({"watch": False, "send": True}, False, False),
        ({"sent_folder": "Sent Items"}, False, True),
        ({"inbox_folder": "Jobs"}, False, True),
        ({"imap": {"host": "93.184.215.15", "port": 993, "security": "tls"}}, True, True),
        ({"smtp": {"host": "93.184.215.14", "port": 465, "security": "tls"}}, True, True),
        ({"username": "jane"}, True, True),
        ({"password": "another one"}, True, True),
    ],
)
async def test_a_change_of_server_account_or_password_makes_the_status_unchecked(
    client: httpx.AsyncClient,
    jane: dict[str, str],
    mail_app: Any,
    change: dict[str, Any],
    unchecked: bool,
    folders_reset: bool,
) -> None:
    without = body()
    del without["password"]
    assert (await client.put(URL, json=body(), headers=jane)).status_code == 201
    await set_status(mail_app, "ok")
    response = await client.put(URL, json={**without, **change}, headers=jane)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == ("unchecked" if unchecked else "ok")
    assert await folder_rows(mail_app) == (0 if folders_reset else 1)


async def test_if_match_stale_is_412_and_changes_nothing(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    assert_problem(
        await client.put(URL, json=body(), headers={**jane, "If-Match": '"nothing"'}), 412
    )
    created = await client.put(URL, json=body(), headers=jane)
    etag = created.headers["etag"]
    assert (await client.put(URL, json=body(send=True), headers=jane)).status_code == 200
    stale = await client.put(URL, json=body(watch=False), headers={**jane, "If-Match": etag})
    assert_problem(stale, 412)
    assert (await client.get(URL, headers=jane)).json()["watch"] is True
    assert_problem(await client.delete(URL, headers={**jane, "If-Match": etag}), 412)
    current = (await client.get(URL, headers=jane)).headers["etag"]
    fresh = await client.put(URL, json=body(watch=False), headers={**jane, "If-Match": current})
    assert fresh.status_code == 200
    assert (await client.delete(URL, headers={**jane, "If-Match": "*"})).status_code == 204


async def test_delete_disconnects_and_forgets_the_folders(
    client: httpx.AsyncClient, jane: dict[str, str], mail_app: Any
) -> None:
    assert (await client.put(URL, json=body(), headers=jane)).status_code == 201
    await set_status(mail_app, "ok")
    deleted = await client.delete(URL, headers=jane)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_problem(await client.get(URL, headers=jane), 404)
    assert await folder_rows(mail_app) == 0
    assert await stored(mail_app) is None
    assert_problem(await client.delete(URL, headers=jane), 404)


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"address": "not an address"}, ["body", "address"]),
        ({"username": ""}, ["body", "username"]),
        ({"username": "x" * 321}, ["body", "username"]),
        ({"password": ""}, ["body", "password"]),
        (
            {"imap": {"host": "imap.example.com", "port": 0, "security": "tls"}},
            ["body", "imap", "port"],
        ),
        (
            {"smtp": {"host": "smtp.example.com", "port": 65536, "security": "tls"}},
            ["body", "smtp", "port"],
        ),
        (
            {"smtp": {"host": "smtp.example.com", "port": "587", "security": "tls"}},
            ["body", "smtp", "port"],
        ),
        (
            {"imap": {"host": "imap.example.com", "port": 993, "security": "ssl"}},
            ["body", "imap", "security"],
        ),
        (
            {"imap": {"host": "imap example.com", "port": 993, "security": "tls"}},
            ["body", "imap", "host"],
        ),
        (
            {"imap": {"host": "-bad.example.com", "port": 993, "security": "tls"}},
            ["body", "imap", "host"],
        ),
        (
            {"smtp": {"host": "a" * 64 + ".example.com", "port": 25, "security": "none"}},
            ["body", "smtp", "host"],
        ),
        (
            {"smtp": {"host": "http://smtp.example.com", "port": 25, "security": "none"}},
            ["body", "smtp", "host"],
        ),
        ({"smtp": {"host": "", "port": 25, "security": "none"}}, ["body", "smtp", "host"]),
        ({"imap": {"host": "imap.example.com", "port": 993}}, ["body", "imap", "security"]),
        (
            {"imap": {"host": "0x7f.1", "port": 993, "security": "tls"}},
            ["body", "imap", "host"],
        ),
        ({"sent_folder": "x" * 201}, ["body", "sent_folder"]),
        ({"watch": "sometimes"}, ["body", "watch"]),
        ({"extra": 1}, ["body", "extra"]),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient,
    jane: dict[str, str],
    mail_app: Any,
    change: dict[str, Any],
    loc: list[str],
) -> None:
    assert_problem(await client.put(URL, json=body(**change), headers=jane), 422, loc)
    assert await stored(mail_app) is None


async def test_a_refused_password_value_is_never_echoed(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    too_long = "Zq9-" + "p" * 1000
    response = await client.put(URL, json=body(password=too_long), headers=jane)
    assert_problem(response, 422, ["body", "password"])
    assert "pppp" not in response.text
    nul = await client.put(URL, json=body(password="Zq9\x00secret"), headers=jane)
    assert_problem(nul, 422, ["body", "password"])
    assert "secret" not in nul.text
    wrong_type = await client.put(URL, json=body(password=["Zq9secretvalue"]), headers=jane)
    assert_problem(wrong_type, 422, ["body", "password"])
    assert "Zq9secretvalue" not in wrong_type.text


async def test_hosts_are_normalised(client: httpx.AsyncClient, jane: dict[str, str]) -> None:
    imap = {"host": "IMAP.Example.COM.", "port": 993, "security": "tls"}
    response = await client.put(URL, json=body(imap=imap), headers=jane)
    assert response.status_code == 201, response.text
    assert response.json()["imap"]["host"] == "imap.example.com"


@pytest.mark.parametrize(
    ("side", "host"),
    [
        ("imap", "127.0.0.1"),
        ("imap", "localhost"),
        ("smtp", "10.1.2.3"),
        ("smtp", "169.254.169.254"),
        ("imap", "::1"),
        ("smtp", "[::ffff:127.0.0.1]"),
        ("smtp", "192.168.1.10"),
    ],
)
async def test_private_loopback_and_link_local_hosts_are_refused_unless_allowed(
    make_app: Any, side: str, host: str
) -> None:
    async with client_of(make_app()) as client:
        headers = await user_headers(client)
        server = {"host": host, "port": 993, "security": "tls"}
        response = await client.put(URL, json=body(**{side: server}), headers=headers)
        assert_problem(response, 422, ["body", side, "host"])
        assert "FOLLOWUP_MAIL_ALLOW" in response.json()["detail"]


async def test_allowed_networks_may_be_private(make_app: Any) -> None:
    async with client_of(make_app(mail_allow="10.0.0.0/8, 127.0.0.1")) as client:
        headers = await user_headers(client)
        imap = {"host": "10.1.2.3", "port": 993, "security": "tls"}
        smtp = {"host": "127.0.0.1", "port": 25, "security": "none"}
        response = await client.put(URL, json=body(imap=imap, smtp=smtp), headers=headers)
        assert response.status_code == 201, response.text
        other = {"host": "192.168.1.1", "port": 25, "security": "none"}
        assert_problem(
            await client.put(URL, json=body(imap=imap, smtp=other), headers=headers),
            422,
            ["body", "smtp", "host"],
        )


async def test_one_user_never_sees_or_changes_anothers_mailbox(
    client: httpx.AsyncClient, jane: dict[str, str], mail_app: Any
) -> None:
    assert (await client.put(URL, json=body(), headers=jane)).status_code == 201
    bob = await user_headers(client, "bob@example.com", "Bob")
    assert_problem(await client.get(URL, headers=bob), 404)
    assert_problem(await client.delete(URL, headers=bob), 404)
    assert_problem(await client.post(URL + "/test", headers=bob), 404)
    without = body(address="bob@example.com")
    del without["password"]
    assert_problem(await client.put(URL, json=without, headers=bob), 422, ["body", "password"])
    mine = await client.put(URL, json=body(address="bob@example.com"), headers=bob)
    assert mine.status_code == 201
    assert (await client.get(URL, headers=jane)).json()["address"] == "jane@example.com"
    assert (await client.delete(URL, headers=bob)).status_code == 204
    assert (await client.get(URL, headers=jane)).status_code == 200


async def test_a_sealed_password_copied_to_another_user_does_not_open(
    client: httpx.AsyncClient, jane: dict[str, str], mail_app: Any
) -> None:
    assert (await client.put(URL, json=body(), headers=jane)).status_code == 201
    bob = await user_headers(client, "bob@example.com", "Bob")
    assert (await client.put(URL, json=body(), headers=bob)).status_code == 201
    janes = await stored(mail_app)
    assert janes is not None
    async with mail_app.state.sessionmaker() as session, session.begin():
        from app.accounts.models import User

        bob_id = await session.scalar(select(User.id).where(User.email == "bob@example.com"))
        bobs = await session.scalar(select(Mailbox).where(Mailbox.user_id == bob_id))
        assert bobs is not None
        bobs.password_sealed = janes.password_sealed
    tested = await client.post(URL + "/test", headers=bob)
    assert tested.json()["imap"]["error"] == str(secrets.Unreadable())


# --- the test -------------------------------------------------------------------------------


@pytest.fixture
def smtp_server(smtp_for: Callable[[str, str], int]) -> int:
    """An SMTP server on loopback that takes jane@example.com with PASSWORD, without TLS."""
    return smtp_for("jane@example.com", PASSWORD)


def loopback(smtp_port: int, imap_port: int | None = None, **overrides: Any) -> dict[str, Any]:
    return body(
        imap={"host": "127.0.0.1", "port": imap_port or free_port(), "security": "none"},
        smtp={"host": "127.0.0.1", "port": smtp_port, "security": "none"},
        **overrides,
    )


async def test_the_test_logs_in_to_smtp_and_records_the_outcome(
    client: httpx.AsyncClient,
    jane: dict[str, str],
    smtp_server: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert (await client.put(URL, json=loopback(smtp_server), headers=jane)).status_code == 201
    response = await client.post(URL + "/test", headers=jane)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["smtp"] == {"ok": True, "error": None}
    # Nothing listens on the IMAP port.
    assert result["imap"]["ok"] is False
    assert "127.0.0.1" in result["imap"]["error"]
    read = (await client.get(URL, headers=jane)).json()
    assert read["status"] == "error"
    assert read["last_checked_at"] is not None
    assert read["last_error"].startswith("IMAP: ")
    assert PASSWORD not in response.text
    assert PASSWORD not in caplog.text


async def test_the_smtp_side_says_what_failed(
    client: httpx.AsyncClient, jane: dict[str, str], smtp_server: int
) -> None:
    async def smtp_error(**smtp: Any) -> str:
        payload = loopback(smtp_server)
        payload["smtp"].update(smtp)
        assert (await client.put(URL, json=payload, headers=jane)).status_code in (200, 201)
        result = (await client.post(URL + "/test", headers=jane)).json()
        assert result["smtp"]["ok"] is False
        return str(result["smtp"]["error"])

    assert "STARTTLS" in await smtp_error(security="starttls")
    nothing = free_port()
    assert await smtp_error(port=nothing) == (
        f"Could not connect to the SMTP server at 127.0.0.1:{nothing}: connection refused."
    )
    assert await smtp_error(host="smtp.example.invalid") == (
        "Could not connect to the SMTP server at smtp.example.invalid:"
        f"{smtp_server}: the host name was not found."
    )


@pytest.fixture
def wrong_password_body(smtp_server: int) -> dict[str, Any]:
    return loopback(smtp_server, password="not the password")


async def test_a_wrong_password_fails_the_smtp_side(
    client: httpx.AsyncClient, jane: dict[str, str], wrong_password_body: dict[str, Any]
) -> None:
    assert (await client.put(URL, json=wrong_password_body, headers=jane)).status_code == 201
    result = (await client.post(URL + "/test", headers=jane)).json()
    assert result["smtp"] == {
        "ok": False,
        "error": "The SMTP server refused the user name or password.",
    }


async def test_a_changed_secret_key_asks_for_the_password_again(
    make_app: Any, smtp_server: int
) -> None:
    first = make_app(mail_allow="127.0.0.1", secret_key="the-old-key")
    async with client_of(first) as client:
        headers = await user_headers(client)
        assert (
            await client.put(URL, json=loopback(smtp_server), headers=headers)
        ).status_code == 201
    second = make_app(mail_allow="127.0.0.1", secret_key="a-new-key")
    async with client_of(second) as client:
        response = await client.post(URL + "/test", headers=headers)
        assert response.status_code == 200, response.text
        sentence = str(secrets.Unreadable())
        assert response.json() == {
            "imap": {"ok": False, "error": sentence},
            "smtp": {"ok": False, "error": sentence},
        }
        read = (await client.get(URL, headers=headers)).json()
        assert read["status"] == "error"
        assert read["last_error"] == sentence
        # Entering the password again fixes it.
        again = await client.put(URL, json=loopback(smtp_server), headers=headers)
        assert again.json()["status"] == "unchecked"
        assert (await client.post(URL + "/test", headers=headers)).json()["smtp"]["ok"] is True


async def test_the_test_checks_the_hosts_again(make_app: Any, smtp_server: int) -> None:
    allowed = make_app(mail_allow="127.0.0.1")
    async with client_of(allowed) as client:
        headers = await user_headers(client)
        assert (
            await client.put(URL, json=loopback(smtp_server), headers=headers)
        ).status_code == 201
    strict = make_app()
    async with client_of(strict) as client:
        result = (await client.post(URL + "/test", headers=headers)).json()
        for side in ("imap", "smtp"):
            assert result[side]["ok"] is False
            assert "FOLLOWUP_MAIL_ALLOW" in result[side]["error"]


async def test_the_test_takes_an_idempotency_key(
    client: httpx.AsyncClient, jane: dict[str, str], smtp_server: int
) -> None:
    assert (await client.put(URL, json=loopback(smtp_server), headers=jane)).status_code == 201
    keyed = {**jane, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post(URL + "/test", headers=keyed)
    again = await client.post(URL + "/test", headers=keyed)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    elsewhere = await client.post("/api/v1/interviews", json=interview_body(), headers=keyed)
    assert_problem(elsewhere, 422, ["header", "Idempotency-Key"])


async def test_the_password_is_never_exported(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    assert (await client.put(URL, json=body(), headers=jane)).status_code == 201
    exported = await client.get("/api/v1/export", headers=jane)
    assert exported.status_code == 200
    assert PASSWORD not in exported.text
    assert "mailbox" not in exported.json()


# --- the test, against the real dovecot -----------------------------------------------------


def dovecot_body(user: Any, smtp_port: int, **overrides: Any) -> dict[str, Any]:
    data = body(
        address="jane@example.com",
        username=user.username,
        password=user.password,
        imap={"host": "127.0.0.1", "port": user.server.port, "security": "none"},
        smtp={"host": "127.0.0.1", "port": smtp_port, "security": "none"},
    )
    data.update(overrides)
    return data


async def test_the_test_passes_against_dovecot_and_records_ok(
    client: httpx.AsyncClient, jane: dict[str, str], mail_user: Any, smtp_for: Any
) -> None:
    smtp_port = smtp_for(mail_user.username, mail_user.password)
    saved = await client.put(URL, json=dovecot_body(mail_user, smtp_port), headers=jane)
    assert saved.status_code == 201, saved.text
    result = await client.post(URL + "/test", headers=jane)
    assert result.status_code == 200
    assert result.json() == {
        "imap": {"ok": True, "error": None},
        "smtp": {"ok": True, "error": None},
    }
    read = (await client.get(URL, headers=jane)).json()
    assert read["status"] == "ok"
    assert read["last_error"] is None
    assert read["last_checked_at"] == read["last_checked_at"].replace("+00:00", "Z")
    # Over STARTTLS the dovecot certificate is not trusted: said in a sentence.
    imap = {"host": "127.0.0.1", "port": mail_user.server.port, "security": "starttls"}
    await client.put(URL, json=dovecot_body(mail_user, smtp_port, imap=imap), headers=jane)
    failed = (await client.post(URL + "/test", headers=jane)).json()
    assert failed["imap"]["ok"] is False and failed["smtp"]["ok"] is True
    assert failed["imap"]["error"].endswith(".")


async def test_a_wrong_password_fails_the_imap_side_in_plain_words(
    client: httpx.AsyncClient, jane: dict[str, str], mail_user: Any, smtp_for: Any
) -> None:
    smtp_port = smtp_for(mail_user.username, mail_user.password)
    wrong = dovecot_body(mail_user, smtp_port, password="not-it")
    assert (await client.put(URL, json=wrong, headers=jane)).status_code == 201
    result = (await client.post(URL + "/test", headers=jane)).json()
    assert result["imap"]["ok"] is False
    assert "password" in result["imap"]["error"]
    assert result["smtp"]["error"] == "The SMTP server refused the user name or password."
    read = (await client.get(URL, headers=jane)).json()
    assert read["status"] == "error"
    assert "IMAP: " in read["last_error"] and "SMTP: " in read["last_error"]
    assert "not-it" not in read["last_error"]


async def test_starttls_not_offered_by_the_imap_server_is_said(
    make_app: Any, mail_user: Any, smtp_for: Any
) -> None:
    from tests.mailbox.dovecot import BARE_HOST

    async with client_of(make_app(mail_allow="127.0.0.0/8")) as client:
        headers = await user_headers(client)
        smtp_port = smtp_for(mail_user.username, mail_user.password)
        imap = {"host": BARE_HOST, "port": mail_user.server.bare_port, "security": "starttls"}
        saved = await client.put(
            URL, json=dovecot_body(mail_user, smtp_port, imap=imap), headers=headers
        )
        assert saved.status_code == 201, saved.text
        result = (await client.post(URL + "/test", headers=headers)).json()
        assert result["imap"]["ok"] is False
        assert "STARTTLS" in result["imap"]["error"]


async def test_a_named_folder_that_does_not_exist_is_said(
    client: httpx.AsyncClient, jane: dict[str, str], mail_user: Any, smtp_for: Any
) -> None:
    smtp_port = smtp_for(mail_user.username, mail_user.password)
    named = dovecot_body(mail_user, smtp_port, sent_folder="Gesendet")
    assert (await client.put(URL, json=named, headers=jane)).status_code == 201
    result = (await client.post(URL + "/test", headers=jane)).json()
    assert result["imap"]["ok"] is False
    assert "Gesendet" in result["imap"]["error"]
    existing = dovecot_body(mail_user, smtp_port, sent_folder="Sent")
    await client.put(URL, json=existing, headers=jane)
    assert (await client.post(URL + "/test", headers=jane)).json()["imap"]["ok"] is True


async def test_no_sent_folder_found_is_said(
    client: httpx.AsyncClient,
    jane: dict[str, str],
    mail_user: Any,
    smtp_for: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.mailbox import imap

    async def none_marked(self: Any, flag: str = "\\Sent") -> None:
        return None

    monkeypatch.setattr(imap.ImapSession, "special_folder", none_marked)
    smtp_port = smtp_for(mail_user.username, mail_user.password)
    assert (
        await client.put(URL, json=dovecot_body(mail_user, smtp_port), headers=jane)
    ).status_code == 201
    result = (await client.post(URL + "/test", headers=jane)).json()
    assert result["imap"]["ok"] is False
    assert "found no sent folder" in result["imap"]["error"]
    assert "Sent folder" in result["imap"]["error"]


async def test_the_password_is_stored_only_sealed(
    client: httpx.AsyncClient, jane: dict[str, str], mail_app: Any, smtp_server: int
) -> None:
    from tests.test_secrets_at_rest import places_holding

    assert (await client.put(URL, json=loopback(smtp_server), headers=jane)).status_code == 201
    keyed = {**jane, "Idempotency-Key": "test-1"}
    assert (await client.post(URL + "/test", headers=keyed)).status_code == 200
    assert await places_holding(mail_app, PASSWORD) == []
