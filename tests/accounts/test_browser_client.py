"""The reference browser client (frontend/auth-client.js, frontend/demo.html) in a real browser:
Playwright driving Debian's chromium against gunicorn, as a newcomer runs it after scripts/run
(DEBUG=True: http://127.0.0.1, the plain `refresh` cookie name, no Secure).

One server and one browser for the module; each test gets a fresh browser context (a fresh
cookie jar). Screenshots go to the test's tmp_path. Locally these skip without chromium;
under CI=true they fail instead.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devprocs import PROD_LIKE_ENV, ROOT, live_server, unavailable

pytestmark = [pytest.mark.live, pytest.mark.slow]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "Correct-Horse-42!"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def server():
    with live_server(workers=2, DEBUG="True") as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        unavailable(f"chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - pinned in requirements-dev.txt
        unavailable("playwright is not installed")
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


class Traffic:
    """Every request the page makes to the API, with the status it got."""

    def __init__(self, page) -> None:
        self.entries: list[tuple[str, str, int | None]] = []
        page.on("response", lambda r: self.entries.append((r.request.method, r.url, r.status)))

    def clear(self) -> None:
        self.entries.clear()

    def to(self, path: str, method: str | None = None) -> list[int | None]:
        return [s for m, url, s in self.entries if url.split("?")[0].endswith(path) and (method in (None, m))]


@pytest.fixture
def page(browser, server) -> Iterator:
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.traffic = Traffic(page)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def account(server) -> dict:
    """A registered user (header transport, straight to the API)."""
    email = f"browser-{uuid.uuid4().hex[:10]}@example.com"
    response = requests.post(f"{server.url}/api/auth/register/", json={"email": email, "password": PASSWORD}, timeout=15)
    assert response.status_code == 201, response.text
    return {"email": email, **response.json()}


def open_demo(page) -> None:
    page.goto("/static/demo.html")
    page.wait_for_selector("body[data-state]")


def log_in(page, account: dict) -> None:
    open_demo(page)
    assert page.get_attribute("body", "data-state") == "logged-out"
    page.fill("#email", account["email"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("body[data-state=logged-in]")


def refresh_cookie(page) -> dict | None:
    cookies = [c for c in page.context.cookies() if c["name"] == "refresh"]
    return cookies[0] if cookies else None


STORAGE_DUMP = """() => JSON.stringify({
    local: Object.entries(localStorage), session: Object.entries(sessionStorage), cookie: document.cookie,
})"""


def test_login_through_the_demo_page_shows_me_and_keeps_tokens_out_of_javascripts_reach(page, account, tmp_path):
    log_in(page, account)
    assert page.text_content("#me-email") == account["email"]
    page.screenshot(path=str(tmp_path / "logged-in.png"), full_page=True)

    access = page.evaluate("() => window.auth.accessToken")
    assert access and access.count(".") == 2
    cookie = refresh_cookie(page)
    assert cookie is not None
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/api/auth/"
    storage = page.evaluate(STORAGE_DUMP)
    assert access not in storage and cookie["value"] not in storage
    assert '"local":[]' in storage and '"session":[]' in storage
    assert "refresh" not in page.evaluate("() => document.cookie")  # only csrftoken is readable
    assert page.traffic.to("/api/auth/login/", "POST") == [200]


def test_five_parallel_requests_with_a_broken_token_make_one_refresh_and_five_retries(page, account, tmp_path):
    log_in(page, account)
    page.traffic.clear()
    statuses = page.evaluate("""async () => {
        window.auth.accessToken = "broken";
        const responses = await Promise.all(
            Array.from({length: 5}, () => window.auth.fetch("/api/auth/me/")));
        return responses.map((r) => r.status);
    }""")
    assert statuses == [200] * 5
    assert page.traffic.to("/api/auth/refresh/", "POST") == [200]
    me = page.traffic.to("/api/auth/me/", "GET")
    assert sorted(me) == [200] * 5 + [401] * 5, me
    assert page.evaluate("() => window.auth.accessToken") not in (None, "broken")
    page.screenshot(path=str(tmp_path / "after-parallel-refresh.png"))


def test_a_failed_refresh_resolves_pending_requests_to_their_401_and_clears_the_token(page, account, server):
    log_in(page, account)
    access = page.evaluate("() => window.auth.accessToken")
    # The session dies server-side (e.g. logout-all from another device).
    revoked = requests.post(f"{server.url}/api/auth/logout-all/", headers={"Authorization": f"Bearer {access}"}, timeout=15)
    assert revoked.status_code == 200
    page.traffic.clear()
    result = page.evaluate("""async () => {
        const responses = await Promise.all(
            Array.from({length: 3}, () => window.auth.fetch("/api/auth/me/")));
        return {statuses: responses.map((r) => r.status), token: window.auth.accessToken};
    }""")
    assert result == {"statuses": [401, 401, 401], "token": None}
    assert page.traffic.to("/api/auth/refresh/", "POST") == [401]


def test_a_reload_keeps_the_user_logged_in_through_the_cookie(page, account, tmp_path):
    log_in(page, account)
    page.traffic.clear()
    page.reload()
    page.wait_for_selector("body[data-state=logged-in]")
    assert page.text_content("#me-email") == account["email"]
    assert page.traffic.to("/api/auth/refresh/", "POST") == [200]
    assert page.evaluate("() => window.auth.accessToken")
    assert page.evaluate(STORAGE_DUMP).count("ey") == 0  # no JWT anywhere in storage
    page.screenshot(path=str(tmp_path / "after-reload.png"), full_page=True)


def test_logout_ends_the_session_and_a_reload_stays_logged_out(page, account, server, tmp_path):
    log_in(page, account)
    old_cookie = refresh_cookie(page)["value"]
    page.click("#logout")
    page.wait_for_selector("body[data-state=logged-out]")
    assert page.traffic.to("/api/auth/logout/", "POST") == [205]
    assert refresh_cookie(page) is None
    assert page.evaluate("() => window.auth.accessToken") is None
    page.reload()
    page.wait_for_selector("body[data-state=logged-out]")
    page.screenshot(path=str(tmp_path / "logged-out.png"), full_page=True)
    # The server revoked it, too: the old cookie value is dead in either transport.
    replay = requests.post(f"{server.url}/api/auth/refresh/", json={"refresh": old_cookie}, timeout=15)
    assert replay.status_code == 401 and replay.json()["code"] == "token_not_valid"


def test_create_account_on_the_demo_page_logs_the_new_user_in(page):
    email = f"demo-{uuid.uuid4().hex[:10]}@example.com"
    open_demo(page)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#register")
    page.wait_for_selector("body[data-state=logged-in]")
    assert page.text_content("#me-email") == email
    assert page.traffic.to("/api/auth/register/", "POST") == [201]
    assert refresh_cookie(page)["httpOnly"] is True


def test_a_wrong_password_shows_the_error_and_stays_logged_out(page, account):
    open_demo(page)
    page.fill("#email", account["email"])
    page.fill("#password", "wrong-password-123")
    page.click("#login")
    page.wait_for_selector("#status.error")
    assert "invalid_credentials" in page.text_content("#status")
    assert page.get_attribute("body", "data-state") == "logged-out"
    assert refresh_cookie(page) is None


# --- Content-Security-Policy (apps/core/csp.py) -----------------------------------------------
CSP_PAGES = {
    "/static/demo.html": "body[data-state=logged-out]",
    "/api/docs/": "#swagger-ui .opblock",       # Swagger UI rendered the schema's operations
    "/api/redoc/": "redoc .api-content h2",     # ReDoc rendered the schema's sections
}


# ReDoc's sidebar always shows a vendor logo from its CDN (hard-coded in redoc.standalone.js)
# and hides it when it fails to load: the policy refuses it, which is the point (the docs load
# nothing from outside the app). Any other refusal fails the test.
EXPECTED_REFUSALS = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)


def watch_for_problems(page) -> list[str]:
    """CSP refusals (Chromium reports each on the console, and the page gets a
    securitypolicyviolation event) and uncaught script errors. A failed request (the demo's
    /me/ answering 401 while logged out) is not a problem."""
    problems: list[str] = []

    def on_console(message) -> None:
        text = message.text
        if ("Content Security Policy" in text or "CSP violation" in text) and not any(
            url in text for url in EXPECTED_REFUSALS
        ):
            problems.append(f"console: {text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.add_init_script("""document.addEventListener("securitypolicyviolation", (e) =>
        console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));""")
    return problems


@pytest.mark.parametrize("path", list(CSP_PAGES), ids=["demo", "swagger-ui", "redoc"])
def test_the_demo_and_docs_pages_work_under_their_csp_with_no_violation(page, path, tmp_path):
    """Issue 23: these pages sent no Content-Security-Policy. Now they do, and still work."""
    problems = watch_for_problems(page)

    response = page.goto(path)
    page.wait_for_selector(CSP_PAGES[path])
    page.wait_for_load_state("networkidle")  # late loads (fonts, workers) would be refused by now
    page.screenshot(path=str(tmp_path / "page.png"), full_page=False)

    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert problems == []


def test_the_demo_page_logs_in_under_its_csp_with_no_violation(page, account):
    problems = watch_for_problems(page)

    log_in(page, account)

    assert page.text_content("#me-email") == account["email"]
    assert problems == []


# --- production settings, over HTTPS ----------------------------------------------------------
def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (the browser context ignores that nobody signed it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    """DEBUG=False with every production default (__Secure-refresh, Secure cookies, HTTPS
    redirect, collectstatic + whitenoise's manifest storage), gunicorn speaking TLS itself."""
    folder = tmp_path_factory.mktemp("https")
    cert, key = self_signed_certificate(folder)
    env = {"STATIC_ROOT": str(folder / "static"), "SECURE_SSL_REDIRECT": "True"}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", "-i", "admin", "-i", "drf_spectacular_sidecar",
         "-i", "rest_framework"],
        cwd=ROOT, check=True, timeout=120, capture_output=True,
        env={**os.environ, **PROD_LIKE_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.base", **env},
    )
    with live_server(workers=2, gunicorn_args=("--certfile", str(cert), "--keyfile", str(key)), **env) as live:
        yield live


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # our self-signed cert
def test_with_production_settings_over_https_the_secure_cookie_logs_in_survives_reload_and_logs_out(
    browser, https_server, tmp_path,
):
    email = f"tls-{uuid.uuid4().hex[:10]}@example.com"
    created = requests.post(f"{https_server.url}/api/auth/register/", json={"email": email, "password": PASSWORD},
                            timeout=15, verify=False)
    assert created.status_code == 201, created.text
    context = browser.new_context(base_url=https_server.url, ignore_https_errors=True)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.traffic = Traffic(page)
        log_in(page, {"email": email})
        cookies = {c["name"]: c for c in context.cookies()}
        assert "refresh" not in cookies
        cookie = cookies["__Secure-refresh"]
        assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/api/auth/"
        assert cookies["csrftoken"]["secure"]
        page.reload()
        page.wait_for_selector("body[data-state=logged-in]")
        assert page.text_content("#me-email") == email
        page.screenshot(path=str(tmp_path / "https-logged-in.png"), full_page=True)
        page.click("#logout")
        page.wait_for_selector("body[data-state=logged-out]")
        assert "__Secure-refresh" not in {c["name"] for c in context.cookies()}
        assert page.traffic.to("/api/auth/logout/", "POST") == [205]
    finally:
        context.close()
