"""The Settings page: profile, time zone, policy, templates, API tokens, webhooks and the
mailbox, as one shell; each domain's section from its own context builder."""

from __future__ import annotations

from zoneinfo import available_timezones

from fastapi import APIRouter, Request, Response

from app.accounts import service as accounts
from app.deps import CurrentUser, Now, SessionDep, get_settings
from app.mailbox import views as mailbox
from app.me import service as profile
from app.me.schemas import TemplatesPreview
from app.me.views import settings_context
from app.reminders import service as reminders
from app.web.templating import render
from app.webhooks import views as webhooks
from app.wire import city_of

router = APIRouter(include_in_schema=False)

# (zone, the city it is named after): the picker finds "New York" as well as "America/New_York".
TIMEZONES: tuple[tuple[str, str], ...] = tuple(
    (zone, city_of(zone)) for zone in sorted(available_timezones())
)


@router.get("/settings")
async def settings_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    tokens = accounts.token_reads(await accounts.list_tokens(session, user=user))
    settings = get_settings(request)
    return render(
        request,
        "settings/page.html",
        timezones=TIMEZONES,
        tokens=tokens,
        failed=await reminders.failed_deliveries(session, user=user),
        email_on=bool(settings.smtp_host),
        **(await webhooks.webhooks_context(session, user)),
        **(await mailbox.mailbox_context(session, user)),
        **settings_context(profile.to_read(user, settings)),
    )


@router.post("/settings/templates/preview")
async def preview_templates(
    request: Request, data: TemplatesPreview, user: CurrentUser, now: Now
) -> Response:
    """Sample drafts from the templates as typed, saving nothing (never Jinja on user text)."""
    sample = profile.preview_drafts(user=user, templates=data.templates, now=now)
    return render(request, "settings/_preview.html", sample=sample)
