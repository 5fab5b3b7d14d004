"""Account rules: registration, passwords, web sessions, API tokens, login throttling."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import hashlib
import math
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.accounts import repository
from app.accounts.models import ApiToken, Invite, User, WebSession
from app.accounts.schemas import TokenRead
from app.config import Registration, Settings
from app.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized

# OWASP's argon2id floor: 19 MiB, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the email is unknown, so a known and an unknown email cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

TOKEN_PREFIX = "fu_"
INVITE_DAYS = 7


def hash_secret(secret: str) -> str:
    """Tokens carry ≥128 random bits, so a fast hash is enough to store them safely."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _load_malloc_trim() -> ctypes._NamedFuncPointer | None:
    """glibc's malloc_trim, or None (musl, macOS, anything without it)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = _load_malloc_trim()


def release_freed_memory() -> None:
    """Give the arena argon2 just freed (19 MiB per hash) back to the OS: glibc keeps it in
    the hashing thread's arena otherwise (measured: 18-40 MB of RSS per worker)."""
    if _malloc_trim is not None:
        with contextlib.suppress(OSError):
            _malloc_trim(0)


def _hash_and_trim(password: str) -> str:
    try:
        return hash_password(password)
    finally:
        release_freed_memory()


def _verify_and_trim(password_hash: str, password: str) -> bool:
    try:
        return _verify(password_hash, password)
    finally:
        release_freed_memory()


# Hashing takes tens of milliseconds of CPU: off the event loop, so other requests go on.
# The trim runs in the same worker thread, right after the hash, off the event loop too.
async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(_hash_and_trim, password)


async def verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_verify_and_trim, password_hash, password)


class LoginThrottle:
    """Password checks per account and per client address in a fixed window, counted in the
    database (login_attempts), so every app process and replica shares one count and a
    restart forgets nothing. Each check is counted before it is made: of a burst of
    concurrent guesses, only the first `limit` reach argon2."""

    def __init__(self, settings: Settings) -> None:
        self._per_account = settings.login_failures_per_account
        self._per_address = settings.login_failures_per_address
        self._window = timedelta(seconds=settings.login_window_seconds)

    async def attempt(self, session: AsyncSession, *, email: str, address: str) -> None:
        """Count one password check for the account and the address, or 429 when either is
        over its limit (a refused attempt is taken back: it checks nothing, so attempts at a
        locked account do not use up the address's limit). Commits: the count must hold
        even though this request then fails (and rolls back) on a wrong password; on SQLite
        it also ends any write the request made before (a token's last use), which would
        otherwise hold the one write lock this needs."""
        now = clock.now()
        counted: list[str] = []
        for key, limit in (
            (_throttle_key("account", email), self._per_account),
            (_throttle_key("address", address), self._per_address),
        ):
            count, started_at = await repository.count_login_attempt(
                session, key, now=now, window_start=now - self._window
            )
            counted.append(key)
            if count > limit:
                for taken in counted:
                    await repository.refund_login_attempt(session, taken)
                await session.commit()
                raise TooManyRequests(
                    "Too many failed sign-ins; wait before trying again.",
                    retry_after=math.ceil((started_at + self._window - now).total_seconds()),
                )
        await session.commit()

    async def succeeded(self, session: AsyncSession, *, email: str, address: str) -> None:
        """The right password: the account's failures are forgiven, and this check no longer
        counts against the address (a shared office address signs in all day)."""
        await repository.forget_login_attempts(session, _throttle_key("account", email))
        await repository.refund_login_attempt(session, _throttle_key("address", address))


def _throttle_key(scope: str, value: str) -> str:
    return hash_secret(f"{scope}:{value}")


async def register(
    session: AsyncSession,
    *,
    settings: Settings,
    email: str,
    password: str,
    display_name: str,
    invite_code: str | None,
    now: datetime,
    timezone: str | None = None,
) -> User:
    """A new account; `timezone` (the browser's, at sign-up) replaces the default UTC."""
    email = email.lower()
    first = not await repository.any_user(session)
    if first:
        # Two people opening a new instance at once: the one who gets the lock first is
        # the admin; the other then finds an account and needs an invite like everyone.
        await repository.lock_first_account(session)
        first = not await repository.any_user(session)
    invite_id: uuid.UUID | None = None
    if not first:
        if invite_code:
            invite_id = await repository.claim_invite(session, hash_secret(invite_code), now=now)
            if invite_id is None:
                raise Invalid(["body", "invite_code"], "this invite is unknown, used or expired")
        elif settings.registration is Registration.CLOSED:
            raise Forbidden("Registration is closed on this instance.")
        elif settings.registration is Registration.INVITE:
            raise Forbidden("Registration on this instance needs an invite.")
    if await repository.user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists.")
    user = User(
        email=email,
        password_hash=await hash_password_async(password),
        display_name=display_name,
        is_admin=first,
        timezone=timezone or "UTC",
        timezone_chosen=timezone is not None,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await session.flush()
    if invite_id is not None:
        await repository.set_invite_user(session, invite_id, user.id)
    return user


async def create_invite(
    session: AsyncSession, *, created_by: uuid.UUID | None, now: datetime
) -> str:
    _invite, code = await make_invite(session, created_by=created_by, now=now)
    return code


async def make_invite(
    session: AsyncSession,
    *,
    created_by: uuid.UUID | None,
    now: datetime,
    days: int = INVITE_DAYS,
    note: str | None = None,
) -> tuple[Invite, str]:
    """A single-use invite valid `days` days; the code is returned once, only its hash kept."""
    code = secrets.token_urlsafe(24)
    invite = Invite(
        code_hash=hash_secret(code),
        created_by=created_by,
        created_at=now,
        expires_at=now + timedelta(days=days),
        note=note,
    )
    session.add(invite)
    await session.flush()
    return invite, code


def invite_link(settings: Settings, code: str) -> str:
    return f"{settings.base_url}/register?invite={code}"


async def authenticate(
    session: AsyncSession,
    *,
    throttle: LoginThrottle,
    email: str,
    password: str,
    address: str,
    basic_challenge: bool = False,
) -> User:
    """The active user with this email and password, or 401 (429 when throttled)."""
    email = email.lower()
    await throttle.attempt(session, email=email, address=address)
    user = await repository.user_by_email(session, email)
    ok = await verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.is_active:
        raise Unauthorized("Email or password is wrong.", basic=basic_challenge)
    await throttle.succeeded(session, email=email, address=address)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await hash_password_async(password)
    return user


@dataclass(frozen=True)
class NewSession:
    cookie_value: str
    csrf_token: str
    expires_at: datetime


async def start_session(
    session: AsyncSession, *, user: User, days: int, now: datetime
) -> NewSession:
    secret = secrets.token_urlsafe(32)
    web_session = WebSession(
        id_hash=hash_secret(secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(web_session)
    await session.flush()
    return NewSession(secret, web_session.csrf_token, web_session.expires_at)


async def end_session(session: AsyncSession, *, cookie_value: str) -> None:
    await repository.delete_web_session(session, hash_secret(cookie_value))


async def user_for_session(
    session: AsyncSession, *, cookie_value: str, now: datetime
) -> tuple[User, WebSession] | None:
    found = await repository.web_session_with_user(session, hash_secret(cookie_value), now=now)
    if found is None or not found[0].is_active:
        return None
    return found


# `last_used_at` is written at most this often, so reads don't all become writes.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


def token_use_to_record(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether this use of a token updates its `last_used_at` (at most once a minute)."""
    return last_used_at is None or now - last_used_at > _LAST_USED_GRANULARITY


async def user_for_token(session: AsyncSession, *, token: str, now: datetime) -> User | None:
    found = await repository.user_for_token_hash(session, hash_secret(token))
    if found is None or not found[0].is_active:
        return None
    user, token_id, last_used_at = found
    if token_use_to_record(last_used_at, now):
        await repository.touch_token(session, user.id, token_id, now=now)
    return user


async def create_token(
    session: AsyncSession, *, user: User, name: str, now: datetime
) -> tuple[ApiToken, str]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    api_token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(secret), created_at=now)
    session.add(api_token)
    await session.flush()
    return api_token, secret


async def list_tokens(session: AsyncSession, *, user: User) -> list[ApiToken]:
    return await repository.tokens_of(session, user.id)


def token_reads(tokens: Iterable[ApiToken]) -> list[TokenRead]:
    return [
        TokenRead(id=t.id, name=t.name, created_at=t.created_at, last_used_at=t.last_used_at)
        for t in tokens
    ]


async def revoke_token(session: AsyncSession, *, user: User, token_id: uuid.UUID) -> None:
    if not await repository.delete_token(session, user.id, token_id):
        raise NotFound("No such token.")


async def _check_password(
    session: AsyncSession,
    user: User,
    password: str,
    *,
    field: str,
    throttle: LoginThrottle,
    address: str,
) -> None:
    """A 422 naming `field` unless `password` is the user's; failures count as failed
    sign-ins, so a stolen session cannot guess the password faster than the login form."""
    await throttle.attempt(session, email=user.email, address=address)
    if not await verify_password(user.password_hash, password):
        raise Invalid(["body", field], "is not your current password")
    await throttle.succeeded(session, email=user.email, address=address)


async def change_password(
    session: AsyncSession,
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep_session: WebSession | None,
    throttle: LoginThrottle,
    address: str,
    now: datetime,
) -> None:
    """Set a new password and end every other web session (`keep_session` stays)."""
    await _check_password(
        session,
        user,
        current_password,
        field="current_password",
        throttle=throttle,
        address=address,
    )
    user.password_hash = await hash_password_async(new_password)
    user.updated_at = now
    await repository.delete_web_sessions(
        session, user.id, keep=keep_session.id_hash if keep_session else None
    )
    await session.flush()


async def delete_account(
    session: AsyncSession, *, user: User, password: str, throttle: LoginThrottle, address: str
) -> None:
    """Delete the user and, by the foreign keys' cascades, every row that is theirs."""
    await _check_password(
        session, user, password, field="password", throttle=throttle, address=address
    )
    if user.is_admin and user.is_active:
        others = await repository.other_active_admins(session, user.id)
        if not others and await repository.any_other_user(session, user.id):
            raise Conflict(
                "You are the only admin and there are other members: "
                "make another member admin first."
            )
    await repository.delete_user(session, user.id)
