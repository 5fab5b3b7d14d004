"""The board's numbers: weeks in the viewer's time zone, counts and on-time shares across
week boundaries, streaks, the `weeks` range, and that the queries do not grow with members."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from app.deps import get_now
from tests.group.factories import Member, board, followups_of, interview, mark, member

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # Wednesday; this week began Mon 23 Nov


@pytest.fixture(autouse=True)
def fixed_clock(app: Any) -> None:
    app.dependency_overrides[get_now] = lambda: NOW


def week(seen: dict[str, Any], name: str, starts_on: str) -> dict[str, Any]:
    (row,) = [m for m in seen["members"] if m["display_name"] == name]
    (found,) = [w for w in row["weeks"] if w["starts_on"] == starts_on]
    return found  # type: ignore[no-any-return]


async def test_weeks_start_on_monday_in_the_viewers_time_zone(client: httpx.AsyncClient) -> None:
    sam = await member(client, "Sam Sharer", sharing="counts")
    # Monday 04:30 UTC is still Sunday evening in New York, and Monday afternoon in Tokyo.
    await interview(client, sam, datetime(2026, 11, 23, 4, 30, tzinfo=UTC))
    in_utc = await member(client, "Uma Utc")
    in_new_york = await member(client, "Ned York", timezone="America/New_York")
    in_tokyo = await member(client, "Toko Tokyo", timezone="Asia/Tokyo")

    utc_board = await board(client, in_utc)
    assert [w["starts_on"] for w in utc_board["weeks"]][-2:] == ["2026-11-16", "2026-11-23"]
    assert utc_board["weeks"][-1]["ends_on"] == "2026-11-29"
    assert week(utc_board, "Sam Sharer", "2026-11-23")["interviews"] == 1
    ny_board = await board(client, in_new_york)
    assert ny_board["timezone"] == "America/New_York"
    assert week(ny_board, "Sam Sharer", "2026-11-16")["interviews"] == 1
    assert week(ny_board, "Sam Sharer", "2026-11-23")["interviews"] == 0
    tokyo_board = await board(client, in_tokyo)
    assert week(tokyo_board, "Sam Sharer", "2026-11-23")["interviews"] == 1


async def test_thank_yous_count_in_the_week_they_were_sent_with_their_on_time_share(
    client: httpx.AsyncClient,
) -> None:
    sam = await member(client, "Sam Sharer", sharing="counts")
    viewer = await member(client, "Vic Viewer")
    made = await interview(
        client,
        sam,
        datetime(2026, 11, 20, 10, 0, tzinfo=UTC),  # Friday; thank-yous due Sunday 11:00
        people=[
            {"name": "Ann Lee", "role": "interviewer"},
            {"name": "Carl Diaz", "role": "interviewer"},
            {"name": "Dee Moss", "role": "interviewer"},
        ],
    )
    ann, carl, dee = followups_of(made, "thank_you")
    await mark(client, sam, ann, status="sent", sent_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    # On time to the second, but in the next week.
    await mark(client, sam, carl, status="sent", sent_at=datetime(2026, 11, 22, 11, 0, tzinfo=UTC))
    await mark(client, sam, dee, status="sent", sent_at=datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    (check_in,) = followups_of(made, "check_in")
    await mark(
        client, sam, check_in, status="sent", sent_at=datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    )

    seen = await board(client, viewer)
    last = week(seen, "Sam Sharer", "2026-11-16")
    assert (last["interviews"], last["thank_yous_sent"], last["thank_yous_on_time"]) == (1, 2, 2)
    assert last["thank_yous_on_time_share"] == 1.0
    this = week(seen, "Sam Sharer", "2026-11-23")
    assert (this["thank_yous_sent"], this["thank_yous_on_time"]) == (1, 0)  # Dee's was late
    assert this["thank_yous_on_time_share"] == 0.0
    assert (this["check_ins_sent"], this["check_ins_on_time"]) == (1, 1)  # sent early
    assert week(seen, "Sam Sharer", "2026-11-09")["thank_yous_on_time_share"] is None
    totals = seen["members"][0]["totals"]
    assert (totals["thank_yous_sent"], totals["thank_yous_on_time"]) == (3, 2)
    assert totals["thank_yous_on_time_share"] == pytest.approx(2 / 3, abs=1e-4)


async def test_group_totals_add_up_the_members_shown_per_week_and_overall(
    client: httpx.AsyncClient,
) -> None:
    ann = await member(client, "Ann Sharer", sharing="counts")
    bea = await member(client, "Bea Sharer", sharing="companies")
    hidden = await member(client, "Hal Hidden")
    for who in (ann, bea, hidden):
        await interview(client, who, NOW - timedelta(days=1))
    await interview(client, ann, NOW - timedelta(weeks=3))
    await interview(client, bea, NOW - timedelta(weeks=9))  # before the 8 weeks shown

    seen = await board(client, hidden)
    assert seen["totals"]["weeks"][-1]["interviews"] == 2
    assert seen["totals"]["weeks"][-4]["interviews"] == 1
    assert seen["totals"]["overall"]["interviews"] == 3
    assert seen["members_not_sharing"] == 1
    longer = await board(client, hidden, weeks=10)
    assert longer["totals"]["overall"]["interviews"] == 4


async def test_interviews_still_to_come_this_week_are_not_counted_yet(
    client: httpx.AsyncClient,
) -> None:
    sam = await member(client, "Sam Sharer", sharing="counts")
    await interview(client, sam, NOW + timedelta(days=1))  # Thursday of this week
    seen = await board(client, sam)
    assert seen["totals"]["overall"]["interviews"] == 0


async def test_an_interview_the_company_called_off_is_not_counted_as_held(
    client: httpx.AsyncClient,
) -> None:
    cal = await member(client, "Cal Sharer", sharing="companies")
    await interview(client, cal, NOW - timedelta(days=1))
    off = await interview(client, cal, NOW - timedelta(days=1), company="Globex")
    changed = await client.patch(
        f"/api/v1/interviews/{off['id']}", json={"outcome": "cancelled"}, headers=cal.headers
    )
    assert changed.status_code == 200, changed.text

    seen = await board(client, cal)
    assert seen["totals"]["overall"]["interviews"] == 1
    assert week(seen, "Cal Sharer", "2026-11-23")["companies"] == ["Acme Corp"]


@pytest.mark.parametrize("weeks", [0, 27, -1])
async def test_weeks_outside_1_to_26_is_a_422_naming_it(
    client: httpx.AsyncClient, weeks: int
) -> None:
    viewer = await member(client, "Vic Viewer")
    response = await client.get(
        "/api/v1/group/board", params={"weeks": weeks}, headers=viewer.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "weeks"]


async def test_the_board_shows_8_weeks_by_default_and_1_when_asked(
    client: httpx.AsyncClient,
) -> None:
    viewer = await member(client, "Vic Viewer")
    assert len((await board(client, viewer))["weeks"]) == 8
    one = await board(client, viewer, weeks=1)
    assert [w["starts_on"] for w in one["weeks"]] == ["2026-11-23"]


async def test_the_board_needs_a_signed_in_member(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/group/board")
    assert response.status_code == 401


# Streaks.


async def streak_of(client: httpx.AsyncClient, who: Member) -> int:
    seen = await board(client, who)
    (row,) = [m for m in seen["members"] if m["is_you"]]
    return row["streak"]  # type: ignore[no-any-return]


async def thank_you_due(client: httpx.AsyncClient, who: Member, days_ago: float) -> dict[str, Any]:
    """An interview whose one thank-you is due `days_ago` days before now (negative: ahead);
    its check-in is skipped, so only the thank-you plays a part."""
    ends = NOW - timedelta(days=days_ago) - timedelta(hours=48)
    made = await interview(client, who, ends - timedelta(hours=1))
    (check_in,) = followups_of(made, "check_in")
    await mark(client, who, check_in, status="skipped")
    (thanks,) = followups_of(made, "thank_you")
    return thanks


def on_time(thanks: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(thanks["due_at"]) - timedelta(hours=1)


def late(thanks: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(thanks["due_at"]) + timedelta(hours=1)


async def test_a_streak_counts_on_time_follow_ups_back_to_the_last_late_one(
    client: httpx.AsyncClient,
) -> None:
    sam = await member(client, "Sam Sharer", sharing="counts")
    oldest = await thank_you_due(client, sam, 30)
    was_late = await thank_you_due(client, sam, 20)
    newer = [await thank_you_due(client, sam, d) for d in (10, 5, 2)]
    await mark(client, sam, oldest, status="sent", sent_at=on_time(oldest))
    await mark(client, sam, was_late, status="sent", sent_at=late(was_late))
    for thanks in newer:
        await mark(client, sam, thanks, status="sent", sent_at=on_time(thanks))
    assert await streak_of(client, sam) == 3


async def test_a_follow_up_left_unsent_past_its_due_time_ends_the_streak(
    client: httpx.AsyncClient,
) -> None:
    sam = await member(client, "Sam Sharer", sharing="counts")
    for days in (10, 5):
        thanks = await thank_you_due(client, sam, days)
        await mark(client, sam, thanks, status="sent", sent_at=on_time(thanks))
    assert await streak_of(client, sam) == 2
    await thank_you_due(client, sam, 1)  # overdue, not sent
    assert await streak_of(client, sam) == 0


async def test_a_follow_up_not_due_yet_neither_breaks_nor_adds_until_it_is_sent(
    client: httpx.AsyncClient,
) -> None:
    sam = await member(client, "Sam Sharer", sharing="counts")
    done = await thank_you_due(client, sam, 3)
    await mark(client, sam, done, status="sent", sent_at=on_time(done))
    ahead = await thank_you_due(client, sam, -1)  # due tomorrow
    assert await streak_of(client, sam) == 1
    await mark(client, sam, ahead, status="sent", sent_at=NOW - timedelta(hours=1))
    assert await streak_of(client, sam) == 2


async def test_skipped_follow_ups_are_passed_over(client: httpx.AsyncClient) -> None:
    sam = await member(client, "Sam Sharer", sharing="counts")
    first = await thank_you_due(client, sam, 6)
    skipped = await thank_you_due(client, sam, 4)
    last = await thank_you_due(client, sam, 2)
    await mark(client, sam, first, status="sent", sent_at=on_time(first))
    await mark(client, sam, skipped, status="skipped")
    await mark(client, sam, last, status="sent", sent_at=on_time(last))
    assert await streak_of(client, sam) == 2


async def test_streaks_look_back_52_weeks_at_most(client: httpx.AsyncClient) -> None:
    sam = await member(client, "Sam Sharer", sharing="counts")
    ancient = await thank_you_due(client, sam, 53 * 7)
    recent = await thank_you_due(client, sam, 7)
    await mark(client, sam, ancient, status="sent", sent_at=on_time(ancient))
    await mark(client, sam, recent, status="sent", sent_at=on_time(recent))
    seen = await board(client, sam)
    assert seen["streak_window_weeks"] == 52
    assert seen["members"][0]["streak"] == 1


async def test_the_board_runs_the_same_queries_for_2_members_or_6(
    app: Any, client: httpx.AsyncClient
) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    viewer = await member(client, "Vic Viewer")

    async def count_for(names: list[str]) -> int:
        for name in names:
            who = await member(client, name, sharing="companies")
            await interview(client, who, NOW - timedelta(days=2))
        statements.clear()
        event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
        try:
            await board(client, viewer, weeks=26)
        finally:
            event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)
        return len(statements)

    two = await count_for(["Ann A", "Bea B"])
    six = await count_for(["Cid C", "Dot D", "Eve E", "Fay F"])
    assert two == six


async def test_the_counts_are_served_by_indexes_that_lead_with_user_id(
    app: Any, client: httpx.AsyncClient
) -> None:
    # Each statement the board runs is explained on the same database: interviews and
    # follow-ups are only ever searched through an index, never scanned row by row.
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        captured.append((statement, parameters))

    viewer = await member(client, "Vic Viewer")
    for name in ("Ann A", "Bea B"):
        who = await member(client, name, sharing="companies")
        await interview(client, who, NOW - timedelta(days=2))
    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await board(client, viewer)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    counts = [(s, p) for s, p in captured if "interviews" in s or "followups" in s]
    assert len(counts) == 4  # interviews, companies, sent, streaks: one query per measure
    plans = []
    async with app.state.engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            # A table this small is cheaper to scan; forbid that, and an index must serve.
            await connection.exec_driver_sql("SET enable_seqscan = off")
        explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        for statement, parameters in counts:
            rows = await connection.exec_driver_sql(explain + statement, parameters)
            plans.append("\n".join(str(row[-1]) for row in rows))
    for plan in plans:
        if postgres:
            assert "Seq Scan on interviews" not in plan and "Seq Scan on followups" not in plan, (
                plan
            )
            searches = [line for line in plan.splitlines() if "Index Cond" in line]
        else:
            assert "SCAN interviews" not in plan and "SCAN followups" not in plan, plan
            searches = [line for line in plan.splitlines() if line.startswith("SEARCH ")]
            searches = [line for line in searches if "interviews" in line or "followups" in line]
        # Each search starts at the members' ids and is bounded in time.
        assert searches, plan
        for line in searches:
            assert "user_id" in line and any(
                f"{column} >" in line or f"{column}>" in line
                for column in ("starts_at", "sent_at", "due_at")
            ), plan
