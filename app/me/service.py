"""The user's own settings: profile, time zone, policy, templates, notifications (the
identity itself, passwords, sessions and tokens, is app/accounts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository
from app.accounts.models import User
from app.calendar import service as calendar
from app.config import Settings
from app.errors import Invalid, Unauthorized
from app.followups import drafts, sync
from app.group.schemas import Sharing
from app.me.schemas import MeUpdate, Notifications, Policy, Templates, UserRead
from app.wire import check_if_match, strong_etag


def to_read(user: User, settings: Settings) -> UserRead:
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
        calendar_url=calendar.feed_url(user, secret=settings.secret, base_url=settings.base_url),
        board_sharing=Sharing(user.board_sharing),
        created_at=user.created_at,
    )


def etag(read: UserRead) -> str:
    return strong_etag(read.model_dump_json().encode())


async def lock(session: AsyncSession, *, user: User) -> User:
    """The user's settings as stored, locked for this transaction's write: an If-Match
    checked against them still holds when the write is made."""
    locked = await repository.lock_user(session, user.id)
    if locked is None:
        raise Unauthorized("This account no longer exists.")
    return locked


async def patch_me(
    session: AsyncSession,
    *,
    user: User,
    patch: MeUpdate,
    now: datetime,
    if_match: str | None,
    settings: Settings,
) -> User:
    """PATCH /me: the stored settings, locked, checked against If-Match, then merged."""
    user = await lock(session, user=user)
    check_if_match(if_match, etag(to_read(user, settings)))
    return await update(session, user=user, patch=patch, now=now)


async def update(session: AsyncSession, *, user: User, patch: MeUpdate, now: datetime) -> User:
    """Merge-patch the user's settings; schedule changes recompute what is still to come."""
    fields = patch.model_fields_set
    if patch.display_name is not None:  # null was refused while parsing (NotNull)
        user.display_name = patch.display_name
    if "timezone" in fields:
        user.timezone = patch.timezone or "UTC"
        # null puts back the default, which a later sign-in may again replace.
        user.timezone_chosen = patch.timezone is not None
    if "board_sharing" in fields and patch.board_sharing is not None:
        user.board_sharing = patch.board_sharing.value
    _merge(user, "policy", patch.policy, Policy(), fields)
    _merge(user, "templates", patch.templates, Templates(), fields)
    _merge(user, "notifications", patch.notifications, Notifications(), fields)
    _check_templates(user)
    user.updated_at = now
    if fields - {"notifications", "board_sharing"}:
        # The sender's name, the time zone, the policy and the templates all reach the
        # drafts or the times of what is still to come.
        await sync.resync_all(session, user=user, now=now)
    await session.flush()
    return user


async def adopt_browser_timezone(
    session: AsyncSession, *, user: User, timezone: str | None, now: datetime
) -> User:
    """At sign-in: an account still on the default UTC that nobody chose takes the browser's
    zone (and what is still to come moves with it); any other account keeps its own."""
    if timezone is None or timezone == user.timezone or user.timezone_chosen:
        return user
    if user.timezone != "UTC":
        return user
    user.timezone = timezone
    user.updated_at = now
    await sync.resync_all(session, user=user, now=now)
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


def _check_templates(source: User | Templates) -> None:
    """A 422 naming the first template (as `templates.<name>`) that is not valid."""
    for name in Templates.model_fields:
        text = getattr(source, name)
        if text is not None:
            try:
                drafts.validate_template(text)
            except drafts.TemplateError as error:
                raise Invalid(["body", "templates", name], error.message) from None


def default_templates() -> Templates:
    """The built-in wording, written as templates (what an empty template means)."""
    return Templates(**{name: drafts.default_template(name) for name in Templates.model_fields})


@dataclass(frozen=True)
class SampleDrafts:
    """Drafts from templates not yet saved, for a made-up interview."""

    context: drafts.DraftContext
    thank_you: drafts.Draft
    check_in: drafts.Draft


def preview_drafts(*, user: User, templates: Templates, now: datetime) -> SampleDrafts:
    """Render both drafts from ``templates`` (None: the default) without saving anything."""
    _check_templates(templates)
    context = drafts.DraftContext(
        recipient_name="Ann Lee",
        company="Acme Corp",
        role="Backend Engineer",
        interview_date=now.astimezone(ZoneInfo(user.timezone)).date(),
        highlight="the event-sourcing migration",
        excitement="owning the billing platform",
        sender_name=user.display_name,
    )
    chosen = drafts.UserTemplates(
        **{name: getattr(templates, name) for name in Templates.model_fields}
    )
    return SampleDrafts(
        context=context,
        thank_you=drafts.render_draft("thank_you", context, chosen),
        check_in=drafts.render_draft("check_in", context, chosen),
    )
