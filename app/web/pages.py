"""Full-page shells. For now, the home page that tells a visitor where the API lives."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.templating import Jinja2Templates

from app.config import project_path

templates = Jinja2Templates(directory=project_path("templates"))

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    return templates.TemplateResponse(request, "home.html", {"csrf_token": None})
