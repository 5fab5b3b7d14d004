"""Filling the interview form as a person would: by the labels' words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from app import clock


@dataclass(frozen=True)
class Person:
    name: str
    email: str = ""
    title: str = ""
    contact_type: str = "Interviewer"


@dataclass
class Interview:
    company: str = "Acme Corp"
    role: str = "Backend Engineer"
    hours_ago: float = 3
    duration: str = "60"
    stage: str = "Onsite"
    location: str = "Berlin office"
    highlight: str = "the event-sourcing migration"
    excitement: str = "owning the billing platform"
    notes: str = "Ask about on-call."
    people: list[Person] = field(default_factory=list)


def local_input_value(page: Page, hours_ago: float) -> str:
    """`now - hours_ago` as a datetime-local value in the account's zone (the input says
    which in `data-tz`)."""
    zone = page.get_by_label("Starts at", exact=True).get_attribute("data-tz") or "UTC"
    moment = clock.now() - timedelta(hours=hours_ago)
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def fill_interview_form(page: Page, interview: Interview) -> None:
    """Fill /interviews/new (already open) without saving."""
    page.get_by_label("Company", exact=True).fill(interview.company)
    page.get_by_label("Role", exact=True).fill(interview.role)
    page.get_by_label("Starts at", exact=True).fill(local_input_value(page, interview.hours_ago))
    page.get_by_label("Duration", exact=True).fill(interview.duration)
    page.get_by_label("Stage", exact=True).fill(interview.stage)
    page.get_by_label("Location", exact=True).fill(interview.location)
    page.get_by_label("Highlight", exact=True).fill(interview.highlight)
    page.get_by_label("Excitement", exact=True).fill(interview.excitement)
    page.get_by_label("Notes", exact=True).fill(interview.notes)
    rows = page.locator("[data-row]")
    for index, person in enumerate(interview.people):
        if rows.count() <= index:
            page.get_by_role("button", name="Add person").click()
            expect(rows).to_have_count(index + 1)
        row = rows.nth(index)
        row.get_by_label("Name", exact=True).fill(person.name)
        row.get_by_label("Email", exact=True).fill(person.email)
        row.get_by_label("Title", exact=True).fill(person.title)
        row.get_by_label("Contact type", exact=True).select_option(label=person.contact_type)


def add_interview(page: Page, interview: Interview) -> str:
    """Add an interview through the form; returns its id (from the page it lands on)."""
    page.goto("/interviews/new")
    fill_interview_form(page, interview)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/interviews/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[-1]
