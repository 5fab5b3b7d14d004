"""A user's data out and back in: the export document, its import, and the CSV import."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.errors import Invalid
from app.followups import drafts, schedule, sync
from app.followups import service as followups
from app.followups.models import Followup
from app.followups.schedule import Kind, Status
from app.followups.schemas import CancelReason, SentVia
from app.interviews import service as interviews
from app.interviews.models import Interview, Person
from app.interviews.schemas import Outcome
from app.me.schemas import Notifications, Policy, Templates
from app.portability import csvfile, repository
from app.portability.schemas import (
    CsvImported,
    CsvPreview,
    ExportDocument,
    ExportFollowup,
    ExportInterview,
    ExportLastReply,
    ExportPerson,
    ExportProfile,
    ImportResult,
)

Loc = list[str | int]


class DocumentInvalid(Invalid):
    """A 422 listing every problem found, each located in the request."""

    def __init__(self, errors: list[tuple[Loc, str]]) -> None:
        first_loc, first_msg = errors[0]
        super().__init__(first_loc, first_msg)
        self.errors = [{"loc": loc, "msg": msg} for loc, msg in errors]
        if len(errors) > 1:
            self.detail += f" (and {len(errors) - 1} more)"


# --- export ---------------------------------------------------------------------------------


def profile_of(user: User) -> ExportProfile:
    return ExportProfile(
        display_name=user.display_name,
        timezone=user.timezone,
        policy=Policy(**{name: getattr(user, name) for name in Policy.model_fields}),
        templates=Templates(**{name: getattr(user, name) for name in Templates.model_fields}),
        notifications=Notifications(
            **{name: getattr(user, name) for name in Notifications.model_fields}
        ),
        board_sharing=user.board_sharing,
    )


def _export_last_reply(interview: Interview) -> ExportLastReply | None:
    if interview.last_reply_person_id is None or interview.last_reply_at is None:
        return None
    return ExportLastReply.model_construct(
        person_id=interview.last_reply_person_id,
        received_at=interview.last_reply_at,
        subject=interview.last_reply_subject or "",
    )


def _export_interview(interview: Interview, people: list[Person], rows: list[Followup]) -> Any:
    return ExportInterview.model_construct(
        id=interview.id,
        company=interview.company,
        role=interview.role,
        starts_at=interview.starts_at,
        duration_minutes=interview.duration_minutes,
        stage=interview.stage,
        location=interview.location,
        highlight=interview.highlight,
        excitement=interview.excitement,
        notes=interview.notes,
        response_promised_by=interview.response_promised_by,
        outcome=Outcome(interview.outcome),
        invite_uid=interview.invite_uid,
        invite_sequence=interview.invite_sequence,
        last_reply=_export_last_reply(interview),
        created_at=interview.created_at,
        updated_at=interview.updated_at,
        people=[
            ExportPerson.model_construct(
                id=p.id, name=p.name, email=p.email, title=p.title, role=schedule.Role(p.role)
            )
            for p in sorted(people, key=lambda p: p.position)
        ],
        followups=[
            ExportFollowup.model_construct(
                id=r.id,
                kind=Kind(r.kind),
                plan_key=r.plan_key,
                person_id=r.person_id,
                recipient_name=r.recipient_name,
                recipient_email=r.recipient_email,
                not_before=r.not_before,
                due_at=r.due_at,
                status=schedule.Status(r.status),
                sent_at=r.sent_at,
                subject=r.subject,
                body=r.body,
                snoozed=r.snoozed,
                draft_edited=r.draft_edited,
                cancelled_by_outcome=r.cancelled_by_outcome,
                cancel_reason=CancelReason(r.cancel_reason) if r.cancel_reason else None,
                sent_via=SentVia(r.sent_via) if r.sent_via else None,
                message_id=r.message_id,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in sorted(rows, key=followups.sort_key)
        ],
    )


async def export_document(session: AsyncSession, *, user: User, now: datetime) -> ExportDocument:
    """Everything the user owns, as stored (built from trusted rows, so not re-validated)."""
    bundles = await repository.all_bundles(session, user.id)
    return ExportDocument.model_construct(
        format="followup-export",
        version=1,
        exported_at=now,
        profile=profile_of(user),
        interviews=[_export_interview(*bundle) for bundle in bundles],
    )


# --- import ---------------------------------------------------------------------------------


def _plan_key_problem(row: ExportFollowup) -> str | None:
    key = row.plan_key
    if row.kind == Kind.CUSTOM:
        return None if key is None else "must be null for a custom follow-up"
    if row.kind == Kind.CHECK_IN:
        if key in (schedule.CHECK_IN_KEY, schedule.SECOND_CHECK_IN_KEY):
            return None
        return "must be `check_in` or `check_in:2` for a check-in"
    if key == schedule.THANK_YOU_FALLBACK_KEY:
        return None
    prefix = schedule.THANK_YOU_FALLBACK_KEY + ":"
    if key is not None and key.startswith(prefix):
        try:
            uuid.UUID(key.removeprefix(prefix))
        except ValueError:
            return "must be `thank_you` or `thank_you:<person id>`"
        return None
    return "must be `thank_you` or `thank_you:<person id>` for a thank-you"


def _canonical(plan_key: str) -> str:
    """One spelling per key: `thank_you:<id>` names the same person however the id is written."""
    prefix = schedule.THANK_YOU_FALLBACK_KEY + ":"
    if plan_key.startswith(prefix):
        return prefix + str(uuid.UUID(plan_key.removeprefix(prefix)))
    return plan_key


def _interview_problems(index: int, interview: ExportInterview) -> list[tuple[Loc, str]]:
    """What the schemas cannot see: references between people and follow-ups."""
    at: Loc = ["body", "interviews", index]
    problems: list[tuple[Loc, str]] = []
    person_ids: set[uuid.UUID] = set()
    for j, person in enumerate(interview.people):
        if person.id in person_ids:
            problems.append(([*at, "people", j, "id"], "this person id is listed twice"))
        person_ids.add(person.id)
    plan_keys: set[str] = set()
    for k, row in enumerate(interview.followups):
        if row.person_id is not None and row.person_id not in person_ids:
            problems.append(
                ([*at, "followups", k, "person_id"], "no person with this id on this interview")
            )
        if row.cancel_reason is not None and row.status != Status.CANCELLED:
            problems.append(
                ([*at, "followups", k, "cancel_reason"], "only a cancelled follow-up has one")
            )
        if row.sent_via is not None and row.status != Status.SENT:
            problems.append(([*at, "followups", k, "sent_via"], "only a sent follow-up has one"))
        problem = _plan_key_problem(row)
        if problem is not None:
            problems.append(([*at, "followups", k, "plan_key"], problem))
        elif row.plan_key is not None:
            key = _canonical(row.plan_key)
            if key in plan_keys:
                problems.append(
                    ([*at, "followups", k, "plan_key"], "listed twice on this interview")
                )
            plan_keys.add(key)
    return problems


async def _check_invites_are_new(
    session: AsyncSession, user: User, document: ExportDocument
) -> None:
    """One interview per calendar invite: an invite the account (or the document) already
    has an interview from would make two, and a later import of it could update only one."""
    uids = [i.invite_uid for i in document.interviews if i.invite_uid is not None]
    if not uids:
        return
    taken = await repository.invite_uids_in(session, user.id, uids)
    problems: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for index, interview in enumerate(document.interviews):
        uid = interview.invite_uid
        if uid is None:
            continue
        if uid in taken:
            message = "this account already has an interview from this invite"
            problems.append((["body", "interviews", index, "invite_uid"], message))
        elif uid in seen:
            message = "another interview of the document comes from this invite"
            problems.append((["body", "interviews", index, "invite_uid"], message))
        seen.add(uid)
    if problems:
        raise DocumentInvalid(problems)


def check_document(document: ExportDocument) -> None:
    """Every problem the document has, at once, before anything is written."""
    problems: list[tuple[Loc, str]] = []
    if document.profile is not None:
        for name in Templates.model_fields:
            text = getattr(document.profile.templates, name)
            if text is None:
                continue
            try:
                drafts.validate_template(text)
            except drafts.TemplateError as error:
                problems.append((["body", "profile", "templates", name], error.message))
    for index, interview in enumerate(document.interviews):
        problems.extend(_interview_problems(index, interview))
    if problems:
        raise DocumentInvalid(problems)


def _apply_profile(user: User, profile: ExportProfile, now: datetime) -> None:
    user.display_name = profile.display_name
    user.timezone = profile.timezone
    for group in (profile.policy, profile.templates, profile.notifications):
        for name in type(group).model_fields:
            setattr(user, name, getattr(group, name))
    user.board_sharing = profile.board_sharing
    user.updated_at = now


def _rows_of(user: User, data: ExportInterview) -> tuple[Interview, list[Person], list[Followup]]:
    """New rows with new ids; references between them follow the new ids."""
    interview = Interview(
        id=uuid.uuid4(),
        user_id=user.id,
        **data.model_dump(exclude={"id", "people", "followups", "outcome", "last_reply"}),
        outcome=data.outcome.value,
    )
    new_ids: dict[uuid.UUID, uuid.UUID] = {}
    people = []
    for position, p in enumerate(data.people):
        new_ids[p.id] = uuid.uuid4()
        people.append(
            Person(
                id=new_ids[p.id],
                user_id=user.id,
                interview_id=interview.id,
                position=position,
                name=p.name,
                email=p.email,
                title=p.title,
                role=p.role.value,
            )
        )
    if data.last_reply is not None:
        # Like a removed person's thank-you key: someone no longer listed matches nobody.
        interview.last_reply_person_id = new_ids.setdefault(data.last_reply.person_id, uuid.uuid4())
        interview.last_reply_at = data.last_reply.received_at
        interview.last_reply_subject = data.last_reply.subject
    prefix = schedule.THANK_YOU_FALLBACK_KEY + ":"
    rows = []
    for f in data.followups:
        plan_key = f.plan_key
        if plan_key is not None and plan_key.startswith(prefix):
            old = uuid.UUID(plan_key.removeprefix(prefix))
            # A person removed before the export keeps a key that matches nobody, as before.
            plan_key = schedule.thank_you_key(str(new_ids.setdefault(old, uuid.uuid4())))
        rows.append(
            Followup(
                id=uuid.uuid4(),
                user_id=user.id,
                interview_id=interview.id,
                plan_key=plan_key,
                person_id=new_ids[f.person_id] if f.person_id is not None else None,
                **f.model_dump(
                    exclude={
                        "id",
                        "plan_key",
                        "person_id",
                        "kind",
                        "status",
                        "cancelled_by_outcome",
                        "cancel_reason",
                        "sent_via",
                    }
                ),
                kind=f.kind.value,
                status=f.status.value,
                **_how_it_ended(f),
            )
        )
    return interview, people, rows


def _how_it_ended(row: ExportFollowup) -> dict[str, Any]:
    """Why a cancelled one was cancelled and how a sent one went out; a document from before
    the mailbox has neither: an outcome or its person leaving, and by hand."""
    reason: str | None = None
    if row.status == Status.CANCELLED:
        reason = (row.cancel_reason or _legacy_reason(row)).value
    sent_via = (row.sent_via or SentVia.USER).value if row.status == Status.SENT else None
    return {
        "cancel_reason": reason,
        "cancelled_by_outcome": reason == CancelReason.OUTCOME,
        "sent_via": sent_via,
    }


def _legacy_reason(row: ExportFollowup) -> CancelReason:
    return CancelReason.OUTCOME if row.cancelled_by_outcome else CancelReason.REMOVED


async def import_document(
    session: AsyncSession,
    *,
    user: User,
    document: ExportDocument,
    apply_profile: bool | None,
    now: datetime,
) -> ImportResult:
    """Add the document's interviews as new ones, exactly as stored (nothing is re-planned);
    apply its profile when asked, or by default when the account has no interviews yet."""
    check_document(document)
    await _check_invites_are_new(session, user, document)
    existing = await repository.count_interviews(session, user.id)
    applied = document.profile is not None and (
        apply_profile if apply_profile is not None else existing == 0
    )
    if applied and document.profile is not None:
        _apply_profile(user, document.profile, now)
        if existing:
            # What the account already had follows its new policy, as after PATCH /me.
            await sync.resync_all(session, user=user, now=now)
    built = [_rows_of(user, data) for data in document.interviews]
    session.add_all([interview for interview, _, _ in built])
    await session.flush()  # the interviews first: people and follow-ups point to them
    session.add_all([person for _, people, _ in built for person in people])
    await session.flush()
    session.add_all([row for _, _, rows in built for row in rows])
    await session.flush()
    return ImportResult(
        interviews=len(built),
        people=sum(len(people) for _, people, _ in built),
        followups=sum(len(rows) for _, _, rows in built),
        profile_applied=applied,
        added_to_existing=existing > 0,
        interview_ids=[interview.id for interview, _, _ in built],
    )


# --- CSV ------------------------------------------------------------------------------------


def preview_csv(*, user: User, text: str) -> CsvPreview:
    rows = [parsed.row for parsed in csvfile.parse(text, default_timezone=user.timezone)]
    invalid = sum(1 for row in rows if row.errors)
    return CsvPreview(rows=rows, valid=len(rows) - invalid, invalid=invalid)


async def import_csv(session: AsyncSession, *, user: User, text: str, now: datetime) -> CsvImported:
    """Create every row's interview (its follow-ups planned as for any new one), or none."""
    parsed = csvfile.parse(text, default_timezone=user.timezone)
    problems: list[tuple[Loc, str]] = [
        (["body", p.row.line, error.column], error.msg) for p in parsed for error in p.row.errors
    ]
    if not parsed:
        problems.append((["body"], "the file has no rows under its header"))
    if problems:
        raise DocumentInvalid(problems)
    ids = []
    for row in parsed:
        interview, _, _ = await interviews.create(
            session, user=user, data=csvfile.to_create(row), now=now
        )
        ids.append(interview.id)
    return CsvImported(created=len(ids), interview_ids=ids)
