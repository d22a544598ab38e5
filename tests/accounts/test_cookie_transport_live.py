"""Cookie transport against gunicorn (several workers): the raw Set-Cookie header as a browser
receives it, CSRF across processes, and concurrent cookie refreshes in the grace window."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie

import pytest
import requests

from devprocs import live_server

pytestmark = [pytest.mark.live, pytest.mark.slow]

COOKIE = "__Secure-refresh"
PASSWORD = "Correct-Horse-42!"
PARALLEL = 8


@pytest.fixture(scope="module")
def server():
    with live_server(workers=3, CSRF_TRUSTED_ORIGINS="https://app.example.com") as live:
        yield live


def set_cookie_headers(response: requests.Response) -> list[str]:
    return response.raw.headers.getlist("Set-Cookie")


def refresh_cookie_header(response: requests.Response) -> str:
    matching = [h for h in set_cookie_headers(response) if h.startswith(f"{COOKIE}=")]
    assert len(matching) == 1, set_cookie_headers(response)
    return matching[0]


class Tab:
    """What a browser tab holds: the CSRF pair and the refresh cookie (sent by hand, as
    `requests` keeps Secure cookies away from plain HTTP)."""

    def __init__(self, url: str) -> None:
        self.url = url
        csrf = requests.get(f"{url}/api/auth/csrf/", timeout=10)
        assert csrf.status_code == 200
        self.csrf_cookie = csrf.cookies["csrftoken"]
        self.csrf_token = csrf.json()["csrf_token"]
        self.refresh: str | None = None
        self.access: str | None = None

    def post(self, path: str, body: dict | None = None, *, csrf: bool = True, **headers: str) -> requests.Response:
        cookies = [f"csrftoken={self.csrf_cookie}"]
        if self.refresh:
            cookies.append(f"{COOKIE}={self.refresh}")
        sent = {"X-Auth-Transport": "cookie", "Cookie": "; ".join(cookies), **headers}
        if csrf:
            sent["X-CSRFToken"] = self.csrf_token
        if self.access:
            sent["Authorization"] = f"Bearer {self.access}"
        response = requests.post(f"{self.url}{path}", json=body or {}, headers=sent, timeout=15)
        for header in set_cookie_headers(response):
            parsed = SimpleCookie(header)
            if COOKIE in parsed:
                self.refresh = parsed[COOKIE].value or None
        if response.status_code in (200, 201) and "access" in response.json():
            self.access = response.json()["access"]
        return response


def register(server, email: str) -> Tab:
    tab = Tab(server.url)
    response = tab.post("/api/auth/register/", {"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"user", "access"}
    return tab


def test_set_cookie_header_has_exactly_the_contracts_attributes(server):
    tab = register(server, "attrs@example.com")
    response = tab.post("/api/auth/refresh/")
    header = refresh_cookie_header(response)
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in header.split(";")[1:]}
    assert set(attributes) == {"expires", "httponly", "max-age", "path", "samesite", "secure"}
    assert attributes["path"] == "Path=/api/auth/"
    assert attributes["samesite"] == "SameSite=Strict"
    assert 7 * 86400 - 10 <= int(attributes["max-age"].split("=")[1]) <= 7 * 86400


def test_csrf_refusal_on_a_live_server_changes_nothing(server):
    tab = register(server, "csrf@example.com")
    cookie = tab.refresh
    for headers, csrf in (({}, False), ({"Origin": "https://evil.example"}, True), ({"X-CSRFToken": "x" * 64}, False)):
        response = tab.post("/api/auth/refresh/", csrf=csrf, **headers)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "csrf_failed"
        assert not [h for h in set_cookie_headers(response) if h.startswith(COOKIE)]
    assert tab.refresh == cookie
    trusted = tab.post("/api/auth/refresh/", Origin="https://app.example.com")
    assert trusted.status_code == 200, trusted.text


def test_concurrent_cookie_refreshes_all_get_the_same_new_cookie(server):
    tab = register(server, "race@example.com")
    with ThreadPoolExecutor(PARALLEL) as pool:
        responses = list(pool.map(lambda _: requests.post(
            f"{server.url}/api/auth/refresh/", json={}, timeout=15,
            headers={"X-Auth-Transport": "cookie", "X-CSRFToken": tab.csrf_token,
                     "Cookie": f"csrftoken={tab.csrf_cookie}; {COOKIE}={tab.refresh}"},
        ), range(PARALLEL)))
    assert [r.status_code for r in responses] == [200] * PARALLEL, [r.text for r in responses]
    new_cookies = {SimpleCookie(refresh_cookie_header(r))[COOKIE].value for r in responses}
    assert len(new_cookies) == 1 and tab.refresh not in new_cookies


def test_logout_clears_the_cookie_on_a_live_server(server):
    tab = register(server, "bye@example.com")
    response = tab.post("/api/auth/logout/")
    assert response.status_code == 205, response.text
    header = refresh_cookie_header(response)
    assert header.startswith(f'{COOKIE}="";') or header.startswith(f"{COOKIE}=;")
    assert "Max-Age=0" in header and "Path=/api/auth/" in header
