"""The mailbox password at rest: sealed, bound to its user and to SECRET_KEY."""

import uuid

import pytest

from app.mailbox import secrets

KEY = "a-secret-key-for-tests-only"


def test_sealed_opens_with_the_same_key_and_user() -> None:
    user = uuid.uuid4()
    sealed = secrets.seal(KEY, user, "app pässword")
    assert "app" not in sealed and sealed.startswith("v1.")
    assert secrets.open_sealed(KEY, user, sealed) == "app pässword"


def test_each_seal_differs() -> None:
    user = uuid.uuid4()
    assert secrets.seal(KEY, user, "same") != secrets.seal(KEY, user, "same")


@pytest.mark.parametrize("case", ["other key", "other user", "altered", "garbage", "version"])
def test_does_not_open_otherwise(case: str) -> None:
    user = uuid.uuid4()
    sealed = secrets.seal(KEY, user, "password")
    key, owner = KEY, user
    if case == "other key":
        key = "another-secret-key"
    elif case == "other user":
        owner = uuid.uuid4()
    elif case == "altered":
        sealed = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    elif case == "garbage":
        sealed = "v1.@@not base64@@"
    else:
        sealed = "v0." + sealed[3:]
    with pytest.raises(secrets.Unreadable, match="SECRET_KEY"):
        secrets.open_sealed(key, owner, sealed)
