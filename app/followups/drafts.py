"""Drafts of follow-up emails: the safe placeholder language, the default wording, mailto links."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

PLACEHOLDERS: tuple[str, ...] = (
    "recipient_first_name",
    "recipient_name",
    "company",
    "role",
    "interview_date",
    "highlight",
    "excitement",
    "sender_name",
)
TEMPLATE_FIELDS: tuple[str, ...] = (
    "thank_you_subject",
    "thank_you_body",
    "check_in_subject",
    "check_in_body",
)
DRAFT_KINDS: tuple[str, ...] = ("thank_you", "check_in")

# Used when the follow-up has no recipient yet: "Hi there," and "Dear Hiring Team," both read well.
NO_RECIPIENT_FIRST_NAME = "there"
NO_RECIPIENT_NAME = "Hiring Team"

_ALLOWED = frozenset(PLACEHOLDERS)
_ALLOWED_LIST = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
# Leftmost alternative wins, so "{{" and "}}" are read as escapes before anything else.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_LONGEST_NAME_SHOWN = 40
_FORMAT_SYNTAX = re.compile(r"[.!:\[\]]")

_HONORIFICS = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "miss"})
_TRAILING_PUNCTUATION = ".,;:!? \t\r\n"
# A phrase that opens with one of these words is lowercased when it moves into mid-sentence.
_LOWERCASE_OPENERS = frozenset(
    {"a", "an", "the", "this", "that", "these", "those", "my", "our", "your", "its", "their"}
    | {"how", "what", "why", "when", "where", "working", "being", "helping", "building"}
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DEFAULT_SUBJECTS = {
    "thank_you": "Thank you — {role} interview",
    "check_in": "Following up on my {role} interview",
}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class TemplateError(ValueError):
    """A user template that is not valid; ``message`` says why in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class DraftContext:
    """What a draft is about; ``recipient_name`` is None while the follow-up has nobody yet."""

    recipient_name: str | None
    company: str
    role: str
    interview_date: date  # the interview's local date
    highlight: str | None
    excitement: str | None
    sender_name: str


@dataclass(frozen=True)
class UserTemplates:
    """A user's own templates; None means the default wording."""

    thank_you_subject: str | None = None
    thank_you_body: str | None = None
    check_in_subject: str | None = None
    check_in_body: str | None = None


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str


def _shown(name: str) -> str:
    if len(name) > _LONGEST_NAME_SHOWN:
        name = name[:_LONGEST_NAME_SHOWN] + "…"
    return f"{{{name}}}"


def _unknown_placeholder(name: str) -> TemplateError:
    if not name.strip():
        return TemplateError(
            f"empty placeholder {_shown(name)}; use one of {_ALLOWED_LIST}"
            " (or write {{ and }} for literal braces)"
        )
    # "{company!r}", "{company.upper}", "{role:>10}": say plainly that only bare names work.
    bare = _FORMAT_SYNTAX.split(name, maxsplit=1)[0]
    guess = difflib.get_close_matches(bare.strip().lower().replace(" ", "_"), PLACEHOLDERS, n=1)
    hint = f" (did you mean {{{guess[0]}}}?)" if guess else ""
    if bare != name:
        hint += " — placeholders take no attributes, indexes, conversions or formats"
    return TemplateError(
        f"unknown placeholder {_shown(name)}{hint}; use one of {_ALLOWED_LIST}"
        " (or write {{ and }} for literal braces)"
    )


def _parse(text: str) -> list[tuple[str, str | None]]:
    """Split a template into (literal, placeholder-or-None) pieces, or raise TemplateError."""
    pieces: list[tuple[str, str | None]] = []
    literal: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
        elif token == "{":
            raise TemplateError(
                f"unmatched '{{' (character {match.start() + 1}); write '{{{{' for a literal brace"
            )
        elif token == "}":
            raise TemplateError(
                f"single '}}' must be written '}}}}' (character {match.start() + 1})"
            )
        else:
            name = match.group(1)
            if name not in _ALLOWED:
                raise _unknown_placeholder(name)
            pieces.append(("".join(literal), name))
            literal = []
    literal.append(text[position:])
    pieces.append(("".join(literal), None))
    return pieces


def validate_template(text: str) -> None:
    """Raise TemplateError unless every ``{…}`` in ``text`` is a known placeholder."""
    _parse(text)


def render_template(text: str, values: Mapping[str, str]) -> str:
    """Fill in a template in one pass: values go in verbatim and are never read as a template.

    Raises TemplateError for an invalid template and KeyError when ``values`` lacks one of
    the placeholders the template uses (``placeholder_values`` always has them all).
    """
    out: list[str] = []
    for literal, name in _parse(text):
        out.append(literal)
        if name is not None:
            out.append(values[name])
    return "".join(out)


def _one_line(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _phrase(text: str | None) -> str:
    # Trailing punctuation goes, because templates put the phrase inside their own sentence.
    return _one_line(text).rstrip(_TRAILING_PUNCTUATION)


def _first_name(name: str) -> str:
    words = name.split()
    given = [word for word in words if word.rstrip(".").lower() not in _HONORIFICS]
    if not given:
        return name
    if len(given) == 1 and len(words) > 1:
        return name  # "Dr. Smith": the title and surname, rather than a bare "Smith"
    return given[0]


def format_interview_date(day: date) -> str:
    """The date as "Tuesday, March 3", in English whatever the process locale."""
    return f"{_WEEKDAYS[day.weekday()]}, {_MONTHS[day.month - 1]} {day.day}"


def placeholder_values(ctx: DraftContext) -> dict[str, str]:
    """The value of every placeholder for this context.

    Whitespace runs (line breaks included) become single spaces. Without a recipient,
    ``recipient_first_name`` is "there" and ``recipient_name`` is "Hiring Team";
    ``recipient_first_name`` skips an honorific ("Dr. Jane Doe" -> "Jane") but keeps it when
    only a surname follows ("Dr. Smith"). ``highlight`` and ``excitement`` are "" when not
    given and lose trailing punctuation, so "about {highlight}." does not end in "..".
    """
    name = _one_line(ctx.recipient_name)
    return {
        "recipient_first_name": _first_name(name) if name else NO_RECIPIENT_FIRST_NAME,
        "recipient_name": name or NO_RECIPIENT_NAME,
        "company": _one_line(ctx.company),
        "role": _one_line(ctx.role),
        "interview_date": format_interview_date(ctx.interview_date),
        "highlight": _phrase(ctx.highlight),
        "excitement": _phrase(ctx.excitement),
        "sender_name": _one_line(ctx.sender_name),
    }


def _mid_sentence(phrase: str) -> str:
    first, _, rest = phrase.partition(" ")
    if first.lower() in _LOWERCASE_OPENERS and first == first.capitalize():
        return f"{first.lower()} {rest}" if rest else first.lower()
    return phrase


def _paragraphs(greeting: str, paragraphs: list[list[str]], sender: str) -> str:
    sign_off = f"Best regards,\n{sender}" if sender else "Best regards,"
    middle = [" ".join(sentence for sentence in p if sentence) for p in paragraphs]
    return "\n\n".join([greeting, *(p for p in middle if p), sign_off])


def _default_thank_you_body(values: Mapping[str, str]) -> str:
    highlight = _mid_sentence(values["highlight"])
    excitement = _mid_sentence(values["excitement"])
    return _paragraphs(
        f"Hi {values['recipient_first_name']},",
        [
            [
                "Thank you for taking the time to speak with me about the"
                f" {values['role']} position at {values['company']}.",
                f"I especially enjoyed our conversation about {highlight}." if highlight else "",
            ],
            [
                f"What excites me most about the role is {excitement}." if excitement else "",
                "I would love to contribute to the team, and I look forward to hearing from you.",
            ],
        ],
        values["sender_name"],
    )


def _default_check_in_body(values: Mapping[str, str]) -> str:
    excitement = _mid_sentence(values["excitement"])
    return _paragraphs(
        f"Hi {values['recipient_first_name']},",
        [
            [
                "I hope you're doing well. I wanted to follow up on my interview for the"
                f" {values['role']} position at {values['company']} on"
                f" {values['interview_date']}.",
            ],
            [
                (
                    f"I'm still very excited about the opportunity, especially {excitement}."
                    if excitement
                    else "I'm still very excited about the opportunity."
                ),
                "Could you let me know if there is any update on the next steps or the timeline?",
            ],
            ["Thank you for your time, and I look forward to hearing from you."],
        ],
        values["sender_name"],
    )


def render_draft(kind: str, ctx: DraftContext, templates: UserTemplates) -> Draft:
    """The draft of a ``thank_you`` or ``check_in``, from the user's templates or the defaults.

    A user's template is rendered exactly as written. The default bodies are built sentence by
    sentence, so a missing highlight or excitement drops its sentence instead of leaving a gap.
    """
    if kind == "thank_you":
        subject_template, body_template = templates.thank_you_subject, templates.thank_you_body
    elif kind == "check_in":
        subject_template, body_template = templates.check_in_subject, templates.check_in_body
    else:
        raise ValueError(f"no draft for follow-up kind {kind!r}; expected one of {DRAFT_KINDS}")
    values = placeholder_values(ctx)
    if subject_template is None:
        subject_template = _DEFAULT_SUBJECTS[kind]
    if body_template is not None:
        body = render_template(body_template, values)
    elif kind == "thank_you":
        body = _default_thank_you_body(values)
    else:
        body = _default_check_in_body(values)
    return Draft(subject=render_template(subject_template, values), body=body)


def default_template(field: str) -> str:
    """The built-in wording of one of ``TEMPLATE_FIELDS``, written as a template to show users.

    The built-in bodies also drop the highlight or excitement sentence when an interview has
    none, which a template cannot say; with both given they read exactly like this.
    """
    kind, _, part = field.rpartition("_")
    if kind not in DRAFT_KINDS or part not in ("subject", "body"):
        raise ValueError(f"no template field {field!r}; expected one of {TEMPLATE_FIELDS}")
    if part == "subject":
        return _DEFAULT_SUBJECTS[kind]
    as_written = {name: f"{{{name}}}" for name in PLACEHOLDERS}
    if kind == "thank_you":
        return _default_thank_you_body(as_written)
    return _default_check_in_body(as_written)


# Percent-encoding as urllib.parse.quote(text, safe="") does it (RFC 3986 unreserved
# characters kept, every other UTF-8 byte as %XX): one str.replace per kind of character
# that needs it, each a scan in C. A Today card encodes its whole draft, and a per-character
# loop (quote's, or joining each byte's code) cost 3-4 times as much.
_PERCENT = [f"%{byte:02X}" for byte in range(256)]
for _byte in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~":
    _PERCENT[_byte] = chr(_byte)
_PERCENT_OF = _PERCENT.__getitem__
# The ASCII characters to encode, "%" first: the others bring a "%" of their own.
_ASCII_ENCODED = sorted(
    ((chr(byte), code) for byte, code in enumerate(_PERCENT[:128]) if len(code) == 3),
    key=lambda pair: pair[0] != "%",
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def percent_encode(text: str) -> str:
    """``urllib.parse.quote(text, safe="")``, faster."""
    if len(text) < 64:  # a subject: joining its few bytes' codes beats 62 scans
        return "".join(map(_PERCENT_OF, text.encode()))
    for char, code in _ASCII_ENCODED:
        if char in text:
            text = text.replace(char, code)
    if not text.isascii():
        for char in set(_NON_ASCII.findall(text)):
            text = text.replace(char, "".join(map(_PERCENT_OF, char.encode())))
    return text


def mailto_url(address: str | None, subject: str, body: str) -> str:
    """A ``mailto:`` link (RFC 6068) that opens the draft in any mail client.

    The address goes in as is; subject and body are percent-encoded as UTF-8 (a space is %20),
    the body's line breaks become %0D%0A, and a line break in the subject becomes a space
    because a header cannot hold one.
    """
    one_line_subject = _LINE_BREAK.sub(" ", subject)
    # A draft's line breaks are \n: one replace, where the expression costs as much as encoding.
    crlf_body = _LINE_BREAK.sub("\r\n", body) if "\r" in body else body.replace("\n", "\r\n")
    return (
        f"mailto:{address or ''}"
        f"?subject={percent_encode(one_line_subject)}&body={percent_encode(crlf_body)}"
    )
