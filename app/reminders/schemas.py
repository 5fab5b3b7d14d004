"""Wire schemas for password resets."""

from __future__ import annotations

from typing import Annotated

from pydantic import EmailStr, Field

from app.accounts.schemas import Password
from app.wire import Input, Storable


class PasswordResetIn(Input):
    email: EmailStr = Field(examples=["jane@example.com"])


class PasswordResetConfirm(Input):
    token: Annotated[str, Storable] = Field(max_length=200, description="From the emailed link.")
    password: Password = Field(examples=["a new long passphrase"])
