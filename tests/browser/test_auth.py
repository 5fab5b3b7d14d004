"""Signing up, in and out in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Browsing, new_context
from tests.browser.live import PASSWORD, LiveServer, sign_up, unique_user


def test_the_first_visit_to_an_empty_instance_creates_the_admin(
    browser: Browser, fresh_server: LiveServer
) -> None:
    context = new_context(browser, fresh_server)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/register$"))
        expect(page.get_by_role("heading", name="Create the admin account")).to_be_visible()
        sign_up(page)
        expect(page.get_by_text("No follow-ups yet.")).to_be_visible()
        expect(page.get_by_role("link", name="Add interview").first).to_be_visible()
    finally:
        context.close()


def test_sign_out_and_sign_in_again(page: Page) -> None:
    user = sign_up(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.go_back()  # no private page from the cache after signing out
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="Today")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))  # signed out means signed out

    page.get_by_label("Email", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#alerts")).not_to_be_empty()
    expect(page.get_by_label("Email", exact=True)).to_have_value(user.email)

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()


def test_sign_up_errors_show_beside_the_field_and_keep_what_was_typed(
    browsing: Browsing,
) -> None:
    page = browsing.new_page()
    sign_up(page, unique_user())  # not the first account: the form says "Sign up"
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))

    user = unique_user("Grace Hopper")
    page.goto("/register")
    expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(user.name)
    page.get_by_label("Email", exact=True).fill(user.email)
    password = page.get_by_label("Password", exact=True)
    password.evaluate("input => input.removeAttribute('minlength')")  # past the browser's check
    password.fill("short")
    page.get_by_role("button", name="Sign up", exact=True).click()

    expect(page.locator("#error-password")).to_be_visible()
    expect(page.locator("#error-password")).to_contain_text("8")
    expect(page.locator("#error-email")).to_be_empty()
    expect(page.get_by_label("Name", exact=True)).to_have_value(user.name)
    expect(page.get_by_label("Email", exact=True)).to_have_value(user.email)
    expect(page).to_have_url(re.compile(r"/register$"))


def test_a_forgotten_password_leads_from_sign_in_to_the_admin_when_mail_is_off(
    page: Page,
) -> None:
    sign_up(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    expect(page.get_by_text("Ask the person who runs it")).to_be_visible()
    page.get_by_role("link", name="Back to sign in").click()
    expect(page).to_have_url(re.compile(r"/login"))
