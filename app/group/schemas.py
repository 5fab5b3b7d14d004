"""Wire schemas for the group: the board of momentum, shared templates, instance settings."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from app.wire import Input, Instant, NotNull, Storable, Str200

STREAK_WINDOW_WEEKS = 52


class Sharing(StrEnum):
    """What the group board shows of a member (chosen in Settings)."""

    NONE = "none"
    COUNTS = "counts"
    COMPANIES = "companies"


class TemplateKind(StrEnum):
    THANK_YOU = "thank_you"
    CHECK_IN = "check_in"


class Week(BaseModel):
    starts_on: date = Field(description="The Monday the week starts on, in your time zone.")
    ends_on: date = Field(description="The Sunday it ends on (inclusive).")


class WeekCounts(BaseModel):
    """One member's week, or the group's."""

    starts_on: date
    interviews: int = Field(
        description="Interviews that started this week (not future ones, not cancelled ones)."
    )
    thank_yous_sent: int = Field(description="Thank-you notes marked sent this week.")
    thank_yous_on_time: int = Field(description="Of those, how many were sent by their due time.")
    thank_yous_on_time_share: float | None = Field(
        description="thank_yous_on_time / thank_yous_sent (0 to 1); null when none were sent."
    )
    check_ins_sent: int = Field(description="Check-ins marked sent this week.")
    check_ins_on_time: int = Field(description="Of those, how many were sent by their due time.")


class MemberWeek(WeekCounts):
    companies: list[str] | None = Field(
        description="The companies of this week's interviews, only for members who share "
        "`companies`; null for members who share `counts`."
    )


class Totals(BaseModel):
    interviews: int
    thank_yous_sent: int
    thank_yous_on_time: int
    thank_yous_on_time_share: float | None
    check_ins_sent: int
    check_ins_on_time: int


class MemberBoard(BaseModel):
    display_name: str = Field(description="The member's display name (never their email).")
    sharing: Sharing = Field(
        description="`counts` or `companies` (members sharing `none` are left out)."
    )
    is_you: bool
    streak: int = Field(
        description="Consecutive on-time follow-ups, counting back from the most recent one "
        "whose window has closed: a follow-up sent by its due time adds one; one sent late, "
        "or still unsent after its due time, ends the streak; skipped and cancelled ones are "
        f"passed over. Only follow-ups due in the last {STREAK_WINDOW_WEEKS} weeks count."
    )
    weeks: list[MemberWeek] = Field(description="Oldest week first, as in `weeks` of the board.")
    totals: Totals = Field(description="The member's sums over the weeks shown.")


class GroupTotals(BaseModel):
    weeks: list[WeekCounts] = Field(description="Sums over the members shown, per week.")
    overall: Totals


class GroupBoard(BaseModel):
    """The group's momentum, as each member chose to share it."""

    timezone: str = Field(description="Weeks start on Monday 00:00 in this zone (yours).")
    weeks: list[Week] = Field(description="Oldest first; the last is the current week.")
    members: list[MemberBoard] = Field(description="Members who share, by display name.")
    totals: GroupTotals = Field(description="Over the members shown only.")
    members_not_sharing: int = Field(description="How many members share nothing (a number only).")
    your_sharing: Sharing = Field(description="What you share (change it in PATCH /api/v1/me).")
    streak_window_weeks: int = Field(
        default=STREAK_WINDOW_WEEKS, description="How far back streaks look."
    )
    generated_at: Instant


SubjectText = Annotated[str, StringConstraints(min_length=1, max_length=300), Storable]
BodyText = Annotated[str, StringConstraints(min_length=1, max_length=20000), Storable]


class GroupTemplateCreate(Input):
    """A template to share. Placeholders as in your own templates: {recipient_first_name}
    {recipient_name} {company} {role} {interview_date} {highlight} {excitement}
    {sender_name}; `{{` and `}}` are literal braces."""

    kind: TemplateKind
    name: Str200 = Field(examples=["Short and warm"])
    subject: SubjectText = Field(examples=["Thank you — {role} interview"])
    body: BodyText = Field(examples=["Hi {recipient_first_name},\n\nThank you for your time."])


class GroupTemplateRead(BaseModel):
    id: uuid.UUID
    kind: TemplateKind
    name: str
    subject: str
    body: str
    author: str = Field(description="The author's display name.")
    created_at: Instant
    can_delete: bool = Field(description="Whether you may delete it (its author, or an admin).")


class TemplatePreview(BaseModel):
    """A shared template rendered for a made-up interview, with your name as the sender."""

    kind: TemplateKind
    subject: str
    body: str


class GroupSettings(BaseModel):
    members_may_publish: bool = Field(
        description="Whether members who are not admins may publish templates."
    )
    you_may_publish: bool = Field(description="Whether you may publish templates now.")
    you_are_admin: bool


class GroupSettingsUpdate(Input):
    members_may_publish: NotNull[StrictBool] = None
