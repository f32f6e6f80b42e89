"""Per-token restrictions checked on every token-authenticated request: client IP ranges and header rules."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def _network(spec: str) -> IPNetwork:
    """A range; an IPv4-mapped IPv6 range (``::ffff:10.0.0.0/104``) is the IPv4 range it maps, because mapped
    client addresses are matched as IPv4 (see ``parse_ip``)."""
    network = ipaddress.ip_network(spec, strict=False)
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96 and network.subnet_of(_MAPPED):
        mapped = network.network_address.ipv4_mapped
        assert mapped is not None
        return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


@lru_cache(maxsize=4096)
def networks(spec: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(_network(s) for s in spec)


@lru_cache(maxsize=8192)  # the same few client and proxy addresses arrive again and again
def parse_ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1 and "." in text:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def in_ranges(address: Any, ranges: tuple[IPNetwork, ...]) -> bool:
    if address is None:
        return False
    return any(address.version == net.version and address in net for net in ranges)


def client_address(remote_addr: str | None, header_values: list[str], trusted: tuple[IPNetwork, ...]) -> Any:
    """The client's address: the peer, unless the peer is a trusted proxy; then the rightmost address in
    the client-IP header that is not itself a trusted proxy (the leftmost when all are)."""
    peer = parse_ip(remote_addr)
    if not trusted or not in_ranges(peer, trusted):
        return peer
    chain = [part.strip() for value in header_values for part in value.split(",") if part.strip()]
    if not chain:
        return peer
    for entry in reversed(chain):
        address = parse_ip(entry)
        if address is None:
            return None  # a forged or broken header: nothing to match, so restrictions fail closed
        if not in_ranges(address, trusted):
            return address
    return parse_ip(chain[0])


def wire_text(value: str | None) -> str | None:
    """A header value as the client sent it: WSGI hands over the bytes decoded as latin-1; clients send UTF-8."""
    if value is None or value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def headers_match(rules: list[dict[str, str]], get_header: Any) -> bool:
    """Every rule must match: header name case-insensitive, value exact."""
    return all(wire_text(get_header(rule["headerName"])) == rule["headerValue"] for rule in rules)
