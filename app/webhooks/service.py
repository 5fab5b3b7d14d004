"""Webhook rules: register (address checked), emit events in the caller's transaction,
find due and overdue follow-ups for the worker, and show the delivery log."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.errors import Invalid, NotFound
from app.followups.models import Followup
from app.interviews.models import Interview, Person
from app.webhooks import addresses, repository
from app.webhooks.events import (
    TEST_EVENT,
    FollowupEventData,
    InterviewEventData,
    OutcomeChangedData,
    RepliedData,
    RepliedPerson,
    TestEventData,
    payload,
)
from app.webhooks.models import Webhook, WebhookDelivery
from app.webhooks.schemas import DeliveryRead, Event, Format, WebhookCreate, WebhookRead

WEBHOOKS_PER_USER = 20
WEBHOOK_PAGE = 200
EVENTS_PER_ROUND = 200
DELIVERY_LOG = 20
# A follow-up that became due (or overdue) longer ago than this gets no event any more:
# keeps the worker's query bounded in time after a long outage.
LOOKBACK = timedelta(days=1)
# For due/overdue events the id derives from the follow-up, so each is sent once.
_EVENT_NAMESPACE = uuid.UUID("6f1c1e0e-2b7a-4e55-9d0e-0b5c7c1d9a11")


def to_read(hook: Webhook) -> WebhookRead:
    return WebhookRead(
        id=hook.id,
        url=hook.url,
        events=[Event(e) for e in hook.events],
        format=Format(hook.format),
        created_at=hook.created_at,
    )


def delivery_read(row: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead(
        id=row.id,
        event_id=row.event_id,
        event=row.event_type,
        status=row.status,
        status_code=row.response_status,
        attempts=row.attempts,
        error=row.last_error,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        delivered_at=row.delivered_at,
    )


async def create(
    session: AsyncSession, *, user: User, data: WebhookCreate, allow: addresses.Allow, now: datetime
) -> Webhook:
    """A new webhook with a fresh 256-bit secret; a refused address is a 422 naming `url`.
    The secret is `whsec_` and standard base64, so Standard Webhooks libraries take it as is."""
    try:
        target = await addresses.check_url(data.url, allow)
    except addresses.Refused as error:
        raise Invalid(["body", "url"], str(error)) from None
    del target
    if len(await repository.list_of(session, user.id)) >= WEBHOOKS_PER_USER:
        raise Invalid(["body", "url"], f"at most {WEBHOOKS_PER_USER} webhooks per account")
    hook = Webhook(
        id=uuid.uuid4(),
        user_id=user.id,
        url=data.url.strip(),
        events=sorted({e.value for e in data.events}),
        format=data.format.value,
        secret="whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
        created_at=now,
    )
    session.add(hook)
    await session.flush()
    return hook


async def list_webhooks(session: AsyncSession, *, user: User) -> list[Webhook]:
    return await repository.list_of(session, user.id)


async def get(session: AsyncSession, *, user: User, webhook_id: uuid.UUID) -> Webhook:
    hook = await repository.get(session, user.id, webhook_id)
    if hook is None:
        raise NotFound("No such webhook.")
    return hook


async def delete(session: AsyncSession, *, user: User, webhook_id: uuid.UUID) -> None:
    if not await repository.remove(session, user.id, webhook_id):
        raise NotFound("No such webhook.")


async def deliveries(
    session: AsyncSession, *, user: User, webhook_id: uuid.UUID, limit: int = DELIVERY_LOG
) -> list[WebhookDelivery]:
    await get(session, user=user, webhook_id=webhook_id)
    return await repository.deliveries_of(session, user.id, webhook_id, limit=limit)


async def _insert(
    session: AsyncSession,
    *,
    hook: Webhook,
    event_id: uuid.UUID,
    event: str,
    data: dict[str, Any],
    now: datetime,
) -> bool:
    return await repository.insert_ignoring_duplicate(
        session,
        {
            "id": uuid.uuid4(),
            "user_id": hook.user_id,
            "webhook_id": hook.id,
            "event_id": event_id,
            "event_type": event,
            "data": data,
            "due_at": now,
            "status": repository.PENDING,
            "attempts": 0,
            "created_at": now,
        },
    )


async def send_test(
    session: AsyncSession, *, user: User, webhook_id: uuid.UUID, now: datetime
) -> None:
    hook = await get(session, user=user, webhook_id=webhook_id)
    data = payload(TestEventData(message="This is a test event from Followup."))
    await _insert(session, hook=hook, event_id=uuid.uuid4(), event=TEST_EVENT, data=data, now=now)


async def emit(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    event: Event,
    data: dict[str, Any],
    now: datetime,
    event_id: uuid.UUID | None = None,
) -> int:
    """One delivery per webhook of the user subscribed to `event`, in the caller's
    transaction (so the event exists exactly when the change does). Returns how many."""
    count = 0
    event_id = event_id or uuid.uuid4()
    for hook in await repository.list_of(session, user_id):
        if event.value in hook.events and await _insert(
            session, hook=hook, event_id=event_id, event=event.value, data=data, now=now
        ):
            count += 1
    return count


def followup_data(row: Followup, *, company: str, role: str) -> dict[str, Any]:
    return payload(
        FollowupEventData(
            followup_id=row.id,
            interview_id=row.interview_id,
            kind=row.kind,
            subject=row.subject,
            recipient_name=row.recipient_name,
            company=company,
            role=role,
            not_before=row.not_before,
            due_at=row.due_at,
            sent_at=row.sent_at,
        )
    )


def interview_data(interview: Interview, *, previous_outcome: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "interview_id": interview.id,
        "company": interview.company,
        "role": interview.role,
        "starts_at": interview.starts_at,
        "outcome": interview.outcome,
    }
    if previous_outcome is not None:
        return payload(OutcomeChangedData(**fields, previous_outcome=previous_outcome))
    return payload(InterviewEventData(**fields))


def replied_data(
    interview: Interview,
    *,
    person: Person | None,
    person_id: uuid.UUID | None,
    received_at: datetime,
    subject: str | None,
) -> dict[str, Any]:
    """`interview.replied`: who replied (only their id if they left the interview since)."""
    if person is not None:
        who: RepliedPerson | None = RepliedPerson(
            id=person.id, name=person.name, email=person.email
        )
    else:
        who = RepliedPerson(id=person_id) if person_id is not None else None
    return payload(
        RepliedData(
            interview_id=interview.id,
            company=interview.company,
            role=interview.role,
            person=who,
            received_at=received_at,
            subject=subject,
        )
    )


async def enqueue_due_events(session: AsyncSession, *, now: datetime) -> int:
    """`followup.due` when a scheduled follow-up's `not_before` passes, `followup.overdue`
    when its `due_at` does: once per follow-up and webhook, looking back at most a day."""
    enqueued = 0
    after: uuid.UUID | None = None
    wanted = {Event.FOLLOWUP_DUE: Followup.not_before, Event.FOLLOWUP_OVERDUE: Followup.due_at}
    while True:
        hooks = await repository.page_of_webhooks(session, after=after, limit=WEBHOOK_PAGE)
        if not hooks:
            return enqueued
        after = hooks[-1].id
        for hook in hooks:
            for event, column in wanted.items():
                if event.value not in hook.events:
                    continue
                rows = await repository.followups_crossing(
                    session,
                    hook.user_id,
                    column=column,
                    since=now - LOOKBACK,
                    now=now,
                    limit=EVENTS_PER_ROUND,
                )
                for row, company, role in rows:
                    event_id = uuid.uuid5(_EVENT_NAMESPACE, f"{event.value}:{row.id}")
                    data = followup_data(row, company=company, role=role)
                    if await _insert(
                        session, hook=hook, event_id=event_id, event=event.value, data=data, now=now
                    ):
                        enqueued += 1
