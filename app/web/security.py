"""Refuses cross-site unsafe requests before they reach a handler, whatever they carry."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_TYPE, TYPE_BASE

_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class CrossSiteGuard:
    """403 for unsafe requests that `Sec-Fetch-Site` or `Origin` mark as cross-site."""

    def __init__(self, app: ASGIApp, *, base_url: str) -> None:
        self.app = app
        self.base_origin = _origin_of(base_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in _SAFE and self._cross_site(scope):
            body = json.dumps(
                {
                    "type": TYPE_BASE + "forbidden",
                    "title": "Forbidden",
                    "status": 403,
                    "detail": "Cross-site requests are refused.",
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", PROBLEM_TYPE.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def _cross_site(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            return True
        origin = headers.get("origin")
        if origin is None:
            return False
        origin = origin.lower()
        if origin == self.base_origin:
            return False
        host = headers.get("host", "").lower()
        scheme = scope.get("scheme", "http")
        return origin != f"{scheme}://{host}"


# Every HTML page: scripts and styles only from this origin, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
_HTML_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds the CSP and friends (and `no-store`) to HTML responses, nosniff to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.setdefault("headers", [])
                # The raw list first: cheaper than MutableHeaders on every response.
                html = any(k == b"content-type" and v.startswith(b"text/html") for k, v in raw)
                if html:
                    headers = MutableHeaders(scope=message)
                    for name, value in _HTML_HEADERS:
                        headers[name.decode()] = value.decode()
                    # Pages are per user and change in place: Back must not show a stale copy
                    # (a note marked sent, or a signed-out account's page) from the cache.
                    headers.setdefault("cache-control", "no-store")
                    if scope["path"] == "/docs":
                        # Swagger UI sets inline styles; its scripts are still ours only.
                        headers["content-security-policy"] = DOCS_CONTENT_SECURITY_POLICY
                elif not any(k == b"x-content-type-options" for k, _ in raw):
                    message["headers"] = [*raw, (b"x-content-type-options", b"nosniff")]
            await send(message)

        await self.app(scope, receive, send_with_headers)
