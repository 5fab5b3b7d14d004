"""Messages: text and HTML parts, escaping, unique Message-IDs, no header injection."""

from __future__ import annotations

from email.headerregistry import Address

import pytest

from app.reminders import mail
from tests.reminders.conftest import SmtpServer, mail_settings

SENDER = Address("Followup", addr_spec="followup@example.com")


def _message(**overrides: str) -> mail.EmailMessage:
    values = {
        "to_name": "Jane Doe",
        "to_address": "jane@example.com",
        "subject": "Your digest",
        "text": "Hello <b>Jane</b>",
        "html_body": mail.paragraphs_html("Hello <b>Jane</b>"),
        "message_id": mail.new_message_id(),
    }
    values.update(overrides)
    return mail.build_message(sender=SENDER, **values)


def test_a_message_has_text_and_escaped_html_parts_and_a_unique_message_id() -> None:
    first, second = _message(), _message()
    assert first.is_multipart()
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]
    html = first.get_body(("html",))
    assert html is not None and "&lt;b&gt;Jane&lt;/b&gt;" in html.get_content()
    assert first["Message-ID"] != second["Message-ID"]


async def test_cr_lf_in_a_subject_or_name_adds_no_header_or_recipient(
    database_url: str, smtp: SmtpServer
) -> None:
    config = mail.mail_config(mail_settings(database_url, smtp))
    assert config is not None
    message = _message(
        to_name="Jane\r\nBcc: evil@example.com",
        subject="Hi\r\nBcc: evil@example.com\nX-Evil: 1",
    )
    await mail.send(config, message)
    [received] = smtp.handler.received
    assert received.rcpt_tos == ["jane@example.com"]
    assert received.message["Bcc"] is None and received.message["X-Evil"] is None
    assert len(received.message.get_all("Subject") or []) == 1
    assert "evil@example.com" not in str(received.message["To"]).split("<")[-1]


@pytest.mark.parametrize(
    "address", ["jane@example.com\r\nBcc: x@y.z", "a@b.c, evil@example.com", "no-at-sign"]
)
def test_an_address_that_is_not_exactly_one_is_refused(address: str) -> None:
    with pytest.raises(ValueError):
        _message(to_address=address)


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"smtp_host": "mail.example.com"}, "SMTP_FROM"),
        ({"smtp_from": "a@example.com"}, "SMTP_HOST"),
        (
            {"smtp_host": "mail.example.com", "smtp_from": "a@b.c", "smtp_username": "u"},
            "SMTP_PASSWORD",
        ),
    ],
)
def test_incomplete_smtp_settings_are_refused_by_name(
    database_url: str, overrides: dict[str, str], missing: str
) -> None:
    from tests.helpers import make_settings

    with pytest.raises(mail.MailSettingsError, match=missing):
        mail.mail_config(make_settings(database_url, **overrides))


def test_no_smtp_host_means_email_is_off(database_url: str) -> None:
    from tests.helpers import make_settings

    assert mail.mail_config(make_settings(database_url)) is None
