"""One endpoint, two representations, one rule: every GET of the OpenAPI document answers
JSON to tools and an HTML fragment to htmx and to browsers that prefer HTML, with the same
status and `Vary: HX-Request, Accept` on each (errors included); on Postgres the fast path
answers the JSON ones and must agree."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from starlette.datastructures import Headers

from app.interviews import reads as interview_reads
from app.web.htmx import prefers_html, wants_html
from tests.helpers import ROOT, create_interview, user_headers

TOOL = {"Accept": "application/json"}
HTMX = {"HX-Request": "true", "Accept": "*/*"}  # what htmx sends
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
KINDS = {"tool": TOOL, "htmx": HTMX, "browser": BROWSER}

HOOK = {"url": "https://93.184.215.14/hook", "events": ["followup.sent"], "format": "json"}
TEMPLATE = {
    "kind": "thank_you",
    "name": "Short and warm",
    "subject": "Thank you, {recipient_first_name}!",
    "body": "Hi {recipient_first_name},\n\nThanks for talking about {highlight}.",
}


def api_gets() -> list[str]:
    document = json.loads((ROOT / "openapi.json").read_text())
    return [path for path, ops in document["paths"].items() if "get" in ops and "/api/v1/" in path]


def vary_tokens(response: httpx.Response) -> set[str]:
    return {token.strip().lower() for token in response.headers.get("vary", "").split(",")}


async def ids_of_janes_data(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    """Jane (the first account, so the group's admin) with one of everything a path names."""
    interview = await create_interview(client, headers)
    followups = await client.get("/api/v1/followups", headers=headers)
    hook = await client.post("/api/v1/webhooks", json=HOOK, headers=headers)
    assert hook.status_code == 201, hook.text
    template = await client.post("/api/v1/group/templates", json=TEMPLATE, headers=headers)
    assert template.status_code == 201, template.text
    return {
        "interview_id": interview["id"],
        "followup_id": followups.json()["items"][0]["id"],
        "webhook_id": hook.json()["id"],
        "template_id": template.json()["id"],
    }


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("text/html", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("application/json, text/html", False),
        ("text/html, application/json", True),
        ("text/html;q=0.5, application/json", False),
        ("application/json;q=0.4, text/html;q=0.9", True),
        ("text/html;q=0, */*", False),
        ("text/html;q=0.8, */*", False),
        ("TEXT/HTML ; q=1.0, application/problem+json;q=0.5", True),
    ],
)
def test_html_is_for_clients_that_rank_it_above_json_by_q_value(accept: str, html: bool) -> None:
    assert prefers_html(accept) is html
    assert wants_html(Headers({"accept": accept})) is html


def test_htmx_gets_html_whatever_it_accepts() -> None:
    assert wants_html(Headers({"hx-request": "true", "accept": "application/json"}))
    assert not wants_html(Headers({"hx-request": "false", "accept": "*/*"}))


async def test_every_get_answers_json_to_tools_and_html_to_htmx_and_browsers(
    client: httpx.AsyncClient,
) -> None:
    auth = await user_headers(client)
    ids = await ids_of_janes_data(client, auth)
    paths = api_gets()
    assert len(paths) >= 15  # the document's GETs, not a hand-kept list
    wrong = []
    for template in paths:
        path = template.format(**ids)
        answers = {
            kind: await client.get(path, headers={**auth, **headers})
            for kind, headers in KINDS.items()
        }
        statuses = {kind: response.status_code for kind, response in answers.items()}
        media = {kind: r.headers["content-type"].split(";")[0] for kind, r in answers.items()}
        varies = all({"hx-request", "accept"} <= vary_tokens(r) for r in answers.values())
        # Jane has no mailbox: its 404 is negotiated like any answer.
        error = statuses["tool"] >= 400
        tool = "application/problem+json" if error else "application/json"
        expected = {"tool": tool, "htmx": "text/html", "browser": "text/html"}
        if len(set(statuses.values())) != 1 or (error and path != "/api/v1/me/mailbox"):
            wrong.append((path, statuses))
        elif media != expected or not varies:
            wrong.append((path, media, varies))
        elif not error:
            assert answers["tool"].json() is not None
            assert "<" in answers["htmx"].text and "<html" not in answers["htmx"].text
    assert wrong == [], "\n".join(map(str, wrong))


async def test_a_missing_interview_is_a_404_in_every_representation(
    client: httpx.AsyncClient,
) -> None:
    auth = await user_headers(client)
    path = f"/api/v1/interviews/{uuid.uuid4()}"
    answers = {k: await client.get(path, headers={**auth, **h}) for k, h in KINDS.items()}
    assert {r.status_code for r in answers.values()} == {404}
    assert answers["tool"].headers["content-type"] == "application/problem+json"
    assert answers["tool"].json()["status"] == 404
    for kind in ("htmx", "browser"):
        assert answers[kind].headers["content-type"].startswith("text/html"), kind
        assert answers["tool"].json()["detail"] in answers[kind].text  # "No such interview."
    for kind, response in answers.items():
        assert {"hx-request", "accept"} <= vary_tokens(response), kind


async def test_gzip_keeps_the_negotiation_in_vary(client: httpx.AsyncClient) -> None:
    auth = await user_headers(client)
    for _ in range(8):
        await create_interview(client, auth)
    response = await client.get(
        "/api/v1/interviews", headers={**auth, **TOOL, "Accept-Encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert {"hx-request", "accept", "accept-encoding"} <= vary_tokens(response)


def _unused(*_: Any) -> None: ...


async def test_the_fast_path_negotiates_by_the_same_rule(
    app: Any, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Postgres the hot reads are answered before routing (app/web/fastpath.py): JSON for
    a tool, with the same Vary; whoever the rule gives HTML passes on to the routes."""
    auth = await user_headers(client)
    interview = await create_interview(client, auth)
    ran: list[str] = []
    original = interview_reads.interview_json

    def spy(*args: Any, **kwargs: Any) -> Any:
        ran.append("fast")
        return original(*args, **kwargs)

    monkeypatch.setattr(interview_reads, "interview_json", spy)
    path = f"/api/v1/interviews/{interview['id']}"
    weighted = {"Accept": "application/json;q=0.5, text/html"}
    for kind, headers in {**KINDS, "weighted": weighted}.items():
        ran.clear()
        response = await client.get(path, headers={**auth, **headers})
        assert response.status_code == 200, kind
        fast = app.state.engine.dialect.name == "postgresql" and kind == "tool"
        assert ran == (["fast"] if fast else []), kind
        html = response.headers["content-type"].startswith("text/html")
        assert html is (kind != "tool"), kind
        assert {"hx-request", "accept"} <= vary_tokens(response), kind
