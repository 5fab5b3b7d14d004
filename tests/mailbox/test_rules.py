"""The watch's rules on headers alone (app/mailbox/rules.py): which messages are replies,
which are follow-ups the user sent, and which are automatic and change nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from app.mailbox import rules
from tests.helpers import NOW

END = NOW - timedelta(days=1)  # the interview ended yesterday
ANN, BOB, CAROL = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
INTERVIEW = uuid.uuid4()
OWN = frozenset({"jane@example.com"})


@dataclass(frozen=True)
class Summary:
    """Shaped like app/mailbox/imap.py HeaderSummary."""

    uid: int = 1
    message_id: str | None = "<m1@mail.example.com>"
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str | None = "Re: Backend Engineer interview"
    from_: tuple[tuple[str, str], ...] = (("Ann Lee", "ann@example.com"),)
    to: tuple[tuple[str, str], ...] = (("Jane Doe", "jane@example.com"),)
    cc: tuple[tuple[str, str], ...] = ()
    date: datetime | None = NOW
    internal_date: datetime | None = NOW
    auto_submitted: str | None = None
    x_autoreply: str | None = None
    precedence: str | None = None
    content_type: str | None = "text/plain"
    return_path: str | None = "<ann@example.com>"


def interview(
    end: datetime = END, interview_id: uuid.UUID = INTERVIEW, people: tuple[str, ...] = ("ann",)
) -> rules.InterviewFact:
    ids = {"ann": ANN, "bob": BOB, "carol": CAROL}
    return rules.InterviewFact(
        interview_id,
        end,
        tuple(rules.PersonFact(ids[p], f"{p}@example.com") for p in people),
    )


def followup(
    kind: str = "thank_you",
    person: uuid.UUID | None = ANN,
    *,
    status: str = "scheduled",
    not_before: datetime = END,
    message_id: str | None = None,
    interview_id: uuid.UUID = INTERVIEW,
) -> rules.FollowupFact:
    return rules.FollowupFact(
        uuid.uuid4(), interview_id, kind, person, status, not_before, message_id
    )


def reply(summary: Summary, **facts: object) -> rules.Reply | None:
    return rules.reply_of(
        summary,
        own_addresses=OWN,
        interviews=facts.get("interviews", [interview()]),  # type: ignore[arg-type]
        followups=facts.get("followups", []),  # type: ignore[arg-type]
    )


def test_a_message_from_a_person_after_the_end_is_a_reply() -> None:
    found = reply(Summary())
    assert found == rules.Reply(INTERVIEW, ANN, NOW, "Re: Backend Engineer interview")


def test_addresses_match_without_regard_to_case() -> None:
    assert reply(Summary(from_=(("Ann", "ANN@Example.COM"),))) is not None


def test_a_message_dated_before_the_end_is_not_a_reply() -> None:
    assert reply(Summary(date=END - timedelta(minutes=1))) is None


def test_without_a_date_the_servers_arrival_time_counts() -> None:
    assert reply(Summary(date=None, internal_date=END + timedelta(hours=1))) is not None
    assert reply(Summary(date=None, internal_date=END - timedelta(hours=1))) is None


def test_a_stranger_is_not_a_reply() -> None:
    assert reply(Summary(from_=(("Eve", "eve@example.com"),))) is None


@pytest.mark.parametrize(
    "automatic",
    [
        {"auto_submitted": "auto-replied"},
        {"auto_submitted": "auto-generated; type=vacation"},
        {"x_autoreply": "yes"},
        {"precedence": "bulk"},
        {"precedence": "junk"},
        {"precedence": "list"},
        {"precedence": "auto_reply"},
        {"content_type": "multipart/report; report-type=delivery-status"},
        {"from_": (("Mail Delivery System", "MAILER-DAEMON@mx.example.com"),)},
        {"from_": (("", "postmaster@example.com"),)},
        {"return_path": "<>"},
        {"subject": "Automatic reply: Backend Engineer interview"},
        {"subject": "Out of Office: back on Monday"},
        {"subject": "Autoreply: thanks"},
        {"subject": "Undeliverable: Thank you"},
        {"subject": "Delivery Status Notification (Failure)"},
    ],
)
def test_automatic_replies_change_nothing(automatic: dict[str, object]) -> None:
    summary = replace(Summary(), **automatic)  # type: ignore[arg-type]
    assert rules.is_automatic(summary)
    assert reply(summary) is None


def test_auto_submitted_no_is_a_person_writing() -> None:
    summary = Summary(auto_submitted="no")
    assert not rules.is_automatic(summary)
    assert reply(summary) is not None


def test_the_users_own_message_is_never_a_reply() -> None:
    own = Summary(from_=(("Jane", "Jane@Example.com"),), to=(("Ann", "ann@example.com"),))
    sent = followup(message_id="t1@jane.example")
    assert reply(own, followups=[sent]) is None
    forwarded = replace(own, in_reply_to="<t1@jane.example>", subject="Fwd: Interview")
    assert reply(forwarded, followups=[sent]) is None


def test_an_answer_to_a_known_message_is_a_reply_from_whom_it_went_to() -> None:
    sent = followup(message_id="t1@jane.example")
    cc_reply = Summary(
        from_=(("Dana", "dana@acme.example"),),
        in_reply_to="<t1@jane.example>",
        references=("<t1@jane.example>",),
    )
    found = reply(cc_reply, followups=[sent])
    assert found is not None and (found.interview_id, found.person_id) == (INTERVIEW, ANN)


def test_an_answer_found_through_references_alone_counts() -> None:
    sent = followup(message_id="t1@jane.example")
    summary = Summary(
        from_=(("Dana", "dana@acme.example"),),
        references=("<other@x> <t1@jane.example>",),
    )
    assert reply(summary, followups=[sent]) is not None


def test_with_a_person_on_several_interviews_the_latest_ended_gets_the_reply() -> None:
    older, newer, future = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    facts = [
        interview(END - timedelta(days=20), older),
        interview(END, newer),
        interview(NOW + timedelta(days=3), future),
    ]
    found = reply(Summary(), interviews=facts)
    assert found is not None and found.interview_id == newer


def sent_ones(summary: Summary, followups: list[rules.FollowupFact]) -> list[rules.FollowupFact]:
    return rules.followups_sent(summary, interviews=[interview()], followups=followups)


OUT = Summary(from_=(("Jane", "jane@example.com"),), to=(("Ann Lee", "ann@example.com"),))


def test_a_sent_message_to_a_person_is_their_thank_you() -> None:
    thank_you, check_in = followup(), followup("check_in", not_before=END)
    assert sent_ones(OUT, [check_in, thank_you]) == [thank_you]


def test_a_person_in_cc_counts_too() -> None:
    thank_you = followup()
    to_other = replace(OUT, to=(("Eve", "eve@example.com"),), cc=(("Ann", "ann@example.com"),))
    assert sent_ones(to_other, [thank_you]) == [thank_you]


def test_without_a_thank_you_the_check_in_once_its_time_has_come() -> None:
    sent = followup(status="sent")
    due = followup("check_in", not_before=NOW - timedelta(hours=1))
    assert sent_ones(OUT, [sent, due]) == [due]
    early = followup("check_in", not_before=NOW + timedelta(days=3))
    assert sent_ones(OUT, [sent, early]) == []


def test_a_sent_message_before_the_end_is_nothing() -> None:
    assert sent_ones(replace(OUT, date=END - timedelta(hours=2)), [followup()]) == []


def test_the_apps_own_sent_copy_is_nothing() -> None:
    already = followup(status="sent", message_id="app-1@followup.example")
    waiting = followup("check_in", not_before=END)
    copy = replace(OUT, message_id="<app-1@followup.example>")
    assert sent_ones(copy, [already, waiting]) == []


def test_message_keys_depend_on_the_folder_and_the_message_id_only() -> None:
    one = rules.message_key("inbox", Summary(uid=1, message_id="<a@b>"))
    assert one == rules.message_key("inbox", Summary(uid=99, message_id=" <a@b> "))
    assert one != rules.message_key("sent", Summary(message_id="<a@b>"))
    assert len(one) == 64 and int(one, 16) >= 0


def test_a_message_without_message_id_is_known_by_sender_date_and_subject() -> None:
    bare = Summary(message_id=None)
    assert rules.message_key("inbox", bare) == rules.message_key("inbox", replace(bare, uid=7))
    later = replace(bare, date=NOW + timedelta(seconds=1))
    assert rules.message_key("inbox", bare) != rules.message_key("inbox", later)


def test_naive_dates_are_read_as_utc() -> None:
    naive = Summary(date=datetime(2026, 11, 25, 12, 0))
    assert rules.message_time(naive) == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
