"""Building JSON responses straight from the wire models (one serialisation, no re-validation),
and how a route documents the 201 it answers with `Location`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Response
from pydantic import BaseModel


def created(
    description: str = "Created; `Location` is its URL.", *, model: type[BaseModel] | None = None
) -> dict[int | str, Any]:
    """`responses=` for a route whose 201 carries `Location` (the OpenAPI document shows it);
    `model` when the route's `response_model` is that of another status."""
    return {
        201: {
            "description": description,
            **({"model": model} if model is not None else {}),
            "headers": {
                "Location": {
                    "description": "The URL of what was created.",
                    "schema": {"type": "string"},
                }
            },
        }
    }


def json_response(
    model: BaseModel | Sequence[BaseModel],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A model's JSON, or a list's (`[...]` of each model's JSON, as FastAPI would write it)."""
    if isinstance(model, BaseModel):
        body = model.model_dump_json()
    else:
        body = "[" + ",".join(item.model_dump_json() for item in model) + "]"
    return Response(
        body,
        status_code=status,
        headers=headers,
        media_type="application/json",
    )
