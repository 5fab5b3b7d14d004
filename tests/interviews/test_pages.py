"""The interview pages and the htmx answers of the interview endpoints, as a browser sees them."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from app.interviews import pages
from tests.helpers import PASSWORD, create_interview, interview_body, register

HTMX = {"HX-Request": "true"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
XSS = "<script>alert(1)</script>"
FORM_LABELS = (
    "Company",
    "Role",
    "Starts at",
    "Duration",
    "Stage",
    "Location",
    "Response promised by",
    "Highlight",
    "Excitement",
    "Notes",
)
PERSON_LABELS = ("Name", "Email", "Title", "Contact type")
OUTCOME_BUTTONS = ("Next round", "Offer", "Rejected", "Withdrawn", "No response")


async def browser_session(
    client: httpx.AsyncClient, email: str = "jane@example.com"
) -> dict[str, str]:
    """Sign in as the browser does (the client keeps the cookie); return the CSRF header."""
    await register(client, email)
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def labels(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", label).strip()
        for label in re.findall(r"<label[^>]*>(.*?)</label>", html, re.S)
    ]


def buttons(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", b).strip()
        for b in re.findall(r"<button[^>]*>(.*?)</button>", html, re.S)
    ]


def assert_page(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text


async def set_timezone(client: httpx.AsyncClient, csrf: dict[str, str], timezone: str) -> None:
    response = await client.patch("/api/v1/me", json={"timezone": timezone}, headers=csrf)
    assert response.status_code == 200, response.text


# Pages


async def test_a_new_user_sees_an_empty_list_that_says_to_add_an_interview(
    client: httpx.AsyncClient,
) -> None:
    await browser_session(client)
    page = await client.get("/interviews")
    assert_page(page)
    assert "No interviews yet." in page.text
    assert 'href="/interviews/new"' in page.text
    assert {"Outcome", "Company", "From", "To"} <= set(labels(page.text))


async def test_the_list_shows_company_role_time_stage_outcome_and_next_follow_up(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    interview = await create_interview(
        client, csrf, starts_at="2030-06-03T10:00:00+00:00", stage="Onsite"
    )
    page = await client.get("/interviews")
    assert_page(page)
    assert 'id="interview-list"' in page.text
    row = page.text[page.text.index('class="card interview"') :]
    assert f'href="/interviews/{interview["id"]}"' in row
    for shown in ("Acme Corp", "Backend Engineer", "3 Jun 2030 at 10:00", "Onsite", "Pending"):
        assert shown in row
    assert "Next: Thank-you note to Ann Lee" in row
    assert "Send from 3 Jun 2030 at 11:00" in row


async def test_the_list_filters_by_outcome_company_and_days_in_the_users_time_zone(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    await set_timezone(client, csrf, "Europe/Berlin")
    # 00:30 on 1 December in Berlin is still 30 November in UTC.
    await create_interview(
        client, csrf, company="Early Bird", starts_at="2026-12-01T00:30:00+01:00"
    )
    await create_interview(client, csrf, company="Late Owl", starts_at="2026-12-01T23:30:00+01:00")
    await create_interview(client, csrf, company="Next Day", starts_at="2026-12-02T00:00:00+01:00")
    rejected = await create_interview(
        client, csrf, company="Gone Inc", starts_at="2026-11-20T10:00:00+01:00"
    )
    patched = await client.patch(
        f"/api/v1/interviews/{rejected['id']}", json={"outcome": "rejected"}, headers=csrf
    )
    assert patched.status_code == 200

    async def shown(**params: str) -> list[str]:
        page = await client.get("/interviews", params=params, headers=HTMX)
        assert_page(page)
        return [c for c in ("Early Bird", "Late Owl", "Next Day", "Gone Inc") if c in page.text]

    assert await shown(**{"from": "2026-12-01", "to": "2026-12-01"}) == ["Early Bird", "Late Owl"]
    assert await shown(**{"from": "2026-12-02"}) == ["Next Day"]
    assert await shown(to="2026-11-30") == ["Gone Inc"]
    assert await shown(outcome="rejected") == ["Gone Inc"]
    assert await shown(company="OWL") == ["Late Owl"]
    assert await shown(outcome="", company="", **{"from": "", "to": ""}) == [
        "Early Bird",
        "Late Owl",
        "Next Day",
        "Gone Inc",
    ]
    nothing = await client.get("/interviews", params={"company": "nobody"})
    assert "No interviews match these filters." in nothing.text
    # The form shows the filters in use, so a pushed URL restores them.
    page = await client.get("/interviews", params={"outcome": "rejected", "company": "Gone"})
    assert '<option value="rejected" selected>' in page.text
    assert 'value="Gone"' in page.text


async def test_the_filter_form_swaps_the_list_in_place_and_pushes_the_url(
    client: httpx.AsyncClient,
) -> None:
    await browser_session(client)
    page = await client.get("/interviews")
    form = page.text[page.text.index("<form") : page.text.index("</form>")]
    for attribute in (
        'hx-get="/interviews"',
        'hx-target="#interview-list"',
        'hx-select="#interview-list"',
        'hx-swap="outerHTML"',
        'hx-push-url="true"',
    ):
        assert attribute in form


async def test_a_bad_filter_date_is_shown_beside_its_field(client: httpx.AsyncClient) -> None:
    await browser_session(client)
    response = await client.get("/interviews", params={"from": "yesterday"}, headers=HTMX)
    assert response.status_code == 422
    assert '<p id="error-from" class="field-error" hx-swap-oob="true">' in response.text


async def test_more_pages_through_the_list_newest_first_with_the_cursor(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    csrf = await browser_session(client)
    for day, company in enumerate(("Gamma", "Beta", "Alpha"), start=1):
        await create_interview(client, csrf, company=company, starts_at=f"2030-06-0{day}T10:00:00Z")
    page = await client.get("/interviews", params={"company": "a"})
    assert "Alpha" in page.text and "Beta" in page.text and "Gamma" not in page.text
    assert page.text.index("Alpha") < page.text.index("Beta")  # the newest first
    more = re.search(r'<li class="more"><a class="button" href="([^"]+)"', page.text)
    assert more is not None
    url = more.group(1).replace("&amp;", "&")
    assert "company=a" in url and "cursor=" in url
    rest = await client.get(url, headers=HTMX)
    assert "Gamma" in rest.text and "Alpha" not in rest.text and 'class="more"' not in rest.text


async def test_the_new_interview_form_has_every_label_and_posts_to_the_api(
    client: httpx.AsyncClient,
) -> None:
    await browser_session(client)
    page = await client.get("/interviews/new")
    assert_page(page)
    assert set(FORM_LABELS) <= set(labels(page.text))
    # The person row to clone carries every person label and the Remove button.
    assert set(PERSON_LABELS) <= set(labels(page.text))
    for option in ("Interviewer", "Recruiter", "Hiring manager", "HR", "Other"):
        assert f">{option}</option>" in page.text
    assert {"Add person", "Remove this person", "Save"} <= set(buttons(page.text))
    assert 'hx-post="/api/v1/interviews"' in page.text
    assert 'type="datetime-local" data-tz="UTC"' in page.text
    assert 'name="duration_minutes"' in page.text and 'data-json="int"' in page.text
    assert 'name="people" data-json="list"' in page.text
    for hint in ("Something you discussed, to mention in the thank-you", "What excites you"):
        assert hint in page.text


async def test_the_edit_form_is_filled_in_with_people_in_order_and_their_ids(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    await set_timezone(client, csrf, "Europe/Berlin")
    interview = await create_interview(client, csrf, response_promised_by="2026-12-20")
    page = await client.get(f"/interviews/{interview['id']}/edit")
    assert_page(page)
    assert set(FORM_LABELS) | set(PERSON_LABELS) <= set(labels(page.text))
    assert f'hx-patch="/api/v1/interviews/{interview["id"]}"' in page.text
    assert 'value="Acme Corp"' in page.text
    assert 'value="2026-12-01T15:00"' in page.text  # 15:00 in Berlin
    assert 'value="2026-12-20"' in page.text
    ann, bob = interview["people"]
    assert f'name="people.0.id" value="{ann["id"]}"' in page.text
    assert f'name="people.1.id" value="{bob["id"]}"' in page.text
    assert 'name="people.1.name" value="Bob Stone"' in page.text
    assert 'id="error-people-1-name"' in page.text
    assert '<option value="recruiter" selected>' in page.text


async def test_the_detail_page_shows_facts_people_timeline_and_outcome_buttons(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    interview = await create_interview(client, csrf, notes="Ask about on-call")
    thank_you, check_in = interview["followups"]
    page = await client.get(f"/interviews/{interview['id']}")
    assert_page(page)
    for shown in (
        "Backend Engineer at Acme Corp",
        "Ask about on-call",
        "the event-sourcing migration",
        "Ann Lee",
        "Bob Stone",
        "Recruiter",
        "Thank-you note to Ann Lee",
        "Check-in to Bob Stone",
    ):
        assert shown in page.text
    assert f'href="/followups/{thank_you["id"]}"' in page.text
    assert f'href="/followups/{check_in["id"]}"' in page.text
    assert page.text.index("Thank-you note to Ann Lee") < page.text.index("Check-in to Bob Stone")
    shown_buttons = buttons(page.text)
    assert set(OUTCOME_BUTTONS) | {"Delete"} <= set(shown_buttons)
    assert "Back to pending" not in shown_buttons
    assert f'href="/interviews/{interview["id"]}/edit">Edit</a>' in page.text
    assert "hx-confirm=" in page.text
    assert """data-json-body='{"outcome": "rejected"}' """ in page.text


async def test_the_timeline_says_what_was_sent_when(client: httpx.AsyncClient) -> None:
    csrf = await browser_session(client)
    interview = await create_interview(client, csrf, starts_at="2030-06-03T10:00:00Z")
    thank_you = interview["followups"][0]
    sent = await client.patch(
        f"/api/v1/followups/{thank_you['id']}",
        json={"status": "sent", "sent_at": "2030-06-03T14:05:00Z"},
        headers=csrf,
    )
    assert sent.status_code == 200
    page = await client.get(f"/interviews/{interview['id']}")
    assert "Sent 3 Jun 2030 at 14:05" in page.text


async def test_a_malformed_or_unknown_id_is_a_404_page(client: httpx.AsyncClient) -> None:
    await browser_session(client)
    for path in ("/interviews/not-an-id", "/interviews/not-an-id/edit"):
        response = await client.get(path, headers=BROWSER)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")


async def test_a_signed_out_browser_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    await register(client)
    for path in ("/interviews", "/interviews/new"):
        response = await client.get(path, headers=BROWSER)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


# One endpoint, two representations


async def test_htmx_post_redirects_to_the_new_interview_and_tools_get_the_same_json(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    body = interview_body()
    from_page = await client.post("/api/v1/interviews", json=body, headers={**csrf, **HTMX})
    assert from_page.status_code == 201
    assert from_page.headers["vary"].startswith("HX-Request, Accept")
    target = from_page.headers["hx-redirect"]
    assert re.fullmatch(r"/interviews/[0-9a-f-]{36}", target)
    assert (await client.get(target)).status_code == 200

    from_tool = await client.post("/api/v1/interviews", json=body, headers=csrf)
    assert from_tool.status_code == 201
    assert from_tool.headers["content-type"] == "application/json"
    assert from_tool.headers["vary"].startswith("HX-Request, Accept")
    assert "hx-redirect" not in from_tool.headers
    created = from_tool.json()
    assert from_tool.headers["location"] == f"/api/v1/interviews/{created['id']}"
    assert [f["kind"] for f in created["followups"]] == ["thank_you", "check_in"]
    again = await client.get(f"/api/v1/interviews/{created['id']}", headers=csrf)
    assert again.content == from_tool.content


async def test_htmx_patch_from_the_edit_form_redirects_to_the_detail_page(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    interview = await create_interview(client, csrf)
    ann, _bob = interview["people"]
    response = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={
            "company": "Acme Labs",
            "people": [{"id": ann["id"], "name": "Ann Lee", "role": "interviewer"}],
        },
        headers={**csrf, **HTMX, "HX-Target": "interview-form"},
    )
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == f"/interviews/{interview['id']}"
    assert response.headers["vary"].startswith("HX-Request, Accept")
    page = await client.get(f"/interviews/{interview['id']}")
    assert "Acme Labs" in page.text and "Bob Stone" not in page.text


async def test_an_outcome_button_re_renders_the_interview_with_the_check_in_cancelled(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    interview = await create_interview(client, csrf)
    response = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"outcome": "rejected"},
        headers={**csrf, **HTMX, "HX-Target": "interview"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["vary"].startswith("HX-Request, Accept")
    assert response.headers["etag"]
    html = response.text
    assert html.startswith('<section id="interview"') and "<html" not in html
    check_in = html[html.index("Check-in to Bob Stone") :]
    assert "Cancelled" in check_in[: check_in.index("</li>")]
    assert "Back to pending" in buttons(html)
    assert '<div id="flash" class="flash" role="status" hx-swap-oob="true">' in html
    assert "Rejected: the check-in is cancelled; thank-you notes stay." in html

    back = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"outcome": "pending"},
        headers={**csrf, **HTMX, "HX-Target": "interview"},
    )
    assert "Pending: 2 follow-ups are scheduled." in back.text
    assert "Back to pending" not in buttons(back.text)

    gone = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"outcome": "withdrawn"},
        headers={**csrf, **HTMX, "HX-Target": "interview"},
    )
    assert "Withdrawn: the check-in is cancelled; the thank-you note is cancelled." in gone.text


async def test_patch_without_htmx_answers_the_same_json_as_before(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    interview = await create_interview(client, csrf)
    response = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json={"outcome": "offer"}, headers=csrf
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["vary"].startswith("HX-Request, Accept")
    body = response.json()
    assert body["outcome"] == "offer"
    assert [f["status"] for f in body["followups"]] == ["scheduled", "cancelled"]
    assert set(body) == set(interview)
    read = await client.get(f"/api/v1/interviews/{interview['id']}", headers=csrf)
    assert read.content == response.content
    assert read.headers["etag"] == response.headers["etag"]


async def test_htmx_delete_redirects_to_the_list_and_tools_get_204(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    first = await create_interview(client, csrf)
    second = await create_interview(client, csrf)
    from_page = await client.delete(f"/api/v1/interviews/{first['id']}", headers={**csrf, **HTMX})
    assert from_page.status_code == 204
    assert from_page.headers["hx-redirect"] == "/interviews"
    assert from_page.headers["vary"].startswith("HX-Request, Accept")
    from_tool = await client.delete(f"/api/v1/interviews/{second['id']}", headers=csrf)
    assert from_tool.status_code == 204 and from_tool.content == b""
    assert "hx-redirect" not in from_tool.headers
    assert from_tool.headers["vary"].startswith("HX-Request, Accept")
    assert (await client.get("/api/v1/interviews", headers=csrf)).json()["items"] == []


async def test_a_422_to_htmx_lands_beside_the_field_and_keeps_what_was_typed(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    body = interview_body(company=None)
    body["people"][1]["name"] = ""
    response = await client.post("/api/v1/interviews", json=body, headers={**csrf, **HTMX})
    assert response.status_code == 422
    assert response.headers["hx-reswap"] == "none"
    assert response.headers["vary"].startswith("HX-Request, Accept")
    assert '<p id="error-company" class="field-error" hx-swap-oob="true">' in response.text
    assert 'id="error-people-1-name"' in response.text
    assert 'id="alerts"' in response.text
    # Every slot the server can name exists on the form.
    form = (await client.get("/interviews/new")).text
    assert 'id="error-company"' in form and 'id="error-people-__index__-name"' in form

    tool = await client.post("/api/v1/interviews", json=body, headers=csrf)
    assert tool.status_code == 422
    assert tool.headers["content-type"] == "application/problem+json"
    assert {"loc": ["body", "company"], "msg": "Input should be a valid string"} in tool.json()[
        "errors"
    ]


async def test_an_htmx_patch_without_the_csrf_token_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    interview = await create_interview(client, csrf)
    response = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"outcome": "rejected"},
        headers={**HTMX, "HX-Target": "interview"},
    )
    assert response.status_code == 403
    unchanged = await client.get(f"/api/v1/interviews/{interview['id']}", headers=csrf)
    assert unchanged.json()["outcome"] == "pending"


async def test_what_the_user_typed_is_escaped_on_every_page(client: httpx.AsyncClient) -> None:
    csrf = await browser_session(client)
    body: dict[str, Any] = interview_body(
        company=XSS,
        role=XSS,
        stage=XSS,
        location=XSS,
        notes=XSS,
        highlight=XSS,
        excitement=XSS,
    )
    body["people"][0]["name"] = XSS
    body["people"][0]["title"] = XSS
    interview = await create_interview(client, csrf, **body)
    responses = [
        await client.get("/interviews"),
        await client.get("/interviews", params={"company": XSS}),
        await client.get(f"/interviews/{interview['id']}"),
        await client.get(f"/interviews/{interview['id']}/edit"),
        await client.patch(
            f"/api/v1/interviews/{interview['id']}",
            json={"outcome": "offer"},
            headers={**csrf, **HTMX, "HX-Target": "interview"},
        ),
        await client.get(f"/api/v1/interviews/{interview['id']}", headers=HTMX),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert XSS not in response.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    # A filter value is echoed only escaped, in the attribute and the More link.
    assert json.dumps(XSS) not in responses[1].text


async def test_the_page_lists_newest_first_while_the_api_keeps_its_order(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    for day, company in enumerate(("Older Co", "Newer Co"), start=1):
        await create_interview(client, csrf, company=company, starts_at=f"2030-06-0{day}T10:00:00Z")
    page = (await client.get("/interviews")).text
    assert page.index("Newer Co") < page.index("Older Co")
    listed = await client.get("/api/v1/interviews", headers={"Accept": "application/json"})
    assert [i["company"] for i in listed.json()["items"]] == ["Older Co", "Newer Co"]


def shown_count(html: str) -> str:
    found = re.search(r'<p class="count" id="interview-count" role="status">([^<]*)</p>', html)
    assert found, "no count"
    return found.group(1)


async def test_the_list_says_which_of_how_many_it_shows_page_by_page(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    csrf = await browser_session(client)
    for day, company in enumerate(("Gamma", "Beta", "Alpha"), start=1):
        await create_interview(client, csrf, company=company, starts_at=f"2030-06-0{day}T10:00:00Z")
    page = await client.get("/interviews")
    assert shown_count(page.text) == "1–2 of 3"
    more = re.search(r'<li class="more"><a class="button" href="([^"]+)"', page.text)
    assert more is not None
    assert 'hx-select-oob="#interview-count"' in page.text[more.start() :]
    url = more.group(1).replace("&amp;", "&")
    assert "shown=2" in url
    # Without JavaScript the next page is a page of its own; with htmx it is added below.
    assert shown_count((await client.get(url)).text) == "3 of 3"
    assert shown_count((await client.get(url, headers=HTMX)).text) == "1–3 of 3"
    # Another user's interviews are not counted.
    await client.post("/api/v1/auth/logout", headers=csrf)
    await browser_session(client, "other@example.com")
    assert "interview-count" not in (await client.get("/interviews")).text


async def test_the_search_box_finds_company_role_or_person_and_the_api_ignores_it(
    client: httpx.AsyncClient,
) -> None:
    csrf = await browser_session(client)
    await create_interview(client, csrf, company="Acme Corp", role="Backend Engineer")
    await create_interview(
        client,
        csrf,
        company="Globex",
        role="Data Scientist",
        people=[{"name": "Zed Quinn", "role": "interviewer"}],
    )
    page = await client.get("/interviews")
    form = page.text[page.text.index("<form") : page.text.index("</form>")]
    assert 'method="get"' in form and '<label for="filter-q">Search</label>' in form
    assert 'name="q" type="search"' in form
    for q, found, missing in (
        ("acme", "Acme Corp", "Globex"),  # company
        ("SCIENTIST", "Globex", "Acme Corp"),  # role, regardless of case
        ("quinn", "Globex", "Acme Corp"),  # a person met
        ("ann lee", "Acme Corp", "Globex"),
    ):
        result = await client.get("/interviews", params={"q": q}, headers=HTMX)
        assert found in result.text and missing not in result.text, q
        assert shown_count(result.text) == "1 of 1"
        assert f'value="{q}"' in result.text  # the box keeps what was typed
    none = await client.get("/interviews", params={"q": "100%_"})
    assert "No interviews match this search." in none.text
    # The JSON list has no search: the parameter is not part of its contract.
    api = await client.get("/api/v1/interviews", params={"q": "acme"})
    assert len(api.json()["items"]) == 2
    too_long = await client.get("/interviews", params={"q": "x" * 201}, headers=HTMX)
    assert too_long.status_code == 422
