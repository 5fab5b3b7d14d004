"""The Settings page and its fragments, as a browser with htmx sees them (no real browser)."""

from __future__ import annotations

import html
import re
import uuid
from html.parser import HTMLParser
from typing import Any
from zoneinfo import available_timezones

import httpx
import pytest

from app import clock
from tests.helpers import PASSWORD, create_interview, register

XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
LABELS = (
    "Name",
    "Time zone",
    "Thank-you within (hours)",
    "Check in after (days)",
    "Grace days after a promised date",
    "Send hour",
    "Skip weekends",
    "Second check-in after (days)",
    "Thank-you subject",
    "Thank-you body",
    "Check-in subject",
    "Check-in body",
    "Token name",
)
PROFILE = {"HX-Target": "settings-profile"}
POLICY = {"HX-Target": "settings-policy"}
TEMPLATES = {"HX-Target": "settings-templates"}
TOKENS = {"HX-Target": "settings-tokens"}


class Browser:
    """A signed-in browser: the cookie in the jar, the CSRF token and HX-Request on writes."""

    def __init__(self, client: httpx.AsyncClient, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    def headers(self, extra: dict[str, str] | None = None, *, csrf: bool = True) -> dict[str, str]:
        headers = {"HX-Request": "true", **(extra or {})}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return headers

    async def page(self) -> httpx.Response:
        response = await self.client.get("/settings", headers={"Accept": "text/html"})
        assert response.status_code == 200, response.text
        return response

    async def patch_me(
        self, body: dict[str, Any], target: dict[str, str], *, csrf: bool = True
    ) -> httpx.Response:
        return await self.client.patch(
            "/api/v1/me", json=body, headers=self.headers(target, csrf=csrf)
        )

    async def preview(self, templates: dict[str, Any], *, csrf: bool = True) -> httpx.Response:
        return await self.client.post(
            "/settings/templates/preview",
            json={"templates": templates},
            headers=self.headers({"HX-Target": "template-preview"}, csrf=csrf),
        )

    async def me(self) -> dict[str, Any]:
        response = await self.client.get("/api/v1/me")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def browser(client: httpx.AsyncClient) -> Browser:
    await register(client)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "jane@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return Browser(client, response.json()["csrf_token"])


class Elements(HTMLParser):
    """Labels, form fields (with their attributes) and button texts of an HTML document."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.labels: dict[str, str] = {}  # for -> text
        self.fields: list[dict[str, str | None]] = []
        self.buttons: list[str] = []
        self.ids: list[str] = []
        self._open: tuple[str, str] | None = None  # ("label", for) or ("button", "")
        self._text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag in ("input", "textarea", "select") and found.get("type") != "hidden":
            self.fields.append({"tag": tag, **found})
        if tag in ("label", "button"):
            self._open, self._text = (tag, found.get("for") or ""), []

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag == self._open[0]:
            text = " ".join("".join(self._text).split())
            if tag == "label":
                self.labels[self._open[1]] = text
            else:
                self.buttons.append(text)
            self._open = None


def fragment_ids(response: httpx.Response) -> list[str]:
    return Elements(response.text).ids


def error_slot(response: httpx.Response, slot: str) -> str:
    """The message the error fragment puts into the element with id `slot`."""
    match = re.search(
        rf'<p id="{slot}" class="field-error" hx-swap-oob="true">(.*?)</p>', response.text
    )
    assert match, f"no {slot} in {response.text}"
    return html.unescape(match.group(1))


def assert_fragment(response: httpx.Response, status: int = 200) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["vary"].startswith("HX-Request, Accept")
    assert "<html" not in response.text  # a fragment, not the page


def assert_refused_beside_field(response: httpx.Response, slot: str) -> str:
    assert_fragment(response, 422)
    assert response.headers["hx-reswap"] == "none"  # what the user typed stays
    assert 'id="alerts"' in response.text
    return error_slot(response, slot)


# The page


async def test_settings_shows_every_section_with_a_visible_label_for_each_input(
    browser: Browser,
) -> None:
    page = await browser.page()
    assert page.headers["content-type"].startswith("text/html")
    elements = Elements(page.text)
    assert set(LABELS) <= set(elements.labels.values())
    for field in elements.fields:
        if field.get("readonly") is None:
            assert field.get("id") in elements.labels, f"{field} has no <label for=…>"
    assert {"Save", "Preview", "Create token"} <= set(elements.buttons)
    assert elements.buttons.count("Save") == 4  # profile, policy, templates, email reminders
    for heading in ("Profile and time zone", "Follow-up rules", "Templates", "API tokens"):
        assert heading in page.text
    assert "Calendar feed link" in page.text and "New calendar link" in elements.buttons


async def test_the_time_zone_is_a_list_of_every_iana_zone_by_name_and_city_with_the_current_one(
    browser: Browser,
) -> None:
    await browser.patch_me({"timezone": "Europe/Berlin"}, PROFILE)
    page = (await browser.page()).text
    datalist = page.split('<datalist id="timezones">')[1].split("</datalist>")[0]
    zones = re.findall(r'<option value="([^"]+)"', datalist)
    assert zones == sorted(available_timezones())
    # Found by the city too: "New York" as well as America/New_York.
    assert '<option value="America/New_York" label="New York">' in datalist
    (field,) = [f for f in Elements(page).fields if f.get("id") == "timezone"]
    assert field["list"] == "timezones"
    assert field["value"] == "Europe/Berlin"


async def test_the_policy_explains_each_default_in_a_sentence(browser: Browser) -> None:
    page = (await browser.page()).text
    assert "Default 48: a thank-you note within two days" in page
    for default in ("Default 14", "Default 1:", "Default 9", "Default yes", "Default off"):
        assert default in page
    fields = {f.get("name"): f for f in Elements(page).fields}
    assert fields["policy.send_hour"]["value"] == "9"
    assert fields["policy.send_hour"]["data-json"] == "int"
    assert fields["policy.second_check_in_after_days"]["value"] == ""
    assert fields["policy.skip_weekends"]["data-json"] == "bool"


async def test_the_templates_list_the_placeholders_and_show_the_default_wording(
    browser: Browser,
) -> None:
    page = html.unescape((await browser.page()).text)
    for name in (
        "recipient_first_name",
        "recipient_name",
        "company",
        "role",
        "interview_date",
        "highlight",
        "excitement",
        "sender_name",
    ):
        assert f"<code>{{{name}}}</code>" in page
    assert "<code>{{</code> and <code>}}</code>" in page
    assert 'placeholder="Thank you — {role} interview"' in page
    assert "Hi {recipient_first_name}," in page


async def test_a_signed_out_browser_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/settings", headers={"Accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/settings"


# Saving each section


async def test_saving_the_profile_answers_its_section_and_saved(browser: Browser) -> None:
    response = await browser.patch_me(
        {"display_name": "Jane Q. Doe", "timezone": "America/New_York"}, PROFILE
    )
    assert_fragment(response)
    assert fragment_ids(response)[0] == "settings-profile"
    assert 'value="Jane Q. Doe"' in response.text
    assert 'value="America/New_York"' in response.text
    assert ">Saved.</div>" in response.text
    assert 'id="flash"' in response.text and 'hx-swap-oob="true"' in response.text
    assert "settings-policy" not in response.text
    me = await browser.me()
    assert (me["display_name"], me["timezone"]) == ("Jane Q. Doe", "America/New_York")


async def test_saving_the_policy_answers_its_section_and_saved(browser: Browser) -> None:
    body = {
        "policy": {
            "thank_you_within_hours": 24,
            "check_in_after_days": 10,
            "check_in_grace_days": 2,
            "send_hour": 7,
            "skip_weekends": False,
            "second_check_in_after_days": 7,
        }
    }
    response = await browser.patch_me(body, POLICY)
    assert_fragment(response)
    assert fragment_ids(response)[0] == "settings-policy"
    fields = {f.get("name"): f for f in Elements(response.text).fields}
    assert fields["policy.send_hour"]["value"] == "7"
    assert fields["policy.second_check_in_after_days"]["value"] == "7"
    assert '<option value="false" selected>No</option>' in response.text
    assert ">Saved.</div>" in response.text
    assert (await browser.me())["policy"] == body["policy"]


async def test_an_emptied_policy_field_puts_back_its_default(browser: Browser) -> None:
    await browser.patch_me({"policy": {"send_hour": 7, "second_check_in_after_days": 5}}, POLICY)
    response = await browser.patch_me(
        {"policy": {"send_hour": None, "second_check_in_after_days": None}}, POLICY
    )
    assert_fragment(response)
    policy = (await browser.me())["policy"]
    assert (policy["send_hour"], policy["second_check_in_after_days"]) == (9, None)


async def test_saving_the_templates_answers_their_section_and_saved(browser: Browser) -> None:
    templates = {
        "thank_you_subject": "Thanks, {recipient_first_name}!",
        "thank_you_body": "Dear {recipient_name},\n\nThank you.\n\n{sender_name}",
        "check_in_subject": None,
        "check_in_body": None,
    }
    response = await browser.patch_me({"templates": templates}, TEMPLATES)
    assert_fragment(response)
    assert fragment_ids(response)[0] == "settings-templates"
    assert 'value="Thanks, {recipient_first_name}!"' in response.text
    assert ">Dear {recipient_name},\n\nThank you.\n\n{sender_name}</textarea>" in response.text
    assert ">Saved.</div>" in response.text
    assert (await browser.me())["templates"] == templates


async def test_a_save_that_targets_no_section_answers_only_saved(browser: Browser) -> None:
    response = await browser.patch_me({"display_name": "Jane"}, {})
    assert_fragment(response)
    assert "<section" not in response.text
    assert ">Saved.</div>" in response.text


async def test_the_same_patch_without_htmx_answers_the_unchanged_json(browser: Browser) -> None:
    response = await browser.client.patch(
        "/api/v1/me",
        json={"policy": {"send_hour": 8}},
        headers={"X-CSRF-Token": browser.csrf},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["vary"].startswith("HX-Request, Accept")
    current = await browser.client.get("/api/v1/me")
    assert response.content == current.content
    assert response.headers["etag"] == current.headers["etag"]
    assert response.json()["policy"]["send_hour"] == 8


async def test_a_token_client_gets_json_from_patch_me(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    response = await client.patch("/api/v1/me", json={"display_name": "J"}, headers=jane)
    assert response.headers["content-type"] == "application/json"
    assert response.json()["display_name"] == "J"
    assert set(response.json()) == {
        "id",
        "email",
        "display_name",
        "is_admin",
        "timezone",
        "policy",
        "templates",
        "notifications",
        "calendar_url",
        "board_sharing",
        "created_at",
    }


# Errors beside their field, nothing saved


async def test_an_unknown_time_zone_is_shown_beside_its_field_and_nothing_is_saved(
    browser: Browser,
) -> None:
    response = await browser.patch_me(
        {"display_name": "Someone Else", "timezone": "Mars/Olympus_Mons"}, PROFILE
    )
    assert "unknown time zone 'Mars/Olympus_Mons'" in assert_refused_beside_field(
        response, "error-timezone"
    )
    me = await browser.me()
    assert (me["display_name"], me["timezone"]) == ("Jane Doe", "UTC")


async def test_an_out_of_range_send_hour_is_shown_beside_its_field_and_nothing_is_saved(
    browser: Browser,
) -> None:
    response = await browser.patch_me(
        {"policy": {"send_hour": 24, "check_in_after_days": 3}}, POLICY
    )
    assert "less than or equal to 23" in assert_refused_beside_field(
        response, "error-policy-send_hour"
    )
    policy = (await browser.me())["policy"]
    assert (policy["send_hour"], policy["check_in_after_days"]) == (9, 14)


async def test_a_number_typed_as_text_is_shown_beside_its_field(browser: Browser) -> None:
    response = await browser.patch_me({"policy": {"thank_you_within_hours": "two"}}, POLICY)
    assert assert_refused_beside_field(response, "error-policy-thank_you_within_hours")


async def test_an_unknown_placeholder_is_shown_beside_its_template_and_nothing_is_saved(
    browser: Browser,
) -> None:
    response = await browser.patch_me(
        {"templates": {"thank_you_subject": "Hi", "thank_you_body": "Hi {first_name}"}}, TEMPLATES
    )
    message = assert_refused_beside_field(response, "error-templates-thank_you_body")
    assert "unknown placeholder {first_name}" in message
    assert (await browser.me())["templates"]["thank_you_subject"] is None


async def test_a_blank_name_is_shown_beside_its_field(browser: Browser) -> None:
    response = await browser.patch_me({"display_name": None}, PROFILE)
    assert assert_refused_beside_field(response, "error-display_name")
    assert (await browser.me())["display_name"] == "Jane Doe"


async def test_an_htmx_patch_without_the_csrf_token_is_403_and_saves_nothing(
    browser: Browser,
) -> None:
    response = await browser.patch_me({"display_name": "Mallory"}, PROFILE, csrf=False)
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert (await browser.me())["display_name"] == "Jane Doe"


async def test_a_token_and_a_revocation_without_the_csrf_token_are_403(browser: Browser) -> None:
    created = await browser.client.post(
        "/api/v1/tokens", json={"name": "x"}, headers=browser.headers(TOKENS, csrf=False)
    )
    assert created.status_code == 403
    made = await browser.client.post(
        "/api/v1/tokens", json={"name": "x"}, headers=browser.headers(TOKENS)
    )
    token_id = re.search(r'hx-delete="/api/v1/tokens/([^"]+)"', made.text)
    assert token_id
    revoked = await browser.client.delete(
        f"/api/v1/tokens/{token_id.group(1)}", headers=browser.headers(TOKENS, csrf=False)
    )
    assert revoked.status_code == 403
    assert "token-" + token_id.group(1) in (await browser.page()).text


# API tokens


async def test_a_new_token_is_shown_once_and_works(browser: Browser) -> None:
    response = await browser.client.post(
        "/api/v1/tokens", json={"name": "calendar sync"}, headers=browser.headers(TOKENS)
    )
    assert_fragment(response, 201)
    assert fragment_ids(response)[0] == "settings-tokens"
    secret = re.search(r'id="new-token" class="token" value="(fu_[^"]+)"', response.text)
    assert secret, response.text
    assert 'data-copy="new-token">Copy</button>' in response.text
    assert "won’t be shown again" in response.text
    assert "calendar sync" in response.text and "last used never" in response.text
    assert "Token created" in response.text
    me = await browser.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"}
    )
    assert me.status_code == 200
    page = (await browser.page()).text
    assert "calendar sync" in page
    assert secret.group(1) not in page
    assert 'id="new-token"' not in page


async def test_revoking_a_token_removes_it_from_the_list(browser: Browser) -> None:
    for name in ("keep me", "drop me"):
        made = await browser.client.post(
            "/api/v1/tokens", json={"name": name}, headers=browser.headers(TOKENS)
        )
    secret = re.search(r'value="(fu_[^"]+)"', made.text)
    assert secret
    token_id = re.findall(r'hx-delete="/api/v1/tokens/([^"]+)"', made.text)
    listed = dict(
        zip(
            re.findall(r'class="who" id="token-name-[^"]+">([^<]+)<', made.text),
            token_id,
            strict=True,
        )
    )
    assert 'hx-confirm="Revoke the token “drop me”?' in made.text
    response = await browser.client.delete(
        f"/api/v1/tokens/{listed['drop me']}", headers=browser.headers(TOKENS)
    )
    assert_fragment(response)
    assert fragment_ids(response)[0] == "settings-tokens"
    assert "drop me" not in response.text
    assert "keep me" in response.text
    assert "Token revoked." in response.text
    gone = await browser.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"}
    )
    assert gone.status_code == 401
    assert "drop me" not in (await browser.page()).text


async def test_token_json_answers_for_tools_are_unchanged(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    created = await client.post(
        "/api/v1/tokens", json={"name": "script"}, auth=("jane@example.com", PASSWORD)
    )
    assert created.status_code == 201
    assert created.headers["content-type"] == "application/json"
    body = created.json()
    assert set(body) == {"id", "name", "created_at", "token"}
    assert created.headers["location"] == f"/api/v1/tokens/{body['id']}"
    revoked = await client.delete(f"/api/v1/tokens/{body['id']}", headers=jane)
    assert revoked.status_code == 204
    assert revoked.content == b""


async def test_a_blank_token_name_is_shown_beside_its_field(browser: Browser) -> None:
    response = await browser.client.post(
        "/api/v1/tokens", json={"name": " "}, headers=browser.headers(TOKENS)
    )
    assert assert_refused_beside_field(response, "error-name")


# Everything typed is escaped


async def test_what_was_typed_is_shown_as_text_everywhere(browser: Browser) -> None:
    saved = await browser.patch_me(
        {"display_name": XSS, "templates": {"thank_you_subject": XSS, "check_in_body": XSS}},
        PROFILE,
    )
    assert saved.status_code == 200, saved.text
    token = await browser.client.post(
        "/api/v1/tokens", json={"name": XSS}, headers=browser.headers(TOKENS)
    )
    preview = await browser.preview({"thank_you_body": XSS + " {sender_name}"})
    for response in (saved, token, preview, await browser.page()):
        assert "<script>alert" not in response.text
        assert "<img src=x" not in response.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


# Template preview


async def test_the_preview_fills_in_the_placeholders_without_saving(browser: Browser) -> None:
    response = await browser.preview(
        {
            "thank_you_subject": "Thanks from {sender_name}",
            "thank_you_body": "Hi {recipient_first_name}, about {highlight} at {company}.",
            "check_in_subject": None,
            "check_in_body": None,
        }
    )
    assert_fragment(response)
    text = html.unescape(response.text)
    assert "Thanks from Jane Doe" in text
    assert "Hi Ann, about the event-sourcing migration at Acme Corp." in text
    assert "Following up on my Backend Engineer interview" in text  # the default
    assert "I hope you're doing well." in text
    assert 'id="error-templates-thank_you_body" class="field-error" hx-swap-oob="true"></p>' in (
        response.text
    )
    assert (await browser.me())["templates"]["thank_you_subject"] is None


async def test_the_preview_never_evaluates_anything(browser: Browser) -> None:
    response = await browser.preview(
        {"thank_you_subject": "{{ 7*7 }}", "thank_you_body": "{{ config }} {{{company}}}"}
    )
    assert_fragment(response)
    text = html.unescape(response.text)
    assert "<strong>{ 7*7 }</strong>" in text
    assert "49" not in text
    assert "{ config } {Acme Corp}" in text


@pytest.mark.parametrize(
    ("field", "text", "said"),
    [
        ("thank_you_body", "{__class__}", "unknown placeholder {__class__}"),
        ("thank_you_subject", "{company.__class__}", "no attributes"),
        ("check_in_body", "{role!r}", "unknown placeholder {role!r}"),
        ("check_in_subject", "Hi {", "unmatched '{'"),
    ],
)
async def test_the_preview_refuses_anything_but_a_placeholder_beside_its_field(
    browser: Browser, field: str, text: str, said: str
) -> None:
    response = await browser.preview({field: text})
    assert said in assert_refused_beside_field(response, f"error-templates-{field}")


async def test_the_preview_without_the_csrf_token_is_403(browser: Browser) -> None:
    response = await browser.preview({}, csrf=False)
    assert response.status_code == 403


async def test_the_preview_is_not_part_of_the_api_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert not any(path.startswith("/settings") for path in document["paths"])


async def test_saved_templates_reach_the_drafts(browser: Browser) -> None:
    token = await browser.client.post(
        "/api/v1/tokens", json={"name": "t"}, auth=("jane@example.com", PASSWORD)
    )
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    interview = await create_interview(browser.client, headers)
    await browser.patch_me({"templates": {"thank_you_subject": "Thanks, {company}!"}}, TEMPLATES)
    followups = await browser.client.get(
        f"/api/v1/followups?interview_id={interview['id']}&kind=thank_you", headers=headers
    )
    assert [f["subject"] for f in followups.json()["items"]] == ["Thanks, Acme Corp!"]


async def test_email_reminders_are_switched_in_settings_and_failures_are_shown(
    client: httpx.AsyncClient,
) -> None:
    from app.reminders.models import Outbox
    from tests.test_web import HTMX, browser_session

    csrf = await browser_session(client)
    page = await client.get("/settings")
    assert 'for="daily_digest">Daily digest' in page.text
    saved = await client.patch(
        "/api/v1/me",
        json={"notifications": {"daily_digest": False, "due_now": True}},
        headers={**csrf, **HTMX, "HX-Target": "settings-notifications"},
    )
    assert saved.status_code == 200
    assert '<section id="settings-notifications"' in saved.text and "Saved." in saved.text
    me = (await client.get("/api/v1/me")).json()
    assert me["notifications"] == {"daily_digest": False, "due_now": True}

    app = client._transport.app  # type: ignore[attr-defined]
    async with app.state.sessionmaker() as session:
        user_id = uuid.UUID(me["id"])
        session.add(
            Outbox(
                user_id=user_id,
                kind="digest",
                dedupe_key="digest:x",
                due_at=clock.now(),
                payload={"subject": "Your <follow-ups>"},
                status="failed",
                last_error="550 mailbox unavailable",
            )
        )
        await session.commit()
    page = await client.get("/settings")
    assert "Emails that could not be delivered" in page.text
    assert "550 mailbox unavailable" in page.text and "Your &lt;follow-ups&gt;" in page.text
