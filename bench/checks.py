"""What counts as a good answer, for the load (wrk's Lua, the Python loops) and the check
before it.

A user does not care that an answer was a 2xx: a 204 with `HX-Redirect` (a dead session
sends the browser to the sign-in page), a 303 to /login or an empty page is a failure. Each
workload says which statuses, which content type and which pieces of content it expects;
`unexpected` and the Lua `response` callback apply the same rule to every answer, of the
product and of the baseline alike. Before the load, `check_workload` sends each workload's
requests once (a spread sample) and compares what the product answers with what the raw
baseline answers for the same user: the same follow-up ids (a list in the same order).
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

SAMPLE = 12  # requests checked per workload before the load (spread over its list)
TODAY_CARD = re.compile(r'id="followup-([0-9a-f-]{36})"')


@dataclass(frozen=True)
class Expect:
    """A good answer: one of these statuses, this content type, and (when the body is not
    compressed) every marker in the body. Never an `HX-Redirect`."""

    statuses: tuple[int, ...] = (200,)
    content_type: str = "application/json"
    markers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Request:
    """One request of a workload. `twin`: the baseline requests (path, headers) whose
    follow-up ids, together and in order, are the ids this answer must show."""

    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None
    twin: tuple[tuple[str, dict[str, str]], ...] = ()


@dataclass(frozen=True)
class Workload:
    """One endpoint (or mix): the requests the load picks from, at random, per request."""

    name: str
    requests: list[Request]
    expect: Expect = field(default_factory=Expect)


def header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def unexpected(expect: Expect, status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """Why a user would not take this answer as the one asked for, or None. `body` is as
    received: markers are looked for only when it is not compressed (as in wrk's Lua)."""
    if status not in expect.statuses:
        return f"status {status}"
    if header(headers, "hx-redirect") is not None:
        return f"HX-Redirect to {header(headers, 'hx-redirect')}"
    content_type = header(headers, "content-type") or ""
    if not content_type.startswith(expect.content_type):
        return f"content-type {content_type or 'missing'}"
    if header(headers, "content-encoding") is None:
        for marker in expect.markers:
            if marker.encode() not in body:
                return f"no {marker!r} in the body"
    return None


# The same rule in wrk's Lua (one Lua state per thread; `done` adds the threads' counts).
LUA_CHECK = """
local expect_status = {%(statuses)s}
local expect_type = %(content_type)s
local expect_markers = {%(markers)s}
local threads = {}
unexpected = 0
first_unexpected = ""
setup = function(thread) table.insert(threads, thread) end
local function header(headers, name)
  for k, v in pairs(headers) do
    if string.lower(k) == name then return v end
  end
  return nil
end
response = function(status, headers, body)
  local why = nil
  if not expect_status[status] then
    why = "status " .. status
  elseif header(headers, "hx-redirect") then
    why = "HX-Redirect to " .. header(headers, "hx-redirect")
  elseif string.sub(header(headers, "content-type") or "", 1, #expect_type) ~= expect_type then
    why = "content-type " .. (header(headers, "content-type") or "missing")
  elseif not header(headers, "content-encoding") then
    for _, marker in ipairs(expect_markers) do
      if not string.find(body or "", marker, 1, true) then
        why = "no " .. marker .. " in the body"
        break
      end
    end
  end
  if why then
    unexpected = unexpected + 1
    if first_unexpected == "" then first_unexpected = why end
  end
end
local function tally()
  local count, first = 0, ""
  for _, thread in ipairs(threads) do
    count = count + (thread:get("unexpected") or 0)
    local why = thread:get("first_unexpected") or ""
    if first == "" then first = why end
  end
  return count, (string.gsub(first, '[^%%w%%s%%-%%./:;=_]', '?'))
end
"""


def lua_check(expect: Expect) -> str:
    def quote(s: str) -> str:
        return json.dumps(s)  # a JSON string is a valid Lua string here (ASCII only)

    return LUA_CHECK % {
        "statuses": ",".join(f"[{s}]=true" for s in expect.statuses),
        "content_type": quote(expect.content_type),
        "markers": ",".join(quote(m) for m in expect.markers),
    }


# ---------------------------------------------------------------- the check before the load


class CheckFailed(SystemExit):
    """A workload does not answer as expected: loading it would measure the wrong thing."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    raw: bytes  # as received (compressed if it was)
    body: bytes  # decoded
    header_bytes: int


def fetch(client: httpx.Client, request: Request | tuple[str, dict[str, str]]) -> Answer:
    if isinstance(request, Request):
        method, path, headers, body = request.method, request.path, request.headers, request.body
    else:
        method, (path, headers), body = "GET", request, None
    # Like wrk and the open loop: no Accept-Encoding unless the workload sends one.
    headers = {"Accept-Encoding": "identity", **headers}
    sent = client.build_request(method, path, headers=headers, content=body)
    response = client.send(sent, stream=True)
    encoding = (header(response.headers, "content-encoding") or "identity").lower()
    try:
        raw = b"".join(response.iter_raw())
        decoded = gzip.decompress(raw) if encoding == "gzip" else raw
    except httpx.StreamConsumed:  # already read (an empty answer): no raw bytes to see
        raw = decoded = response.content
    finally:
        response.close()
    head = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n\r\n")
    head += sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
    return Answer(response.status_code, dict(response.headers), raw, decoded, head)


def followup_ids(answer: Answer) -> list[str]:
    """The follow-up ids an answer shows: a JSON page's items, or Today's cards."""
    if (header(answer.headers, "content-type") or "").startswith("application/json"):
        data = json.loads(answer.body)
        return [str(item["id"]) for item in data.get("items", [])]
    return TODAY_CARD.findall(answer.body.decode())


def _sample(requests: Sequence[Request], size: int = SAMPLE) -> list[Request]:
    if len(requests) <= size:
        return list(requests)
    step = len(requests) / size
    return [requests[int(i * step)] for i in range(size)]


def check_workload(
    workload: Workload,
    product: httpx.Client,
    baseline: httpx.Client | None,
    *,
    server: str = "product",
) -> dict[str, Any]:
    """Send a spread sample of the workload's requests once; raise CheckFailed on the first
    answer a user would not take, or whose follow-ups differ from the baseline's. Returns
    the answers' sizes (medians): decoded, on the wire as the load asks, and with
    `Accept-Encoding: gzip` as a browser asks; and how many follow-ups they show."""
    raw, wire, zipped_wire, items = [], [], [], []
    for request in _sample(workload.requests):
        answer = fetch(product, request)
        what = f"{workload.name}: {request.method} {request.path} on {server}"
        why = unexpected(workload.expect, answer.status, answer.headers, answer.raw)
        if why is None and header(answer.headers, "content-encoding") is not None:
            plain = {k: v for k, v in answer.headers.items() if k.lower() != "content-encoding"}
            why = unexpected(workload.expect, answer.status, plain, answer.body)  # markers
        if why is not None:
            raise CheckFailed(f"check before the load failed — {what}: {why}")
        raw.append(len(answer.body))
        wire.append(len(answer.raw) + answer.header_bytes)
        if request.method == "GET":
            zipped = fetch(
                product,
                Request("GET", request.path, {**request.headers, "Accept-Encoding": "gzip"}),
            )
            zipped_wire.append(len(zipped.raw) + zipped.header_bytes)
        lists = _lists_followups(answer)
        shown = followup_ids(answer) if lists else []
        if lists and request.method == "GET":
            items.append(len(shown))
        if request.twin and baseline is not None:
            expected: list[str] = []
            for twin in request.twin:
                other = fetch(baseline, twin)
                if other.status != 200:
                    raise CheckFailed(
                        f"check before the load failed — {what}: the baseline answered "
                        f"{other.status} to {twin[0]}"
                    )
                expected += followup_ids(other)
            # A list in the same order; Today (three sections) the same follow-ups.
            same = (
                shown == expected if len(request.twin) == 1 else sorted(shown) == sorted(expected)
            )
            if not same or len(set(shown)) != len(shown):
                raise CheckFailed(
                    f"check before the load failed — {what}: follow-ups {len(shown)} shown, "
                    f"{len(expected)} from the baseline; differing: "
                    f"{sorted(set(shown) ^ set(expected))[:3]}"
                )

        if request.method == "POST" and baseline is not None:
            other = fetch(baseline, request)
            made, made_there = _created(answer), _created(other)
            if made != made_there:
                raise CheckFailed(
                    f"check before the load failed — {what}: created {made} (people, follow-ups), "
                    f"the baseline {made_there}"
                )

    def med(values: list[int]) -> int | None:
        return int(statistics.median(values)) if values else None

    return {
        "checked": len(raw),
        "raw_bytes": med(raw),
        "wire_bytes": med(wire),
        "gzip_wire_bytes": med(zipped_wire),
        "followups_shown": med(items),
        "followups_mean": round(statistics.mean(items), 1) if items else None,
    }


def _lists_followups(answer: Answer) -> bool:
    content_type = header(answer.headers, "content-type") or ""
    if content_type.startswith("text/html"):
        return True
    try:
        data = json.loads(answer.body)
    except ValueError:
        return False
    return isinstance(data, dict) and "items" in data


def _created(answer: Answer) -> tuple[int, int]:
    """How many people and follow-ups a create answer says it made."""
    data = json.loads(answer.body)
    return len(data.get("people", [])), len(data.get("followups", []))
