"""Wire schemas for the user's own settings: profile, policy, templates, notifications."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from app.followups.schedule import DEFAULT_POLICY, POLICY_BOUNDS
from app.group.schemas import Sharing
from app.wire import Input, Instant, Integer, NotNull, Storable, Str200, TimeZoneName

TemplateText = Annotated[str, StringConstraints(max_length=20000), Storable]
SubjectTemplate = Annotated[str, StringConstraints(max_length=300), Storable]


def _bounded(name: str, default: int | None, **extra: str) -> Any:
    """A policy field with its bounds from the one source (POLICY_BOUNDS)."""
    bounds = POLICY_BOUNDS[name]
    return Field(default=default, ge=bounds.low, le=bounds.high, **extra)  # type: ignore[call-overload]


_D = DEFAULT_POLICY


class Policy(BaseModel):
    thank_you_within_hours: int = _bounded("thank_you_within_hours", _D.thank_you_within_hours)
    check_in_after_days: int = _bounded("check_in_after_days", _D.check_in_after_days)
    check_in_grace_days: int = _bounded("check_in_grace_days", _D.check_in_grace_days)
    send_hour: int = _bounded("send_hour", _D.send_hour, description="Local hour (0-23).")
    skip_weekends: bool = _D.skip_weekends
    second_check_in_after_days: int | None = _bounded(
        "second_check_in_after_days", _D.second_check_in_after_days
    )


class PolicyPatch(Input):
    """Merged key by key; null puts back the default."""

    thank_you_within_hours: Integer | None = _bounded("thank_you_within_hours", None)
    check_in_after_days: Integer | None = _bounded("check_in_after_days", None)
    check_in_grace_days: Integer | None = _bounded("check_in_grace_days", None)
    send_hour: Integer | None = _bounded("send_hour", None)
    skip_weekends: StrictBool | None = None
    second_check_in_after_days: Integer | None = _bounded("second_check_in_after_days", None)


class Templates(BaseModel):
    """Placeholders: {recipient_first_name} {recipient_name} {company} {role}
    {interview_date} {highlight} {excitement} {sender_name}; `{{` and `}}` are literal
    braces. null means the built-in default."""

    thank_you_subject: SubjectTemplate | None = None
    thank_you_body: TemplateText | None = None
    check_in_subject: SubjectTemplate | None = None
    check_in_body: TemplateText | None = None


class TemplatesPatch(Templates, Input):
    pass


class Notifications(BaseModel):
    daily_digest: bool = True
    due_now: bool = False


class NotificationsPatch(Input):
    daily_digest: StrictBool | None = None
    due_now: StrictBool | None = None


class UserRead(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    is_admin: bool
    timezone: str
    policy: Policy
    templates: Templates
    notifications: Notifications
    calendar_url: str | None = Field(
        description="The secret iCalendar feed of your follow-ups (read-only; null until "
        "the calendar feed is enabled on this instance)."
    )
    board_sharing: Sharing = Field(
        description="What the group board shows of you: `none` (the default: nothing, you are "
        "only counted among members not sharing), `counts` (your display name, weekly counts "
        "and streak), or `companies` (the same, plus the companies of each week's interviews)."
    )
    created_at: Instant


class MeUpdate(Input):
    """Merge-patch (RFC 7396): nested objects merge key by key; null puts back a default."""

    display_name: NotNull[Str200] = None
    timezone: TimeZoneName | None = None
    policy: PolicyPatch | None = None
    templates: TemplatesPatch | None = None
    notifications: NotificationsPatch | None = None
    board_sharing: NotNull[Sharing] = None


class TemplatesPreview(Input):
    """The templates as typed on the Settings page, to preview before saving."""

    templates: TemplatesPatch = Field(default_factory=TemplatesPatch)
