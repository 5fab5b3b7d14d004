"""The user's own settings: profile, time zone, policy, templates, notifications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.auth.schemas import MeUpdate, Notifications, Policy, Templates, UserRead
from app.errors import Invalid
from app.followups import drafts
from app.followups import service as followups
from app.wire import strong_etag


def to_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        is_admin=user.is_admin,
        timezone=user.timezone,
        policy=Policy(**{name: getattr(user, name) for name in Policy.model_fields}),
        templates=Templates(**{name: getattr(user, name) for name in Templates.model_fields}),
        notifications=Notifications(
            **{name: getattr(user, name) for name in Notifications.model_fields}
        ),
        calendar_url=None,
        created_at=user.created_at,
    )


def etag(read: UserRead) -> str:
    return strong_etag(read.model_dump_json().encode())


async def update(session: AsyncSession, *, user: User, patch: MeUpdate, now: datetime) -> User:
    """Merge-patch the user's settings; schedule changes recompute what is still to come."""
    fields = patch.model_fields_set
    if "display_name" in fields:
        if patch.display_name is None:
            raise Invalid(["body", "display_name"], "is required and cannot be null")
        user.display_name = patch.display_name
    if "timezone" in fields:
        user.timezone = patch.timezone or "UTC"
    _merge(user, "policy", patch.policy, Policy(), fields)
    _merge(user, "templates", patch.templates, Templates(), fields)
    _merge(user, "notifications", patch.notifications, Notifications(), fields)
    for name in Templates.model_fields:
        text = getattr(user, name)
        if text is not None:
            try:
                drafts.validate_template(text)
            except drafts.TemplateError as error:
                raise Invalid(["body", "templates", name], error.message) from None
    user.updated_at = now
    if fields - {"notifications"}:
        # The sender's name, the time zone, the policy and the templates all reach the
        # drafts or the times of what is still to come.
        await followups.resync_all(session, user=user, now=now)
    await session.flush()
    return user


def _merge(
    user: User,
    group: str,
    patch: Policy | Templates | Notifications | object | None,
    defaults: Policy | Templates | Notifications,
    fields: set[str],
) -> None:
    """RFC 7396 for one nested object: null resets it all; a null key resets that key."""
    if group not in fields:
        return
    names = type(defaults).model_fields
    if patch is None:
        for name in names:
            setattr(user, name, getattr(defaults, name))
        return
    assert hasattr(patch, "model_fields_set")
    for name in patch.model_fields_set:
        value = getattr(patch, name)
        setattr(user, name, getattr(defaults, name) if value is None else value)
