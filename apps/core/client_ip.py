"""The client's address, trusting exactly NUM_PROXIES hops of X-Forwarded-For.

Each trusted proxy appends the address it received the request from, so the client is the
NUM_PROXIES-th entry from the right; anything to its left was written by the client and is
ignored. With NUM_PROXIES=0 the socket address is used and the header is ignored entirely.
(DRF's default, with NUM_PROXIES unset, keys on the whole header: rotate it, dodge the
throttle.)
"""
from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    """The address in canonical form, without an IPv6 zone id ("fe80::1%eth0" -> "fe80::1"),
    or None. A zone id names an interface of the host that wrote it, never a client: PostgreSQL's
    inet refuses it (a 500 when a session or event stored it), and a throttle keyed on it could
    be dodged by rotating it."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if getattr(address, "scope_id", None) is not None:
        address = ipaddress.IPv6Address(address.packed)
    return str(address)


def client_ip(request: HttpRequest) -> str | None:
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "") or "")
    proxies = settings.NUM_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [a for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if len(forwarded) < proxies:
        # Fewer hops than configured: the request did not come through all our proxies.
        return remote
    return _valid_ip(forwarded[-proxies]) or remote
