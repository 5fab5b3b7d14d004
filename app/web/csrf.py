"""The CSRF token as pages carry it: masked afresh for every response, so that compression
cannot reveal it (BREACH), and unmasked when it comes back.

Every page carries the token and most reflect what the user typed; with gzip on, an attacker
who can inject text and watch response sizes could guess the token a character at a time.
Masked as Django masks it — a random pad and the token XOR that pad — the bytes of the token
differ in every response, so there is nothing stable for compression to match against."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets


def mask(token: str) -> str:
    """A fresh form of `token`: a random pad, then the token XOR the pad (URL-safe base64)."""
    secret = token.encode()
    pad = secrets.token_bytes(len(secret))
    return base64.urlsafe_b64encode(
        pad + bytes(p ^ s for p, s in zip(pad, secret, strict=True))
    ).decode()


def matches(sent: str, token: str) -> bool:
    """Whether `sent` is the session's `token`, masked (as pages carry it) or plain (as
    `POST /api/v1/auth/login` answers it)."""
    expected = token.encode()
    try:
        raw = sent.encode("ascii")
    except UnicodeEncodeError:
        return False
    if len(raw) == len(expected):
        return hmac.compare_digest(raw, expected)
    if b"+" in raw or b"/" in raw:  # b64decode would take them for "-" and "_"
        return False
    try:
        unmasked = base64.b64decode(raw, altchars=b"-_", validate=True)
    except binascii.Error:
        return False
    if len(unmasked) != 2 * len(expected):
        return False
    pad, cipher = unmasked[: len(expected)], unmasked[len(expected) :]
    return hmac.compare_digest(bytes(p ^ c for p, c in zip(pad, cipher, strict=True)), expected)
