"""Fixtures for the admin tests: an instance with its admin and a member, each with a token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.helpers import register, token_for


@dataclass
class Account:
    id: str
    email: str
    headers: dict[str, str]


async def account(client: httpx.AsyncClient, email: str, name: str) -> Account:
    """Register (the first account on an instance is its admin) and make a token."""
    user = await register(client, email, name)
    token = await token_for(client, email)
    return Account(id=user["id"], email=email, headers={"Authorization": f"Bearer {token}"})


async def patch_member(
    client: httpx.AsyncClient, admin: Account, member_id: str, **body: Any
) -> httpx.Response:
    return await client.patch(f"/api/v1/admin/users/{member_id}", json=body, headers=admin.headers)
