"""What the interview's detail block shows, for the interview page, the interview routes'
htmx answers and a follow-up's page alike: the words for outcomes and contacts, and the
line saying what an outcome did to the follow-ups."""

from __future__ import annotations

from typing import Any

from app.followups.schedule import Kind, Role, Status
from app.interviews.schemas import InterviewRead, Outcome

OUTCOME_WORDS = {
    Outcome.PENDING: "Pending",
    Outcome.NEXT_ROUND: "Next round",
    Outcome.OFFER: "Offer",
    Outcome.REJECTED: "Rejected",
    Outcome.WITHDRAWN: "Withdrawn",
    Outcome.NO_RESPONSE: "No response",
    Outcome.CANCELLED: "Cancelled",
}
CONTACT_TYPES = {
    Role.INTERVIEWER: "Interviewer",
    Role.RECRUITER: "Recruiter",
    Role.HIRING_MANAGER: "Hiring manager",
    Role.HR: "HR",
    Role.OTHER: "Other",
}


def _cancelled(count: int, one: str, many: str) -> str:
    return f"{one} is cancelled" if count == 1 else f"{count} {many} are cancelled"


def outcome_note(read: InterviewRead) -> str:
    """What the interview's outcome did to its follow-ups, in one line for the page."""
    label = OUTCOME_WORDS[read.outcome]
    count: dict[tuple[Kind, Status], int] = {}
    for f in read.followups:
        count[f.kind, f.status] = count.get((f.kind, f.status), 0) + 1
    scheduled = sum(n for (_kind, status), n in count.items() if status is Status.SCHEDULED)
    if read.outcome is Outcome.PENDING:
        if scheduled == 1:
            return f"{label}: one follow-up is scheduled."
        return f"{label}: {scheduled or 'no'} follow-ups are scheduled."
    parts = []
    if check_ins := count.get((Kind.CHECK_IN, Status.CANCELLED)):
        parts.append(_cancelled(check_ins, "the check-in", "check-ins"))
    if thank_yous := count.get((Kind.THANK_YOU, Status.CANCELLED)):
        parts.append(_cancelled(thank_yous, "the thank-you note", "thank-you notes"))
    if count.get((Kind.THANK_YOU, Status.SCHEDULED)):
        parts.append("thank-you notes stay")
    if not parts:
        parts.append("the schedule is unchanged" if scheduled else "nothing was left to send")
    return f"{label}: {'; '.join(parts)}."


def detail(read: InterviewRead, *, can_send: bool = False) -> dict[str, Any]:
    """What the detail fragment needs besides the interview itself; `can_send`: the user's
    mailbox can send (the follow-ups offer *Send*)."""
    return {"interview": read, "can_send": can_send, **words()}


def words() -> dict[str, Any]:
    return {"outcome_words": OUTCOME_WORDS, "contact_types": CONTACT_TYPES}
