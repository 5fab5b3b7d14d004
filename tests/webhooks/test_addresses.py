"""Which webhook URLs may be reached: every odd spelling of a private address is refused."""

from __future__ import annotations

import ipaddress

import pytest

from app.webhooks import addresses
from app.webhooks.addresses import Refused, parse_allow

NOTHING = parse_allow("")

REFUSED = [
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://127.1/",
    "http://0x7f000001/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::1]/",
    "http://[::]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://app.localhost/",
    "https://127.0.0.1:8443/hook",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_private_loopback_and_odd_spellings_are_refused(url: str) -> None:
    with pytest.raises(Refused):
        await addresses.check_url(url, NOTHING)


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "javascript:alert(1)", "http:///x"],
)
async def test_only_http_and_https_with_a_host(url: str) -> None:
    with pytest.raises(Refused):
        await addresses.check_url(url, NOTHING)


@pytest.mark.parametrize("url", ["http://256.1.1.1/", "http://1.2.3.4.5/", "http://0x1g.1/"])
def test_malformed_numeric_hosts_are_refused(url: str) -> None:
    with pytest.raises(Refused):
        addresses.parse(url)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0x7f.0.0.0x1", "127.0.0.1"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("example.com", None),
        ("1a.example", None),
    ],
)
def test_numeric_hosts_are_read_as_browsers_read_them(host: str, address: str | None) -> None:
    expected = ipaddress.IPv4Address(address) if address else None
    assert addresses.ipv4_literal(host) == expected


@pytest.mark.parametrize("url", [*REFUSED[:-4], "http://localhost/"])
async def test_an_allowed_network_or_host_may_be_reached(url: str) -> None:
    allow = parse_allow(
        "127.0.0.0/8, ::1, ::, ::ffff:0:0/96, 0.0.0.0/8, 169.254.0.0/16, fe80::/10, 10.0.0.0/8,"
        "172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fd00::/8, 224.0.0.0/4, ff00::/8,"
        "240.0.0.0/4, localhost"
    )
    await addresses.check_url(url, allow)


def test_an_allowed_address_does_not_allow_others() -> None:
    allow = parse_allow("127.0.0.1")
    addresses.check_address(ipaddress.ip_address("127.0.0.1"), allow)
    with pytest.raises(Refused):
        addresses.check_address(ipaddress.ip_address("127.0.0.2"), allow)
    with pytest.raises(Refused):
        addresses.check_address(ipaddress.ip_address("10.0.0.1"), allow)


async def test_a_name_resolving_to_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def to_metadata(host: str, port: int) -> list[addresses.IPAddress]:
        return [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("169.254.169.254")]

    monkeypatch.setattr(addresses, "resolve", to_metadata)
    with pytest.raises(Refused, match="link-local"):
        await addresses.check_url("https://rebind.example/hook", NOTHING)


async def test_public_addresses_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    async def public(host: str, port: int) -> list[addresses.IPAddress]:
        return [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("2606:2800:21f::1")]

    monkeypatch.setattr(addresses, "resolve", public)
    target = await addresses.check_url("https://hooks.example/x?y=1", NOTHING)
    assert (target.host, target.port, target.path) == ("hooks.example", 443, "/x?y=1")
    await addresses.check_url("http://93.184.215.14:8080/", NOTHING)


# IPv6 transition addresses carry an IPv4 address inside them; a host with the matching
# tunnel or translator would take a packet for one to that IPv4 address.
EMBEDDED = {
    "loopback": "127.0.0.1",
    "private": "10.1.2.3",
    "link-local": "169.254.169.254",
    "public": "93.184.215.14",
}
TEREDO_PUBLIC = ipaddress.IPv4Address("65.54.227.120")


def six_to_four(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(0x2002 << 112 | int(v4) << 80 | 1)


def teredo(server: ipaddress.IPv4Address, client: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    # 2001:0:<server>:<flags>:<port ^ ffff>:<client ^ ffffffff>
    return ipaddress.IPv6Address(
        0x20010000 << 96
        | int(server) << 64
        | 0x8000 << 48
        | 0x63BF << 32
        | int(client) ^ 0xFFFFFFFF
    )


def nat64(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(v4))


def nat64_local(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b:1::")) | int(v4))


def mapped(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(0xFFFF << 32 | int(v4))


def compatible(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(int(v4))


FORMS = {
    "6to4": six_to_four,
    "teredo client": lambda v4: teredo(TEREDO_PUBLIC, v4),
    "teredo server": lambda v4: teredo(v4, TEREDO_PUBLIC),
    "nat64": nat64,
    "nat64 local-use": nat64_local,
    "ipv4-mapped": mapped,
    "ipv4-compatible": compatible,
}
# Only the well-known NAT64 prefix leads to a public IPv4 address the way a DNS64 resolver
# means it; 6to4 and Teredo are deprecated and refused whatever they carry (README, Webhooks).
REACHABLE_WHEN_PUBLIC = {"nat64"}

TRANSITION_CASES = [
    pytest.param(form, kind, id=f"{form}-{kind}") for form in FORMS for kind in EMBEDDED
]


@pytest.mark.parametrize(("form", "kind"), TRANSITION_CASES)
async def test_transition_addresses_are_judged_by_the_ipv4_address_they_carry(
    form: str, kind: str
) -> None:
    v4 = ipaddress.IPv4Address(EMBEDDED[kind])
    address = FORMS[form](v4)
    url = f"http://[{address}]/hook"
    if kind == "public" and form in REACHABLE_WHEN_PUBLIC:
        assert addresses.refusal(address) is None
        await addresses.check_url(url, NOTHING)
        return
    with pytest.raises(Refused) as refused:
        await addresses.check_url(url, NOTHING)
    if kind != "public":
        # The message names what the address leads to, not only how it is spelled.
        assert f"{v4}, a {kind} address" in str(refused.value), str(refused.value)


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("2002:7f00:1::", ["127.0.0.1"]),
        ("2002:808:808::1", ["8.8.8.8"]),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", ["65.54.227.120", "192.0.2.45"]),
        ("64:ff9b::7f00:1", ["127.0.0.1"]),
        ("64:ff9b:1::a01:203", ["10.1.2.3"]),
        ("::ffff:a9fe:a9fe", ["169.254.169.254"]),
        ("::7f00:1", ["127.0.0.1"]),
        ("::1", []),
        ("::", []),
        ("2606:2800:21f::1", []),
        ("8.8.8.8", []),
    ],
)
def test_the_ipv4_addresses_inside_a_transition_address(address: str, embedded: list[str]) -> None:
    found = addresses.embedded_ipv4(ipaddress.ip_address(address))
    assert [str(a) for a in found] == embedded


def test_a_transition_address_may_be_allowed_like_any_other() -> None:
    allow = parse_allow("2002::/16, 64:ff9b::/96")
    addresses.check_address(six_to_four(ipaddress.IPv4Address("10.1.2.3")), allow)
    addresses.check_address(nat64(ipaddress.IPv4Address("127.0.0.1")), allow)
    with pytest.raises(Refused):
        addresses.check_address(teredo(TEREDO_PUBLIC, ipaddress.IPv4Address("10.1.2.3")), allow)
