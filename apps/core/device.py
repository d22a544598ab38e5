"""What a request says about the client's device: recorded with each session and security
event (the sessions list shows it; events keep it for the account's owner)."""
from __future__ import annotations

from django.http import HttpRequest

from apps.core.client_ip import client_ip


def request_device(request: HttpRequest) -> dict[str, str | None]:
    """`{"ip", "user_agent"}`, the keyword arguments every service that opens a session or
    records an event takes: the client's address as `client_ip` trusts it (NUM_PROXIES), and
    the User-Agent header as sent ("" without one; the services clip it to their column)."""
    return {"ip": client_ip(request), "user_agent": request.headers.get("User-Agent", "")}
