"""HTTP for webhooks: register, list, delete, send a test event, read the delivery log."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from app.accounts.models import User
from app.deps import CurrentUser, Now, SessionDep, SettingsDep, object_id
from app.errors import problems
from app.web.htmx import HtmxDep, respond
from app.web.responses import created, json_response
from app.web.templating import render
from app.webhooks import addresses, service
from app.webhooks.schemas import (
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)
from app.webhooks.views import webhooks_context

router = APIRouter(prefix="/api/v1", responses=problems(500))

SECTION = "settings/_webhooks.html"


def _webhook_id(
    webhook_id: Annotated[str, Path(description="The webhook's id (a UUID).")],
) -> uuid.UUID:
    return object_id(webhook_id)


WebhookId = Annotated[uuid.UUID, Depends(_webhook_id)]


@router.get(
    "/webhooks",
    operation_id="list_webhooks",
    tags=["webhooks"],
    response_model=list[WebhookRead],
    responses=problems(401),
    summary="List your webhooks (never their secrets)",
    description="Each webhook's `url`, `events` and `format`, oldest first. The signing "
    "secret is shown only once, when the webhook is created.",
)
async def list_webhooks(
    request: Request, session: SessionDep, user: CurrentUser, htmx: HtmxDep
) -> Response:
    hooks = [service.to_read(h) for h in await service.list_webhooks(session, user=user)]
    return respond(request, htmx, hooks)


@router.post(
    "/webhooks",
    operation_id="create_webhook",
    tags=["webhooks"],
    status_code=201,
    response_model=WebhookCreated,
    responses={**created(), **problems(401, 403, 422)},
    summary="Register a webhook",
    description="Events are POSTed to `url` as `format` (`json`: a versioned envelope; "
    "`slack`, `discord`, `ntfy`: their presets), signed with `Followup-Signature: "
    'v1=<hex HMAC-SHA256(secret, Followup-Timestamp + "." + body)>`. The `secret` is shown '
    "only in this response. A URL that is not http(s), or whose host is or resolves to a "
    "loopback, private, link-local, multicast, unspecified or reserved address, is a 422 "
    "naming `url` (unless the instance allows it); the address is checked again when "
    "connecting.",
)
async def create_webhook(
    request: Request,
    data: WebhookCreate,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    allow = addresses.parse_allow(settings.webhook_allow)
    hook = await service.create(session, user=user, data=data, allow=allow, now=now)
    body = WebhookCreated(**service.to_read(hook).model_dump(), secret=hook.secret)
    headers = {"Location": f"/api/v1/webhooks/{hook.id}"}
    if not htmx.html:
        return json_response(body, status=201, headers=headers)
    # The Settings page: the secret, this once, above the list.
    return await section(request, session, user, status=201, headers=headers, created=body)


@router.delete(
    "/webhooks/{webhook_id}",
    operation_id="delete_webhook",
    tags=["webhooks"],
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404),
    summary="Delete a webhook (and its delivery log)",
    description="Stops every delivery to it, pending ones included, and deletes its delivery log.",
)
async def delete_webhook(
    request: Request, webhook_id: WebhookId, session: SessionDep, user: CurrentUser, htmx: HtmxDep
) -> Response:
    await service.delete(session, user=user, webhook_id=webhook_id)
    if not htmx.html:
        return Response(status_code=204)
    # htmx swaps nothing on a 204, so the page gets the list without the deleted webhook.
    return await section(request, session, user, deleted=True)


@router.post(
    "/webhooks/{webhook_id}/test",
    operation_id="test_webhook",
    tags=["webhooks"],
    status_code=202,
    response_class=Response,
    responses={
        202: {"description": "Accepted: a `webhook.test` event is queued for the worker."},
        **problems(401, 403, 404),
    },
    summary="Send a test event",
    description="Queues a `webhook.test` event (see `webhooks` in this document) for this "
    "webhook only, whatever `events` it takes; the worker delivers it like any event, signed, "
    "and the outcome shows in its delivery log.",
)
async def test_webhook(
    request: Request,
    webhook_id: WebhookId,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    await service.send_test(session, user=user, webhook_id=webhook_id, now=now)
    if not htmx.html:
        return Response(status_code=202)
    return await section(request, session, user, status=202, tested=True)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    operation_id="list_webhook_deliveries",
    tags=["webhooks"],
    response_model=list[DeliveryRead],
    responses=problems(401, 404),
    summary="The delivery log of a webhook, newest first",
    description="Each event sent to the webhook: status, the receiver's HTTP status code, "
    "attempts and times. Response bodies are never stored or shown.",
)
async def list_webhook_deliveries(
    request: Request, webhook_id: WebhookId, session: SessionDep, user: CurrentUser, htmx: HtmxDep
) -> Response:
    rows = await service.deliveries(session, user=user, webhook_id=webhook_id)
    return respond(request, htmx, [service.delivery_read(r) for r in rows])


async def section(
    request: Request,
    session: SessionDep,
    user: User,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    return render(
        request,
        SECTION,
        status=status,
        headers={**(headers or {})},
        **(await webhooks_context(session, user)),
        **context,
    )
