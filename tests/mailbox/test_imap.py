"""The IMAP client against a real dovecot: logging in three ways, each failure as one sentence,
the overall deadline against servers that never answer, and reading headers read-only."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.mailbox.imap import (
    FolderState,
    ImapAuthFailed,
    ImapConnectFailed,
    ImapError,
    ImapFolderNotFound,
    ImapLogin,
    ImapTimeout,
    ImapTlsFailed,
    open_imap,
)
from tests.helpers import NOW
from tests.mailbox.dovecot import Dovecot, MailUser, message
from tests.stalling import IMAP_DRIP, IMAP_START, SILENT, eventually, staller

DEADLINE = 2.0
# The longest any call held its caller against a server that never answers (for the report).
LONGEST_HOLD: list[float] = []


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
async def test_logs_in_plain_with_starttls_and_with_implicit_tls(
    dovecot: Dovecot, mail_user: MailUser, security: Any
) -> None:
    async with open_imap(mail_user.login(security), tls_context=dovecot.ssl_context()) as imap:
        assert {"INBOX", "Sent", "Drafts", "Trash", "Junk"} <= set(await imap.folders())
        await imap.noop()


async def test_a_password_in_any_alphabet_logs_in(dovecot: Dovecot) -> None:
    user = dovecot.add_user(password="pässwörd-日本")
    async with open_imap(user.login("tls"), tls_context=dovecot.ssl_context()) as imap:
        await imap.noop()


async def test_wrong_password_says_so_in_one_sentence_and_logs_no_password(
    dovecot: Dovecot, mail_user: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ImapAuthFailed) as failed:
        async with open_imap(mail_user.login("none", password="wrong-horse-42")):
            pass
    assert str(failed.value) == "The IMAP server refused the user name or password."
    assert failed.value.side == "imap"
    async with open_imap(mail_user.login("none")):
        pass
    assert "wrong-horse-42" not in caplog.text
    assert mail_user.password not in caplog.text
    assert mail_user.password not in repr(mail_user.login())


async def test_starttls_asked_but_not_offered_refuses_to_send_the_password(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    with pytest.raises(ImapTlsFailed) as failed:
        async with open_imap(mail_user.bare_login("starttls")):
            pass
    assert "does not offer STARTTLS" in str(failed.value)
    assert mail_user.username not in dovecot.log()  # no login was even tried
    async with open_imap(mail_user.bare_login("none")) as imap:  # the listener itself works
        await imap.noop()


async def test_a_certificate_nobody_vouches_for_is_refused(mail_user: MailUser) -> None:
    for security in ("tls", "starttls"):
        with pytest.raises(ImapTlsFailed) as failed:
            async with open_imap(mail_user.login(security)):  # type: ignore[arg-type]
                pass
        assert "certificate" in str(failed.value)
        assert "could not be verified" in str(failed.value)


async def test_connection_refused_names_host_and_port() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    login = ImapLogin("127.0.0.1", port, "tls", "jane", "secret")
    with pytest.raises(ImapConnectFailed) as failed:
        async with open_imap(login):
            pass
    assert str(failed.value) == f"Could not connect to 127.0.0.1:{port}: connection refused."


SILENCES = {
    "silent": SILENT,
    "drips its greeting": {"start": IMAP_START, "drip": IMAP_DRIP, "reads_request": False},
    "greets then never answers the login": {
        "start": b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n",
        "drip": b"",
        "reads_request": False,
    },
}


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
@pytest.mark.parametrize("behaviour", list(SILENCES))
async def test_a_server_that_never_answers_holds_the_caller_no_longer_than_the_deadline(
    behaviour: str, security: Any
) -> None:
    options = {**SILENCES[behaviour], "interval": 0.3}
    async with staller(**options) as server:
        login = ImapLogin("127.0.0.1", server.port, security, "jane", "secret")
        started = time.monotonic()
        with pytest.raises(ImapError) as failed:
            async with open_imap(login, deadline=DEADLINE):
                pass
        held = time.monotonic() - started
        LONGEST_HOLD.append(held)
        if security == "tls" and behaviour != "silent":  # it speaks, but not TLS
            assert isinstance(failed.value, ImapTlsFailed)
        else:
            assert isinstance(failed.value, ImapTimeout)
            assert str(failed.value) == "The IMAP server did not answer within 2 seconds."
        assert held <= DEADLINE + 1, f"held the caller {held:.2f} s"
        await eventually(lambda: server.open == 0, limit=5)  # the thread let go of the socket
    print(f"longest hold so far: {max(LONGEST_HOLD):.3f} s (deadline {DEADLINE:g} s)")


async def test_a_cancelled_call_lets_go_of_the_connection_at_once() -> None:
    import asyncio

    async with staller(**SILENT) as server:
        login = ImapLogin("127.0.0.1", server.port, "none", "jane", "secret")

        async def connect() -> None:
            async with open_imap(login, deadline=30):
                pass

        task = asyncio.create_task(connect())
        await server.stalled()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await eventually(lambda: server.open == 0, limit=3)


async def test_special_folder_finds_the_folders_by_their_special_use(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    async with open_imap(mail_user.login()) as imap:
        assert await imap.special_folder() == "Sent"
        assert await imap.special_folder("\\Sent") == "Sent"
        assert await imap.special_folder("\\Junk") == "Junk"
        assert await imap.special_folder("\\Important") is None


async def test_special_folder_falls_back_on_the_usual_names_when_the_server_marks_none(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    with dovecot.imap(mail_user) as connection:  # a folder dovecot gives no special use
        assert connection.create('"Archive"')[0] == "OK"
    async with open_imap(mail_user.login()) as imap:
        assert await imap.special_folder("\\Archive") == "Archive"
        assert "Archive" in await imap.folders()


async def test_headers_since_reads_new_messages_decoded_and_leaves_them_unseen(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    first = dovecot.append(mail_user, "INBOX", message(subject="Hello"))
    reply = message(
        subject="=?utf-8?q?Re=3A_Merci_pour_l=E2=80=99entretien?=",
        sender='"Lee, Ann" <Ann.Lee@Example.COM>',
        to="Jane Doe <jane@mail.example.test>",
        Cc="=?utf-8?b?QmrDtnJu?= <bjorn@example.com>, bob@example.com",
        date=datetime(2026, 11, 26, 9, 30, tzinfo=UTC) + timedelta(hours=1),
        message_id="  <reply-1@example.com> ",
        In_Reply_To="<thanks-1@mail.example.test>",
        References="<first@mail.example.test> <thanks-1@mail.example.test>",
    ).replace(b"+0000", b"+0100")
    second = dovecot.append(mail_user, "INBOX", reply, when=NOW + timedelta(days=1))
    out_of_office = message(
        subject="Out of office",
        sender="Ann Lee <ann@example.com>",
        Auto_Submitted="auto-replied",
        X_Autoreply="yes",
        Precedence="bulk",
        Return_Path="<>",
    )
    third = dovecot.append(mail_user, "INBOX", out_of_office)

    async with open_imap(mail_user.login()) as imap:
        everything = await imap.headers_since("INBOX", 0)
        assert [h.uid for h in everything] == [first, second, third]
        assert [h.uid for h in await imap.headers_since("INBOX", first)] == [second, third]
        assert [h.uid for h in await imap.headers_since("INBOX", 0, limit=2)] == [first, second]
        # `UID n:*` on a server matches the last message even past it: none of that here.
        assert await imap.headers_since("INBOX", third) == []
        assert await imap.headers_since("INBOX", third + 100) == []

    got = everything[1]
    assert got.subject == "Re: Merci pour l’entretien"
    assert got.from_ == [("Lee, Ann", "ann.lee@example.com")]
    assert got.to == [("Jane Doe", "jane@mail.example.test")]
    assert got.cc == [("Björn", "bjorn@example.com"), ("", "bob@example.com")]
    assert got.message_id == "<reply-1@example.com>"
    assert got.in_reply_to == ["<thanks-1@mail.example.test>"]
    assert got.references == ["<first@mail.example.test>", "<thanks-1@mail.example.test>"]
    assert got.date == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert got.internal_date == NOW + timedelta(days=1)
    assert got.content_type is not None and got.content_type.startswith("text/plain")
    assert got.auto_submitted is None and got.precedence is None

    auto = everything[2]
    assert (auto.auto_submitted, auto.x_autoreply, auto.precedence) == (
        "auto-replied",
        "yes",
        "bulk",
    )
    assert auto.return_path == "<>"
    assert everything[0].in_reply_to == [] and everything[0].references == []

    assert dovecot.flags(mail_user, "INBOX") == {first: set(), second: set(), third: set()}


async def test_headers_of_a_bounce_and_of_a_message_with_no_headers_to_speak_of(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    bounce = (
        b"Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@example.com>\r\n"
        b"To: jane@mail.example.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="b1"\r\n'
        b"\r\n--b1\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n--b1--\r\n"
    )
    bare = b"X-Nothing: here\r\n\r\nno headers that matter\r\n"
    uids = [dovecot.append(mail_user, "INBOX", m) for m in (bounce, bare)]
    async with open_imap(mail_user.login()) as imap:
        got_bounce, got_bare = await imap.headers_since("INBOX", 0)
    assert got_bounce.uid == uids[0]
    assert got_bounce.content_type == (
        'multipart/report; report-type=delivery-status; boundary="b1"'
    )
    assert got_bounce.return_path == "<>"
    assert got_bounce.from_ == [("Mail Delivery System", "mailer-daemon@example.com")]
    assert got_bounce.date is None and got_bounce.message_id is None
    assert got_bare.subject == "" and got_bare.from_ == [] and got_bare.date is None
    assert got_bare.internal_date is not None and got_bare.internal_date.tzinfo is not None


async def test_examine_gives_uidvalidity_which_changes_after_a_reset(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    for n in range(3):
        dovecot.append(mail_user, "Sent", message(subject=f"Thanks {n}"))
    async with open_imap(mail_user.login()) as imap:
        before = await imap.examine("Sent")
    assert before == FolderState("Sent", before.uidvalidity, uidnext=4, exists=3)

    dovecot.uidvalidity_reset(mail_user, "Sent")
    async with open_imap(mail_user.login()) as imap:
        after = await imap.examine("Sent")
        assert after.uidvalidity != before.uidvalidity
        assert after.exists == 3  # the messages stay, numbered anew
        assert len(await imap.headers_since("Sent", 0)) == 3


async def test_a_folder_that_does_not_exist_is_named(mail_user: MailUser) -> None:
    async with open_imap(mail_user.login()) as imap:
        with pytest.raises(ImapFolderNotFound) as failed:
            await imap.examine("Sent Items")
        assert str(failed.value) == 'The IMAP folder "Sent Items" does not exist.'
        with pytest.raises(ImapFolderNotFound):
            await imap.append("Nope", message())
        await imap.noop()  # the session goes on


async def test_append_puts_a_seen_copy_in_sent(dovecot: Dovecot, mail_user: MailUser) -> None:
    sent_at = NOW - timedelta(hours=2)
    async with open_imap(mail_user.login("tls"), tls_context=dovecot.ssl_context()) as imap:
        sent = await imap.special_folder()
        assert sent is not None
        await imap.append(sent, message(subject="Thank you, Ann"), when=sent_at)
        (copy,) = await imap.headers_since(sent, 0)
    assert copy.subject == "Thank you, Ann"
    assert copy.internal_date == sent_at
    assert dovecot.flags(mail_user, "Sent") == {copy.uid: {"\\Seen"}}
