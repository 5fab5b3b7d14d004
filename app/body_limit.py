"""Caps every request body before it is read, per route, as a pure ASGI layer (413 beyond)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import answer

MB = 1024 * 1024


def size_in_words(limit: int) -> str:
    return f"{limit // MB} MB" if limit % MB == 0 else f"{limit:,} bytes"


class _TooLarge(Exception):
    """Raised into the app by `receive` once the body has passed its limit."""


class BodyLimit:
    """A body larger than its route's limit is refused with 413: at once when Content-Length
    says so, else as soon as the bytes streamed in pass it, without reading the rest."""

    def __init__(self, app: ASGIApp, *, default: int, routes: Mapping[tuple[str, str], int]):
        self.app = app
        self.default = default
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.routes.get((scope["method"], scope["path"]), self.default)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return

        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _TooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                # Whatever the app makes of the aborted read (FastAPI: a 400) is not sent:
                # the 413 below is the answer.
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        # `Connection: close` makes the server drop the connection after the answer
        # instead of reading (and discarding) the rest of the body to keep it alive.
        response = answer(
            Request(scope, receive),
            413,
            "Request body too large",
            f"The body may be at most {size_in_words(limit)}.",
            slug="too-large",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
