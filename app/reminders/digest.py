"""The daily digest, composed from data: what is overdue, due today and coming up tomorrow
in the user's own time zone. Pure: no database, no clock."""

from __future__ import annotations

import html
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.followups.schedule import local_send_time


class Section(StrEnum):
    OVERDUE = "Overdue"
    TODAY = "Due today"
    TOMORROW = "Coming up tomorrow"


@dataclass(frozen=True)
class DigestSource:
    """A scheduled follow-up with what the digest says about it."""

    followup_id: uuid.UUID
    kind: str
    recipient_name: str | None
    not_before: datetime
    due_at: datetime
    company: str
    role: str


@dataclass(frozen=True)
class DigestItem:
    section: Section
    followup_id: uuid.UUID
    label: str
    recipient: str
    interview: str
    link: str


@dataclass(frozen=True)
class Digest:
    local_date: date
    items: list[DigestItem]
    subject: str
    text: str
    html: str


_KIND_LABELS = {"thank_you": "Thank-you note", "check_in": "Check-in", "custom": "Follow-up"}


def local_date(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def window_end(now: datetime, tz: ZoneInfo) -> datetime:
    """The first instant after local tomorrow: nothing starting later belongs in a digest."""
    return local_send_time(local_date(now, tz) + timedelta(days=2), 0, tz)


def is_digest_time(now: datetime, tz: ZoneInfo, send_hour: int) -> bool:
    """Whether the user's send hour has come today, in their own time zone."""
    return now >= local_send_time(local_date(now, tz), send_hour, tz)


def section_of(source: DigestSource, now: datetime, tz: ZoneInfo) -> Section | None:
    today = local_date(now, tz)
    if now > source.due_at:
        return Section.OVERDUE
    starts = source.not_before.astimezone(tz).date()
    if starts <= today:
        return Section.TODAY
    if starts == today + timedelta(days=1):
        return Section.TOMORROW
    return None


def digest_items(
    sources: Sequence[DigestSource], now: datetime, tz: ZoneInfo, base_url: str
) -> list[DigestItem]:
    items = []
    for source in sources:
        section = section_of(source, now, tz)
        if section is None:
            continue
        items.append(
            DigestItem(
                section=section,
                followup_id=source.followup_id,
                label=_KIND_LABELS.get(source.kind, "Follow-up"),
                recipient=source.recipient_name or "(no recipient yet)",
                interview=f"{source.role} at {source.company}",
                link=f"{base_url}/followups/{source.followup_id}",
            )
        )
    order = list(Section)
    items.sort(key=lambda item: order.index(item.section))
    return items


def compose_digest(
    sources: Sequence[DigestSource],
    *,
    now: datetime,
    tz: ZoneInfo,
    base_url: str,
    display_name: str,
    mailbox_error: str | None = None,
) -> Digest | None:
    """The digest for the user's local day, or None when nothing is due and their mailbox
    is fine. `mailbox_error`: why the mailbox watch fails, when it does."""
    items = digest_items(sources, now, tz, base_url)
    if not items and mailbox_error is None:
        return None
    day = local_date(now, tz)
    counts = ", ".join(
        f"{sum(1 for i in items if i.section is s)} {s.value.lower()}"
        for s in Section
        if any(i.section is s for i in items)
    )
    if mailbox_error is not None:
        counts = f"{counts}, mailbox error" if counts else "your mailbox needs attention"
    subject = f"Followup: {counts} ({day.isoformat()})"
    text_lines = [f"Hello {display_name},", ""]
    html_parts = [f"<p>Hello {html.escape(display_name)},</p>"]
    if mailbox_error is not None:
        settings_link = f"{base_url}/settings"
        text_lines += [
            "Your mailbox cannot be read, so replies and sent follow-ups are not being noticed:",
            f"  {mailbox_error}",
            f"  Check it in Settings: {settings_link}",
            "",
        ]
        html_parts.append(
            "<p><strong>Your mailbox cannot be read</strong>, so replies and sent follow-ups "
            f"are not being noticed: {html.escape(mailbox_error)} "
            f'(<a href="{html.escape(settings_link)}">check it in Settings</a>)</p>'
        )
    for section in Section:
        chosen = [i for i in items if i.section is section]
        if not chosen:
            continue
        text_lines.append(f"{section.value}:")
        html_parts.append(f"<h2>{html.escape(section.value)}</h2><ul>")
        for item in chosen:
            text_lines.append(f"- {item.label} to {item.recipient} — {item.interview}")
            text_lines.append(f"  {item.link}")
            html_parts.append(
                f"<li>{html.escape(item.label)} to {html.escape(item.recipient)} — "
                f'{html.escape(item.interview)} (<a href="{html.escape(item.link)}">'
                "open the draft</a>)</li>"
            )
        text_lines.append("")
        html_parts.append("</ul>")
    text_lines.append("You get this email because the daily digest is on in your settings.")
    html_parts.append("<p>You get this email because the daily digest is on in your settings.</p>")
    return Digest(
        local_date=day,
        items=items,
        subject=subject,
        text="\n".join(text_lines) + "\n",
        html="".join(html_parts),
    )
