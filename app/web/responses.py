"""Building JSON responses straight from the wire models (one serialisation, no re-validation)."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_response(
    model: BaseModel, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        model.model_dump_json(),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )
