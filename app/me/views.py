"""What the Settings page's sections share: the fragment each PATCH /api/v1/me form swaps, and
the context every section may show (used by the /me and /tokens routes and the page)."""

from __future__ import annotations

from typing import Any

from app.followups import drafts
from app.me import service as profile
from app.me.schemas import UserRead

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
