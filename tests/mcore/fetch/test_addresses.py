"""Which addresses a fetch may connect to, judged on literal addresses (no network)."""

from __future__ import annotations

import ipaddress

import pytest

from mcore.fetch import addresses
from mcore.fetch.addresses import AllowList, check_address, embedded_v4, refusal

REFUSED = [
    # IPv4
    ("127.0.0.1", addresses.LOOPBACK),
    ("127.255.255.254", addresses.LOOPBACK),
    ("10.0.0.1", addresses.PRIVATE),
    ("172.16.0.1", addresses.PRIVATE),
    ("172.31.255.255", addresses.PRIVATE),
    ("192.168.1.1", addresses.PRIVATE),
    ("169.254.1.1", addresses.LINK_LOCAL),
    ("169.254.169.254", addresses.METADATA),
    ("169.254.170.2", addresses.METADATA),
    ("168.63.129.16", addresses.METADATA),
    ("100.100.100.200", addresses.METADATA),
    ("100.64.0.1", addresses.CGNAT),
    ("100.127.255.255", addresses.CGNAT),
    ("0.0.0.0", addresses.UNSPECIFIED),
    ("0.1.2.3", addresses.RESERVED),
    ("224.0.0.1", addresses.MULTICAST),
    ("239.255.255.250", addresses.MULTICAST),
    ("255.255.255.255", addresses.MULTICAST),
    ("240.0.0.1", addresses.RESERVED),
    ("192.0.0.8", addresses.RESERVED),
    ("192.0.2.1", addresses.DOCUMENTATION),
    ("198.18.0.1", addresses.DOCUMENTATION),
    ("198.51.100.7", addresses.DOCUMENTATION),
    ("203.0.113.9", addresses.DOCUMENTATION),
    ("192.88.99.1", addresses.RESERVED),
    # IPv6
    ("::1", addresses.LOOPBACK),
    ("::", addresses.UNSPECIFIED),
    ("fe80::1", addresses.LINK_LOCAL),
    ("fc00::1", addresses.PRIVATE),
    ("fd12:3456::1", addresses.PRIVATE),
    ("fec0::1", addresses.PRIVATE),
    ("fd00:ec2::254", addresses.METADATA),
    ("ff02::1", addresses.MULTICAST),
    ("ff05::2", addresses.MULTICAST),
    ("2001:db8::1", addresses.DOCUMENTATION),
    ("3fff::1", addresses.DOCUMENTATION),
    ("100::1", addresses.RESERVED),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", addresses.RESERVED),  # Teredo
    ("2001:10::1", addresses.RESERVED),
    ("64:ff9b:1::a00:1", addresses.PRIVATE),
]

# IPv6 forms that carry an IPv4 address are judged by the address they carry.
CARRIED = [
    ("::ffff:127.0.0.1", "127.0.0.1", addresses.LOOPBACK),  # mapped
    ("::ffff:7f00:1", "127.0.0.1", addresses.LOOPBACK),
    ("::ffff:169.254.169.254", "169.254.169.254", addresses.METADATA),
    ("::ffff:10.1.2.3", "10.1.2.3", addresses.PRIVATE),
    ("::127.0.0.1", "127.0.0.1", addresses.LOOPBACK),  # compatible
    ("::10.0.0.1", "10.0.0.1", addresses.PRIVATE),
    ("2002:7f00:1::", "127.0.0.1", addresses.LOOPBACK),  # 6to4
    ("2002:a9fe:a9fe::1", "169.254.169.254", addresses.METADATA),
    ("2002:c0a8:101::", "192.168.1.1", addresses.PRIVATE),
    ("64:ff9b::127.0.0.1", "127.0.0.1", addresses.LOOPBACK),  # NAT64
    ("64:ff9b::a9fe:a9fe", "169.254.169.254", addresses.METADATA),
    ("64:ff9b::6440:1", "100.64.0.1", addresses.CGNAT),
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",  # just below the CGNAT range
    "100.128.0.0",  # just above it
    "172.32.0.1",  # just above 172.16.0.0/12
    "169.253.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4007:80e::200e",
    "::ffff:8.8.8.8",  # mapped public address
    "64:ff9b::808:808",  # NAT64 of a public address
    "2002:808:808::1",  # 6to4 of a public address
]


@pytest.mark.parametrize(("text", "why"), REFUSED)
def test_internal_addresses_are_refused_with_their_reason(text: str, why: str) -> None:
    assert refusal(ipaddress.ip_address(text)) == why


@pytest.mark.parametrize(("text", "carried", "why"), CARRIED)
def test_ipv6_forms_of_ipv4_addresses_are_judged_by_what_they_carry(
    text: str, carried: str, why: str
) -> None:
    address = ipaddress.ip_address(text)
    assert isinstance(address, ipaddress.IPv6Address)
    assert embedded_v4(address) == ipaddress.IPv4Address(carried)
    assert refusal(address) == f"{why} in an IPv6 form (it carries {carried})"


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_pass(text: str) -> None:
    assert refusal(ipaddress.ip_address(text)) is None


def test_an_ipv4_compatible_form_of_a_public_address_is_refused_too() -> None:
    # deprecated (RFC 4291) and not routed: nothing legitimate is reached through it
    assert refusal(ipaddress.ip_address("::8.8.8.8")) == (
        "a deprecated IPv4-compatible IPv6 address"
    )


def test_the_allow_list_takes_names_addresses_and_networks() -> None:
    allow = AllowList.parse(["127.0.0.1", "10.1.0.0/16", "[fd00::1]", "Files.Internal."])
    assert allow.allows_address(ipaddress.ip_address("127.0.0.1"))
    assert allow.allows_address(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert allow.allows_address(ipaddress.ip_address("10.1.200.3"))
    assert allow.allows_address(ipaddress.ip_address("fd00::1"))
    assert not allow.allows_address(ipaddress.ip_address("127.0.0.2"))
    assert not allow.allows_address(ipaddress.ip_address("10.2.0.1"))
    assert not allow.allows_address(ipaddress.ip_address("::1"))
    assert allow.allows_name("files.internal")
    assert allow.allows_name("FILES.INTERNAL.")
    assert not allow.allows_name("other.internal")


def test_check_address_names_the_host_the_address_and_the_setting() -> None:
    empty = AllowList.parse([])
    why = check_address(ipaddress.ip_address("10.0.0.5"), "nas.example.org", empty)
    assert why == (
        "nas.example.org (10.0.0.5) is a private network address; fetches reach public"
        " addresses only (an operator can allow an internal source in fetch.allowed_hosts)"
    )
    literal = check_address(ipaddress.ip_address("127.0.0.1"), "127.0.0.1", empty)
    assert literal is not None
    assert literal.startswith("127.0.0.1 is a loopback address (this machine);")
    assert check_address(ipaddress.ip_address("8.8.8.8"), "dns.google", empty) is None
    allowed = AllowList.parse(["nas.example.org"])
    assert check_address(ipaddress.ip_address("10.0.0.5"), "nas.example.org", allowed) is None
    assert check_address(ipaddress.ip_address("10.0.0.5"), "other.example.org", allowed)
