"""The hot read of one interview on Postgres: `GET /api/v1/interviews/{id}` as JSON in one
statement (the token's user joined in, app.accounts.reads; the people and follow-ups as arrays
of rows), written straight to the wire shape with the ETag the general path computes.

The same JSON and ETag as service.to_read and service.etag (tests/test_fastpath.py compares
them), without building the ORM objects and the models. A new interview's answer is written
the same way from the rows just inserted (bundle_row), on every database."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson

from app.accounts.reads import VIEWER, VIEWER_COLUMNS, Viewer, viewer_of
from app.db import Driver
from app.followups import reads as followups
from app.followups.models import Followup
from app.interviews.models import Interview, Person
from app.wire import strong_etag

_PERSON = ("id", "name", "email", "title", "role")
_FOLLOWUP = (
    "id_text",
    "interview_id",
    "kind",
    "recipient_name",
    "recipient_email",
    "not_before",
    "due_at",
    "status",
    "sent_at",
    "subject",
    "body",
    "draft_edited",
    "snoozed",
    "cancel_reason",
    "sent_via",
    "send_error",
    "send_requested_at",
)
_STATEMENT = f"""WITH {VIEWER}
SELECT {VIEWER_COLUMNS}, i.id::text AS id, i.company, i.role, i.starts_at,
    i.duration_minutes, i.stage, i.location, i.highlight, i.excitement, i.notes,
    i.response_promised_by, i.outcome, i.invite_uid, i.invite_sequence,
    i.last_reply_person_id::text AS last_reply_person_id, i.last_reply_at,
    i.last_reply_subject, i.created_at, i.updated_at,
    ARRAY(
        SELECT ROW(p.id::text, p.name, p.email, p.title, p.role) FROM people p
        WHERE p.user_id = i.user_id AND p.interview_id = i.id ORDER BY p.position
    ) AS people,
    ARRAY(
        SELECT ROW(f.id::text, f.interview_id::text, f.kind, f.recipient_name,
            f.recipient_email, f.not_before, f.due_at, f.status, f.sent_at, f.subject, f.body,
            f.draft_edited, f.snoozed, f.cancel_reason, f.sent_via, f.send_error,
            f.send_requested_at)
        FROM followups f WHERE f.user_id = i.user_id AND f.interview_id = i.id
        ORDER BY f.due_at, f.id
    ) AS followups
FROM viewer JOIN interviews i ON i.user_id = viewer.user_id AND i.id = $2"""


async def interview_row(
    driver: Driver, token_hash: str, interview_id: uuid.UUID
) -> tuple[Viewer, Mapping[str, Any]] | None:
    """The token's user and their interview, or None when either is missing (the general
    path then says which: 401 or 404)."""
    row = await driver.fetchrow(_STATEMENT, token_hash, interview_id)
    if row is None:
        return None
    viewer = viewer_of(row)
    assert viewer is not None
    return viewer, row


def bundle_row(
    interview: Interview, people: Sequence[Person], rows: Sequence[Followup]
) -> dict[str, Any]:
    """An interview with its people and follow-ups, as objects in memory, in the shape of a
    row of the statement above (what interview_json takes)."""
    return {
        "id": str(interview.id),
        "company": interview.company,
        "role": interview.role,
        "starts_at": interview.starts_at,
        "duration_minutes": interview.duration_minutes,
        "stage": interview.stage,
        "location": interview.location,
        "highlight": interview.highlight,
        "excitement": interview.excitement,
        "notes": interview.notes,
        "response_promised_by": interview.response_promised_by,
        "outcome": interview.outcome,
        "invite_uid": interview.invite_uid,
        "invite_sequence": interview.invite_sequence,
        "last_reply_person_id": (
            None if interview.last_reply_person_id is None else str(interview.last_reply_person_id)
        ),
        "last_reply_at": interview.last_reply_at,
        "last_reply_subject": interview.last_reply_subject,
        "created_at": interview.created_at,
        "updated_at": interview.updated_at,
        "people": [
            (str(p.id), p.name, p.email, p.title, p.role)
            for p in sorted(people, key=lambda p: p.position)
        ],
        "followups": [
            (
                str(f.id),
                str(f.interview_id),
                f.kind,
                f.recipient_name,
                f.recipient_email,
                f.not_before,
                f.due_at,
                f.status,
                f.sent_at,
                f.subject,
                f.body,
                f.draft_edited,
                f.snoozed,
                f.cancel_reason,
                f.sent_via,
                f.send_error,
                f.send_requested_at,
            )
            for f in rows
        ],
    }


def _followup(values: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(_FOLLOWUP, values, strict=True))


def interview_json(row: Mapping[str, Any], now: datetime) -> tuple[bytes, str]:
    """The InterviewRead and its ETag (service.etag: the JSON without the follow-ups'
    `due_state`, which changes with the time of the request)."""
    last_reply = None
    if row["last_reply_person_id"] is not None and row["last_reply_at"] is not None:
        last_reply = {
            "person_id": row["last_reply_person_id"],
            "received_at": row["last_reply_at"],
            "subject": row["last_reply_subject"] or "",
        }
    stored = [_followup(values) for values in row["followups"]]
    stored.sort(key=lambda f: (f["due_at"], f["id_text"]))  # service.to_read's order
    parts = [followups.wire_parts(f, now) for f in stored]
    head = {
        "id": row["id"],
        "company": row["company"],
        "role": row["role"],
        "starts_at": row["starts_at"],
        "duration_minutes": row["duration_minutes"],
        "ends_at": row["starts_at"] + timedelta(minutes=row["duration_minutes"]),
        "stage": row["stage"],
        "location": row["location"],
        "people": [dict(zip(_PERSON, person, strict=True)) for person in row["people"]],
        "highlight": row["highlight"],
        "excitement": row["excitement"],
        "notes": row["notes"],
        "response_promised_by": row["response_promised_by"],
        "outcome": row["outcome"],
        "invite_uid": row["invite_uid"],
        "invite_sequence": row["invite_sequence"],
        "last_reply": last_reply,
    }
    tail = {"created_at": row["created_at"], "updated_at": row["updated_at"]}
    option = orjson.OPT_UTC_Z
    unstamped = [f_head | f_tail for f_head, f_tail in parts]
    etag = strong_etag(orjson.dumps(head | {"followups": unstamped} | tail, option=option))
    stamped = [
        f_head | {"due_state": followups.due_state_of(f, now)} | f_tail
        for f, (f_head, f_tail) in zip(stored, parts, strict=True)
    ]
    return orjson.dumps(head | {"followups": stamped} | tail, option=option), etag
