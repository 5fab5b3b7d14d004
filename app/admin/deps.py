"""The admin's dependencies: the signed-in admin, and ids from the path."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.accounts.models import User
from app.deps import CurrentUser, object_id
from app.errors import Forbidden


async def admin_user(user: CurrentUser) -> User:
    """The signed-in user if they are an admin; a member gets a 403 (signed out: 401)."""
    if not user.is_admin:
        raise Forbidden("Only an admin of this Followup can do this.")
    return user


AdminUser = Annotated[User, Depends(admin_user)]


def _user_id(user_id: Annotated[str, Path(description="The member's id (a UUID).")]) -> uuid.UUID:
    return object_id(user_id)


def _invite_id(
    invite_id: Annotated[str, Path(description="The invite's id (a UUID).")],
) -> uuid.UUID:
    return object_id(invite_id)


UserId = Annotated[uuid.UUID, Depends(_user_id)]
InviteId = Annotated[uuid.UUID, Depends(_invite_id)]
