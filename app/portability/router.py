"""HTTP for a user's data: the export document, its import, and the CSV import of interviews."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from app.deps import CurrentUser, Now, SessionDep
from app.errors import PROBLEM_TYPE, AppError, Invalid, Problem, problems
from app.idempotency import IdempotencyDep
from app.portability import csvfile, service
from app.portability.schemas import (
    FORMAT,
    VERSION,
    CsvImported,
    CsvPreview,
    ExportDocument,
    ImportResult,
)
from app.web.htmx import HtmxDep, respond
from app.web.responses import json_response


class UnsupportedMediaType(AppError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


def _problem(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": Problem,
            "description": description,
            "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    }


# 413 (a body over its limit) is documented for every body by app/main.py.
UPLOAD_ERRORS = {
    **problems(403, 422),
    **_problem(415, "Send the type the request body documents."),
}

router = APIRouter(prefix="/api/v1", tags=["data"], responses=problems(401, 500))


async def _payload(request: Request, *, types: tuple[str, ...]) -> bytes:
    """The bytes sent: the body itself, or the `file` field of a multipart form. Their size
    is capped before they are read, by the route's limit in app/body_limit.py."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            return await upload.read()
        if isinstance(upload, str):
            return upload.encode()
        raise Invalid(["body", "file"], "choose a file to import")
    if media not in types:
        raise UnsupportedMediaType(f"Send {' or '.join(types)}, or multipart/form-data.")
    return await request.body()


def _document(payload: bytes) -> ExportDocument:
    try:
        return ExportDocument.model_validate_json(payload)
    except ValidationError as error:
        errors = error.errors()
        version = [e for e in errors if tuple(e["loc"]) == ("version",)]
        if version:
            sent = version[0].get("input")
            raise Invalid(
                ["body", "version"],
                f"unsupported version {json.dumps(sent)}; this instance reads version {VERSION}",
            ) from None
        raise RequestValidationError(
            [
                {**e, "loc": ("body", *e["loc"]) if e["type"] != "json_invalid" else ()}
                for e in errors
            ]
        ) from None


EXAMPLE_DOCUMENT = {
    "format": FORMAT,
    "version": VERSION,
    "exported_at": "2026-12-20T08:00:00Z",
    "interviews": [
        {
            "id": "0b0f5d8e-3f6c-4c52-9a55-0e9a0d7f1a01",
            "company": "Acme Corp",
            "role": "Backend Engineer",
            "starts_at": "2026-12-01T14:00:00Z",
            "outcome": "pending",
            "created_at": "2026-11-28T10:00:00Z",
            "updated_at": "2026-11-28T10:00:00Z",
            "people": [
                {
                    "id": "5c1b8f0a-7d7e-4c1e-8d0a-2b1f3c4d5e01",
                    "name": "Ann Lee",
                    "email": "ann@example.com",
                    "role": "interviewer",
                }
            ],
            "followups": [
                {
                    "id": "9d2c7b1e-1a2b-4c3d-8e9f-0a1b2c3d4e01",
                    "kind": "thank_you",
                    "plan_key": "thank_you:5c1b8f0a-7d7e-4c1e-8d0a-2b1f3c4d5e01",
                    "person_id": "5c1b8f0a-7d7e-4c1e-8d0a-2b1f3c4d5e01",
                    "recipient_name": "Ann Lee",
                    "recipient_email": "ann@example.com",
                    "not_before": "2026-12-01T15:00:00Z",
                    "due_at": "2026-12-03T15:00:00Z",
                    "status": "sent",
                    "sent_at": "2026-12-01T18:30:00Z",
                    "subject": "Thank you, Ann",
                    "body": "Hi Ann, thank you for your time today.",
                    "created_at": "2026-11-28T10:00:00Z",
                    "updated_at": "2026-12-01T18:30:00Z",
                }
            ],
        }
    ],
}

UPLOAD_SCHEMA = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}},
    "required": ["file"],
}


@router.get(
    "/export",
    operation_id="export_data",
    response_model=ExportDocument,
    summary="Download all your data",
    description="Every interview (by `starts_at`, then `id`) with its people and follow-ups "
    "— statuses, drafts, and the flags that keep the schedule behaving the same (`plan_key`, "
    "`snoozed`, `draft_edited`, `cancelled_by_outcome`) — and your profile: display name, "
    "time zone, policy, templates, notifications, board sharing. Never your email, password, "
    "tokens or webhooks. Answered as an attachment, `followup-export-<date>.json`; "
    "`POST /api/v1/import` reads it back.",
)
async def export_data(
    request: Request, session: SessionDep, user: CurrentUser, now: Now, htmx: HtmxDep
) -> Response:
    document = await service.export_document(session, user=user, now=now)
    if htmx.html:
        return respond(request, htmx, document)
    filename = f"followup-export-{now.date().isoformat()}.json"
    return json_response(
        document,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/import",
    operation_id="import_data",
    status_code=201,
    response_model=ImportResult,
    responses=UPLOAD_ERRORS,
    summary="Load an export document into your account",
    description="Takes the document `GET /api/v1/export` writes (as JSON, or as the `file` "
    "field of a multipart form), at most 10 MB. The whole document is checked first — an "
    "unknown `version` is a 422, and every problem is listed with its place, e.g. "
    "`body.interviews.3.company` — and then written in one transaction: a failure writes "
    "nothing. The interviews are always **added** as new ones with new ids (into an account "
    "that has interviews, beside them: `added_to_existing` says so); people, follow-ups, "
    "statuses, drafts and times are restored exactly as stored, nothing is re-planned and no "
    "webhook fires. The profile is applied when `profile=true`, or by default when the "
    "account has no interviews yet. Into an empty account, exporting again gives back the "
    "same document but for ids and `exported_at`.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ExportDocument"},
                    "example": EXAMPLE_DOCUMENT,
                },
                "multipart/form-data": {"schema": UPLOAD_SCHEMA},
            },
        }
    },
)
async def import_data(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    idempotency: IdempotencyDep,
    htmx: HtmxDep,
    profile: Annotated[
        bool | None,
        Query(
            description="Apply the document's profile (true) or keep yours (false); by "
            "default it is applied only to an account without interviews."
        ),
    ] = None,
) -> Response:
    if (replay := await idempotency.replay()) is not None:
        return replay
    document = _document(await _payload(request, types=("application/json",)))
    result = await service.import_document(
        session, user=user, document=document, apply_profile=profile, now=now
    )
    response = await idempotency.remember(json_response(result, status=201), now)
    if htmx.html:
        return respond(request, htmx, result, "settings/_data_imported.html", status=201)
    return response


def _csv_text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid(
            ["body"], "the file must be UTF-8 text (in a spreadsheet: save as “CSV UTF-8”)"
        ) from None


@router.post(
    "/import/csv",
    operation_id="import_csv",
    status_code=201,
    response_model=CsvImported,
    responses={
        **UPLOAD_ERRORS,
        200: {"model": CsvPreview, "description": "With `dry_run=true`: what would be created."},
    },
    summary="Import interviews from a CSV file",
    description="One interview per row, comma-separated, UTF-8 (a byte-order mark is fine), "
    "at most 1,000 rows and 2 MB, as `text/csv` or the `file` field of a multipart form. "
    "The first line names the columns, in any order and any case: `company`, `role`, `date` "
    "(YYYY-MM-DD), `time` (HH:MM, 24-hour) are required; `timezone` (IANA; empty: yours), "
    "`people` (`Jane Doe <jane@example.com> (hiring_manager); Sam Lee (interviewer)`), "
    "`stage`, `duration_minutes`, `location` and `notes` are optional. With `dry_run=true` "
    "the answer (200) previews each row — its line, what was read, and its errors by column — "
    "and nothing is written. Otherwise a row with errors makes it a 422 listing every row's "
    "errors (`loc` is `body`, the line, the column) and nothing is created; else every "
    "interview is created with its follow-ups planned, as `POST /api/v1/interviews` does (201).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": csvfile.SAMPLE},
                "multipart/form-data": {"schema": UPLOAD_SCHEMA},
            },
        }
    },
)
async def import_csv(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: Now,
    idempotency: IdempotencyDep,
    htmx: HtmxDep,
    dry_run: Annotated[
        bool, Query(description="Only preview the rows and their errors; write nothing.")
    ] = False,
) -> Response:
    text = _csv_text(await _payload(request, types=("text/csv", "text/plain")))
    if dry_run:
        preview = service.preview_csv(user=user, text=text)
        return respond(request, htmx, preview, "settings/_csv_preview.html")
    if (replay := await idempotency.replay()) is not None:
        return replay
    result = await service.import_csv(session, user=user, text=text, now=now)
    response = await idempotency.remember(json_response(result, status=201), now)
    if htmx.html:
        return respond(request, htmx, result, "settings/_csv_imported.html", status=201)
    return response
