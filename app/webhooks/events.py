"""What Followup POSTs to webhooks: each event's payload as a model (the service and the
worker build the JSON from these, so the document cannot drift from what is sent) and the
OpenAPI 3.1 `webhooks` that document them, with the headers every delivery carries."""

# No `from __future__ import annotations`: FastAPI reads the documentation handlers'
# annotations, which name each event's model through a variable of the loop below.

import uuid
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Body, Header
from pydantic import BaseModel, Field

from app.followups.schedule import Kind
from app.wire import Instant

TEST_EVENT = "webhook.test"
ENVELOPE_VERSION: Literal[1] = 1
# Receivers verify `webhook-signature` with any Standard Webhooks library.
STANDARD_WEBHOOKS = "https://www.standardwebhooks.com/"


class FollowupEventData(BaseModel):
    """A follow-up, as `followup.due`, `followup.overdue` and `followup.sent` carry it."""

    followup_id: uuid.UUID
    interview_id: uuid.UUID
    kind: Kind
    subject: str
    recipient_name: str | None
    company: str
    role: str
    not_before: Instant
    due_at: Instant
    sent_at: Instant | None = Field(description="Set once it is `sent`.")


class InterviewEventData(BaseModel):
    """An interview, as `interview.created` carries it."""

    interview_id: uuid.UUID
    company: str
    role: str
    starts_at: Instant
    outcome: str = Field(examples=["pending"])


class OutcomeChangedData(InterviewEventData):
    """An interview whose outcome changed, and the outcome it had before."""

    previous_outcome: str = Field(examples=["pending"])


class RepliedPerson(BaseModel):
    """Who replied: a person of the interview (only `id` if they were since removed)."""

    id: uuid.UUID
    name: str | None = None
    email: str | None = None


class RepliedData(BaseModel):
    """A reply the mailbox watch saw from a person of the interview."""

    interview_id: uuid.UUID
    company: str
    role: str
    person: RepliedPerson | None
    received_at: Instant
    subject: str | None


class TestEventData(BaseModel):
    message: str = Field(examples=["This is a test event from Followup."])


def payload(data: BaseModel) -> dict[str, Any]:
    """An event's `data` as stored with its deliveries (JSON values; unset optional fields
    left out, so a removed person is `{"id"}` alone)."""
    return data.model_dump(mode="json", exclude_unset=True)


Data = TypeVar("Data")


class Envelope(BaseModel, Generic[Data]):
    """The body of a `json` webhook: the same for every event, `data` differing by `type`."""

    version: Literal[1] = Field(description="Changes only if this envelope ever does.")
    id: uuid.UUID = Field(
        description="The event's id, the same in every retry (and in `webhook-id`): "
        "deduplicate on it."
    )
    type: str = Field(examples=["followup.sent"])
    created_at: Instant
    data: Data


class SlackMessage(BaseModel):
    """The body of a `slack` webhook (an incoming-webhook message)."""

    text: str = Field(examples=["*Follow-up sent*\nFollow-up to Ann Lee (Engineer at Acme) …"])


class DiscordMessage(BaseModel):
    """The body of a `discord` webhook."""

    content: str = Field(examples=["**Follow-up sent**\nFollow-up to Ann Lee …"])


class FollowupDue(Envelope[FollowupEventData]):
    type: Literal["followup.due"]


class FollowupOverdue(Envelope[FollowupEventData]):
    type: Literal["followup.overdue"]


class FollowupSent(Envelope[FollowupEventData]):
    type: Literal["followup.sent"]


class InterviewCreated(Envelope[InterviewEventData]):
    type: Literal["interview.created"]


class InterviewOutcomeChanged(Envelope[OutcomeChangedData]):
    type: Literal["interview.outcome_changed"]


class InterviewReplied(Envelope[RepliedData]):
    type: Literal["interview.replied"]


class WebhookTest(Envelope[TestEventData]):
    type: Literal["webhook.test"]


# Each event type, the model of its `json` body, and when it is sent.
EVENTS: dict[str, tuple[type[Envelope[Any]], str]] = {
    "followup.due": (
        FollowupDue,
        "A scheduled follow-up's `not_before` passed: it is due now. Found by the worker "
        "each round, once per follow-up, looking back at most a day.",
    ),
    "followup.overdue": (
        FollowupOverdue,
        "A scheduled follow-up's `due_at` passed and it is still not sent. Found like "
        "`followup.due`.",
    ),
    "followup.sent": (
        FollowupSent,
        "A follow-up became `sent`: marked by hand, seen in the mailbox's sent folder, or "
        "sent through the mailbox.",
    ),
    "interview.created": (
        InterviewCreated,
        "An interview was recorded (by the API, the web page, a calendar invite or a CSV).",
    ),
    "interview.outcome_changed": (
        InterviewOutcomeChanged,
        "An interview's `outcome` changed; `previous_outcome` is the one it had.",
    ),
    "interview.replied": (
        InterviewReplied,
        "The mailbox watch saw a reply from a person of the interview (automatic replies "
        "excepted); its scheduled check-ins were cancelled.",
    ),
    TEST_EVENT: (
        WebhookTest,
        "Sent only by `POST /api/v1/webhooks/{webhook_id}/test`, whatever `events` the "
        "webhook takes.",
    ),
}

_DELIVERY = (
    "\n\nThe body depends on the webhook's `format`: `json` posts the envelope above, "
    '`slack` `{"text": …}`, `discord` `{"content": …}`, and `ntfy` a plain-text line with a '
    "`Title` header. Every delivery is signed twice with the webhook's secret: "
    "`webhook-signature` as [Standard Webhooks](" + STANDARD_WEBHOOKS + ") specify (verify it "
    "with their libraries), and `Followup-Signature` as before. Answer any 2xx once it is "
    "received; a 5xx, a timeout or a refused connection is retried with backoff (30 s … 6 h, "
    "12 attempts, the same `webhook-id`); any other status fails for good (redirects are not "
    "followed). Nothing of your answer but its status is read."
)

_RECEIVED: dict[int | str, dict[str, Any]] = {
    "2XX": {"description": "Received: the delivery is done."},
    "5XX": {"description": "Retried later, with backoff, up to 12 attempts in all."},
    "4XX": {"description": "Refused: never retried (3xx too)."},
}

_NTFY_BODY = {
    "text/plain": {
        "schema": {"type": "string", "description": "The `ntfy` format: one line of text."}
    }
}


def _document(router: APIRouter, event: str, model: type[Envelope[Any]], when: str) -> None:
    """One entry of the OpenAPI `webhooks`: the POST a receiver gets for `event`."""

    async def delivery(
        body: Annotated[model | SlackMessage | DiscordMessage, Body()],  # type: ignore[valid-type]
        webhook_id: Annotated[
            str,
            Header(
                alias="webhook-id",
                description="The event's id (Standard Webhooks): the same in every retry.",
            ),
        ],
        webhook_timestamp: Annotated[
            int,
            Header(alias="webhook-timestamp", description="When it was sent, in Unix seconds."),
        ],
        webhook_signature: Annotated[
            str,
            Header(
                alias="webhook-signature",
                description="`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}."
                "{body}`, keyed with the base64-decoded part of the secret after `whsec_` "
                "(Standard Webhooks).",
                examples=["v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="],
            ),
        ],
        followup_event: Annotated[
            str, Header(alias="Followup-Event", description="The event type.", examples=[event])
        ],
        followup_event_id: Annotated[
            str, Header(alias="Followup-Event-Id", description="The same as `webhook-id`.")
        ],
        followup_timestamp: Annotated[
            int, Header(alias="Followup-Timestamp", description="The same as `webhook-timestamp`.")
        ],
        followup_signature: Annotated[
            str,
            Header(
                alias="Followup-Signature",
                description="`v1=` and the hex HMAC-SHA256 of `{Followup-Timestamp}.{body}`, keyed "
                "with the whole secret as text (`whsec_…`).",
            ),
        ],
        title: Annotated[
            str | None,
            Header(alias="Title", description="The `ntfy` format only: the message's title."),
        ] = None,
    ) -> None:
        """Documentation only: Followup sends this request, it never receives it."""

    router.add_api_route(
        event,
        delivery,
        methods=["POST"],
        operation_id=f"webhook_{event.replace('.', '_')}",
        tags=["webhooks"],
        summary=f"`{event}`",
        description=when + _DELIVERY,
        responses=_RECEIVED,
        openapi_extra={"requestBody": {"content": _NTFY_BODY}},
    )


def documentation() -> APIRouter:
    """The routes for `FastAPI.webhooks`: one per event, never served."""
    router = APIRouter()
    for event, (model, when) in EVENTS.items():
        _document(router, event, model, when)
    return router
