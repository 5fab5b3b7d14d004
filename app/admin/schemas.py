"""Wire schemas for the admin: members and invites."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field, StrictBool

from app.wire import Input, Instant, Integer, NotNull, OptStr200

InviteStatus = Literal["pending", "used", "expired"]


class MemberRead(BaseModel):
    """A member as the admin sees them: the account, never its password or its data."""

    id: uuid.UUID
    email: str
    display_name: str
    is_admin: bool
    is_active: bool
    created_at: Instant


class MemberUpdate(Input):
    """Deactivate or reactivate a member, make them admin or take it away."""

    is_active: NotNull[StrictBool] = Field(
        default=None,
        description="false signs the member out everywhere at once (web sessions end, API "
        "tokens are refused) and keeps their data; true lets them back in.",
    )
    is_admin: NotNull[StrictBool] = Field(
        default=None, description="The last active admin cannot lose the role (409)."
    )


class ResetLinkRead(BaseModel):
    user_id: uuid.UUID
    link: str = Field(description="Works once, until `expires_at`. Shown only here.")
    expires_at: Instant
    emailed: bool = Field(
        description="Whether the member is also emailed a link of their own (SMTP is set)."
    )


class InviteCreate(Input):
    note: OptStr200 = Field(
        default=None, description="Who it is for; only admins see it.", examples=["Dana, May"]
    )
    expires_in_days: Integer = Field(default=7, ge=1, le=90, description="1-90 days.")


class InviteRead(BaseModel):
    id: uuid.UUID
    note: str | None
    status: InviteStatus = Field(
        description="pending (usable), used, or expired (never used in time)."
    )
    created_at: Instant
    expires_at: Instant
    used_at: Instant | None
    used_by: uuid.UUID | None = Field(description="The member it admitted, while they exist.")


class InviteCreated(InviteRead):
    code: str = Field(description="The invite code. Shown only in this response.")
    link: str = Field(description="The registration link with the code. Shown only here.")
