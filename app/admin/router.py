"""HTTP for the admin: members (deactivate, admin role, reset links) and invites."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.admin import service
from app.admin.deps import AdminUser, InviteId, UserId
from app.admin.schemas import (
    InviteCreate,
    InviteCreated,
    InviteRead,
    MemberRead,
    MemberUpdate,
    ResetLinkRead,
)
from app.deps import Cursor, IfMatch, Limit, Now, SessionDep, SettingsDep
from app.errors import problems
from app.web.htmx import HtmxDep, respond
from app.web.responses import json_response
from app.web.templating import render
from app.wire import Page

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=problems(500))

MEMBERS = "admin/_members.html"
INVITES = "admin/_invites.html"
# Fragments show the first page; a group has far fewer members than this.
PAGE = 200


@router.get(
    "/users",
    operation_id="admin_list_users",
    response_model=Page[MemberRead],
    responses=problems(401, 403, 422),
    summary="List the members (admins only)",
    description="Every account on the instance, ordered by `created_at`, then `id`, with "
    "keyset pagination. Only account fields: never a password hash, never a member's data.",
)
async def list_users(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    htmx: HtmxDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    members = await service.list_members(session, limit=limit, cursor=cursor)
    return respond(request, htmx, members)


@router.patch(
    "/users/{user_id}",
    operation_id="admin_update_user",
    response_model=MemberRead,
    responses=problems(401, 403, 404, 409, 412, 422),
    summary="Deactivate, reactivate, make admin or remove admin (admins only)",
    description="`is_active: false` ends the member's web sessions and refuses their API "
    "tokens from the next request on; their data stays, and `is_active: true` lets them back "
    "in (tokens work again; they sign in anew). 409 when an admin would deactivate "
    "themselves, or when the last active admin would lose the role.",
)
async def update_user(
    request: Request,
    user_id: UserId,
    data: MemberUpdate,
    session: SessionDep,
    admin: AdminUser,
    now: Now,
    htmx: HtmxDep,
    if_match: IfMatch = None,
) -> Response:
    member = await service.update_member(
        session, actor=admin, user_id=user_id, patch=data, if_match=if_match, now=now
    )
    updated = service.member_read(member)
    if htmx.html:
        return await _members(request, session, changed=updated)
    return json_response(updated, headers={"ETag": service.etag(updated)})


@router.post(
    "/users/{user_id}/password-reset",
    operation_id="admin_reset_password",
    status_code=201,
    response_model=ResetLinkRead,
    responses=problems(401, 403, 404, 409),
    summary="Make a password-reset link for a member (admins only)",
    description="A single-use link, valid 24 hours, to hand over to the member; when this "
    "instance has SMTP set up, the member is also emailed a link of their own (`emailed`), "
    "and the first of the two used ends the other. Using it sets a new password and ends "
    "the member's web sessions. 409 for a deactivated member.",
)
async def reset_password(
    request: Request,
    user_id: UserId,
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminUser,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    link = await service.reset_link(session, settings=settings, user_id=user_id, now=now)
    if htmx.html:
        return await _members(request, session, status=201, reset=link)
    return json_response(link, status=201)


async def _members(
    request: Request, session: SessionDep, *, status: int = 200, **context: Any
) -> Response:
    page = await service.list_members(session, limit=PAGE, cursor=None)
    return render(request, MEMBERS, status=status, members=page, **context)


@router.get(
    "/invites",
    operation_id="admin_list_invites",
    response_model=Page[InviteRead],
    responses=problems(401, 403, 422),
    summary="List invites with their status (admins only)",
    description="Ordered by `created_at`, then `id`, with keyset pagination. `status` is "
    "pending, used or expired. Codes are never shown again (only their hashes are kept).",
)
async def list_invites(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    now: Now,
    htmx: HtmxDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    invites = await service.list_invites(session, limit=limit, cursor=cursor, now=now)
    return respond(request, htmx, invites)


@router.post(
    "/invites",
    operation_id="admin_create_invite",
    status_code=201,
    response_model=InviteCreated,
    responses=problems(401, 403, 422),
    summary="Create an invite link (admins only)",
    description="A single-use link to register, valid `expires_in_days` (1-90, default 7). "
    "The `code` and `link` are shown only in this response; only a hash is stored.",
)
async def create_invite(
    request: Request,
    data: InviteCreate,
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminUser,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    created = await service.create_invite(
        session, settings=settings, actor=admin, data=data, now=now
    )
    if htmx.html:
        return await _invites(request, session, now, status=201, created=created)
    return json_response(created, status=201)


@router.delete(
    "/invites/{invite_id}",
    operation_id="admin_revoke_invite",
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404),
    summary="Revoke an invite (admins only)",
    description="Deletes it: its link no longer registers anyone.",
)
async def revoke_invite(
    request: Request,
    invite_id: InviteId,
    session: SessionDep,
    admin: AdminUser,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    await service.revoke_invite(session, invite_id=invite_id)
    if htmx.html:
        # htmx swaps nothing on a 204, so the page gets the list without the revoked invite.
        return await _invites(request, session, now, revoked=True)
    return Response(status_code=204)


async def _invites(
    request: Request, session: SessionDep, now: Any, *, status: int = 200, **context: Any
) -> Response:
    page = await service.list_invites(session, limit=PAGE, cursor=None, now=now)
    return render(request, INVITES, status=status, invites=page, **context)
