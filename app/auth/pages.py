"""The Settings page: profile, time zone, policy, templates, API tokens, webhooks and the
mailbox, as one shell."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Query, Request, Response

from app.auth import profile
from app.auth import service as auth
from app.auth.schemas import TemplatesPreview, UserRead
from app.deps import CurrentUser, Now, SessionDep, SettingsDep, get_settings
from app.followups import drafts
from app.mailbox.pages import mailbox_context
from app.reminders import service as reminders
from app.web.templating import render
from app.webhooks.router import webhooks_context
from app.wire import city_of

router = APIRouter(include_in_schema=False)

# (zone, the city it is named after): the picker finds "New York" as well as "America/New_York".
TIMEZONES: tuple[tuple[str, str], ...] = tuple(
    (zone, city_of(zone)) for zone in sorted(available_timezones())
)

# The section each PATCH /api/v1/me form replaces, by the id htmx sends as HX-Target.
SECTIONS = {
    "settings-profile": "settings/_profile.html",
    "settings-policy": "settings/_policy.html",
    "settings-templates": "settings/_templates.html",
    "settings-notifications": "settings/_notifications.html",
    "settings-sharing": "settings/_sharing.html",
}
# Answered to an htmx PATCH that targets none of the sections: only "Saved.".
SAVED_ONLY = "settings/_saved.html"
TOKENS = "settings/_tokens.html"
ACCOUNT = "settings/_account.html"


def settings_context(me: UserRead) -> dict[str, Any]:
    """What every Settings fragment may show, from the same UserRead the JSON carries."""
    return {
        "me": me,
        "defaults": profile.default_templates(),
        "placeholders": drafts.PLACEHOLDERS,
    }


@router.get("/settings")
async def settings_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    tokens = profile.token_reads(await auth.list_tokens(session, user=user))
    settings = get_settings(request)
    return render(
        request,
        "settings/page.html",
        timezones=TIMEZONES,
        tokens=tokens,
        failed=await reminders.failed_deliveries(session, user=user),
        email_on=bool(settings.smtp_host),
        **(await webhooks_context(session, user)),
        **(await mailbox_context(session, user)),
        **settings_context(profile.to_read(user, settings)),
    )


@router.post("/settings/templates/preview")
async def preview_templates(
    request: Request, data: TemplatesPreview, user: CurrentUser, now: Now
) -> Response:
    """Sample drafts from the templates as typed, saving nothing (never Jinja on user text)."""
    sample = profile.preview_drafts(user=user, templates=data.templates, now=now)
    return render(request, "settings/_preview.html", sample=sample)


@router.get("/forgot-password")
async def forgot_password_page(request: Request, settings: SettingsDep) -> Response:
    """Ask for a reset link by email; without outgoing mail, the admin hands one out."""
    return render(request, "auth/forgot_password.html", email_on=bool(settings.smtp_host))


@router.get("/reset-password")
async def reset_password_page(
    request: Request, token: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """Where a password-reset link (emailed, or handed over by the admin) leads."""
    return render(request, "auth/reset_password.html", token=token)
