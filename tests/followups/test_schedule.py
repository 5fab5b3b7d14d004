"""Specification of the pure scheduling rules: who is followed up, and when."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.followups.schedule import (
    CHECK_IN_KEY,
    SECOND_CHECK_IN_KEY,
    THANK_YOU_FALLBACK_KEY,
    DueState,
    InterviewFacts,
    Kind,
    PersonFacts,
    Planned,
    Policy,
    Role,
    Status,
    check_in_day,
    check_in_recipient,
    due_state,
    local_send_time,
    plan_followups,
    plan_second_check_in,
    thank_you_key,
)

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
AUCKLAND = ZoneInfo("Pacific/Auckland")
KOLKATA = ZoneInfo("Asia/Kolkata")
LONDON = ZoneInfo("Europe/London")
ZONE_UTC = ZoneInfo("UTC")

DEFAULT = Policy()


# --- factories -------------------------------------------------------------------------------


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def person(name: str, role: Role, email: str | None = "") -> PersonFacts:
    """A person keyed `p-<name>`, with `<name>@example.com` unless an email (or None) is given."""
    address = f"{name.lower()}@example.com" if email == "" else email
    return PersonFacts(key=f"p-{name.lower()}", name=name, email=address, role=role)


def interviewer(name: str) -> PersonFacts:
    return person(name, Role.INTERVIEWER)


def hiring_manager(name: str) -> PersonFacts:
    return person(name, Role.HIRING_MANAGER)


def recruiter(name: str) -> PersonFacts:
    return person(name, Role.RECRUITER)


def hr(name: str) -> PersonFacts:
    return person(name, Role.HR)


def other(name: str) -> PersonFacts:
    return person(name, Role.OTHER)


def interview(
    starts_at: datetime, minutes: int = 60, promised: date | None = None
) -> InterviewFacts:
    return InterviewFacts(
        starts_at=starts_at, duration_minutes=minutes, response_promised_by=promised
    )


# A Tuesday afternoon interview in UTC, ending 2025-03-04 15:00Z.
TUESDAY_INTERVIEW = interview(utc(2025, 3, 4, 14))


def thank_yous(plans: Sequence[Planned]) -> list[Planned]:
    return [plan for plan in plans if plan.kind == Kind.THANK_YOU]


def the_check_in(plans: Sequence[Planned]) -> Planned:
    (check_in,) = [plan for plan in plans if plan.kind == Kind.CHECK_IN]
    return check_in


def routing(plans: Sequence[Planned]) -> list[tuple[str, Kind, str | None]]:
    return [(plan.plan_key, plan.kind, plan.person_key) for plan in plans]


# --- keys and policy -------------------------------------------------------------------------


def test_plan_keys_name_the_follow_up_and_the_person() -> None:
    assert thank_you_key("p-ana") == "thank_you:p-ana"
    assert THANK_YOU_FALLBACK_KEY == "thank_you"
    assert CHECK_IN_KEY == "check_in"
    assert SECOND_CHECK_IN_KEY == "check_in:2"


def test_policy_defaults_follow_the_three_rules_of_following_up() -> None:
    assert Policy() == Policy(
        thank_you_within_hours=48,
        check_in_after_days=14,
        check_in_grace_days=1,
        send_hour=9,
        skip_weekends=True,
        second_check_in_after_days=None,
    )


def test_enums_serialize_to_the_wire_values() -> None:
    assert [role.value for role in Role] == [
        "interviewer",
        "recruiter",
        "hiring_manager",
        "hr",
        "other",
    ]
    assert [kind.value for kind in Kind] == ["thank_you", "check_in", "custom"]
    assert [status.value for status in Status] == ["scheduled", "sent", "skipped", "cancelled"]
    assert [state.value for state in DueState] == ["upcoming", "due", "overdue"]


# --- who gets what ---------------------------------------------------------------------------

TY = Kind.THANK_YOU
CI = Kind.CHECK_IN


@pytest.mark.parametrize(
    ("people", "expected"),
    [
        pytest.param(
            [interviewer("Ana")],
            [("thank_you:p-ana", TY, "p-ana"), ("check_in", CI, "p-ana")],
            id="lone-interviewer-is-thanked-and-checked-in-with",
        ),
        pytest.param(
            [interviewer("Ana"), hiring_manager("Hanna")],
            [("thank_you:p-ana", TY, "p-ana"), ("check_in", CI, "p-hanna")],
            id="hiring-manager-gets-check-in-over-interviewer",
        ),
        pytest.param(
            [recruiter("Rita"), hiring_manager("Hanna")],
            [("thank_you", TY, "p-hanna"), ("check_in", CI, "p-hanna")],
            id="hiring-manager-beats-recruiter-listed-before-them",
        ),
        pytest.param(
            [hr("Hedda"), recruiter("Rita")],
            [("thank_you", TY, "p-rita"), ("check_in", CI, "p-rita")],
            id="recruiter-beats-hr-listed-before-them",
        ),
        pytest.param(
            [interviewer("Ana"), hr("Hedda")],
            [("thank_you:p-ana", TY, "p-ana"), ("check_in", CI, "p-hedda")],
            id="hr-beats-interviewer-for-check-in",
        ),
        pytest.param(
            [
                other("Olga"),
                interviewer("Ana"),
                hr("Hedda"),
                recruiter("Rita"),
                hiring_manager("Hanna"),
            ],
            [("thank_you:p-ana", TY, "p-ana"), ("check_in", CI, "p-hanna")],
            id="hiring-manager-wins-among-every-role",
        ),
        pytest.param(
            [hiring_manager("Hanna"), hiring_manager("Hugo")],
            [("thank_you", TY, "p-hanna"), ("check_in", CI, "p-hanna")],
            id="first-listed-hiring-manager",
        ),
        pytest.param(
            [recruiter("Roy"), recruiter("Rita")],
            [("thank_you", TY, "p-roy"), ("check_in", CI, "p-roy")],
            id="first-listed-recruiter",
        ),
        pytest.param(
            [hr("Hedda")],
            [("thank_you", TY, "p-hedda"), ("check_in", CI, "p-hedda")],
            id="only-hr-is-thanked-and-checked-in-with",
        ),
        pytest.param(
            [recruiter("Rita")],
            [("thank_you", TY, "p-rita"), ("check_in", CI, "p-rita")],
            id="only-recruiter-is-thanked-and-checked-in-with",
        ),
        pytest.param(
            [interviewer("Ana"), interviewer("Ben"), interviewer("Chloe")],
            [
                ("thank_you:p-ana", TY, "p-ana"),
                ("thank_you:p-ben", TY, "p-ben"),
                ("thank_you:p-chloe", TY, "p-chloe"),
                ("check_in", CI, "p-ana"),
            ],
            id="each-interviewer-thanked-in-order-first-gets-check-in",
        ),
        pytest.param(
            [interviewer("Chloe"), recruiter("Rita"), interviewer("Ana"), other("Olga")],
            [
                ("thank_you:p-chloe", TY, "p-chloe"),
                ("thank_you:p-ana", TY, "p-ana"),
                ("check_in", CI, "p-rita"),
            ],
            id="interviewers-thanked-in-listed-order-between-other-roles",
        ),
        pytest.param(
            [interviewer("Ana"), other("Olga")],
            [("thank_you:p-ana", TY, "p-ana"), ("check_in", CI, "p-ana")],
            id="other-gets-nothing-of-their-own",
        ),
        pytest.param(
            [other("Olga"), other("Oscar")],
            [("thank_you", TY, None), ("check_in", CI, None)],
            id="only-others-one-thank-you-and-one-check-in-to-nobody",
        ),
        pytest.param(
            [],
            [("thank_you", TY, None), ("check_in", CI, None)],
            id="nobody-one-thank-you-and-one-check-in-to-nobody",
        ),
    ],
)
def test_follow_ups_go_to_the_right_people_thank_yous_first(
    people: list[PersonFacts], expected: list[tuple[str, Kind, str | None]]
) -> None:
    assert routing(plan_followups(TUESDAY_INTERVIEW, people, DEFAULT, ZONE_UTC)) == expected


@pytest.mark.parametrize(
    ("people", "expected_key"),
    [
        pytest.param([], None, id="nobody"),
        pytest.param([other("Olga")], None, id="only-other"),
        pytest.param([interviewer("Ana"), interviewer("Ben")], "p-ana", id="first-interviewer"),
        pytest.param([interviewer("Ana"), hr("Hedda"), hr("Hal")], "p-hedda", id="first-hr"),
        pytest.param([hr("Hedda"), recruiter("Roy")], "p-roy", id="recruiter-over-hr"),
        pytest.param(
            [recruiter("Roy"), hiring_manager("Hugo"), hiring_manager("Hanna")],
            "p-hugo",
            id="first-hiring-manager-over-recruiter",
        ),
    ],
)
def test_check_in_recipient_prefers_hiring_manager_then_recruiter_then_hr_then_interviewer(
    people: list[PersonFacts], expected_key: str | None
) -> None:
    found = check_in_recipient(people)
    assert (found.key if found is not None else None) == expected_key


def test_follow_ups_carry_the_recipients_name_and_email() -> None:
    ana = interviewer("Ana")
    ben = person("Ben", Role.INTERVIEWER, email=None)
    hanna = hiring_manager("Hanna")

    plans = plan_followups(TUESDAY_INTERVIEW, [ana, ben, hanna], DEFAULT, ZONE_UTC)

    assert [(p.recipient_name, p.recipient_email) for p in plans] == [
        ("Ana", "ana@example.com"),
        ("Ben", None),
        ("Hanna", "hanna@example.com"),
    ]


def test_follow_ups_to_nobody_have_no_recipient_at_all() -> None:
    plans = plan_followups(TUESDAY_INTERVIEW, [other("Olga")], DEFAULT, ZONE_UTC)

    assert [(p.person_key, p.recipient_name, p.recipient_email) for p in plans] == [
        (None, None, None),
        (None, None, None),
    ]


# --- thank-you timing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "minutes", "policy", "expected_not_before", "expected_due_at"),
    [
        pytest.param(
            utc(2025, 3, 4, 14), 60, DEFAULT,
            utc(2025, 3, 4, 15), utc(2025, 3, 6, 15),
            id="48-hours-after-the-interview-ends",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), 95, DEFAULT,
            utc(2025, 3, 4, 15, 35), utc(2025, 3, 6, 15, 35),
            id="end-counts-the-duration-in-minutes",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), 60, Policy(thank_you_within_hours=1),
            utc(2025, 3, 4, 15), utc(2025, 3, 4, 16),
            id="within-1-hour",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), 60, Policy(thank_you_within_hours=720),
            utc(2025, 3, 4, 15), utc(2025, 4, 3, 15),
            id="within-720-hours",
        ),
        pytest.param(
            # 11:00 EST Saturday; 48 elapsed hours later it is 12:00 EDT on Monday.
            local(NEW_YORK, 2025, 3, 8, 10), 60, DEFAULT,
            utc(2025, 3, 8, 16), utc(2025, 3, 10, 16),
            id="elapsed-hours-across-us-spring-forward",
        ),
        pytest.param(
            # 11:00 EDT Saturday; 48 elapsed hours later it is 10:00 EST on Monday.
            local(NEW_YORK, 2025, 11, 1, 10), 60, DEFAULT,
            utc(2025, 11, 1, 15), utc(2025, 11, 3, 15),
            id="elapsed-hours-across-us-fall-back",
        ),
        pytest.param(
            # 00:30 EDT plus two real hours is 01:30 EST (the repeated hour), not 02:30 EST.
            local(NEW_YORK, 2025, 11, 2, 0, 30), 120, DEFAULT,
            utc(2025, 11, 2, 6, 30), utc(2025, 11, 4, 6, 30),
            id="interview-spanning-fall-back-lasts-elapsed-minutes",
        ),
        pytest.param(
            # 01:30 EST plus one real hour is 03:30 EDT.
            local(NEW_YORK, 2025, 3, 9, 1, 30), 60, DEFAULT,
            utc(2025, 3, 9, 7, 30), utc(2025, 3, 11, 7, 30),
            id="interview-spanning-spring-forward-lasts-elapsed-minutes",
        ),
        pytest.param(
            # Saturday 11:00 NZDT; 48 elapsed hours later it is Monday 10:00 NZST.
            local(AUCKLAND, 2025, 4, 5, 10), 60, DEFAULT,
            utc(2025, 4, 4, 22), utc(2025, 4, 6, 22),
            id="elapsed-hours-across-auckland-dst-end",
        ),
        pytest.param(
            local(TOKYO, 2025, 3, 4, 23), 90, DEFAULT,
            utc(2025, 3, 4, 15, 30), utc(2025, 3, 6, 15, 30),
            id="tokyo-start",
        ),
        pytest.param(
            local(KOLKATA, 2025, 3, 4, 18), 45, DEFAULT,
            utc(2025, 3, 4, 13, 15), utc(2025, 3, 6, 13, 15),
            id="kolkata-half-hour-offset",
        ),
        pytest.param(
            datetime(2025, 3, 4, 12, tzinfo=timezone(timedelta(hours=-3))), 60, DEFAULT,
            utc(2025, 3, 4, 16), utc(2025, 3, 6, 16),
            id="fixed-offset-start",
        ),
    ],
)  # fmt: skip
def test_thank_you_is_allowed_from_the_end_and_due_within_elapsed_hours(
    starts_at: datetime,
    minutes: int,
    policy: Policy,
    expected_not_before: datetime,
    expected_due_at: datetime,
) -> None:
    plans = plan_followups(interview(starts_at, minutes), [interviewer("Ana")], policy, NEW_YORK)

    (thank_you,) = thank_yous(plans)
    assert (thank_you.not_before, thank_you.due_at) == (expected_not_before, expected_due_at)
    assert thank_you.not_before.tzinfo is UTC
    assert thank_you.due_at.tzinfo is UTC


def test_thank_you_due_keeps_elapsed_hours_so_its_local_hour_shifts_across_dst() -> None:
    plans = plan_followups(
        interview(local(NEW_YORK, 2025, 3, 8, 10)), [interviewer("Ana")], DEFAULT, NEW_YORK
    )

    (thank_you,) = thank_yous(plans)
    assert thank_you.not_before.astimezone(NEW_YORK) == local(NEW_YORK, 2025, 3, 8, 11)
    assert thank_you.due_at.astimezone(NEW_YORK) == local(NEW_YORK, 2025, 3, 10, 12)


@pytest.mark.parametrize("tz", [ZONE_UTC, NEW_YORK, TOKYO, AUCKLAND, KOLKATA], ids=str)
def test_users_time_zone_does_not_move_the_thank_you(tz: ZoneInfo) -> None:
    plans = plan_followups(TUESDAY_INTERVIEW, [interviewer("Ana")], DEFAULT, tz)

    (thank_you,) = thank_yous(plans)
    assert (thank_you.not_before, thank_you.due_at) == (utc(2025, 3, 4, 15), utc(2025, 3, 6, 15))


def test_fallback_thank_you_has_the_same_times_as_an_interviewers() -> None:
    plans = plan_followups(TUESDAY_INTERVIEW, [recruiter("Rita")], DEFAULT, ZONE_UTC)

    (thank_you,) = thank_yous(plans)
    assert (thank_you.not_before, thank_you.due_at) == (utc(2025, 3, 4, 15), utc(2025, 3, 6, 15))


def test_naive_interview_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="starts_at"):
        plan_followups(interview(datetime(2025, 3, 4, 14)), [], DEFAULT, ZONE_UTC)


# --- check-in timing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "tz", "policy", "promised", "expected_not_before", "expected_due_at"),
    [
        # Interviews last 60 minutes. 2025-03-04 is a Tuesday.
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, DEFAULT, None,
            utc(2025, 3, 18, 9), utc(2025, 3, 21, 9),
            id="two-weeks-after-the-interview-day-at-9",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, DEFAULT, date(2025, 3, 10),
            utc(2025, 3, 18, 9), utc(2025, 3, 21, 9),
            id="promise-before-two-week-mark-changes-nothing",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, DEFAULT, date(2025, 3, 17),
            utc(2025, 3, 18, 9), utc(2025, 3, 21, 9),
            id="promise-plus-grace-on-two-week-mark",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, DEFAULT, date(2025, 3, 20),
            utc(2025, 3, 21, 9), utc(2025, 3, 24, 9),
            id="promise-after-two-week-mark-wins-plus-one-grace-day",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, Policy(check_in_grace_days=0), date(2025, 3, 20),
            utc(2025, 3, 20, 9), utc(2025, 3, 23, 9),
            id="grace-0-checks-in-on-promised-day-due-sunday-unmoved",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, Policy(check_in_grace_days=7), date(2025, 3, 20),
            utc(2025, 3, 27, 9), utc(2025, 3, 30, 9),
            id="grace-7-days-after-promise",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, DEFAULT, date(2025, 3, 21),
            utc(2025, 3, 24, 9), utc(2025, 3, 27, 9),
            id="promise-on-friday-grace-lands-saturday-moves-to-monday",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, Policy(check_in_grace_days=0), date(2025, 3, 23),
            utc(2025, 3, 24, 9), utc(2025, 3, 27, 9),
            id="promise-on-sunday-grace-0-moves-to-monday",
        ),
        pytest.param(
            utc(2025, 3, 1, 14), ZONE_UTC, DEFAULT, None,
            utc(2025, 3, 17, 9), utc(2025, 3, 20, 9),
            id="two-week-mark-on-saturday-moves-to-monday",
        ),
        pytest.param(
            utc(2025, 3, 2, 14), ZONE_UTC, DEFAULT, None,
            utc(2025, 3, 17, 9), utc(2025, 3, 20, 9),
            id="two-week-mark-on-sunday-moves-to-monday",
        ),
        pytest.param(
            utc(2025, 3, 1, 14), ZONE_UTC, Policy(skip_weekends=False), None,
            utc(2025, 3, 15, 9), utc(2025, 3, 18, 9),
            id="saturday-kept-when-weekends-allowed",
        ),
        pytest.param(
            utc(2025, 3, 2, 14), ZONE_UTC, Policy(skip_weekends=False), None,
            utc(2025, 3, 16, 9), utc(2025, 3, 19, 9),
            id="sunday-kept-when-weekends-allowed",
        ),
        pytest.param(
            utc(2025, 3, 7, 14), ZONE_UTC, DEFAULT, None,
            utc(2025, 3, 21, 9), utc(2025, 3, 24, 9),
            id="friday-check-in-due-monday",
        ),
        pytest.param(
            utc(2025, 3, 6, 14), ZONE_UTC, DEFAULT, None,
            utc(2025, 3, 20, 9), utc(2025, 3, 23, 9),
            id="thursday-check-in-due-sunday-not-moved",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, Policy(check_in_after_days=1), None,
            utc(2025, 3, 5, 9), utc(2025, 3, 8, 9),
            id="check-in-after-1-day",
        ),
        pytest.param(
            utc(2025, 3, 7, 14), ZONE_UTC, Policy(check_in_after_days=1), None,
            utc(2025, 3, 10, 9), utc(2025, 3, 13, 9),
            id="check-in-after-1-day-from-friday-moves-to-monday",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, Policy(check_in_after_days=365), None,
            utc(2026, 3, 4, 9), utc(2026, 3, 7, 9),
            id="check-in-after-365-days",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, Policy(send_hour=0), None,
            utc(2025, 3, 18, 0), utc(2025, 3, 21, 0),
            id="send-hour-0",
        ),
        pytest.param(
            utc(2025, 3, 4, 14), ZONE_UTC, Policy(send_hour=23), None,
            utc(2025, 3, 18, 23), utc(2025, 3, 21, 23),
            id="send-hour-23",
        ),
        pytest.param(
            local(NEW_YORK, 2025, 3, 25, 10), NEW_YORK, Policy(send_hour=17), None,
            utc(2025, 4, 8, 21), utc(2025, 4, 11, 21),
            id="send-hour-17-new-york",
        ),
        pytest.param(
            # Ends 16:00 EST; the check-in is at 09:00 EDT, after DST started on 03-09.
            local(NEW_YORK, 2025, 3, 4, 15), NEW_YORK, DEFAULT, None,
            utc(2025, 3, 18, 13), utc(2025, 3, 21, 13),
            id="new-york-send-hour-unchanged-after-spring-forward",
        ),
        pytest.param(
            # Ends 11:00 EDT; the check-in is at 09:00 EST, after DST ended on 11-02.
            local(NEW_YORK, 2025, 10, 21, 10), NEW_YORK, DEFAULT, None,
            utc(2025, 11, 4, 14), utc(2025, 11, 7, 14),
            id="new-york-send-hour-unchanged-after-fall-back",
        ),
        pytest.param(
            # Friday 09:00 EST to Monday 09:00 EDT: three calendar days, 71 hours.
            local(NEW_YORK, 2025, 2, 21, 10), NEW_YORK, DEFAULT, None,
            utc(2025, 3, 7, 14), utc(2025, 3, 10, 13),
            id="new-york-due-three-calendar-days-later-across-spring-forward",
        ),
        pytest.param(
            # Ends 22:30 EST on the 4th, which is already 03:30Z on the 5th.
            local(NEW_YORK, 2025, 3, 4, 21, 30), NEW_YORK, DEFAULT, None,
            utc(2025, 3, 18, 13), utc(2025, 3, 21, 13),
            id="new-york-late-evening-end-counts-from-local-date",
        ),
        pytest.param(
            # Ends 00:30 JST on the 5th, which is still 15:30Z on the 4th.
            utc(2025, 3, 4, 14, 30), TOKYO, DEFAULT, None,
            utc(2025, 3, 19, 0), utc(2025, 3, 22, 0),
            id="tokyo-after-midnight-end-counts-from-local-date",
        ),
        pytest.param(
            local(TOKYO, 2025, 3, 4, 10), TOKYO, DEFAULT, date(2025, 3, 20),
            utc(2025, 3, 21, 0), utc(2025, 3, 24, 0),
            id="tokyo-promised-date-is-a-local-date",
        ),
        pytest.param(
            # Ends 10:00 NZDT on the 5th, which is 21:00Z on the 4th.
            local(AUCKLAND, 2025, 3, 5, 9), AUCKLAND, DEFAULT, None,
            utc(2025, 3, 18, 20), utc(2025, 3, 21, 20),
            id="auckland-morning-end-is-a-day-ahead-of-utc",
        ),
        pytest.param(
            # Ends Saturday 10:00 NZDT (Friday in UTC); two weeks later is a local Saturday.
            local(AUCKLAND, 2025, 3, 1, 9), AUCKLAND, DEFAULT, None,
            utc(2025, 3, 16, 20), utc(2025, 3, 19, 20),
            id="auckland-weekend-judged-in-local-time",
        ),
        pytest.param(
            # Ends 15:00 NZDT; the check-in is at 09:00 NZST, after DST ended on 04-06.
            local(AUCKLAND, 2025, 3, 25, 14), AUCKLAND, DEFAULT, None,
            utc(2025, 4, 7, 21), utc(2025, 4, 10, 21),
            id="auckland-send-hour-unchanged-after-dst-ends",
        ),
        pytest.param(
            # Ends 00:30 IST on the 5th, which is 19:00Z on the 4th.
            local(KOLKATA, 2025, 3, 4, 23, 30), KOLKATA, DEFAULT, None,
            utc(2025, 3, 19, 3, 30), utc(2025, 3, 22, 3, 30),
            id="kolkata-half-hour-offset-after-midnight-end",
        ),
        pytest.param(
            # Sunday 2025-03-09 02:00 does not exist in New York: 03:00 EDT instead.
            local(NEW_YORK, 2025, 2, 23, 10), NEW_YORK,
            Policy(send_hour=2, skip_weekends=False), None,
            utc(2025, 3, 9, 7), utc(2025, 3, 12, 6),
            id="send-hour-2-on-us-spring-forward-day-moves-to-3-edt",
        ),
        pytest.param(
            # Sunday 2025-11-02 01:00 happens twice in New York: the first is 01:00 EDT.
            local(NEW_YORK, 2025, 10, 19, 10), NEW_YORK,
            Policy(send_hour=1, skip_weekends=False), None,
            utc(2025, 11, 2, 5), utc(2025, 11, 5, 6),
            id="send-hour-1-on-us-fall-back-day-takes-first-occurrence",
        ),
        pytest.param(
            # Sunday 2025-09-28 02:00 does not exist in Auckland: 03:00 NZDT instead.
            local(AUCKLAND, 2025, 9, 14, 10), AUCKLAND,
            Policy(send_hour=2, skip_weekends=False), None,
            utc(2025, 9, 27, 14), utc(2025, 9, 30, 13),
            id="send-hour-2-on-auckland-spring-forward-day-moves-to-3-nzdt",
        ),
        pytest.param(
            # Sunday 2025-04-06 02:00 happens twice in Auckland: the first is 02:00 NZDT.
            local(AUCKLAND, 2025, 3, 23, 10), AUCKLAND,
            Policy(send_hour=2, skip_weekends=False), None,
            utc(2025, 4, 5, 13), utc(2025, 4, 8, 14),
            id="send-hour-2-on-auckland-fall-back-day-takes-first-occurrence",
        ),
    ],
)  # fmt: skip
def test_check_in_is_sent_at_send_hour_on_its_day_and_due_three_days_later(
    starts_at: datetime,
    tz: ZoneInfo,
    policy: Policy,
    promised: date | None,
    expected_not_before: datetime,
    expected_due_at: datetime,
) -> None:
    plans = plan_followups(interview(starts_at, promised=promised), [], policy, tz)

    check_in = the_check_in(plans)
    assert (check_in.not_before, check_in.due_at) == (expected_not_before, expected_due_at)
    assert check_in.not_before.tzinfo is UTC
    assert check_in.due_at.tzinfo is UTC


def test_check_in_moves_to_monday_when_promised_date_falls_on_friday() -> None:
    promised_friday = date(2025, 3, 21)

    plans = plan_followups(
        interview(local(NEW_YORK, 2025, 3, 4, 10), promised=promised_friday),
        [recruiter("Rita")],
        DEFAULT,
        NEW_YORK,
    )

    check_in = the_check_in(plans)
    assert check_in.not_before.astimezone(NEW_YORK) == local(NEW_YORK, 2025, 3, 24, 9)
    assert check_in.due_at.astimezone(NEW_YORK) == local(NEW_YORK, 2025, 3, 27, 9)


def test_check_in_stays_at_nine_local_on_both_sides_of_dst() -> None:
    before_dst = plan_followups(interview(local(NEW_YORK, 2025, 2, 20, 10)), [], DEFAULT, NEW_YORK)
    after_dst = plan_followups(interview(local(NEW_YORK, 2025, 2, 27, 10)), [], DEFAULT, NEW_YORK)

    assert the_check_in(before_dst).not_before.astimezone(NEW_YORK) == local(
        NEW_YORK, 2025, 3, 6, 9
    )
    assert the_check_in(after_dst).not_before.astimezone(NEW_YORK) == local(
        NEW_YORK, 2025, 3, 13, 9
    )


# --- the pieces the check-in is placed with --------------------------------------------------


@pytest.mark.parametrize(
    ("earliest", "skip_weekends", "expected"),
    [
        pytest.param(date(2025, 3, 3), True, date(2025, 3, 3), id="monday-stays"),
        pytest.param(date(2025, 3, 4), True, date(2025, 3, 4), id="tuesday-stays"),
        pytest.param(date(2025, 3, 5), True, date(2025, 3, 5), id="wednesday-stays"),
        pytest.param(date(2025, 3, 6), True, date(2025, 3, 6), id="thursday-stays"),
        pytest.param(date(2025, 3, 7), True, date(2025, 3, 7), id="friday-stays"),
        pytest.param(date(2025, 3, 8), True, date(2025, 3, 10), id="saturday-to-monday"),
        pytest.param(date(2025, 3, 9), True, date(2025, 3, 10), id="sunday-to-monday"),
        pytest.param(date(2025, 3, 8), False, date(2025, 3, 8), id="saturday-kept-when-allowed"),
        pytest.param(date(2025, 3, 9), False, date(2025, 3, 9), id="sunday-kept-when-allowed"),
        pytest.param(date(2022, 12, 31), True, date(2023, 1, 2), id="across-new-year"),
        pytest.param(date(2024, 3, 2), True, date(2024, 3, 4), id="leap-year-february-end"),
    ],
)
def test_check_in_day_moves_weekends_to_the_next_monday(
    earliest: date, skip_weekends: bool, expected: date
) -> None:
    assert check_in_day(earliest, Policy(skip_weekends=skip_weekends)) == expected


@pytest.mark.parametrize(
    ("day", "hour", "tz", "expected"),
    [
        pytest.param(date(2025, 3, 4), 9, ZONE_UTC, utc(2025, 3, 4, 9), id="utc"),
        pytest.param(date(2025, 3, 7), 9, NEW_YORK, utc(2025, 3, 7, 14), id="new-york-est"),
        pytest.param(date(2025, 3, 10), 9, NEW_YORK, utc(2025, 3, 10, 13), id="new-york-edt"),
        pytest.param(date(2025, 3, 9), 1, NEW_YORK, utc(2025, 3, 9, 6), id="ny-before-gap"),
        pytest.param(date(2025, 3, 9), 2, NEW_YORK, utc(2025, 3, 9, 7), id="ny-gap-2-is-3-edt"),
        pytest.param(date(2025, 3, 9), 3, NEW_YORK, utc(2025, 3, 9, 7), id="ny-3-edt"),
        pytest.param(date(2025, 11, 2), 1, NEW_YORK, utc(2025, 11, 2, 5), id="ny-repeat-1-edt"),
        pytest.param(date(2025, 11, 2), 2, NEW_YORK, utc(2025, 11, 2, 7), id="ny-after-repeat"),
        pytest.param(date(2025, 3, 4), 9, TOKYO, utc(2025, 3, 4, 0), id="tokyo"),
        pytest.param(date(2025, 3, 4), 0, TOKYO, utc(2025, 3, 3, 15), id="tokyo-midnight"),
        pytest.param(date(2025, 3, 4), 9, KOLKATA, utc(2025, 3, 4, 3, 30), id="kolkata"),
        pytest.param(date(2025, 3, 4), 9, AUCKLAND, utc(2025, 3, 3, 20), id="auckland-nzdt"),
        pytest.param(
            date(2025, 9, 28), 2, AUCKLAND, utc(2025, 9, 27, 14), id="auckland-gap-2-is-3-nzdt"
        ),
        pytest.param(
            date(2025, 4, 6), 2, AUCKLAND, utc(2025, 4, 5, 13), id="auckland-repeat-2-nzdt"
        ),
        pytest.param(date(2025, 3, 30), 1, LONDON, utc(2025, 3, 30, 1), id="london-gap-1-is-2-bst"),
    ],
)
def test_local_send_time_is_the_local_hour_as_utc(
    day: date, hour: int, tz: ZoneInfo, expected: datetime
) -> None:
    sent = local_send_time(day, hour, tz)

    assert sent == expected
    assert sent.tzinfo is UTC


def test_local_send_time_moves_a_skipped_hour_forward_by_the_gap() -> None:
    sent = local_send_time(date(2025, 3, 9), 2, NEW_YORK)

    assert sent.astimezone(NEW_YORK) == local(NEW_YORK, 2025, 3, 9, 3)


def test_local_send_time_takes_the_first_of_a_repeated_hour() -> None:
    sent = local_send_time(date(2025, 11, 2), 1, NEW_YORK).astimezone(NEW_YORK)

    assert (sent.hour, sent.fold, sent.utcoffset()) == (1, 0, timedelta(hours=-4))


# --- second check-in -------------------------------------------------------------------------


def test_no_second_check_in_unless_the_policy_asks_for_one() -> None:
    assert plan_second_check_in(utc(2025, 3, 18, 14), recruiter("Rita"), DEFAULT, ZONE_UTC) is None


@pytest.mark.parametrize(
    ("sent_at", "tz", "policy", "expected_not_before", "expected_due_at"),
    [
        # 2025-03-18 is a Tuesday.
        pytest.param(
            utc(2025, 3, 18, 14), ZONE_UTC, Policy(second_check_in_after_days=7),
            utc(2025, 3, 25, 9), utc(2025, 3, 28, 9),
            id="seven-days-after-sending-at-9",
        ),
        pytest.param(
            utc(2025, 3, 18, 14), ZONE_UTC, Policy(second_check_in_after_days=4),
            utc(2025, 3, 24, 9), utc(2025, 3, 27, 9),
            id="saturday-moves-to-monday",
        ),
        pytest.param(
            utc(2025, 3, 18, 14), ZONE_UTC, Policy(second_check_in_after_days=5),
            utc(2025, 3, 24, 9), utc(2025, 3, 27, 9),
            id="sunday-moves-to-monday",
        ),
        pytest.param(
            utc(2025, 3, 18, 14), ZONE_UTC,
            Policy(second_check_in_after_days=4, skip_weekends=False),
            utc(2025, 3, 22, 9), utc(2025, 3, 25, 9),
            id="saturday-kept-when-weekends-allowed",
        ),
        pytest.param(
            utc(2025, 3, 18, 14), ZONE_UTC, Policy(second_check_in_after_days=7, send_hour=14),
            utc(2025, 3, 25, 14), utc(2025, 3, 28, 14),
            id="send-hour-applies",
        ),
        pytest.param(
            utc(2025, 3, 18, 14), ZONE_UTC,
            Policy(second_check_in_after_days=1, check_in_after_days=365, check_in_grace_days=365),
            utc(2025, 3, 19, 9), utc(2025, 3, 22, 9),
            id="first-check-in-settings-play-no-part",
        ),
        pytest.param(
            utc(2025, 3, 18, 14), ZONE_UTC, Policy(second_check_in_after_days=365),
            utc(2026, 3, 18, 9), utc(2026, 3, 21, 9),
            id="after-365-days",
        ),
        pytest.param(
            # Sent 23:30 EDT on the 18th, which is 03:30Z on the 19th.
            local(NEW_YORK, 2025, 3, 18, 23, 30), NEW_YORK, Policy(second_check_in_after_days=7),
            utc(2025, 3, 25, 13), utc(2025, 3, 28, 13),
            id="new-york-late-evening-send-counts-from-local-date",
        ),
        pytest.param(
            # Sent 01:00 JST on the 19th, which is 16:00Z on the 18th.
            utc(2025, 3, 18, 16), TOKYO, Policy(second_check_in_after_days=7),
            utc(2025, 3, 26, 0), utc(2025, 3, 29, 0),
            id="tokyo-after-midnight-send-counts-from-local-date",
        ),
        pytest.param(
            # Sent Friday 10:00 EST; ten days later is Monday 09:00 EDT.
            local(NEW_YORK, 2025, 2, 28, 10), NEW_YORK, Policy(second_check_in_after_days=10),
            utc(2025, 3, 10, 13), utc(2025, 3, 13, 13),
            id="new-york-send-hour-unchanged-across-spring-forward",
        ),
    ],
)  # fmt: skip
def test_second_check_in_is_placed_like_the_first_from_the_day_it_was_sent(
    sent_at: datetime,
    tz: ZoneInfo,
    policy: Policy,
    expected_not_before: datetime,
    expected_due_at: datetime,
) -> None:
    second = plan_second_check_in(sent_at, recruiter("Rita"), policy, tz)

    assert second is not None
    assert (second.not_before, second.due_at) == (expected_not_before, expected_due_at)
    assert second.not_before.tzinfo is UTC
    assert second.due_at.tzinfo is UTC


def test_second_check_in_goes_to_the_same_person_as_a_check_in() -> None:
    second = plan_second_check_in(
        utc(2025, 3, 18, 14), recruiter("Rita"), Policy(second_check_in_after_days=7), ZONE_UTC
    )

    assert second is not None
    assert (second.plan_key, second.kind) == ("check_in:2", Kind.CHECK_IN)
    assert (second.person_key, second.recipient_name, second.recipient_email) == (
        "p-rita",
        "Rita",
        "rita@example.com",
    )


def test_second_check_in_to_nobody_has_no_recipient() -> None:
    second = plan_second_check_in(
        utc(2025, 3, 18, 14), None, Policy(second_check_in_after_days=7), ZONE_UTC
    )

    assert second is not None
    assert (second.person_key, second.recipient_name, second.recipient_email) == (None, None, None)


def test_naive_first_sent_at_is_rejected() -> None:
    with pytest.raises(ValueError, match="first_sent_at"):
        plan_second_check_in(
            datetime(2025, 3, 18, 14), None, Policy(second_check_in_after_days=7), ZONE_UTC
        )


# --- due state -------------------------------------------------------------------------------

NOT_BEFORE = utc(2025, 3, 18, 9)
DUE_AT = utc(2025, 3, 21, 9)
MICROSECOND = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(utc(2025, 1, 1), DueState.UPCOMING, id="long-before-is-upcoming"),
        pytest.param(NOT_BEFORE - MICROSECOND, DueState.UPCOMING, id="just-before-is-upcoming"),
        pytest.param(NOT_BEFORE, DueState.DUE, id="at-not-before-is-due"),
        pytest.param(utc(2025, 3, 19, 12), DueState.DUE, id="in-between-is-due"),
        pytest.param(DUE_AT, DueState.DUE, id="at-due-at-is-due"),
        pytest.param(DUE_AT + MICROSECOND, DueState.OVERDUE, id="just-after-is-overdue"),
        pytest.param(utc(2026, 1, 1), DueState.OVERDUE, id="long-after-is-overdue"),
        pytest.param(local(TOKYO, 2025, 3, 18, 18), DueState.DUE, id="same-instant-in-tokyo"),
        pytest.param(
            local(NEW_YORK, 2025, 3, 18, 4, 59), DueState.UPCOMING, id="a-minute-early-in-ny"
        ),
    ],
)
def test_scheduled_follow_up_is_upcoming_then_due_then_overdue(
    now: datetime, expected: DueState
) -> None:
    assert due_state(Status.SCHEDULED, NOT_BEFORE, DUE_AT, now) == expected


def test_due_state_compares_instants_not_wall_clocks_across_fall_back() -> None:
    # 01:30 EDT comes before 01:10 EST although its wall clock reads later.
    not_before = datetime(2025, 11, 2, 1, 30, tzinfo=NEW_YORK, fold=0)
    now = datetime(2025, 11, 2, 1, 10, tzinfo=NEW_YORK, fold=1)
    due_at = datetime(2025, 11, 2, 1, 20, tzinfo=NEW_YORK, fold=1)

    assert due_state(Status.SCHEDULED, not_before, due_at, now) == DueState.DUE


@pytest.mark.parametrize("status", [Status.SENT, Status.SKIPPED, Status.CANCELLED], ids=str)
@pytest.mark.parametrize(
    "now",
    [NOT_BEFORE - MICROSECOND, NOT_BEFORE, DUE_AT + MICROSECOND],
    ids=["before", "during", "after"],
)
def test_only_scheduled_follow_ups_have_a_due_state(status: Status, now: datetime) -> None:
    assert due_state(status, NOT_BEFORE, DUE_AT, now) is None


# --- invariants ------------------------------------------------------------------------------

ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "America/New_York",
        "Asia/Tokyo",
        "Pacific/Auckland",
        "Asia/Kolkata",
        "Europe/London",
        "America/St_Johns",  # -03:30 with DST
        "Asia/Kathmandu",  # +05:45
        "Pacific/Chatham",  # +12:45 with DST
        "Australia/Lord_Howe",  # a 30-minute DST change
        "America/Santiago",  # DST changes at midnight
    )
]
# No zone above skips more than an hour.
LARGEST_GAP = timedelta(hours=1)

zones = st.sampled_from(ZONES)
policies = st.builds(
    Policy,
    thank_you_within_hours=st.integers(1, 720),
    check_in_after_days=st.integers(1, 365),
    check_in_grace_days=st.integers(0, 365),
    send_hour=st.integers(0, 23),
    skip_weekends=st.booleans(),
    second_check_in_after_days=st.none() | st.integers(1, 365),
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=zones
)
interviews = st.builds(
    InterviewFacts,
    starts_at=instants,
    duration_minutes=st.integers(1, 8 * 60),
    response_promised_by=st.none() | st.dates(date(2000, 1, 1), date(2090, 12, 31)),
)


@st.composite
def people_lists(draw: st.DrawFn) -> list[PersonFacts]:
    roles = draw(st.lists(st.sampled_from(Role), max_size=8))
    return [
        PersonFacts(
            key=f"p{index}",
            name=f"Person {index}",
            email=draw(st.none() | st.just(f"p{index}@example.com")),
            role=role,
        )
        for index, role in enumerate(roles)
    ]


invariant = settings(max_examples=200, deadline=None)


def interview_end(facts: InterviewFacts) -> datetime:
    return facts.starts_at.astimezone(UTC) + timedelta(minutes=facts.duration_minutes)


def wall_time_exists(wall: datetime, tz: ZoneInfo) -> bool:
    round_trip = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
    return round_trip.replace(tzinfo=None) == wall


def assert_at_local_hour(moment: datetime, hour: int, tz: ZoneInfo) -> None:
    """`moment` is hour:00 local, later by a DST gap when that skipped, first when repeated."""
    seen = moment.astimezone(tz)
    wall = datetime(seen.year, seen.month, seen.day, hour)
    if seen.replace(tzinfo=None) != wall:
        assert not wall_time_exists(wall, tz)
        assert wall < seen.replace(tzinfo=None) <= wall + LARGEST_GAP
    assert seen.fold == 0


def assert_placed_like_a_check_in(
    check_in: Planned, earliest: date, policy: Policy, tz: ZoneInfo
) -> None:
    day = check_in.not_before.astimezone(tz).date()
    assert earliest <= day <= earliest + timedelta(days=2)
    if day != earliest:
        assert policy.skip_weekends
        assert earliest.weekday() >= 5
        assert day.weekday() == 0
    if policy.skip_weekends:
        assert day.weekday() < 5
    assert check_in.due_at.astimezone(tz).date() == day + timedelta(days=3)
    assert_at_local_hour(check_in.not_before, policy.send_hour, tz)
    assert_at_local_hour(check_in.due_at, policy.send_hour, tz)
    assert check_in.not_before < check_in.due_at


@invariant
@given(interviews, people_lists(), policies, zones)
def test_every_thank_you_is_due_exactly_the_policy_hours_after_the_interview_ends(
    facts: InterviewFacts, people: list[PersonFacts], policy: Policy, tz: ZoneInfo
) -> None:
    for thank_you in thank_yous(plan_followups(facts, people, policy, tz)):
        assert thank_you.not_before == interview_end(facts)
        assert thank_you.due_at - thank_you.not_before == timedelta(
            hours=policy.thank_you_within_hours
        )


@invariant
@given(interviews, people_lists(), policies, zones)
def test_check_in_is_on_a_permitted_day_at_the_send_hour_and_due_three_days_later(
    facts: InterviewFacts, people: list[PersonFacts], policy: Policy, tz: ZoneInfo
) -> None:
    check_in = the_check_in(plan_followups(facts, people, policy, tz))

    earliest = interview_end(facts).astimezone(tz).date() + timedelta(
        days=policy.check_in_after_days
    )
    if facts.response_promised_by is not None:
        promised_plus_grace = facts.response_promised_by + timedelta(
            days=policy.check_in_grace_days
        )
        assert check_in.not_before.astimezone(tz).date() >= promised_plus_grace
        earliest = max(earliest, promised_plus_grace)
    assert_placed_like_a_check_in(check_in, earliest, policy, tz)


@invariant
@given(interviews, people_lists(), policies, zones)
def test_plan_is_thank_yous_in_people_order_then_exactly_one_check_in(
    facts: InterviewFacts, people: list[PersonFacts], policy: Policy, tz: ZoneInfo
) -> None:
    plans = plan_followups(facts, people, policy, tz)

    interviewer_keys = [p.key for p in people if p.role == Role.INTERVIEWER]
    *firsts, last = plans
    assert [plan.kind for plan in firsts] == [Kind.THANK_YOU] * max(1, len(interviewer_keys))
    assert (last.kind, last.plan_key) == (Kind.CHECK_IN, CHECK_IN_KEY)
    if interviewer_keys:
        assert [plan.person_key for plan in firsts] == interviewer_keys
        assert [plan.plan_key for plan in firsts] == [
            f"thank_you:{key}" for key in interviewer_keys
        ]
    else:
        (fallback,) = firsts
        assert fallback.plan_key == THANK_YOU_FALLBACK_KEY
        assert fallback.person_key == last.person_key
    roles = {p.key: p.role for p in people}
    assert all(roles[plan.person_key] != Role.OTHER for plan in plans if plan.person_key)


@invariant
@given(interviews, people_lists(), policies, zones)
def test_every_planned_instant_is_utc_aware(
    facts: InterviewFacts, people: list[PersonFacts], policy: Policy, tz: ZoneInfo
) -> None:
    for plan in plan_followups(facts, people, policy, tz):
        assert plan.not_before.tzinfo is UTC
        assert plan.due_at.tzinfo is UTC


@invariant
@given(interviews, people_lists(), policies, zones)
def test_the_plan_depends_only_on_its_inputs(
    facts: InterviewFacts, people: list[PersonFacts], policy: Policy, tz: ZoneInfo
) -> None:
    assert plan_followups(facts, people, policy, tz) == plan_followups(
        facts, tuple(people), policy, tz
    )


@invariant
@given(instants, policies, zones, st.booleans())
def test_second_check_in_is_placed_like_a_check_in_from_the_local_sending_day(
    sent_at: datetime, policy: Policy, tz: ZoneInfo, has_recipient: bool
) -> None:
    recipient = recruiter("Rita") if has_recipient else None

    second = plan_second_check_in(sent_at, recipient, policy, tz)

    if policy.second_check_in_after_days is None:
        assert second is None
        return
    assert second is not None
    assert (second.plan_key, second.kind) == (SECOND_CHECK_IN_KEY, Kind.CHECK_IN)
    assert second.person_key == (recipient.key if recipient else None)
    assert second.not_before.tzinfo is UTC
    assert second.due_at.tzinfo is UTC
    # Via UTC: an imaginary wall time (in a DST gap) would otherwise keep its own date.
    earliest = sent_at.astimezone(UTC).astimezone(tz).date() + timedelta(
        days=policy.second_check_in_after_days
    )
    assert_placed_like_a_check_in(second, earliest, policy, tz)


# Days on which one of the zones above changes its clocks, so they are not left to chance.
DST_CHANGE_DAYS = [
    date(2025, 3, 9),  # New York, St. John's forward
    date(2025, 11, 2),  # New York, St. John's back
    date(2025, 3, 30),  # London forward
    date(2025, 10, 26),  # London back
    date(2025, 4, 6),  # Auckland, Chatham, Lord Howe back
    date(2025, 9, 28),  # Auckland, Chatham forward
    date(2025, 10, 5),  # Lord Howe forward by 30 minutes
    date(2025, 4, 5),  # Santiago back (23:00 repeats)
    date(2025, 9, 7),  # Santiago forward (midnight skipped)
]
days = st.sampled_from(DST_CHANGE_DAYS) | st.dates(date(2000, 1, 1), date(2090, 12, 31))


@invariant
@given(days, st.integers(0, 23), zones)
def test_local_send_time_is_that_local_hour_on_that_day(day: date, hour: int, tz: ZoneInfo) -> None:
    sent = local_send_time(day, hour, tz)

    assert sent.tzinfo is UTC
    assert sent.astimezone(tz).date() == day
    assert_at_local_hour(sent, hour, tz)


@invariant
@given(instants, st.integers(0, 10**7), st.integers(0, 10**7), instants)
def test_due_state_follows_the_clock_and_only_for_scheduled_follow_ups(
    not_before: datetime, due_after_seconds: int, now_offset_seconds: int, now: datetime
) -> None:
    # Elapsed time: adding to an aware local datetime counts wall-clock time across DST.
    due_at = not_before.astimezone(UTC) + timedelta(seconds=due_after_seconds)
    later = now.astimezone(UTC) + timedelta(seconds=now_offset_seconds)
    order = [DueState.UPCOMING, DueState.DUE, DueState.OVERDUE]

    state_now = due_state(Status.SCHEDULED, not_before, due_at, now)
    state_later = due_state(Status.SCHEDULED, not_before, due_at, later)

    assert state_now is not None
    assert state_later is not None
    assert order.index(state_now) <= order.index(state_later)
    for status in (Status.SENT, Status.SKIPPED, Status.CANCELLED):
        assert due_state(status, not_before, due_at, now) is None
