"""The hot reads (app/web/fastpath.py) answer exactly what the general path answers: the same
JSON, byte for byte, the same ETag and headers, valid against the documented models; and
they step aside for everything they do not handle."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, update

from app import clock
from app.accounts import reads as auth_reads
from app.accounts.models import User
from app.deps import get_now
from app.followups import reads as followup_reads
from app.followups.models import Followup
from app.followups.schemas import FollowupRead
from app.interviews import reads as interview_reads
from app.interviews.models import Interview
from app.interviews.schemas import InterviewRead
from app.me.schemas import UserRead
from app.web import csrf, fastpath
from app.wire import Page
from tests.helpers import create_interview, interview_body, sign_in

Headers = dict[str, str]
COMPARED = ("content-type", "etag", "vary", "content-length")


def counted(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """How often the fast read `module.name` ran."""
    calls: list[int] = []
    original: Callable[..., Any] = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


async def fast_and_general(
    app: Any, client: httpx.AsyncClient, url: str, headers: Headers
) -> tuple[httpx.Response, httpx.Response]:
    """The answer as the fast path gives it, then as the general path does (the fast path
    steps aside while a dependency is overridden; this override changes nothing)."""
    fast = await client.get(url, headers=headers)
    app.dependency_overrides[get_now] = clock.now
    try:
        general = await client.get(url, headers=headers)
    finally:
        app.dependency_overrides.clear()
    assert fast.status_code == general.status_code == 200, (fast.text, general.text)
    assert fast.content == general.content
    for name in COMPARED:
        assert fast.headers.get(name) == general.headers.get(name), name
    return fast, general


def on_postgres(app: Any) -> bool:
    return bool(app.state.engine.dialect.name == "postgresql")


async def varied_interview(app: Any, client: httpx.AsyncClient, jane: Headers) -> dict[str, Any]:
    """An interview with a follow-up in most states: sent, skipped, being sent, and a draft
    whose text needs escaping in JSON and in a mailto link; and a reply seen."""
    interview = await create_interview(
        client,
        jane,
        notes='Ünïcode ✓, "quotes", tabs\tand\nlines, </script>, emoji 😀',
        response_promised_by="2026-12-20",
        people=[
            {"name": "Ann Lee", "email": "ann@example.com", "role": "interviewer"},
            {"name": "Bob Stone", "role": "interviewer", "title": "CTO"},
            {"name": "Cy Park", "email": "cy@example.com", "role": "hiring_manager"},
        ],
    )
    first, second, *_ = interview["followups"]
    sent = await client.patch(
        f"/api/v1/followups/{first['id']}", json={"status": "sent"}, headers=jane
    )
    assert sent.status_code == 200, sent.text
    edited = await client.patch(
        f"/api/v1/followups/{second['id']}",
        json={"subject": "Merci & à bientôt?", "body": "Line 1\r\nLine 2 %20 \x01 ✓"},
        headers=jane,
    )
    assert edited.status_code == 200, edited.text
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(Followup)
            .where(Followup.id == uuid.UUID(interview["followups"][2]["id"]))
            .values(send_requested_at=clock.now())
        )
        await session.execute(
            update(Interview)
            .where(Interview.id == uuid.UUID(interview["id"]))
            .values(
                last_reply_person_id=uuid.UUID(interview["people"][0]["id"]),
                last_reply_at=clock.now() - timedelta(microseconds=1234),
                last_reply_subject="Re: thanks",
            )
        )
        await session.commit()
    return interview


async def test_one_interview_is_the_same_json_and_etag_as_the_general_path(
    app: Any, client: httpx.AsyncClient, jane: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    interview = await varied_interview(app, client, jane)
    clock.clock.freeze(clock.now() + timedelta(days=1, seconds=1))
    fast_reads = counted(monkeypatch, interview_reads, "interview_json")
    fast, _ = await fast_and_general(app, client, f"/api/v1/interviews/{interview['id']}", jane)
    assert fast_reads == ([1] if on_postgres(app) else [])
    read = InterviewRead.model_validate_json(fast.content)
    assert read.last_reply is not None and read.last_reply.subject == "Re: thanks"
    assert {f.status for f in read.followups} >= {"sent", "scheduled"}
    assert any(f.sending for f in read.followups)
    # The ETag is the one a write checks: If-Match with it is accepted.
    changed = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"stage": "Onsite"},
        headers={**jane, "If-Match": fast.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text


@pytest.mark.parametrize(
    "query",
    [
        "",
        "due_state=upcoming",
        "due_state=due",
        "due_state=overdue",
        "status=sent",
        "status=scheduled&kind=thank_you",
        "limit=1",
        "limit=2&due_state=upcoming",
    ],
)
async def test_the_follow_ups_list_is_the_same_json_as_the_general_path(
    app: Any,
    client: httpx.AsyncClient,
    jane: Headers,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
) -> None:
    interview = await varied_interview(app, client, jane)
    await create_interview(client, jane, company="Other Co")
    clock.clock.freeze(clock.now() + timedelta(days=1))
    fast_reads = counted(monkeypatch, followup_reads, "page_json")
    url = f"/api/v1/followups?{query}"
    pages = 0
    while url:
        fast, _ = await fast_and_general(app, client, url, jane)
        page = Page[FollowupRead].model_validate_json(fast.content)
        pages += 1
        url = f"/api/v1/followups?{query}&cursor={page.next_cursor}" if page.next_cursor else ""
    assert fast_reads == ([1] * pages if on_postgres(app) else [])
    by_interview, _ = await fast_and_general(
        app, client, f"/api/v1/followups?interview_id={interview['id']}", jane
    )
    assert {f["interview_id"] for f in by_interview.json()["items"]} == {interview["id"]}


async def test_an_empty_page_is_answered_to_a_known_token(
    client: httpx.AsyncClient, app: Any, jane: Headers
) -> None:
    fast, _ = await fast_and_general(app, client, "/api/v1/followups?due_state=due", jane)
    assert fast.json() == {"items": [], "next_cursor": None}


async def test_me_is_the_same_json_and_etag_as_the_general_path(
    app: Any, client: httpx.AsyncClient, jane: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_reads = counted(monkeypatch, auth_reads, "user_for_token")
    fast, _ = await fast_and_general(app, client, "/api/v1/me", jane)
    assert fast_reads == ([1] if on_postgres(app) else [])
    assert UserRead.model_validate_json(fast.content).email == "jane@example.com"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/followups?due_state=soon", 422),
        ("/api/v1/followups?limit=0", 422),
        ("/api/v1/followups?limit=201", 422),
        ("/api/v1/followups?cursor=nonsense", 422),
        ("/api/v1/followups?interview_id=nonsense", 422),
        ("/api/v1/interviews/00000000-0000-0000-0000-000000000000", 404),
        ("/api/v1/interviews/not-an-id", 404),
    ],
)
async def test_what_the_fast_path_does_not_answer_gets_the_general_answer(
    client: httpx.AsyncClient, jane: Headers, url: str, status: int
) -> None:
    response = await client.get(url, headers=jane)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "url", ["/api/v1/followups", "/api/v1/followups?due_state=due", "/api/v1/me"]
)
async def test_an_unknown_or_revoked_token_is_refused(
    client: httpx.AsyncClient, jane: Headers, url: str
) -> None:
    unknown = await client.get(url, headers={"Authorization": "Bearer fu_unknown"})
    assert unknown.status_code == 401
    (token,) = (await client.get("/api/v1/tokens", headers=jane)).json()
    assert (await client.delete(f"/api/v1/tokens/{token['id']}", headers=jane)).status_code == 204
    revoked = await client.get(url, headers=jane)
    assert revoked.status_code == 401
    assert revoked.headers["www-authenticate"].startswith("Bearer")


async def test_a_token_use_is_recorded_by_the_fast_path(
    client: httpx.AsyncClient, jane: Headers
) -> None:
    def last_used(tokens: list[dict[str, Any]]) -> list[str | None]:
        return [t["last_used_at"] for t in tokens]

    before = last_used((await client.get("/api/v1/tokens", headers=jane)).json())
    clock.clock.freeze(clock.now() + timedelta(minutes=5))
    assert (await client.get("/api/v1/followups?due_state=due", headers=jane)).status_code == 200
    after = last_used((await client.get("/api/v1/tokens", headers=jane)).json())
    assert after != before
    assert after == [clock.now().isoformat().replace("+00:00", "Z")]


async def test_htmx_and_browsers_still_get_html(client: httpx.AsyncClient, jane: Headers) -> None:
    response = await client.get(
        "/api/v1/followups?due_state=due", headers={**jane, "HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


_MASKED_CSRF = re.compile(
    r'(?<=<meta name="csrf-token" content=")[^"]+|(?<="X-CSRF-Token": ")[^"]+'
)


def _csrf_tokens(page: str) -> list[str]:
    return _MASKED_CSRF.findall(page)


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"HX-Request": "true"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ],
    ids=["page", "htmx fragment", "history restore"],
)
async def test_today_is_the_same_page_as_the_general_path(
    app: Any,
    client: httpx.AsyncClient,
    jane: Headers,
    monkeypatch: pytest.MonkeyPatch,
    extra: Headers,
) -> None:
    await varied_interview(app, client, jane)
    dee = {"name": "Dee Ray", "role": "interviewer"}
    await create_interview(client, jane, company="Other Co", people=[dee])
    csrf_token = await sign_in(client)
    clock.clock.freeze(clock.now() + timedelta(days=1, seconds=1))
    fast_reads = counted(monkeypatch, followup_reads, "today_rows")
    headers = {"Accept": "text/html", **extra}
    fast = await client.get("/", headers=headers)
    app.dependency_overrides[get_now] = clock.now
    try:
        general = await client.get("/", headers=headers)
    finally:
        app.dependency_overrides.clear()
    assert fast.status_code == general.status_code == 200, (fast.text, general.text)
    assert fast_reads == ([1] if on_postgres(app) else [])
    for name in ("content-type", "vary"):
        assert fast.headers.get(name) == general.headers.get(name), name
    # The CSRF token is masked afresh on every page (BREACH): the same token underneath.
    tokens = _csrf_tokens(fast.text) + _csrf_tokens(general.text)
    full_page = "HX-History-Restore-Request" in extra or not extra
    assert len(tokens) == (4 if full_page else 0)  # the meta tag and hx-headers, twice
    assert all(csrf.matches(token, csrf_token) for token in tokens)
    assert _MASKED_CSRF.sub("", fast.text) == _MASKED_CSRF.sub("", general.text)
    assert "Thank-you note to Dee Ray" in fast.text


async def test_today_without_a_live_session_is_the_general_answer(
    app: Any, client: httpx.AsyncClient, jane: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in(client)
    assert (await client.get("/")).status_code == 200
    # Signed out elsewhere, the member deactivated, or the session expired: to sign in.
    settings = app.state.settings
    clock.clock.freeze(clock.now() + timedelta(days=settings.session_days, seconds=1))
    ended = await client.get("/", headers={"Accept": "text/html"})
    assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
    ended_htmx = await client.get("/", headers={"HX-Request": "true"})
    assert ended_htmx.headers.get("hx-redirect", "").startswith("/login")
    await sign_in(client)
    async with app.state.sessionmaker() as session:
        await session.execute(update(User).values(is_active=False))
        await session.commit()
    assert (await client.get("/", headers={"Accept": "text/html"})).status_code == 303


# --- the hot write: a new interview (FastCreate) ------------------------------------------


def answered_by_fast_create(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each create FastCreate looked at: whether it answered it (else the general path)."""
    answered: list[bool] = []
    original = fastpath.FastCreate._create

    async def spy(self: fastpath.FastCreate, token: str, body: bytes) -> Any:
        response = await original(self, token, body)
        answered.append(response is not None)
        return response

    monkeypatch.setattr(fastpath.FastCreate, "_create", spy)
    return answered


def numbered_ids(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """uuid4 as a counter, so two creates make the same ids; call the result to restart."""
    count = [0]

    def next_id() -> uuid.UUID:
        count[0] += 1
        return uuid.UUID(int=count[0])

    monkeypatch.setattr(uuid, "uuid4", next_id)
    return lambda: count.__setitem__(0, 0)


CREATED = ("content-type", "etag", "location", "vary", "content-length")


async def test_a_create_is_the_same_answer_on_the_fast_and_the_general_path(
    app: Any, client: httpx.AsyncClient, jane: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A local time zone (the schedule's times are written in UTC all the same) and values
    # that need escaping.
    me = await client.patch("/api/v1/me", json={"timezone": "America/New_York"}, headers=jane)
    assert me.status_code == 200, me.text
    body = interview_body(
        notes='Ünïcode ✓, "quotes", tabs\tand\nlines, </script>, emoji 😀',
        stage="Onsite",
        response_promised_by="2026-12-20",
        starts_at="2026-12-01T15:00:00.250+01:00",
        people=[
            {"name": "Ann Lee", "email": "ann@example.com", "role": "interviewer"},
            {"name": "Bob Stone", "role": "interviewer", "title": "CTO"},
            {"name": "Cy Park", "email": "Cy@Example.com", "role": "hiring_manager"},
        ],
    )
    clock.clock.freeze(clock.now())
    answered = answered_by_fast_create(monkeypatch)
    restart_ids = numbered_ids(monkeypatch)
    fast = await client.post("/api/v1/interviews", json=body, headers=jane)
    assert fast.status_code == 201, fast.text
    assert answered == [True]
    deleted = await client.delete(fast.headers["location"], headers=jane)
    assert deleted.status_code == 204
    restart_ids()
    app.dependency_overrides[get_now] = clock.now  # the general path: changes nothing else
    try:
        general = await client.post("/api/v1/interviews", json=body, headers=jane)
    finally:
        app.dependency_overrides.clear()
    assert general.status_code == 201, general.text
    assert answered == [True]  # the general path was not looked at by FastCreate
    assert fast.content == general.content
    for name in CREATED:
        assert fast.headers.get(name) == general.headers.get(name), name
    stored = await client.get(general.headers["location"], headers=jane)
    assert stored.json() == general.json()
    assert stored.headers["etag"] == general.headers["etag"]


async def test_what_the_fast_create_does_not_answer_gets_the_general_answer(
    client: httpx.AsyncClient, jane: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered = answered_by_fast_create(monkeypatch)
    url = "/api/v1/interviews"
    bad = await client.post(url, json=interview_body(company=""), headers=jane)
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "company"]
    garbled = await client.post(
        url, content=b"{not json", headers={**jane, "Content-Type": "application/json"}
    )
    assert garbled.status_code == 422
    unknown = await client.post(
        url, json=interview_body(), headers={"Authorization": "Bearer fu_unknown"}
    )
    assert unknown.status_code == 401
    invite = interview_body(invite_uid="uid-1@calendar.example")
    assert (await client.post(url, json=invite, headers=jane)).status_code == 201
    again = await client.post(url, json=invite, headers=jane)
    assert again.status_code == 409, again.text
    assert answered == [False, False, False, True, False]
    assert all(r.headers["content-type"] == "application/problem+json" for r in (bad, unknown))
    # Never looked at: a key to remember, htmx, a form.
    keyed = {**jane, "Idempotency-Key": "k-1"}
    first = await client.post(url, json=interview_body(), headers=keyed)
    replayed = await client.post(url, json=interview_body(), headers=keyed)
    assert first.status_code == replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.content == first.content
    htmx = await client.post(url, json=interview_body(), headers={**jane, "HX-Request": "true"})
    assert htmx.status_code == 201 and htmx.headers["hx-redirect"].startswith("/interviews/")
    assert answered == [False, False, False, True, False]
    listed = (await client.get("/api/v1/interviews", headers=jane)).json()["items"]
    assert len(listed) == 3  # the invite's, the keyed one (once) and the htmx one


async def test_a_fast_create_runs_the_general_paths_statements_and_no_more(
    app: Any, client: httpx.AsyncClient, jane: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token's user, the three inserts (interview, people, follow-ups: one statement
    each, whatever their number) and the user's webhooks; the token's last use is recorded
    at most once a minute, so only the first create of a minute writes it."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0].upper() + " " + _table_of(statement))

    answered = answered_by_fast_create(monkeypatch)
    clock.clock.freeze(clock.now() + timedelta(minutes=5))
    assert (await client.post("/api/v1/interviews", json=interview_body(), headers=jane)).is_success
    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    try:
        created = await client.post("/api/v1/interviews", json=interview_body(), headers=jane)
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)
    assert created.status_code == 201 and answered == [True, True]
    assert len(created.json()["followups"]) == 2
    # On Postgres the token's user is found as the hot reads find it, on the asyncpg
    # connection itself (app.accounts.reads), which SQLAlchemy's events do not see.
    assert statements == [
        *([] if on_postgres(app) else ["SELECT users"]),
        "INSERT interviews",
        "INSERT people",
        "INSERT followups",
        "SELECT webhooks",
    ]


def _table_of(statement: str) -> str:
    """The first table a statement names after FROM or INTO."""
    match = re.search(r"\b(?:FROM|INTO)\s+\"?(\w+)", statement, re.IGNORECASE)
    return match.group(1) if match else "?"
