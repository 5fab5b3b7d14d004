"""Operations: request ids, JSON logs, the access log that never shows a calendar token, and
the Prometheus metrics at /metrics (FOLLOWUP_METRICS)."""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app import __version__, clock
from app.config import Settings
from app.logs import JsonFormatter, RequestIdFilter, log_config, loggable_path, request_id
from app.mailbox.models import Mailbox
from tests.helpers import client_of, create_interview, user_headers
from tests.webhooks.test_api import HOOK


async def test_every_answer_carries_a_request_id_and_keeps_a_sane_incoming_one(
    client: httpx.AsyncClient,
) -> None:
    first = (await client.get("/healthz")).headers["x-request-id"]
    second = (await client.get("/healthz")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second
    kept = await client.get("/healthz", headers={"X-Request-ID": "proxy-42.a"})
    assert kept.headers["x-request-id"] == "proxy-42.a"
    replaced = await client.get("/healthz", headers={"X-Request-ID": "<script> x"})
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])


def test_json_lines_carry_the_request_id_extra_fields_and_the_workers_own_fields() -> None:
    formatter, id_filter = JsonFormatter(), RequestIdFilter()
    token = request_id.set("abc123")
    try:
        record = logging.LogRecord(
            "followup", logging.INFO, __file__, 1, "hello %s", ("you",), None
        )
        record.status = 201
        id_filter.filter(record)
    finally:
        request_id.reset(token)
    line = json.loads(formatter.format(record))
    assert line["message"] == "hello you" and line["level"] == "INFO"
    assert line["request_id"] == "abc123" and line["status"] == 201
    assert line["time"].endswith("+00:00")

    worker = logging.LogRecord(
        "followup.worker", logging.INFO, __file__, 1, '{"event": "stopped"}', None, None
    )
    id_filter.filter(worker)
    merged = json.loads(formatter.format(worker))
    assert merged["event"] == "stopped" and "request_id" not in merged


def test_log_settings_are_read_and_checked() -> None:
    settings = Settings(LOG_LEVEL="debug", LOG_FORMAT="json")
    config = log_config(settings)
    assert config["root"]["level"] == "DEBUG"
    assert config["formatters"]["default"]["()"] == "app.logs.JsonFormatter"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        Settings(LOG_FORMAT="xml")


async def test_the_access_log_redacts_calendar_tokens_and_query_strings(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert loggable_path("/calendar/s3cr3t-token.ics") == "/calendar/[redacted].ics"
    async with client_of(make_app(access_log=True)) as client:
        headers = await user_headers(client)
        me = (await client.get("/api/v1/me", headers=headers)).json()
        feed = me["calendar_url"].removeprefix("http://testserver")
        secret = feed.removeprefix("/calendar/").removesuffix(".ics")
        with caplog.at_level(logging.INFO, logger="followup.access"):
            assert (await client.get(feed)).status_code == 200
            await client.get("/register?invite=some-invite-code")
    lines = [r for r in caplog.records if r.name == "followup.access"]
    assert [r.getMessage().split()[:3] for r in lines] == [
        ["GET", "/calendar/[redacted].ics", "200"],
        ["GET", "/register", str(lines[1].__dict__["status"])],
    ]
    logged = " ".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in lines)
    assert secret not in logged and "some-invite-code" not in logged
    assert all(r.__dict__["request_id"] for r in lines)


async def test_no_access_log_and_no_metrics_unless_asked(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="followup.access"):
        await client.get("/healthz")
        assert (await client.get("/metrics")).status_code == 404
    assert not [r for r in caplog.records if r.name == "followup.access"]


async def test_metrics_count_requests_by_route_template_and_status_with_latency(
    make_app: Any,
) -> None:
    async with client_of(make_app(metrics=True)) as client:
        headers = await user_headers(client)
        interview = await create_interview(client, headers)
        for _ in range(2):
            ok = await client.get(f"/api/v1/interviews/{interview['id']}", headers=headers)
            assert ok.status_code == 200
        missing = "/api/v1/interviews/00000000-0000-0000-0000-000000000000"
        assert (await client.get(missing, headers=headers)).status_code == 404
        await client.get("/no/such/page")
        scraped = await client.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=")
    text = scraped.text
    route = 'route="/api/v1/interviews/{interview_id}"'
    assert f'followup_http_requests_total{{method="GET",{route},status="200"}} 2.0' in text
    assert f'followup_http_requests_total{{method="GET",{route},status="404"}} 1.0' in text
    assert 'route="unmatched",status="404"' in text
    assert interview["id"] not in text, "label values are templates, never ids"
    assert f'followup_http_request_duration_seconds_count{{method="GET",{route}}} 3.0' in text
    assert f'followup_info{{version="{__version__}"}} 1.0' in text


async def test_metrics_read_the_outbox_deliveries_and_mailbox_lag_at_scrape_time(
    make_app: Any,
) -> None:
    app = make_app(metrics=True)
    async with client_of(app) as client:
        headers = await user_headers(client)
        me = (await client.get("/api/v1/me", headers=headers)).json()
        async with app.state.sessionmaker.begin() as session:
            session.add(
                Mailbox(
                    user_id=uuid.UUID(me["id"]),
                    address="jane@example.com",
                    username="jane@example.com",
                    password_sealed="sealed",
                    imap_host="imap.example.com",
                    imap_port=993,
                    imap_security="tls",
                    smtp_host="smtp.example.com",
                    smtp_port=465,
                    smtp_security="tls",
                    watch=True,
                    last_checked_at=clock.now() - timedelta(minutes=10),
                )
            )
        hook = await client.post("/api/v1/webhooks", json=HOOK, headers=headers)
        await client.post(f"/api/v1/webhooks/{hook.json()['id']}/test", headers=headers)
        text = (await client.get("/metrics")).text
    lag = re.search(r"^followup_mailbox_watch_lag_seconds (\S+)$", text, re.M)
    assert lag is not None and 600 <= float(lag.group(1)) < 700
    assert "followup_mailboxes_watched 1.0" in text
    assert "# TYPE followup_outbox_messages gauge" in text
    assert 'followup_webhook_deliveries{status="pending"} 1.0' in text
