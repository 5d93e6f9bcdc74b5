"""Which addresses a fetch may connect to.

A fetch made for a user must not reach the server's own machine, its network or a cloud
provider's metadata service (server-side request forgery). :func:`refusal` says why an
address is refused, or None for a public one; IPv6 forms that carry an IPv4 address
(mapped, compatible, 6to4, NAT64) are judged by the address they carry. The operator's
``fetch.allowed_hosts`` (:class:`AllowList`) lets chosen internal sources through.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(*pairs: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(net), why) for net, why in pairs)


LOOPBACK = "a loopback address (this machine)"
PRIVATE = "a private network address"
LINK_LOCAL = "a link-local address"
METADATA = "a cloud metadata service address"
MULTICAST = "a multicast or broadcast address"
UNSPECIFIED = "the unspecified address"
CGNAT = "a carrier-grade NAT (shared) address"
RESERVED = "a reserved or special-purpose address"
DOCUMENTATION = "a documentation or benchmarking address"

# Most specific first: the first network that holds the address names the reason.
BLOCKED_V4 = _nets(
    ("169.254.169.254/32", METADATA),  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
    ("169.254.170.2/32", METADATA),  # AWS ECS task metadata
    ("168.63.129.16/32", METADATA),  # Azure wire server (a public address)
    ("100.100.100.200/32", METADATA),  # Alibaba Cloud
    ("0.0.0.0/32", UNSPECIFIED),
    ("0.0.0.0/8", RESERVED),  # "this network"
    ("10.0.0.0/8", PRIVATE),
    ("100.64.0.0/10", CGNAT),
    ("127.0.0.0/8", LOOPBACK),
    ("169.254.0.0/16", LINK_LOCAL),
    ("172.16.0.0/12", PRIVATE),
    ("192.0.0.0/24", RESERVED),  # IETF protocol assignments
    ("192.0.2.0/24", DOCUMENTATION),
    ("192.88.99.0/24", RESERVED),  # 6to4 relay anycast
    ("192.168.0.0/16", PRIVATE),
    ("198.18.0.0/15", DOCUMENTATION),
    ("198.51.100.0/24", DOCUMENTATION),
    ("203.0.113.0/24", DOCUMENTATION),
    ("224.0.0.0/4", MULTICAST),
    ("255.255.255.255/32", MULTICAST),
    ("240.0.0.0/4", RESERVED),
)
BLOCKED_V6 = _nets(
    ("fd00:ec2::254/128", METADATA),  # AWS's metadata service over IPv6
    ("::/128", UNSPECIFIED),
    ("::1/128", LOOPBACK),
    ("64:ff9b:1::/48", PRIVATE),  # local-use NAT64
    ("100::/64", RESERVED),  # discard-only
    ("2001::/32", RESERVED),  # Teredo: the IPv4 address inside is obfuscated
    ("2001:2::/48", DOCUMENTATION),
    ("2001:10::/28", RESERVED),  # ORCHID
    ("2001:20::/28", RESERVED),  # ORCHIDv2
    ("2001:db8::/32", DOCUMENTATION),
    ("3fff::/20", DOCUMENTATION),
    ("2001::/23", RESERVED),  # other IETF protocol assignments
    ("fc00::/7", PRIVATE),  # unique local
    ("fe80::/10", LINK_LOCAL),
    ("fec0::/10", PRIVATE),  # site-local (deprecated)
    ("ff00::/8", MULTICAST),
)
MAPPED = ipaddress.ip_network("::ffff:0:0/96")
COMPATIBLE = ipaddress.ip_network("::/96")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, 6to4, NAT64), if any."""
    value = int(address)
    if address in MAPPED or address in COMPATIBLE or address in NAT64:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if address in SIX_TO_FOUR:
        return ipaddress.IPv4Address((value >> 80) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why a fetch may not connect to ``address`` (a phrase: "a loopback address (this
    machine)"), or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        if int(address) <= 1:  # :: and ::1, before they pass for IPv4-compatible forms
            return _first(address, BLOCKED_V6)
        carried = embedded_v4(address)
        if carried is not None:
            why = refusal(carried)
            if why is not None:
                return f"{why} in an IPv6 form (it carries {carried})"
            if address in COMPATIBLE:
                return "a deprecated IPv4-compatible IPv6 address"
            return None
        found = _first(address, BLOCKED_V6)
    else:
        found = _first(address, BLOCKED_V4)
    if found is not None:
        return found
    return None if address.is_global else RESERVED


def _first(address: IPAddress, table: Iterable[tuple[IPNetwork, str]]) -> str | None:
    for network, why in table:
        if address.version == network.version and address in network:
            return why
    return None


@dataclass(frozen=True)
class AllowList:
    """``fetch.allowed_hosts``: host names (exact, any case) and addresses or networks
    that fetches may reach although they are internal."""

    names: frozenset[str]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            text = entry.strip()
            try:
                networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
            except ValueError:
                names.add(text.lower().rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names

    def allows_address(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address.version == n.version and address in n for n in self.networks)


def check_address(address: IPAddress, host: str, allow: AllowList) -> str | None:
    """Why a fetch of ``host`` may not connect to ``address`` (a sentence), or None."""
    if allow.allows_name(host) or allow.allows_address(address):
        return None
    why = refusal(address)
    if why is None:
        return None
    shown = host if host == str(address) else f"{host} ({address})"
    return (
        f"{shown} is {why}; fetches reach public addresses only (an operator can allow an"
        " internal source in fetch.allowed_hosts)"
    )
