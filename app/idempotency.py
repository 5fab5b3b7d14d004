"""Idempotency-Key on POST: a retry answers like the first try and makes nothing twice."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.deps import CurrentUser, SessionDep
from app.errors import Conflict, Invalid

# Headers a replay must repeat, besides the body and status.
_REPLAYED_HEADERS = ("location", "etag", "content-type")
# Marks a replayed answer, as Stripe's API does: the client learns nothing was done again.
REPLAYED = {"Idempotent-Replayed": "true"}
# Seconds a duplicate is told to wait for the first request with its key to finish.
IN_FLIGHT_RETRY_AFTER = 1
IN_FLIGHT_DETAIL = (
    "A request with this Idempotency-Key is still in progress; retry after Retry-After "
    "seconds to get its answer."
)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Retention (app/retention.py) deletes the oldest first.
    __table_args__ = (Index(None, "created_at"),)


def _request_hash(raw: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(raw or b"null"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = raw.decode("utf-8", "replace")
    return hashlib.sha256(canonical.encode()).hexdigest()


class Idempotency:
    """Looks up and records the answer to one (user, Idempotency-Key)."""

    def __init__(
        self, session: Any, user_id: uuid.UUID, key: str | None, endpoint: str, request_hash: str
    ) -> None:
        self._session = session
        self._user_id = user_id
        self.key = key
        self._endpoint = endpoint
        self._hash = request_hash

    async def replay(self) -> Response | None:
        """The stored answer for this key, None when it is new; 422 when reused elsewhere."""
        if self.key is None:
            return None
        stored = await self._session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.user_id == self._user_id, IdempotencyKey.key == self.key
            )
        )
        if stored is None:
            return None
        if stored.endpoint != self._endpoint or stored.request_hash != self._hash:
            raise Invalid(
                ["header", "Idempotency-Key"],
                "this key was already used with a different request",
            )
        return Response(
            stored.body, status_code=stored.status_code, headers={**stored.headers, **REPLAYED}
        )

    async def remember(
        self, response: Response, now: datetime, *, keep_body: bool = True
    ) -> Response:
        """Store the answer with the work, in its transaction. A duplicate sent while the
        first was in flight found no answer in `replay`, did the work again, and loses here
        on the key's primary key: 409 with Retry-After, and its work is rolled back.
        `keep_body=False` for an answer holding a secret (a calendar feed URL): the key still
        makes nothing twice, and the endpoint answers a replay from current state instead of
        from the stored body."""
        if self.key is not None:
            # The work first, so an integrity error below can only be the key's.
            await self._session.flush()
            headers = {k: v for k, v in response.headers.items() if k in _REPLAYED_HEADERS}
            self._session.add(
                IdempotencyKey(
                    user_id=self._user_id,
                    key=self.key,
                    endpoint=self._endpoint,
                    request_hash=self._hash,
                    status_code=response.status_code,
                    headers=headers,
                    body=bytes(response.body).decode() if keep_body else "",
                    created_at=now,
                )
            )
            try:
                await self._session.flush()
            except IntegrityError:
                raise Conflict(
                    IN_FLIGHT_DETAIL, headers={"Retry-After": str(IN_FLIGHT_RETRY_AFTER)}
                ) from None
        return response


async def idempotency(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Makes a retry safe: the same key answers with the first response.",
        ),
    ] = None,
) -> Idempotency:
    endpoint = f"{request.method} {request.url.path}"
    # Hashed only when a key comes with it: most requests send none, and would pay for
    # parsing and re-serialising their body for nothing.
    request_hash = "" if key is None else _request_hash(await request.body())
    return Idempotency(session, user.id, key, endpoint, request_hash)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
