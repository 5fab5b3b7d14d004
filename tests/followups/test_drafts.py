"""Specification of drafts: the placeholder language, the default wording and mailto links."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.followups.drafts import (
    PLACEHOLDERS,
    TEMPLATE_FIELDS,
    Draft,
    DraftContext,
    TemplateError,
    UserTemplates,
    default_template,
    mailto_url,
    percent_encode,
    placeholder_values,
    render_draft,
    render_template,
    validate_template,
)

VALUES = {
    "recipient_first_name": "Jane",
    "recipient_name": "Jane Doe",
    "company": "Acme",
    "role": "Backend Engineer",
    "interview_date": "Tuesday, March 3",
    "highlight": "zero-downtime migrations",
    "excitement": "owning the payments platform",
    "sender_name": "Sam Rivera",
}


def make_context(**changes: Any) -> DraftContext:
    ctx = DraftContext(
        recipient_name="Jane Doe",
        company="Acme",
        role="Backend Engineer",
        interview_date=date(2026, 3, 3),
        highlight="zero-downtime database migrations",
        excitement="the chance to own the payments platform end to end",
        sender_name="Sam Rivera",
    )
    return replace(ctx, **changes)


def template_error(text: str) -> str:
    with pytest.raises(TemplateError) as caught:
        validate_template(text)
    assert str(caught.value) == caught.value.message
    return caught.value.message


# The placeholder language


def test_public_names_match_the_design() -> None:
    assert PLACEHOLDERS == (
        "recipient_first_name",
        "recipient_name",
        "company",
        "role",
        "interview_date",
        "highlight",
        "excitement",
        "sender_name",
    )
    assert TEMPLATE_FIELDS == (
        "thank_you_subject",
        "thank_you_body",
        "check_in_subject",
        "check_in_body",
    )
    assert set(VALUES) == set(PLACEHOLDERS)


def test_every_placeholder_is_substituted() -> None:
    template = " | ".join(f"{{{name}}}" for name in PLACEHOLDERS)

    assert render_template(template, VALUES) == " | ".join(VALUES[name] for name in PLACEHOLDERS)


def test_a_placeholder_can_appear_many_times_and_next_to_text() -> None:
    assert render_template("{role}/{role}:{company}!", VALUES) == (
        "Backend Engineer/Backend Engineer:Acme!"
    )


def test_text_without_placeholders_renders_unchanged() -> None:
    text = "Hello,\n\nThanks again — see you soon.\n"

    validate_template(text)
    assert render_template(text, VALUES) == text


def test_doubled_braces_are_literal_braces() -> None:
    assert render_template("{{ and }}", VALUES) == "{ and }"
    assert render_template("{{{company}}}", VALUES) == "{Acme}"
    assert render_template("}}{{", VALUES) == "}{"


def test_doubled_braces_around_a_name_render_the_name_literally() -> None:
    assert render_template("{{company}}", VALUES) == "{company}"


def test_values_with_braces_are_inserted_verbatim() -> None:
    values = {**VALUES, "company": "{role} {{x}} {0.__class__} }", "role": "{company}"}

    assert (
        render_template("{company} / {role}", values) == "{role} {{x}} {0.__class__} } / {company}"
    )


def test_render_needs_a_value_for_every_placeholder_used() -> None:
    with pytest.raises(KeyError):
        render_template("Hi {recipient_first_name}", {"company": "Acme"})


def test_template_error_is_a_value_error_with_a_message() -> None:
    error = TemplateError("unmatched '{'")

    assert isinstance(error, ValueError)
    assert error.message == "unmatched '{'"


def test_unknown_placeholder_is_rejected_naming_it_and_listing_the_allowed_ones() -> None:
    message = template_error("Dear {name}, about the {salary} ...")

    assert message.startswith("unknown placeholder {name}")
    assert all(f"{{{name}}}" in message for name in PLACEHOLDERS)
    assert "{{" in message  # tells how to write a literal brace


def test_misspelt_placeholder_gets_a_suggestion() -> None:
    assert "did you mean {company}?" in template_error("at {compnay}")
    assert "did you mean {company}?" in template_error("at { company }")
    assert "did you mean {recipient_first_name}?" in template_error("Hi {Recipient First Name}")


def test_placeholder_names_are_case_sensitive() -> None:
    assert "unknown placeholder {Company}" in template_error("{Company}")


def test_empty_placeholder_is_rejected() -> None:
    assert template_error("Hi {}").startswith("empty placeholder {}")
    assert template_error("Hi {  }").startswith("empty placeholder {  }")


def test_unclosed_brace_is_rejected_with_its_position() -> None:
    message = template_error("Hi {recipient_first_name")

    assert "unmatched '{'" in message
    assert "character 4" in message


def test_brace_opened_inside_a_placeholder_is_rejected() -> None:
    assert "unmatched '{'" in template_error("{comp{any}")


def test_lone_closing_brace_is_rejected_with_its_position() -> None:
    message = template_error("Hi } there")

    assert "single '}' must be written '}}'" in message
    assert "character 4" in message


def test_odd_run_of_closing_braces_is_rejected() -> None:
    assert "single '}'" in template_error("{company}}")
    assert "single '}'" in template_error("}}}")


def test_very_long_bad_placeholder_is_shortened_in_the_message() -> None:
    message = template_error("{" + "x" * 5000 + "}")

    assert len(message) < 600
    assert "{" + "x" * 40 + "…}" in message


@pytest.mark.parametrize(
    "template",
    [
        "{__class__}",
        "{company.__class__}",
        "{company.__class__.__mro__}",
        "{company.upper}",
        "{0}",
        "{0.__class__}",
        "{company[0]}",
        "{company!r}",
        "{company!s}",
        "{company:>10}",
        "{role:{company}}",
        "{__import__('os').system('true')}",
        "{{% for x in y %}}{company.__init__.__globals__}",
        "{{{{company.__class__}}}}{company.__class__}",
    ],
)
def test_format_and_attribute_syntax_is_rejected_so_nothing_can_run(template: str) -> None:
    with pytest.raises(TemplateError):
        render_template(template, VALUES)


def test_attribute_syntax_message_says_only_bare_names_work() -> None:
    message = template_error("{company.__class__}")

    assert message.startswith("unknown placeholder {company.__class__}")
    assert "did you mean {company}?" in message
    assert "no attributes, indexes, conversions or formats" in message


def test_jinja_style_markup_is_plain_text() -> None:
    text = "{% if x %}{{ company }}{% endif %}"

    with pytest.raises(TemplateError):
        validate_template(text)
    assert render_template("{{% if x %}}", VALUES) == "{% if x %}"


# Placeholder values


def test_first_name_is_the_first_word_of_the_name() -> None:
    assert placeholder_values(make_context(recipient_name="Jane Doe"))["recipient_first_name"] == (
        "Jane"
    )
    assert placeholder_values(make_context(recipient_name="Jane"))["recipient_first_name"] == "Jane"


@pytest.mark.parametrize(
    "name",
    [
        "Dr. Jane Doe",
        "dr jane doe",
        "Prof. Jane Doe",
        "Ms Jane Doe",
        "Mx. Jane Doe",
        "Mrs. Jane Doe",
    ],
)
def test_first_name_skips_an_honorific(name: str) -> None:
    values = placeholder_values(make_context(recipient_name=name))

    assert values["recipient_first_name"].lower() == "jane"


def test_first_name_keeps_the_honorific_when_only_a_surname_follows() -> None:
    values = placeholder_values(make_context(recipient_name="Dr. Smith"))

    assert values["recipient_first_name"] == "Dr. Smith"


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_without_a_recipient_the_greeting_names_fall_back(missing: str | None) -> None:
    values = placeholder_values(make_context(recipient_name=missing))

    assert values["recipient_first_name"] == "there"
    assert values["recipient_name"] == "Hiring Team"


def test_recipient_name_is_the_full_name_tidied() -> None:
    values = placeholder_values(make_context(recipient_name="  Jane \n  Doe "))

    assert values["recipient_name"] == "Jane Doe"
    assert values["recipient_first_name"] == "Jane"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 3), "Tuesday, March 3"),
        (date(2026, 1, 1), "Thursday, January 1"),
        (date(2025, 12, 31), "Wednesday, December 31"),
        (date(2024, 2, 29), "Thursday, February 29"),
        (date(2026, 3, 8), "Sunday, March 8"),
    ],
)
def test_interview_date_is_written_in_english_without_a_leading_zero(
    day: date, expected: str
) -> None:
    assert placeholder_values(make_context(interview_date=day))["interview_date"] == expected


def test_missing_highlight_and_excitement_are_empty() -> None:
    values = placeholder_values(make_context(highlight=None, excitement=None))

    assert values["highlight"] == ""
    assert values["excitement"] == ""


def test_highlight_and_excitement_drop_trailing_punctuation_and_line_breaks() -> None:
    values = placeholder_values(
        make_context(highlight="the roadmap.\n", excitement="the team,\nand the mission!")
    )

    assert values["highlight"] == "the roadmap"
    assert values["excitement"] == "the team, and the mission"


def test_every_placeholder_has_a_value() -> None:
    assert set(placeholder_values(make_context())) == set(PLACEHOLDERS)


# Default drafts


def test_default_thank_you_names_recipient_role_company_highlight_excitement_and_sender() -> None:
    draft = render_draft("thank_you", make_context(), UserTemplates())

    assert "Backend Engineer" in draft.subject
    assert draft.subject.lower().startswith("thank you")
    assert draft.body.startswith("Hi Jane,\n")
    assert "thank you for" in draft.body.lower()
    assert "Backend Engineer position at Acme" in draft.body
    assert "our conversation about zero-downtime database migrations." in draft.body
    assert "the chance to own the payments platform end to end." in draft.body
    assert draft.body.endswith("\nSam Rivera")


def test_default_check_in_restates_role_date_and_excitement_and_asks_for_an_update() -> None:
    draft = render_draft("check_in", make_context(), UserTemplates())

    assert "Backend Engineer" in draft.subject
    assert draft.body.startswith("Hi Jane,\n")
    assert "Backend Engineer position at Acme on Tuesday, March 3." in draft.body
    assert "especially the chance to own the payments platform end to end." in draft.body
    assert "update" in draft.body
    assert "next steps" in draft.body
    assert "?" in draft.body
    assert draft.body.endswith("\nSam Rivera")


def assert_reads_cleanly(text: str) -> None:
    assert "  " not in text
    assert " ." not in text
    assert " ," not in text
    assert ".." not in text
    assert "about ." not in text
    assert "especially ." not in text
    assert "\n\n\n" not in text
    assert not re.search(r"[ \t]$", text, flags=re.MULTILINE)
    assert "{" not in text
    assert "}" not in text
    assert "None" not in text
    assert text == text.strip()


@pytest.mark.parametrize("kind", ["thank_you", "check_in"])
@pytest.mark.parametrize("highlight", [None, "", "  ", "the roadmap"])
@pytest.mark.parametrize("excitement", [None, "", "\n", "the mission"])
@pytest.mark.parametrize("recipient", [None, "Jane Doe"])
def test_default_drafts_read_cleanly_whatever_is_missing(
    kind: str, highlight: str | None, excitement: str | None, recipient: str | None
) -> None:
    ctx = make_context(highlight=highlight, excitement=excitement, recipient_name=recipient)

    draft = render_draft(kind, ctx, UserTemplates())

    assert_reads_cleanly(draft.subject)
    assert_reads_cleanly(draft.body)
    assert "\n" not in draft.subject
    assert len(draft.body) < 900
    assert ("Hi Jane," if recipient else "Hi there,") in draft.body
    assert ("roadmap" in draft.body) == (kind == "thank_you" and highlight == "the roadmap")
    assert ("mission" in draft.body) == (excitement == "the mission")


def test_default_thank_you_without_highlight_or_excitement_drops_those_sentences() -> None:
    draft = render_draft(
        "thank_you", make_context(highlight=None, excitement=None), UserTemplates()
    )

    assert "conversation about" not in draft.body
    assert "excites me" not in draft.body
    assert "Thank you for taking the time" in draft.body


def test_default_drafts_put_a_capitalised_opening_article_mid_sentence_in_lower_case() -> None:
    ctx = make_context(highlight="The release process", excitement="A chance to mentor")

    thank_you = render_draft("thank_you", ctx, UserTemplates()).body
    check_in = render_draft("check_in", ctx, UserTemplates()).body

    assert "about the release process." in thank_you
    assert "is a chance to mentor." in thank_you
    assert "especially a chance to mentor." in check_in


def test_default_drafts_keep_proper_nouns_as_written() -> None:
    ctx = make_context(highlight="Rust at Acme", excitement="AI tooling")

    body = render_draft("thank_you", ctx, UserTemplates()).body

    assert "about Rust at Acme." in body
    assert "is AI tooling." in body


def test_default_drafts_insert_values_with_braces_verbatim() -> None:
    ctx = make_context(company="{Acme}}", role="{role}", highlight="{0.__class__}")

    draft = render_draft("thank_you", ctx, UserTemplates())

    assert "{role} position at {Acme}}" in draft.body
    assert "about {0.__class__}." in draft.body
    assert "{role}" in draft.subject


def test_default_body_without_a_sender_ends_with_the_sign_off() -> None:
    draft = render_draft("thank_you", make_context(sender_name=" "), UserTemplates())

    assert draft.body.endswith("Best regards,")


# User templates


def test_user_templates_are_rendered_exactly_as_written() -> None:
    templates = UserTemplates(
        thank_you_subject="Thanks, {recipient_first_name}!",
        thank_you_body="Hi {recipient_name} — {highlight}. {excitement}. {{sig}} {sender_name}",
        check_in_subject="{company}: {role}",
        check_in_body="Any news since {interview_date}?",
    )
    ctx = make_context(highlight=None)

    assert render_draft("thank_you", ctx, templates) == Draft(
        subject="Thanks, Jane!",
        body=(
            "Hi Jane Doe — . the chance to own the payments platform end to end. {sig} Sam Rivera"
        ),
    )
    assert render_draft("check_in", ctx, templates) == Draft(
        subject="Acme: Backend Engineer", body="Any news since Tuesday, March 3?"
    )


def test_a_user_template_for_one_field_leaves_the_others_on_the_default() -> None:
    default = render_draft("thank_you", make_context(), UserTemplates())

    custom = render_draft("thank_you", make_context(), UserTemplates(thank_you_subject="Thanks!"))

    assert custom == Draft(subject="Thanks!", body=default.body)


def test_templates_of_the_other_kind_are_not_used() -> None:
    templates = UserTemplates(check_in_subject="CHECK", check_in_body="CHECK")

    draft = render_draft("thank_you", make_context(), templates)

    assert "CHECK" not in draft.subject + draft.body


def test_invalid_user_template_raises_template_error() -> None:
    with pytest.raises(TemplateError):
        render_draft("check_in", make_context(), UserTemplates(check_in_body="{salary}"))


@pytest.mark.parametrize("kind", ["custom", "", "THANK_YOU", "thank-you"])
def test_unknown_draft_kind_is_a_value_error(kind: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        render_draft(kind, make_context(), UserTemplates())


# mailto links


def test_mailto_has_address_subject_and_body() -> None:
    url = mailto_url("jane@acme.example", "Hi", "Thanks")

    assert url == "mailto:jane@acme.example?subject=Hi&body=Thanks"


@pytest.mark.parametrize("address", [None, ""])
def test_mailto_without_an_address_starts_with_the_query(address: str | None) -> None:
    assert mailto_url(address, "Hi", "Thanks") == "mailto:?subject=Hi&body=Thanks"


def test_mailto_encodes_spaces_as_percent_20_never_plus() -> None:
    url = mailto_url(None, "Thank you — Backend Engineer", "a b")

    assert "+" not in url
    assert url.endswith("&body=a%20b")
    assert "subject=Thank%20you%20" in url


def test_mailto_encodes_reserved_characters() -> None:
    url = mailto_url(None, "a&b?c", "x=1 & y+2 #3 50% /?")

    assert url == ("mailto:?subject=a%26b%3Fc&body=x%3D1%20%26%20y%2B2%20%233%2050%25%20%2F%3F")


def test_mailto_encodes_non_ascii_as_utf8() -> None:
    url = mailto_url(None, "Zoë — thanks", "naïve ✓")

    assert url == ("mailto:?subject=Zo%C3%AB%20%E2%80%94%20thanks&body=na%C3%AFve%20%E2%9C%93")


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\r"])
def test_mailto_body_line_breaks_become_crlf(line_break: str) -> None:
    url = mailto_url(None, "Hi", f"one{line_break}two{line_break}{line_break}three")

    assert url.endswith("&body=one%0D%0Atwo%0D%0A%0D%0Athree")


def test_mailto_subject_line_break_becomes_a_space() -> None:
    url = mailto_url(None, "Hi\r\nBcc: x@example.com", "body")

    assert url == "mailto:?subject=Hi%20Bcc%3A%20x%40example.com&body=body"


def test_mailto_leaves_the_address_as_is() -> None:
    assert mailto_url("jane.doe+jobs@acme.example", "s", "b").startswith(
        "mailto:jane.doe+jobs@acme.example?subject="
    )


def test_mailto_of_a_default_draft_round_trips() -> None:
    draft = render_draft("thank_you", make_context(recipient_name="Zoë Ådahl"), UserTemplates())

    url = mailto_url("zoe@acme.example", draft.subject, draft.body)

    query = url.split("?", 1)[1]
    subject, body = (part.split("=", 1)[1] for part in query.split("&"))
    assert unquote(subject) == draft.subject
    assert unquote(body) == draft.body.replace("\n", "\r\n")


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200))
def test_mailto_body_of_any_text_decodes_back_and_keeps_only_unreserved_characters(
    body: str,
) -> None:
    url = mailto_url(None, "s", body)

    encoded = url.split("&body=", 1)[1]
    assert re.fullmatch(r"(?:[A-Za-z0-9_.~-]|%[0-9A-F]{2})*", encoded)
    assert unquote(encoded) == re.sub(r"\r\n|\r|\n", "\r\n", body)


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300))
def test_percent_encoding_is_urllib_quote_with_nothing_safe(text: str) -> None:
    assert percent_encode(text) == quote(text, safe="")


@given(st.text(alphabet=st.characters(max_codepoint=127), min_size=64, max_size=300))
def test_percent_encoding_of_longer_ascii_text_is_urllib_quote(text: str) -> None:
    assert percent_encode(text) == quote(text, safe="")


# Properties

BRACELESS_TEXT = st.text(alphabet=st.characters(exclude_characters="{}"))
PLACEHOLDER_VALUE = st.text(max_size=30)


@given(BRACELESS_TEXT)
def test_text_without_braces_renders_unchanged(text: str) -> None:
    validate_template(text)
    assert render_template(text, VALUES) == text


PIECES = st.one_of(
    BRACELESS_TEXT.map(lambda text: (text, text)),
    st.sampled_from(PLACEHOLDERS).map(lambda name: (f"{{{name}}}", VALUES[name])),
    st.just(("{{", "{")),
    st.just(("}}", "}")),
)


@given(st.lists(PIECES, max_size=20))
def test_any_valid_template_renders_to_its_literals_and_values(
    pieces: list[tuple[str, str]],
) -> None:
    template = "".join(source for source, _ in pieces)

    validate_template(template)
    assert render_template(template, VALUES) == "".join(rendered for _, rendered in pieces)


@given(
    st.lists(st.sampled_from(PLACEHOLDERS), max_size=8),
    st.dictionaries(st.sampled_from(PLACEHOLDERS), PLACEHOLDER_VALUE, min_size=len(PLACEHOLDERS)),
)
def test_values_never_get_interpreted_as_template(names: list[str], values: dict[str, str]) -> None:
    template = "|".join(f"{{{name}}}" for name in names)

    assert render_template(template, values) == "|".join(values[name] for name in names)


@given(st.lists(st.sampled_from([*"{}ab.!:0_ \n", *PLACEHOLDERS])).map("".join))
def test_any_text_either_renders_or_raises_template_error(text: str) -> None:
    try:
        render_template(text, VALUES)
    except TemplateError as error:
        assert error.message


@given(
    recipient=st.none() | st.text(max_size=40),
    highlight=st.none() | st.text(max_size=80),
    excitement=st.none() | st.text(max_size=80),
    day=st.dates(),
)
def test_default_drafts_render_for_any_context(
    recipient: str | None, highlight: str | None, excitement: str | None, day: date
) -> None:
    ctx = make_context(
        recipient_name=recipient, highlight=highlight, excitement=excitement, interview_date=day
    )

    for kind in ("thank_you", "check_in"):
        draft = render_draft(kind, ctx, UserTemplates())
        assert draft.subject
        assert draft.body.startswith("Hi ")


@given(st.text(), st.text(), st.none() | st.emails())
def test_mailto_round_trips_to_the_crlf_normalised_text(
    subject: str, body: str, address: str | None
) -> None:
    url = mailto_url(address, subject, body)

    prefix = f"mailto:{address or ''}?"
    assert url.startswith(prefix)
    query = url[len(prefix) :]
    assert re.fullmatch(r"subject=[A-Za-z0-9%._~-]*&body=[A-Za-z0-9%._~-]*", query)
    encoded_subject, encoded_body = (part.split("=", 1)[1] for part in query.split("&"))
    crlf_body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    assert unquote(encoded_body) == crlf_body
    assert unquote(encoded_subject) == re.sub(r"\r\n|\r|\n", " ", subject)


# The default wording, written as templates (shown on the Settings page)


@pytest.mark.parametrize("field", TEMPLATE_FIELDS)
def test_the_default_wording_written_as_a_template_is_valid_and_reads_like_the_default(
    field: str,
) -> None:
    written = default_template(field)
    validate_template(written)
    ctx = make_context()
    kind, _, part = field.rpartition("_")
    built_in = render_draft(kind, ctx, UserTemplates())
    assert render_template(written, placeholder_values(ctx)) == getattr(built_in, part)


def test_there_is_no_default_template_for_an_unknown_field() -> None:
    with pytest.raises(ValueError, match="no template field"):
        default_template("custom_body")
