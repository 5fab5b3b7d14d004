"""The mailbox password at rest: sealed with AES-256-GCM (authenticated encryption, from the
`cryptography` package) under a key derived from the instance's SECRET_KEY with HKDF.

The user's id is bound in as associated data, so a sealed password copied onto another
user's row does not open. When SECRET_KEY changes, every sealed password stops opening
(`Unreadable`): the mailbox shows `error` and asks its owner to enter the password again;
nothing else is lost."""

from __future__ import annotations

import base64
import os
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
_INFO = b"followup mailbox password v1"
_NONCE_BYTES = 12


class Unreadable(Exception):
    """The sealed password does not open: SECRET_KEY changed, or the value was altered."""

    def __init__(self) -> None:
        super().__init__(
            "The saved mailbox password can no longer be read (the server's SECRET_KEY "
            "changed); enter the password again in Settings."
        )


def _cipher(secret_key: str) -> AESGCM:
    """AES-256-GCM under the key HKDF derives from `secret_key`."""
    # Here, not at the top: cryptography (its own OpenSSL, ~10 MB resident) would sit in every
    # worker from its start, for the few requests that save or use a mailbox password.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
    return AESGCM(hkdf.derive(secret_key.encode()))


def seal(secret_key: str, user_id: uuid.UUID, password: str) -> str:
    """The password sealed for `user_id`: "v1." and the nonce and ciphertext, base64url."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(secret_key).encrypt(nonce, password.encode(), user_id.bytes)
    return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def open_sealed(secret_key: str, user_id: uuid.UUID, sealed: str) -> str:
    """The password `seal` sealed for `user_id` with the same SECRET_KEY, else Unreadable."""
    from cryptography.exceptions import InvalidTag

    version, _, encoded = sealed.partition(".")
    if version != VERSION:
        raise Unreadable
    try:
        raw = base64.urlsafe_b64decode(encoded.encode())
        nonce, ciphertext = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        return _cipher(secret_key).decrypt(nonce, ciphertext, user_id.bytes).decode()
    except (InvalidTag, ValueError) as error:
        raise Unreadable from error
