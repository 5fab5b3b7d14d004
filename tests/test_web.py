"""The web layer: one endpoint, two representations; security headers; sign-in flow."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from app import clock
from tests.helpers import PASSWORD, create_interview, register

HTMX = {"HX-Request": "true"}


async def browser_session(
    client: httpx.AsyncClient, email: str = "jane@example.com"
) -> dict[str, str]:
    """Sign in like the browser does; the client keeps the cookie. Returns the CSRF header."""
    await register(client, email)
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


async def due_interview(client: httpx.AsyncClient, csrf: dict[str, str]) -> dict[str, Any]:
    started = (clock.now() - timedelta(hours=3)).isoformat()
    return await create_interview(client, csrf, starts_at=started)


def assert_security_headers(response: httpx.Response) -> None:
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]
    assert response.headers["cache-control"] == "no-store"  # Back shows no stale private page


async def test_signed_out_pages_redirect_to_sign_in_and_an_empty_instance_to_sign_up(
    client: httpx.AsyncClient,
) -> None:
    today = await client.get("/", headers={"Accept": "text/html"})
    assert today.status_code == 303
    assert today.headers["location"].startswith("/login")
    login = await client.get("/login")
    assert (login.status_code, login.headers["location"]) == (303, "/register")
    signup = await client.get("/register")
    assert signup.status_code == 200
    assert "Create the admin account" in signup.text
    assert_security_headers(signup)


async def test_today_lists_due_follow_ups_with_a_summary(client: httpx.AsyncClient) -> None:
    csrf = await browser_session(client)
    await due_interview(client, csrf)
    page = await client.get("/")
    assert page.status_code == 200
    assert_security_headers(page)
    assert "1 thank-you note due" in page.text
    assert "Thank-you note to Ann Lee" in page.text
    assert 'name="csrf-token"' in page.text
    for action in ("Open in mail", "Copy", "Mark sent", "Skip", "Snooze"):
        assert action in page.text


async def test_mark_sent_answers_htmx_with_the_today_fragment_and_tools_with_json(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    interview = await due_interview(client, csrf)
    thank_you, check_in = interview["followups"]

    fragment = await client.patch(
        f"/api/v1/followups/{thank_you['id']}",
        json={"status": "sent"},
        headers={**csrf, **HTMX, "HX-Target": "today"},
    )
    assert fragment.status_code == 200
    assert fragment.headers["content-type"].startswith("text/html")
    assert fragment.headers["vary"].startswith("HX-Request, Accept")
    assert '<section id="today"' in fragment.text and "<html" not in fragment.text
    assert "Marked sent: thank-you note to Ann Lee" in fragment.text
    assert f'id="followup-{thank_you["id"]}"' not in fragment.text
    assert_security_headers(fragment)

    as_json = await client.patch(
        f"/api/v1/followups/{check_in['id']}", json={"status": "skipped"}, headers=csrf
    )
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.headers["vary"].startswith("HX-Request, Accept")
    assert as_json.json()["status"] == "skipped"


async def test_the_draft_editor_saves_through_the_api_and_notes_the_edit(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    interview = await due_interview(client, csrf)
    thank_you = interview["followups"][0]
    page = await client.get(f"/followups/{thank_you['id']}")
    assert page.status_code == 200
    assert 'for="subject">Subject' in page.text and 'for="body">Body' in page.text
    saved = await client.patch(
        f"/api/v1/followups/{thank_you['id']}",
        json={"body": "Thanks <b>Ann</b>!"},
        headers={**csrf, **HTMX, "HX-Target": "followup-editor"},
    )
    assert saved.status_code == 200
    assert "Thanks &lt;b&gt;Ann&lt;/b&gt;!" in saved.text
    assert "no longer follows changes" in saved.text


async def test_a_422_to_htmx_lands_beside_its_field_and_keeps_the_page(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    response = await client.post(
        "/api/v1/interviews",
        json={"company": "x" * 201, "role": "Dev", "starts_at": "2026-12-01T10:00:00Z"},
        headers={**csrf, **HTMX},
    )
    assert response.status_code == 422
    assert response.headers["hx-reswap"] == "none"
    assert 'id="error-company"' in response.text and 'hx-swap-oob="true"' in response.text
    assert 'id="alerts"' in response.text


async def test_cookie_requests_without_csrf_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    interview = await due_interview(client, csrf)
    thank_you = interview["followups"][0]
    refused = await client.patch(
        f"/api/v1/followups/{thank_you['id']}", json={"status": "sent"}, headers=HTMX
    )
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    still = await client.get(f"/api/v1/followups/{thank_you['id']}")
    assert still.json()["status"] == "scheduled"


async def test_signing_in_and_up_through_htmx_redirects_and_sets_the_cookie(
    client: httpx.AsyncClient,
) -> None:
    signed_up = await client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.com", "password": PASSWORD, "display_name": "New"},
        headers=HTMX,
    )
    assert signed_up.status_code == 201
    assert signed_up.headers["hx-redirect"] == "/"
    assert "followup_session=" in signed_up.headers["set-cookie"]
    client.cookies.clear()
    signed_in = await client.post(
        "/api/v1/auth/login",
        json={"email": "new@example.com", "password": PASSWORD},
        headers={**HTMX, "HX-Current-URL": "http://testserver/login?next=/interviews"},
    )
    assert signed_in.headers["hx-redirect"] == "/interviews"
    evil = await client.post(
        "/api/v1/auth/login",
        json={"email": "new@example.com", "password": PASSWORD},
        headers={**HTMX, "HX-Current-URL": "http://testserver/login?next=//evil.example"},
    )
    assert evil.headers["hx-redirect"] == "/"


async def test_an_expired_session_sends_htmx_to_sign_in(client: httpx.AsyncClient) -> None:
    client.cookies.set("followup_session", "stale")
    response = await client.get("/api/v1/interviews", headers=HTMX)
    assert response.headers["hx-redirect"].startswith("/login")


async def test_static_assets_are_served_locally(client: httpx.AsyncClient) -> None:
    for path in ("/static/htmx.min.js", "/static/followup.js", "/static/app.css"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_api_manual_is_served_from_local_files_under_the_csp(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in page.text
    assert "http" not in page.text.split("<body>")[0]  # nothing from another origin
    assert "script-src 'self'" in page.headers["content-security-policy"]
    bundle = await client.get("/static/swagger/swagger-ui-bundle.js")
    assert bundle.status_code == 200


async def test_a_history_restore_request_gets_the_full_page(client: httpx.AsyncClient) -> None:
    await browser_session(client)
    for path in ("/", "/interviews", "/settings"):
        response = await client.get(path, headers={**HTMX, "HX-History-Restore-Request": "true"})
        assert response.status_code == 200, path
        assert response.text.lstrip().startswith("<!doctype html>"), path


async def test_today_to_htmx_is_only_its_section_and_varies_on_hx_request(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    await due_interview(client, csrf)
    fragment = await client.get("/", headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="today"')
    assert "<html" not in fragment.text and "<nav" not in fragment.text
    assert "Thank-you note to Ann Lee" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    page = await client.get("/")
    assert page.text.lstrip().startswith("<!doctype html>")
    assert "HX-Request" in page.headers["vary"]
    assert_security_headers(fragment)


async def many_due(client: httpx.AsyncClient, csrf: dict[str, str], count: int) -> None:
    """`count` thank-you notes due now: interviews three hours ago, 40 people each."""
    started = (clock.now() - timedelta(hours=3)).isoformat()
    while count > 0:
        people = [
            {
                "name": f"Person {count - i}",
                "email": f"p{count - i}@example.com",
                "role": "interviewer",
            }
            for i in range(min(count, 40))
        ]
        await create_interview(client, csrf, starts_at=started, people=people)
        count -= len(people)


async def test_today_shows_at_most_fifty_per_section_and_counts_them_all(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    await many_due(client, csrf, 60)
    page = await client.get("/")
    assert page.status_code == 200
    assert "60 thank-you notes due" in page.text
    assert '<span class="badge">60</span>' in page.text
    due_list = page.text.split('id="due-list"')[1].split("</ul>")[0]
    assert due_list.count('class="card followup"') == 50
    assert "Show more" in page.text


async def test_show_more_loads_the_rest_of_a_section_as_today_items(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    await many_due(client, csrf, 60)
    page = await client.get("/")
    first = set(re.findall(r'id="followup-([0-9a-f-]+)"', page.text))
    more_url = re.search(r'hx-get="(/api/v1/followups\?due_state=due[^"]*)"', page.text)
    assert more_url is not None
    more = await client.get(more_url.group(1).replace("&amp;", "&"), headers=HTMX)
    assert more.status_code == 200
    assert more.headers["content-type"].startswith("text/html")
    rest = set(re.findall(r'id="followup-([0-9a-f-]+)"', more.text))
    assert len(rest) == 10 and not rest & first
    assert "Show more" not in more.text  # nothing left after these
    assert "Mark sent" in more.text and "Backend Engineer at Acme Corp" in more.text
    # Tools asking the same URL for JSON get the API's page, as before.
    api = await client.get(more_url.group(1).replace("&amp;", "&"))
    assert api.headers["content-type"].startswith("application/json")
    assert {item["id"] for item in api.json()["items"]} == rest
