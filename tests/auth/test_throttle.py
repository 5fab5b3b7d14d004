"""The sign-in throttle counts in the database, before the password is checked: a burst of
guesses gets no more checks than the limit, and every app process (replica, restart) shares
the count."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app import retention
from app.accounts import service
from app.accounts.models import LoginAttempt
from tests.helpers import PASSWORD, client_of, login, register

BURST = 150


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password argon2 verified, in order."""
    checked: list[str] = []
    verify = service._verify

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password)
        return verify(password_hash, password)

    monkeypatch.setattr(service, "_verify", counting)
    return checked


async def test_a_burst_of_wrong_passwords_gets_no_more_checks_than_the_limit(
    make_app: Any, password_checks: list[str]
) -> None:
    # The address limit is out of the way: this is about one account.
    app = make_app(login_failures_per_address=10_000)
    async with client_of(app) as client:
        await register(client)
        answers = await asyncio.gather(
            *(login(client, password=f"guess {n}") for n in range(BURST))
        )
    statuses = [a.status_code for a in answers]
    checked = len(password_checks)
    assert checked <= 5, f"{checked} passwords checked in a burst of {BURST}"
    assert statuses.count(401) <= 5 and statuses.count(401) + statuses.count(429) == BURST
    throttled = next(a for a in answers if a.status_code == 429)
    assert throttled.headers["content-type"] == "application/problem+json"
    assert 0 < int(throttled.headers["retry-after"]) <= 900


async def test_two_app_instances_share_one_limit(make_app: Any) -> None:
    first, second = make_app(), make_app()
    async with client_of(first) as one, client_of(second) as other:
        await register(one)
        for client in (one, other, one, other, one):
            assert (await login(client, password="wrong password")).status_code == 401
        assert (await login(other)).status_code == 429
        assert (await login(one)).status_code == 429


async def test_the_limit_survives_a_restart(make_app: Any) -> None:
    before = make_app()
    async with client_of(before) as client:
        await register(client)
        for _ in range(5):
            assert (await login(client, password="wrong password")).status_code == 401
    await before.state.engine.dispose()
    async with client_of(make_app()) as client:
        assert (await login(client)).status_code == 429


async def test_the_window_ends_and_the_account_can_sign_in_again(make_app: Any, clock: Any) -> None:
    async with client_of(make_app()) as client:
        await register(client)
        for _ in range(5):
            await login(client, password="wrong password")
        throttled = await login(client)
        assert throttled.status_code == 429
        clock.advance(timedelta(seconds=int(throttled.headers["retry-after"])))
        assert (await login(client)).status_code == 200


async def test_successful_sign_ins_from_one_address_do_not_use_up_its_limit(
    make_app: Any,
) -> None:
    async with client_of(make_app(login_failures_per_address=3)) as client:
        await register(client)
        for _ in range(6):
            assert (await login(client)).status_code == 200


async def test_windows_that_have_ended_can_be_pruned_a_batch_at_a_time(
    make_app: Any, clock: Any
) -> None:
    app = make_app()
    async with client_of(app) as client:
        await register(client)
        await login(
            client, password="wrong password"
        )  # one window for the account, one for the address
        clock.advance(timedelta(seconds=app.state.settings.login_window_seconds + 1))
        await client.post(
            "/api/v1/auth/login", json={"email": "bob@example.com", "password": "guess"}
        )  # bob's window starts now; the address's window starts again
    rule = next(rule for rule in retention.RULES if rule.table is LoginAttempt)
    keep = rule.keep(app.state.settings)
    assert keep is not None
    pruned = await retention.prune(app.state.sessionmaker, rule, before=clock.now() - keep, batch=1)
    assert pruned == (1, True)
    async with app.state.sessionmaker() as session:
        left = await session.scalar(select(func.count()).select_from(LoginAttempt))
    assert left == 2


async def test_attempts_refused_at_a_locked_account_do_not_use_up_the_address(
    make_app: Any,
) -> None:
    app = make_app(login_failures_per_account=2, login_failures_per_address=4)
    async with client_of(app) as client:
        await register(client)
        await register(client, "bob@example.com", "Bob")
        for _ in range(2):
            assert (await login(client, password="wrong password")).status_code == 401
        for _ in range(5):
            assert (await login(client)).status_code == 429
        bob = await client.post(
            "/api/v1/auth/login", json={"email": "bob@example.com", "password": PASSWORD}
        )
        assert bob.status_code == 200
