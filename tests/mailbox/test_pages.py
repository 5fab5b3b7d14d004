"""The Mailbox section of Settings, as a browser with htmx sees it: the form with its labels,
the provider hints, saving, testing (which side failed and why) and disconnecting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.auth.test_pages import Browser, Elements, assert_fragment, error_slot
from tests.helpers import PASSWORD as ACCOUNT_PASSWORD
from tests.helpers import client_of, register
from tests.mailbox.test_api import PASSWORD, URL, body, loopback

SECTION = {"HX-Target": "settings-mailbox"}


@pytest.fixture
async def client(make_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(make_app(mail_allow="127.0.0.1")) as c:
        yield c


@pytest.fixture
async def browser(client: httpx.AsyncClient) -> Browser:
    await register(client)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "jane@example.com", "password": ACCOUNT_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return Browser(client, response.json()["csrf_token"])


@pytest.fixture
def smtp_port(smtp_for: Callable[[str, str], int]) -> int:
    return smtp_for("jane@example.com", PASSWORD)


async def test_settings_shows_the_mailbox_form_with_a_label_for_every_field(
    browser: Browser,
) -> None:
    page = await browser.page()
    elements = Elements(page.text)
    assert "settings-mailbox" in elements.ids
    for field in elements.fields:
        if str(field.get("id", "")).startswith("mailbox-"):
            assert elements.labels.get(str(field["id"])), field
    for provider in ("Gmail", "Outlook", "Fastmail", "iCloud", "Proton Mail Bridge"):
        assert provider in page.text
    assert "https://myaccount.google.com/apppasswords" in page.text
    assert "Connect mailbox" in elements.buttons
    assert "Disconnect" not in elements.buttons


async def test_saving_from_the_page_answers_the_section_without_the_password(
    browser: Browser,
) -> None:
    saved = await browser.client.put(URL, json=body(), headers=browser.headers(SECTION))
    assert_fragment(saved, 201)
    assert PASSWORD not in saved.text
    assert 'placeholder="saved"' in saved.text
    assert "Not checked yet" in saved.text
    elements = Elements(saved.text)
    assert {"Test connection", "Disconnect", "Save"} <= set(elements.buttons)
    page = await browser.page()
    assert PASSWORD not in page.text
    assert 'value="93.184.215.14"' in page.text


async def test_a_refused_host_is_shown_beside_its_field(browser: Browser, make_app: Any) -> None:
    imap = {"host": "imap example", "port": 993, "security": "tls"}
    response = await browser.client.put(URL, json=body(imap=imap), headers=browser.headers(SECTION))
    assert response.status_code == 422
    assert "host name" in error_slot(response, "error-mailbox-imap-host")
    short = await browser.client.put(
        URL, json=body(password=PASSWORD + "x" * 1000), headers=browser.headers(SECTION)
    )
    assert error_slot(short, "error-mailbox-password")
    assert PASSWORD not in short.text


async def test_the_test_button_says_which_side_failed_and_why(
    browser: Browser, smtp_port: int
) -> None:
    assert (
        await browser.client.put(URL, json=loopback(smtp_port), headers=browser.headers())
    ).status_code == 201
    tested = await browser.client.post(URL + "/test", headers=browser.headers(SECTION))
    assert_fragment(tested)
    assert "Reading (IMAP):" in tested.text
    assert "Sending (SMTP):</strong> connected and logged in" in tested.text
    assert "failed: Could not" in tested.text or "failed: " in tested.text
    assert "Not working" in tested.text
    assert PASSWORD not in tested.text


async def test_disconnect_from_the_page_shows_the_empty_form(browser: Browser) -> None:
    assert (
        await browser.client.put(URL, json=body(), headers=browser.headers())
    ).status_code == 201
    gone = await browser.client.delete(URL, headers=browser.headers(SECTION))
    assert_fragment(gone)
    assert "Mailbox disconnected." in gone.text
    assert "Connect mailbox" in gone.text
    assert (await browser.client.get(URL)).status_code == 404


async def test_writes_from_the_page_need_the_csrf_token(browser: Browser) -> None:
    refused = await browser.client.put(URL, json=body(), headers=browser.headers(csrf=False))
    assert refused.status_code == 403
