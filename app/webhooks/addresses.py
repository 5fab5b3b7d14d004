"""Where a webhook may point: http(s) only, and never at this host or a private network
(server-side request forgery) unless the instance allows it in FOLLOWUP_WEBHOOK_ALLOW."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

RESOLVE_TIMEOUT_SECONDS = 5.0


class Refused(ValueError):
    """The URL or an address it leads to may not be reached."""


@dataclass(frozen=True)
class Allow:
    """What the admin allows although private: host names, and networks."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    def allows_host(self, host: str) -> bool:
        return host in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address.version == n.version and address in n for n in self.networks)


def parse_allow(text: str) -> Allow:
    """`FOLLOWUP_WEBHOOK_ALLOW`: comma-separated host names or networks (`10.0.0.0/8`, `::1`)."""
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for item in (part.strip().lower() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            hosts.add(item.rstrip("."))
    return Allow(frozenset(hosts), tuple(networks))


@dataclass(frozen=True)
class Target:
    """A parsed webhook URL: scheme, host (lower case, no trailing dot), port, path."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, at least "/"
    literal: IPAddress | None  # the host, when it is an address however spelled

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _ipv4_number(part: str) -> int | None:
    """One part of a numbers-and-dots IPv4 host, as URL parsers read it: 0x… hex, 0… octal."""
    try:
        if part[:2].lower() == "0x":
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """`2130706433`, `0x7f.1`, `017700000001`, `127.1` and `127.0.0.1` are all 127.0.0.1
    to browsers and to `inet_aton`; None when `host` is a name. A malformed number is refused."""
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts.pop()
    if not parts or _ipv4_number(parts[-1]) is None:
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise Refused("the host looks like an IP address but is not a valid one")
    values = [n for n in numbers if n is not None]
    *head, last = values
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(values)):
        raise Refused("the host looks like an IP address but is not a valid one")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def parse(url: str) -> Target:
    try:
        parts: SplitResult = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise Refused(f"not a valid URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("only http and https URLs are allowed")
    if parts.username is not None or parts.password is not None:
        raise Refused("credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise Refused("the URL has no host")
    literal: IPAddress | None
    if ":" in host:
        try:
            literal = ipaddress.IPv6Address(host)
        except ValueError:
            raise Refused("the host is not a valid IPv6 address") from None
    else:
        literal = ipv4_literal(host)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        scheme=scheme,
        host=str(literal) if literal is not None else host,
        port=port or (443 if scheme == "https" else 80),
        path=path,
        literal=literal,
    )


def _low_32_bits(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]


@dataclass(frozen=True)
class Transition:
    """An IPv6 form that carries an IPv4 address: a host with the matching tunnel or
    translator takes a packet for it to that IPv4 address."""

    network: ipaddress.IPv6Network
    name: str  # "a 6to4 address"
    carried: Callable[[ipaddress.IPv6Address], list[ipaddress.IPv4Address]]
    # Reachable when what it carries is: only the well-known NAT64 prefix, which a DNS64
    # resolver answers on an IPv6-only host for an IPv4-only server. The rest are
    # deprecated or site-local, and refused whatever they carry.
    reachable: bool = False


TRANSITIONS = (
    Transition(
        ipaddress.IPv6Network("::ffff:0:0/96"),
        "an IPv4-mapped IPv6 address",
        lambda a: [a.ipv4_mapped] if a.ipv4_mapped else [],
    ),
    Transition(
        ipaddress.IPv6Network("2002::/16"),
        "a 6to4 address",
        lambda a: [a.sixtofour] if a.sixtofour else [],
    ),
    # Teredo carries its server (bits 32-64) and its client (the last 32 bits, inverted).
    Transition(
        ipaddress.IPv6Network("2001::/32"), "a Teredo address", lambda a: list(a.teredo or ())
    ),
    Transition(ipaddress.IPv6Network("64:ff9b::/96"), "a NAT64 address", _low_32_bits, True),
    # Where a local-use prefix puts the IPv4 address depends on its length; read as /96.
    Transition(ipaddress.IPv6Network("64:ff9b:1::/48"), "a local-use NAT64 address", _low_32_bits),
    Transition(ipaddress.IPv6Network("::/96"), "an IPv4-compatible IPv6 address", _low_32_bits),
)


def transition(address: IPAddress) -> Transition | None:
    """The transition form `address` is written in, or None."""
    # `::` and `::1` are the unspecified and loopback addresses, not IPv4-compatible ones.
    if address.version == 4 or int(address) <= 1:
        return None
    return next((t for t in TRANSITIONS if address in t.network), None)


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 transition address carries; [] for any other address."""
    form = transition(address)
    if form is None:
        return []
    assert isinstance(address, ipaddress.IPv6Address)  # transition() holds only IPv6 forms
    return form.carried(address)


def _own_refusal(address: IPAddress) -> str | None:
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not public", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"a {name} address"
    return None


def refusal(address: IPAddress) -> str | None:
    """Why `address` may not be reached (by a webhook, or any connection a user chooses the
    destination of), or None when it is a public address. A transition address is refused
    when an IPv4 address it carries would be, and unless its form may be reached at all."""
    form = transition(address)
    if form is None:
        return _own_refusal(address)
    for carried in embedded_ipv4(address):
        reason = _own_refusal(carried)
        if reason is not None:
            return f"{form.name} that embeds {carried}, {reason}"
    return None if form.reachable else form.name


def check_address(address: IPAddress, allow: Allow) -> None:
    reason = refusal(address)
    if reason is not None and not allow.allows_address(address):
        raise Refused(f"{address} is {reason}")


def _is_local_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (a blocking lookup, run in a thread)."""
    infos = await asyncio.wait_for(
        asyncio.to_thread(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM),
        RESOLVE_TIMEOUT_SECONDS,
    )
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def checked_addresses(target: Target, allow: Allow) -> list[IPAddress]:
    """The addresses to connect to, every one checked; Refused when any is not allowed.
    Raises OSError (or TimeoutError) when the name does not resolve."""
    if target.literal is not None:
        if not allow.allows_host(target.host):
            check_address(target.literal, allow)
        return [target.literal]
    if allow.allows_host(target.host):
        return await resolve(target.host, target.port)
    if _is_local_name(target.host):
        # Names for this machine, whatever the resolver says about them.
        addresses: list[IPAddress] = [ipaddress.ip_address("127.0.0.1")]
    else:
        addresses = await resolve(target.host, target.port)
    if not addresses:
        raise OSError(f"{target.host} does not resolve")
    for address in addresses:
        check_address(address, allow)
    return addresses


async def check_url(url: str, allow: Allow) -> Target:
    """When saving: the URL parses, is http(s), and does not lead to a refused address.
    A name that does not resolve now is accepted: it is checked again at each delivery."""
    target = parse(url)
    with contextlib.suppress(OSError, TimeoutError):
        await checked_addresses(target, allow)
    return target
