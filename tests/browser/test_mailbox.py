"""Settings → Mailbox in a real browser: the provider picker fills in the servers, saving
keeps the password out of the page, and Disconnect empties the form."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.live import User

APP_PASSWORD = "abcd efgh ijkl mnop"


def test_the_provider_picker_fills_the_servers_and_the_password_is_never_shown(
    page: Page, signed_up: User
) -> None:
    page.goto("/settings")
    section = page.locator("#settings-mailbox")
    section.get_by_label("Provider", exact=True).select_option("fastmail")
    expect(section.get_by_label("IMAP server", exact=True)).to_have_value("imap.fastmail.com")
    expect(section.locator("#mailbox-imap-port")).to_have_value("993")
    expect(section.locator("#mailbox-smtp-port")).to_have_value("465")
    expect(section.locator("#mailbox-smtp-security")).to_have_value("tls")

    section.get_by_label("Email address", exact=True).fill("jane@fastmail.com")
    section.get_by_label("User name", exact=True).fill("jane@fastmail.com")
    section.get_by_label("App password", exact=True).fill(APP_PASSWORD)
    section.get_by_label("Send: allow sending a follow-up from Followup").check()
    section.get_by_role("button", name="Connect mailbox", exact=True).click()

    section = page.locator("#settings-mailbox")
    expect(section).to_contain_text("Not checked yet")
    password = section.get_by_label("App password", exact=True)
    expect(password).to_have_value("")
    expect(password).to_have_attribute("placeholder", "saved")
    expect(section.get_by_label("Send: allow sending a follow-up from Followup")).to_be_checked()
    expect(section.get_by_label("Watch: notice sent thank-yous and replies")).to_be_checked()
    assert APP_PASSWORD not in page.content()

    # Saved again without typing the password: it is kept, and watch can be turned off.
    section.get_by_label("Watch: notice sent thank-yous and replies").uncheck()
    section.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("Mailbox saved")
    expect(
        page.locator("#settings-mailbox").get_by_label("Watch: notice sent thank-yous and replies")
    ).not_to_be_checked()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#settings-mailbox").get_by_role("button", name="Disconnect").click()
    expect(page.locator("#flash")).to_contain_text("Mailbox disconnected.")
    expect(
        page.locator("#settings-mailbox").get_by_role("button", name="Connect mailbox")
    ).to_be_visible()
