"""The admin's endpoints answer htmx with the Admin page's fragments, the same way Settings'
do: the changed section, a link shown once, errors where the page shows them."""

from __future__ import annotations

from typing import Any

from tests.admin.conftest import account
from tests.helpers import client_of, sign_in

HTMX = {"HX-Request": "true"}


async def test_creating_an_invite_from_the_page_shows_its_link_once(app: Any) -> None:
    async with client_of(app) as browser:
        await account(browser, "ada@example.com", "Ada Admin")
        headers = {**HTMX, "X-CSRF-Token": await sign_in(browser, "ada@example.com")}
        made = await browser.post(
            "/api/v1/admin/invites", json={"note": "Dana", "expires_in_days": 3}, headers=headers
        )
        assert made.status_code == 201
        assert made.headers["content-type"].startswith("text/html")
        assert 'id="admin-invites"' in made.text and "/register?invite=" in made.text
        page = await browser.get("/admin", headers={"Accept": "text/html"})
        assert "Dana" in page.text and "/register?invite=" not in page.text


async def test_a_refused_change_from_the_page_says_why_and_swaps_nothing(app: Any) -> None:
    async with client_of(app) as browser:
        admin = await account(browser, "ada@example.com", "Ada Admin")
        headers = {**HTMX, "X-CSRF-Token": await sign_in(browser, "ada@example.com")}
        refused = await browser.patch(
            f"/api/v1/admin/users/{admin.id}", json={"is_admin": False}, headers=headers
        )
        assert refused.status_code == 409
        assert refused.headers["hx-reswap"] == "none"
        assert "last active admin" in refused.text


async def test_deactivating_from_the_page_answers_the_members_section(app: Any) -> None:
    async with client_of(app) as browser:
        await account(browser, "ada@example.com", "Ada Admin")
        member = await account(browser, "bob@example.com", "Bob Member")
        headers = {**HTMX, "X-CSRF-Token": await sign_in(browser, "ada@example.com")}
        done = await browser.patch(
            f"/api/v1/admin/users/{member.id}", json={"is_active": False}, headers=headers
        )
        assert done.status_code == 200
        assert 'id="admin-members"' in done.text
        assert "Bob Member is deactivated." in done.text and "Reactivate" in done.text
