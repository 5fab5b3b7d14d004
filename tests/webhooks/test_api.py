"""The webhooks API: the secret shown once, refused addresses, the test button, isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import user_headers
from tests.webhooks.test_addresses import REFUSED

HOOK = {"url": "https://93.184.215.14/hook", "events": ["followup.sent"], "format": "json"}


async def test_the_secret_is_shown_once_and_never_listed(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client)
    created = await client.post("/api/v1/webhooks", json=HOOK, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/webhooks/{body['id']}"
    assert len(body["secret"]) >= 32 and body["events"] == ["followup.sent"]
    listed = await client.get("/api/v1/webhooks", headers=headers)
    assert listed.status_code == 200
    assert [h["id"] for h in listed.json()] == [body["id"]]
    assert body["secret"] not in listed.text and "secret" not in listed.json()[0]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"events": ["followup.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"format": "teams"}, "format"),
        ({"url": "ftp://93.184.215.14/"}, "url"),
    ],
)
async def test_unknown_events_formats_and_schemes_are_422_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    headers = await user_headers(client)
    response = await client.post("/api/v1/webhooks", json={**HOOK, **change}, headers=headers)
    assert response.status_code == 422, response.text
    assert field in {str(part) for e in response.json()["errors"] for part in e["loc"]}


async def test_every_private_address_form_is_refused_when_saved(make_app: Any) -> None:
    app = make_app()  # nothing allowed
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        headers = await user_headers(client)
        for url in REFUSED:
            response = await client.post(
                "/api/v1/webhooks", json={**HOOK, "url": url}, headers=headers
            )
            assert response.status_code == 422, (url, response.text)
            assert response.json()["errors"][0]["loc"] == ["body", "url"], url
        assert (await client.get("/api/v1/webhooks", headers=headers)).json() == []


@pytest.mark.parametrize(
    "host",
    [
        "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
        "[::a00:1]",  # IPv4-compatible 10.0.0.1
    ],
)
async def test_transition_addresses_leading_to_refused_ones_are_422_when_saved(
    client: httpx.AsyncClient, host: str
) -> None:
    headers = await user_headers(client)
    response = await client.post(
        "/api/v1/webhooks", json={**HOOK, "url": f"http://{host}/hook"}, headers=headers
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "url"] and "embeds" in error["msg"], error


async def test_a_nat64_address_of_a_public_server_may_be_saved(client: httpx.AsyncClient) -> None:
    # What a DNS64 resolver answers on an IPv6-only host for an IPv4-only receiver.
    headers = await user_headers(client)
    response = await client.post(
        "/api/v1/webhooks",
        json={**HOOK, "url": "https://[64:ff9b::5db8:d70e]/hook"},
        headers=headers,
    )
    assert response.status_code == 201, response.text


async def test_an_allowed_loopback_address_may_be_saved(make_app: Any) -> None:
    app = make_app(webhook_allow="127.0.0.1, localhost")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        headers = await user_headers(client)
        for url in ("http://127.0.0.1:9/", "http://2130706433/", "http://localhost:9/"):
            response = await client.post(
                "/api/v1/webhooks", json={**HOOK, "url": url}, headers=headers
            )
            assert response.status_code == 201, (url, response.text)
        refused = await client.post(
            "/api/v1/webhooks", json={**HOOK, "url": "http://10.0.0.1/"}, headers=headers
        )
        assert refused.status_code == 422


async def test_another_users_webhook_is_404(client: httpx.AsyncClient) -> None:
    jane = await user_headers(client)
    hook = (await client.post("/api/v1/webhooks", json=HOOK, headers=jane)).json()
    bob = await user_headers(client, "bob@example.com", "Bob")
    for method, path in [
        ("DELETE", f"/api/v1/webhooks/{hook['id']}"),
        ("POST", f"/api/v1/webhooks/{hook['id']}/test"),
        ("GET", f"/api/v1/webhooks/{hook['id']}/deliveries"),
    ]:
        response = await client.request(method, path, headers=bob)
        assert response.status_code == 404, (method, path, response.text)
    assert (await client.get("/api/v1/webhooks", headers=bob)).json() == []
    assert len((await client.get("/api/v1/webhooks", headers=jane)).json()) == 1


async def test_delete_removes_the_webhook(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client)
    hook = (await client.post("/api/v1/webhooks", json=HOOK, headers=headers)).json()
    deleted = await client.delete(f"/api/v1/webhooks/{hook['id']}", headers=headers)
    assert deleted.status_code == 204
    assert (await client.get("/api/v1/webhooks", headers=headers)).json() == []
    again = await client.delete(f"/api/v1/webhooks/{hook['id']}", headers=headers)
    assert again.status_code == 404


async def test_the_test_button_queues_a_test_event(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client)
    hook = (await client.post("/api/v1/webhooks", json=HOOK, headers=headers)).json()
    response = await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=headers)
    assert response.status_code == 202
    log = await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=headers)
    assert [(d["event"], d["status"], d["attempts"]) for d in log.json()] == [
        ("webhook.test", "pending", 0)
    ]


async def test_htmx_gets_the_settings_section(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client)
    htmx = {**headers, "HX-Request": "true"}
    created = await client.post("/api/v1/webhooks", json=HOOK, headers=htmx)
    assert created.status_code == 201
    assert 'id="settings-webhooks"' in created.text and "Copy it now" in created.text
    hook_id = (await client.get("/api/v1/webhooks", headers=headers)).json()[0]["id"]
    tested = await client.post(f"/api/v1/webhooks/{hook_id}/test", headers=htmx)
    assert tested.status_code == 202 and "webhook.test" in tested.text
    assert "Send test event" in tested.text and "Copy it now" not in tested.text
    deleted = await client.delete(f"/api/v1/webhooks/{hook_id}", headers=htmx)
    assert deleted.status_code == 200 and "No webhooks yet." in deleted.text
