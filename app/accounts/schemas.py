"""Wire schemas for accounts: registration, sign-in, API tokens, the password."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from app.me.schemas import UserRead
from app.wire import Input, Instant, Storable, Str200, TimeZoneName

# Long passphrases are welcome and never truncated; the cap only bounds hashing work.
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024), Storable]


class RegisterIn(Input):
    email: EmailStr = Field(examples=["jane@example.com"])
    password: Password = Field(examples=["correct horse battery staple"])
    display_name: Str200 = Field(examples=["Jane Doe"])
    invite_code: Annotated[str, Storable] | None = Field(default=None, max_length=200)
    timezone: TimeZoneName | None = Field(
        default=None,
        description="The account's IANA time zone (the sign-up page sends the browser's). "
        "Omitted: `UTC`, until the user sets it or signs in from a browser.",
    )


class LoginIn(Input):
    email: EmailStr
    password: Annotated[str, Storable] = Field(max_length=1024)
    timezone: TimeZoneName | None = Field(
        default=None,
        description="The browser's IANA time zone (the sign-in page sends it). An account "
        "still on the default `UTC`, never chosen, takes it; any other account ignores it.",
    )


class LoginOut(BaseModel):
    user: UserRead
    csrf_token: str = Field(
        description="Send it as X-CSRF-Token with unsafe requests authenticated by the cookie."
    )


class TokenCreate(Input):
    name: Str200 = Field(examples=["calendar sync"])


class TokenRead(BaseModel):
    id: uuid.UUID
    name: str
    created_at: Instant
    last_used_at: Instant | None


class TokenCreated(BaseModel):
    id: uuid.UUID
    name: str
    created_at: Instant
    token: str = Field(description="The secret. Shown only in this response: store it now.")


class PasswordChange(Input):
    current_password: Annotated[str, Storable] = Field(max_length=1024)
    new_password: Password = Field(examples=["a new long passphrase"])


class AccountDelete(Input):
    password: Annotated[str, Storable] = Field(
        max_length=1024, description="Your current password, to confirm."
    )
