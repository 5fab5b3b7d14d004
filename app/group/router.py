"""HTTP for the group: the board of momentum, shared templates, the group's settings."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.deps import CurrentUser, Cursor, Limit, Now, SessionDep, get_settings, object_id
from app.errors import problems
from app.group import service
from app.group.pages import chart_of, templates_context, templates_section
from app.group.schemas import (
    GroupBoard,
    GroupSettings,
    GroupSettingsUpdate,
    GroupTemplateCreate,
    GroupTemplateRead,
    TemplatePreview,
)
from app.idempotency import IdempotencyDep
from app.me import service as profile
from app.me.schemas import UserRead
from app.web.htmx import HtmxDep, respond
from app.web.responses import created, json_response
from app.wire import Page

router = APIRouter(prefix="/api/v1/group", tags=["group"], responses=problems(500))

BOARD = "group/_board.html"
TEMPLATES = "group/_templates.html"

Weeks = Annotated[
    int,
    Query(
        ge=1,
        le=service.MAX_WEEKS,
        description=f"How many weeks, the current one included (1-{service.MAX_WEEKS}).",
    ),
]


def _template_id(
    template_id: Annotated[str, Path(description="The shared template's id (a UUID).")],
) -> uuid.UUID:
    return object_id(template_id)


TemplateId = Annotated[uuid.UUID, Depends(_template_id)]


@router.get(
    "/board",
    operation_id="get_group_board",
    response_model=GroupBoard,
    responses=problems(401, 422),
    summary="The group's momentum, as each member chose to share it",
    description="Week by week (Monday 00:00 in your time zone; the last week is the current "
    "one, counted up to now): for each member who shares, interviews held, thank-you notes "
    "and check-ins marked sent and how many by their due time, and their streak of on-time "
    "follow-ups; group totals over the members shown. Members share nothing by default "
    "(`board_sharing` in `PATCH /api/v1/me`): `counts` shows their display name and counts, "
    "`companies` adds the companies of each week's interviews. Members who share nothing "
    "appear only in `members_not_sharing`. Nothing else of a member — email, notes, "
    "drafts, people — is ever shown, to admins neither.",
)
async def get_board(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
    weeks: Weeks = service.DEFAULT_WEEKS,
) -> Response:
    result = await service.board(session, viewer=user, weeks=weeks, now=now)
    return respond(request, htmx, result, BOARD, board=result, chart=chart_of(result))


@router.get(
    "/templates",
    operation_id="list_group_templates",
    response_model=Page[GroupTemplateRead],
    responses=problems(401, 422),
    summary="Templates shared with the group, newest first",
    description="Every template the group's members shared, newest first, paged with "
    "`limit` and `cursor` like every list. Anyone in the group may read and adopt them.",
)
async def list_templates(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    htmx: HtmxDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    page = await service.list_templates(session, viewer=user, limit=limit, cursor=cursor)
    return respond(request, htmx, page, TEMPLATES, **(await templates_context(session, user)))


@router.post(
    "/templates",
    operation_id="publish_group_template",
    status_code=201,
    response_model=GroupTemplateRead,
    responses={
        **created("Shared; `Location` is its preview."),
        **problems(401, 403, 422),
    },
    summary="Share a thank-you or check-in template with the group",
    description="Admins may always publish; other members only when the admin allows it "
    "(`members_may_publish` in `/api/v1/group/settings`), else 403. The subject and body "
    "use the placeholders of your own templates; an unknown one is a 422 naming the field.",
)
async def publish_template(
    request: Request,
    data: GroupTemplateCreate,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
    idempotency: IdempotencyDep,
) -> Response:
    if (replay := await idempotency.replay()) is not None:
        return replay
    read = await service.publish(session, viewer=user, data=data, now=now)
    headers = {"Location": f"/api/v1/group/templates/{read.id}/preview"}
    response = await idempotency.remember(json_response(read, status=201, headers=headers), now)
    if not htmx.html:
        return response
    return await templates_section(request, session, user, status=201, published=read)


@router.delete(
    "/templates/{template_id}",
    operation_id="delete_group_template",
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404),
    summary="Withdraw a shared template (its author or an admin)",
    description="Copies members already adopted stay theirs.",
)
async def delete_template(
    request: Request,
    template_id: TemplateId,
    session: SessionDep,
    user: CurrentUser,
    htmx: HtmxDep,
) -> Response:
    await service.delete_template(session, viewer=user, template_id=template_id)
    if not htmx.html:
        return Response(status_code=204)
    return await templates_section(request, session, user, deleted=True)


@router.get(
    "/templates/{template_id}/preview",
    operation_id="preview_group_template",
    response_model=TemplatePreview,
    responses=problems(401, 404),
    summary="A shared template rendered for a made-up interview",
    description="Sample values (Ann Lee at Acme Corp, today), with you as the sender; "
    "saves nothing.",
)
async def preview_template(
    request: Request,
    template_id: TemplateId,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    found = await service.preview(session, viewer=user, template_id=template_id, now=now)
    return respond(
        request,
        htmx,
        found.read,
        "group/_preview.html",
        preview=found.read,
        shared=found.template,
        sample=found.sample,
    )


@router.post(
    "/templates/{template_id}/adopt",
    operation_id="adopt_group_template",
    response_model=UserRead,
    responses=problems(401, 403, 404),
    summary="Make a shared template your own",
    description="Copies its subject and body into your templates of its kind (as "
    "`PATCH /api/v1/me` would), so every draft you have not edited is rewritten from it. "
    "Answers with your profile.",
)
async def adopt_template(
    request: Request,
    template_id: TemplateId,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    user, template = await service.adopt(session, viewer=user, template_id=template_id, now=now)
    read = profile.to_read(user, get_settings(request))
    return respond(
        request,
        htmx,
        read,
        "group/_adopted.html",
        headers={"ETag": profile.etag(read)},
        shared=template,
    )


@router.get(
    "/settings",
    operation_id="get_group_settings",
    response_model=GroupSettings,
    responses=problems(401),
    summary="Who may publish templates to the group",
    description="`members_may_publish`: whether members other than the admins may share "
    "templates with the group. Everyone may read it; only admins change it.",
)
async def get_group_settings(
    request: Request, session: SessionDep, user: CurrentUser, htmx: HtmxDep
) -> Response:
    return respond(request, htmx, await service.settings(session, viewer=user))


@router.patch(
    "/settings",
    operation_id="update_group_settings",
    response_model=GroupSettings,
    responses=problems(401, 403, 409, 422),
    summary="Allow members to publish templates (admins only)",
    description="Anyone else gets a 403 and nothing changes.",
)
async def update_group_settings(
    request: Request,
    data: GroupSettingsUpdate,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    htmx: HtmxDep,
) -> Response:
    result = await service.update_settings(
        session, viewer=user, members_may_publish=data.members_may_publish, now=now
    )
    if not htmx.html:
        return json_response(result)
    return await templates_section(request, session, user, saved=True)
