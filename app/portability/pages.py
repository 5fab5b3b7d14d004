"""Pages for a user's data: the sample CSV linked from Settings → Your data."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.portability.csvfile import SAMPLE

router = APIRouter(include_in_schema=False)


@router.get("/settings/sample.csv")
async def sample_csv() -> Response:
    return Response(
        SAMPLE.encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="followup-interviews-sample.csv"'},
    )
