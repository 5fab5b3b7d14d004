"""The group's rules: the board of momentum as each member chose to share it, who may
publish templates, and adopting a shared template into one's own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.errors import Forbidden, Invalid, NotFound
from app.followups import drafts
from app.group import repository
from app.group.models import GroupTemplate
from app.group.schemas import (
    STREAK_WINDOW_WEEKS,
    GroupBoard,
    GroupSettings,
    GroupTemplateCreate,
    GroupTemplateRead,
    GroupTotals,
    MemberBoard,
    MemberWeek,
    Sharing,
    TemplateKind,
    TemplatePreview,
    Totals,
    Week,
    WeekCounts,
)
from app.me import service as profile
from app.me.schemas import MeUpdate, Templates, TemplatesPatch
from app.wire import Page, keyset_cursor, parse_keyset_cursor

DEFAULT_WEEKS = 8
MAX_WEEKS = 26


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in `tz` (a midnight skipped by DST moves forward)."""
    naive = datetime.combine(day, time())
    local = naive.replace(tzinfo=tz)
    # A wall time in a DST gap does not exist; round trip through UTC to land after it.
    return local.astimezone(ZoneInfo("UTC")).astimezone(tz)


def week_starts(now: datetime, tz: ZoneInfo, weeks: int) -> list[date]:
    """The Mondays of the last `weeks` weeks in `tz`, oldest first; the last holds `now`."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - n) for n in range(weeks)]


def _share(on_time: int, sent: int) -> float | None:
    return round(on_time / sent, 4) if sent else None


def _totals(weeks: list[WeekCounts] | list[MemberWeek]) -> Totals:
    sent = sum(w.thank_yous_sent for w in weeks)
    on_time = sum(w.thank_yous_on_time for w in weeks)
    return Totals(
        interviews=sum(w.interviews for w in weeks),
        thank_yous_sent=sent,
        thank_yous_on_time=on_time,
        thank_yous_on_time_share=_share(on_time, sent),
        check_ins_sent=sum(w.check_ins_sent for w in weeks),
        check_ins_on_time=sum(w.check_ins_on_time for w in weeks),
    )


async def board(session: AsyncSession, *, viewer: User, weeks: int, now: datetime) -> GroupBoard:
    """Each sharing member's weekly counts and streak, in the viewer's weeks; members who
    share nothing are only counted. Five queries whatever the number of members or weeks."""
    tz = ZoneInfo(viewer.timezone)
    mondays = week_starts(now, tz, weeks)
    starts = [local_midnight(day, tz) for day in mondays]
    start, bounds = starts[0], starts[1:]
    # Interviews still to come are not momentum yet; nothing is sent in the future either.
    end = min(now, local_midnight(mondays[-1] + timedelta(weeks=1), tz))
    members = await repository.sharing_members(session)
    ids = [m.id for m in members]
    with_companies = [m.id for m in members if m.sharing == Sharing.COMPANIES.value]
    held = await repository.interviews_per_week(session, ids, start=start, end=end, bounds=bounds)
    companies = await repository.companies_per_week(
        session, with_companies, start=start, end=end, bounds=bounds
    )
    sent = await repository.sent_per_week(session, ids, start=start, end=end, bounds=bounds)
    streaks = await repository.streaks(
        session, ids, since=now - timedelta(weeks=STREAK_WINDOW_WEEKS), now=now
    )
    zero = repository.SentCounts(sent=0, on_time=0)
    rows: list[MemberBoard] = []
    for member in members:
        member_weeks: list[MemberWeek] = []
        for index, monday in enumerate(mondays):
            thanks = sent.get((member.id, index, "thank_you"), zero)
            checks = sent.get((member.id, index, "check_in"), zero)
            member_weeks.append(
                MemberWeek(
                    starts_on=monday,
                    interviews=held.get((member.id, index), 0),
                    thank_yous_sent=thanks.sent,
                    thank_yous_on_time=thanks.on_time,
                    thank_yous_on_time_share=_share(thanks.on_time, thanks.sent),
                    check_ins_sent=checks.sent,
                    check_ins_on_time=checks.on_time,
                    companies=(
                        companies.get((member.id, index), [])
                        if member.sharing == Sharing.COMPANIES.value
                        else None
                    ),
                )
            )
        rows.append(
            MemberBoard(
                display_name=member.display_name,
                sharing=Sharing(member.sharing),
                is_you=member.id == viewer.id,
                streak=streaks.get(member.id, 0),
                weeks=member_weeks,
                totals=_totals(member_weeks),
            )
        )
    group_weeks = [
        _week_total(monday, [r.weeks[i] for r in rows]) for i, monday in enumerate(mondays)
    ]
    return GroupBoard(
        timezone=viewer.timezone,
        weeks=[Week(starts_on=day, ends_on=day + timedelta(days=6)) for day in mondays],
        members=rows,
        totals=GroupTotals(weeks=group_weeks, overall=_totals(group_weeks)),
        members_not_sharing=await repository.count_not_sharing(session),
        your_sharing=Sharing(viewer.board_sharing),
        generated_at=now,
    )


def _week_total(monday: date, weeks: list[MemberWeek]) -> WeekCounts:
    totals = _totals(weeks)
    return WeekCounts(starts_on=monday, **totals.model_dump())


# Shared templates and who may publish them.


async def settings(session: AsyncSession, *, viewer: User) -> GroupSettings:
    row = await repository.instance_settings(session)
    members_may = bool(row and row.members_may_publish)
    return GroupSettings(
        members_may_publish=members_may,
        you_may_publish=viewer.is_admin or members_may,
        you_are_admin=viewer.is_admin,
    )


async def update_settings(
    session: AsyncSession, *, viewer: User, members_may_publish: bool | None, now: datetime
) -> GroupSettings:
    if not viewer.is_admin:
        raise Forbidden("Only an admin changes the group's settings.")
    if members_may_publish is not None:
        row = await repository.instance_settings(session)
        if row is None:
            row = repository.add_instance_settings(session, members_may_publish=members_may_publish)
        row.members_may_publish = members_may_publish
        row.updated_at = now
        await session.flush()
    return await settings(session, viewer=viewer)


def to_read(row: GroupTemplate, author: str, viewer: User) -> GroupTemplateRead:
    return GroupTemplateRead(
        id=row.id,
        kind=TemplateKind(row.kind),
        name=row.name,
        subject=row.subject,
        body=row.body,
        author=author,
        created_at=row.created_at,
        can_delete=viewer.is_admin or row.user_id == viewer.id,
    )


async def list_templates(
    session: AsyncSession, *, viewer: User, limit: int, cursor: str | None
) -> Page[GroupTemplateRead]:
    after = parse_keyset_cursor(cursor)
    rows = await repository.list_templates(session, after=after, limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1][0]
        next_cursor = keyset_cursor(last.created_at, last.id)
    return Page[GroupTemplateRead](
        items=[to_read(row, author, viewer) for row, author in rows], next_cursor=next_cursor
    )


async def get_template(
    session: AsyncSession, *, template_id: uuid.UUID
) -> tuple[GroupTemplate, str]:
    found = await repository.get_template(session, template_id)
    if found is None:
        raise NotFound("No such shared template.")
    return found


def _check_placeholders(data: GroupTemplateCreate) -> None:
    """The same checker as the user's own templates: a 422 naming the field."""
    for field in ("subject", "body"):
        try:
            drafts.validate_template(getattr(data, field))
        except drafts.TemplateError as error:
            raise Invalid(["body", field], error.message) from None


async def publish(
    session: AsyncSession, *, viewer: User, data: GroupTemplateCreate, now: datetime
) -> GroupTemplateRead:
    if not (await settings(session, viewer=viewer)).you_may_publish:
        raise Forbidden(
            "Only an admin may publish templates to the group (the admin can allow members)."
        )
    _check_placeholders(data)
    row = GroupTemplate(
        user_id=viewer.id,
        kind=data.kind.value,
        name=data.name,
        subject=data.subject,
        body=data.body,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return to_read(row, viewer.display_name, viewer)


async def delete_template(session: AsyncSession, *, viewer: User, template_id: uuid.UUID) -> None:
    row, _author = await get_template(session, template_id=template_id)
    if not (viewer.is_admin or row.user_id == viewer.id):
        raise Forbidden("Only its author or an admin may delete a shared template.")
    await repository.delete_template(session, template_id)
    await session.flush()


def _as_own(row: GroupTemplate) -> Templates:
    kind = row.kind
    return Templates(**{f"{kind}_subject": row.subject, f"{kind}_body": row.body})


@dataclass(frozen=True)
class Preview:
    read: TemplatePreview
    template: GroupTemplateRead
    sample: profile.SampleDrafts


async def preview(
    session: AsyncSession, *, viewer: User, template_id: uuid.UUID, now: datetime
) -> Preview:
    """The shared template rendered with sample values, by the same code as Settings."""
    row, author = await get_template(session, template_id=template_id)
    sample = profile.preview_drafts(user=viewer, templates=_as_own(row), now=now)
    draft = sample.thank_you if row.kind == TemplateKind.THANK_YOU.value else sample.check_in
    return Preview(
        read=TemplatePreview(kind=TemplateKind(row.kind), subject=draft.subject, body=draft.body),
        template=to_read(row, author, viewer),
        sample=sample,
    )


async def adopt(
    session: AsyncSession, *, viewer: User, template_id: uuid.UUID, now: datetime
) -> tuple[User, GroupTemplateRead]:
    """Copy the template's subject and body into the viewer's own templates of its kind,
    through the profile update, so drafts not edited by hand are regenerated."""
    row, author = await get_template(session, template_id=template_id)
    patch = MeUpdate(templates=TemplatesPatch(**_as_own(row).model_dump(exclude_none=True)))
    user = await profile.update(session, user=viewer, patch=patch, now=now)
    return user, to_read(row, author, viewer)
