"""HTTP for the user's mailbox: read, save, disconnect and test it (JSON, or the Settings
section to htmx)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.deps import CurrentUser, IfMatch, Now, SessionDep, SettingsDep
from app.errors import problems
from app.idempotency import IdempotencyDep
from app.mailbox import repository, service, views
from app.mailbox.schemas import MailboxRead, MailboxTestResult, MailboxWrite
from app.web.htmx import HtmxDep, respond
from app.web.responses import created, json_response
from app.web.templating import render

router = APIRouter(prefix="/api/v1/me/mailbox", tags=["mailbox"], responses=problems(500))


@router.get(
    "",
    operation_id="get_mailbox",
    response_model=MailboxRead,
    responses=problems(401, 404),
    summary="Your mailbox (never its password)",
    description="Its address, servers, folders, `watch` and `send` switches, and `status` "
    "(`unchecked`, `ok` or `error`, with `last_checked_at` and `last_error`); the password "
    "only as `password_set`. 404 when no mailbox is connected. Send the `ETag` back as "
    "`If-Match` on `PUT` or `DELETE`.",
)
async def get_mailbox(
    request: Request, session: SessionDep, user: CurrentUser, htmx: HtmxDep
) -> Response:
    read = service.to_read(await service.get(session, user=user))
    return respond(request, htmx, read, headers={"ETag": service.etag(read)})


@router.put(
    "",
    operation_id="put_mailbox",
    response_model=MailboxRead,
    status_code=200,
    responses={
        **created("Connected: there was no mailbox.", model=MailboxRead),
        **problems(401, 403, 412, 422),
    },
    summary="Connect or change your mailbox",
    description="The whole mailbox: 201 when it connects one, 200 when it replaces it. "
    "`password` is required the first time; left out, the saved one is kept (it is sealed "
    "with a key derived from SECRET_KEY and never returned). A host that is or resolves to "
    "a private, loopback, link-local or otherwise non-public address is a 422 naming "
    "`imap.host` or `smtp.host`, unless the instance allows it (FOLLOWUP_MAIL_ALLOW). "
    "A change of server, port, security, user name or password sets `status` back to "
    "`unchecked`; a change of server, account or folders makes the watch start again from "
    "what is new.",
)
async def put_mailbox(
    request: Request,
    data: MailboxWrite,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    now: Now,
    htmx: HtmxDep,
    if_match: IfMatch = None,
) -> Response:
    mailbox, created = await service.save(
        session, user=user, data=data, settings=settings, if_match=if_match, now=now
    )
    read = service.to_read(mailbox)
    status = 201 if created else 200
    headers = {"ETag": service.etag(read)}
    if created:
        headers["Location"] = "/api/v1/me/mailbox"
    if not htmx.html:
        return json_response(read, status=status, headers=headers)
    return section(request, read, status=status, headers=headers, saved=True)


@router.delete(
    "",
    operation_id="delete_mailbox",
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404, 412),
    summary="Disconnect your mailbox",
    description="Deletes its settings, its password and what the watch kept of its folders. "
    "What it already changed (follow-ups marked sent, replies recorded) stays.",
)
async def delete_mailbox(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    htmx: HtmxDep,
    if_match: IfMatch = None,
) -> Response:
    await service.delete(session, user=user, if_match=if_match)
    if not htmx.html:
        return Response(status_code=204)
    # htmx swaps nothing on a 204, so the page gets the empty form.
    return section(request, None, disconnected=True)


@router.post(
    "/test",
    operation_id="test_mailbox",
    response_model=MailboxTestResult,
    responses=problems(401, 403, 404, 422),
    summary="Connect to your mailbox now (IMAP and SMTP)",
    description="Logs in to both sides at once, each within 10 seconds: IMAP opens the inbox "
    "and finds the sent folder (the named one, else the one marked `\\Sent`), SMTP secures "
    "the connection and logs in; nothing is sent, read or changed. Each `error` says in a "
    "sentence what failed. The outcome is recorded on the mailbox (`status`, "
    "`last_checked_at`, `last_error`). A password that no longer opens (SECRET_KEY changed) "
    "fails both sides and asks for the password again.",
)
async def test_mailbox(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    now: Now,
    idempotency: IdempotencyDep,
    htmx: HtmxDep,
) -> Response:
    if (replay := await idempotency.replay()) is not None:
        return replay
    result = await service.test(session, user=user, settings=settings, now=now)
    response = await idempotency.remember(json_response(result), now)
    if not htmx.html:
        return response
    mailbox = await repository.get(session, user.id)
    read = service.to_read(mailbox) if mailbox is not None else None
    return section(request, read, tested=result)


def section(
    request: Request,
    mailbox: MailboxRead | None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    return render(
        request,
        views.SECTION,
        status=status,
        headers={**(headers or {})},
        **views.context(mailbox),
        **context,
    )
