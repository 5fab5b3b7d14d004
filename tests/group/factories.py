"""Members of a group for the board's tests: each registered with a token, a sharing level
and interviews whose follow-ups are marked sent at chosen instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from tests.helpers import PASSWORD, register


@dataclass
class Member:
    name: str
    email: str
    headers: dict[str, str]


async def member(
    client: httpx.AsyncClient,
    name: str,
    *,
    sharing: str = "none",
    email: str | None = None,
    timezone: str = "UTC",
) -> Member:
    email = email or f"{name.lower().replace(' ', '.')}@example.com"
    await register(client, email, name)
    token = await client.post("/api/v1/tokens", json={"name": "tests"}, auth=(email, PASSWORD))
    assert token.status_code == 201, token.text
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    changed = await client.patch(
        "/api/v1/me", json={"board_sharing": sharing, "timezone": timezone}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    return Member(name=name, email=email, headers=headers)


async def interview(
    client: httpx.AsyncClient, who: Member, starts_at: datetime, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "company": "Acme Corp",
        "role": "Backend Engineer",
        "starts_at": starts_at.isoformat(),
        "people": [{"name": "Ann Lee", "email": "ann@example.com", "role": "interviewer"}],
        **fields,
    }
    response = await client.post("/api/v1/interviews", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def followups_of(made: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The interview's follow-ups of `kind`, by recipient (equal due times tie by random id)."""
    found = [f for f in made["followups"] if f["kind"] == kind]
    return sorted(found, key=lambda f: f["recipient_name"] or "")


async def mark(
    client: httpx.AsyncClient, who: Member, followup: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    body = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in changes.items()
    }
    response = await client.patch(
        f"/api/v1/followups/{followup['id']}", json=body, headers=who.headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def board(client: httpx.AsyncClient, who: Member, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/group/board", params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
