"""The admin page and the Account section in a real browser: invite someone, see them join,
hand them a password-reset link, deactivate them; change a password; delete an account."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Dialog, Page, expect

from tests.browser.conftest import Browsing, new_context
from tests.browser.live import PASSWORD, LiveServer, sign_up, unique_user


def accept_dialogs(page: Page) -> None:
    def accept(dialog: Dialog) -> None:
        dialog.accept()

    page.on("dialog", accept)


def test_the_admin_invites_a_member_and_deactivates_them(
    browser: Browser, fresh_server: LiveServer
) -> None:
    admin_context = new_context(browser, fresh_server)
    member_context = new_context(browser, fresh_server)
    try:
        admin = admin_context.new_page()
        admin_context.grant_permissions(["clipboard-read", "clipboard-write"])
        accept_dialogs(admin)
        sign_up(admin, unique_user("Ada Admin"))  # the first account: the admin
        admin.get_by_role("link", name="Admin", exact=True).click()
        expect(admin.get_by_role("heading", name="Admin", exact=True)).to_be_visible()

        admin.get_by_label("Note").fill("Dana, May cohort")
        admin.get_by_label("Valid for (days)").fill("3")
        admin.get_by_role("button", name="Create invite link").click()
        link = admin.get_by_label(re.compile("New invite link"))
        expect(link).to_have_value(re.compile(r"/register\?invite=[A-Za-z0-9_-]+$"))
        expect(admin.get_by_text("Copy it now: it won’t be shown again.")).to_be_visible()
        invite_url = link.input_value()
        admin.get_by_role("button", name="Copy", exact=True).click()
        expect(admin.get_by_role("button", name="Copied", exact=True)).to_be_visible()
        assert admin.evaluate("navigator.clipboard.readText()") == invite_url
        invites = admin.get_by_role("list", name="Invites")
        expect(invites.get_by_text("Dana, May cohort")).to_be_visible()
        expect(invites.get_by_text(re.compile("^Pending"))).to_be_visible()

        member = member_context.new_page()
        member.goto(invite_url)
        dana = unique_user("Dana Member")
        member.get_by_label("Name", exact=True).fill(dana.name)
        member.get_by_label("Email", exact=True).fill(dana.email)
        member.get_by_label("Password", exact=True).fill(PASSWORD)
        member.get_by_role("button", name="Sign up", exact=True).click()
        expect(member.get_by_role("heading", name="Today", exact=True)).to_be_visible()
        expect(member.get_by_role("link", name="Admin", exact=True)).to_have_count(0)

        admin.reload()
        expect(
            admin.get_by_role("list", name="Invites").get_by_text(re.compile("^Used"))
        ).to_be_visible()
        row = admin.locator("li", has_text=dana.email)
        row.get_by_role("button", name="Password-reset link").click()
        reset = admin.get_by_label(re.compile("Password-reset link for Dana Member"))
        expect(reset).to_have_value(re.compile(r"/reset-password\?token=[A-Za-z0-9_-]+$"))
        reset_url = reset.input_value()

        member.goto(reset_url)
        member.get_by_label("New password").fill("dana's new passphrase")
        member.get_by_role("button", name="Set password").click()
        expect(member).to_have_url(re.compile(r"/login"))
        member.get_by_label("Email", exact=True).fill(dana.email)
        member.get_by_label("Password", exact=True).fill("dana's new passphrase")
        member.get_by_role("button", name="Sign in", exact=True).click()
        expect(member.get_by_role("heading", name="Today", exact=True)).to_be_visible()

        row = admin.locator("li", has_text=dana.email)
        row.get_by_role("button", name="Deactivate").click()
        expect(row.get_by_text("deactivated")).to_be_visible()
        expect(row.get_by_role("button", name="Reactivate")).to_be_visible()

        member.goto("/")
        expect(member).to_have_url(re.compile(r"/login"))
    finally:
        admin_context.close()
        member_context.close()


def test_a_member_sees_a_403_page_at_admin(page: Page) -> None:
    sign_up(page, unique_user("Other Member"))  # so the next account is not the admin
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    sign_up(page)
    expect(page.get_by_role("link", name="Admin", exact=True)).to_have_count(0)
    response = page.goto("/admin")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name=re.compile("Forbidden"))).to_be_visible()


def test_changing_the_password_and_deleting_the_account_in_settings(
    browsing: Browsing,
) -> None:
    page = browsing.new_page()
    accept_dialogs(page)
    sign_up(page, unique_user("Other Member"))  # so the next account is not the admin
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    user = sign_up(page)
    page.goto("/settings#settings-account")
    account = page.locator("#settings-account")
    # The warning points to the export, offered once on the page under "Your data".
    expect(account.get_by_role("link", name="Your data")).to_have_attribute(
        "href", "#settings-data"
    )

    account.get_by_label("Current password").fill("not my password")
    account.get_by_label("New password").fill("a brand new passphrase")
    account.get_by_role("button", name="Change password").click()
    expect(page.locator("#error-current_password")).to_contain_text("not your current password")

    account.get_by_label("Current password").fill(PASSWORD)
    account.get_by_label("New password").fill("a brand new passphrase")
    account.get_by_role("button", name="Change password").click()
    expect(page.locator("#flash")).to_contain_text("Password changed")

    account = page.locator("#settings-account")
    account.get_by_label("Your password, to confirm").fill(PASSWORD)  # the old one
    account.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#error-password")).to_contain_text("not your current password")
    account.get_by_label("Your password, to confirm").fill("a brand new passphrase")
    account.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(re.compile(r"/login"))

    page.get_by_label("Email", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill("a brand new passphrase")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#alerts")).not_to_be_empty()
