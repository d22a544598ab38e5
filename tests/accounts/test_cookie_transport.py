"""Cookie transport (contract: "Browser clients: refresh token in an HttpOnly cookie"), row by
row, through HTTP. The test client enforces CSRF here (Django's test client skips it unless
asked), so every refusal below is Django's real CSRF check answering.
"""
from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts.models import RefreshSession
from apps.accounts.services import get_tokens_for_user
from tests.support import bearer

pytestmark = pytest.mark.django_db

COOKIE = "__Secure-refresh"  # the DEBUG=False default (tests run with DEBUG=False)
LIFETIME = int(timedelta(days=7).total_seconds())


class Browser:
    """A cookie-transport client: keeps cookies, fetches a CSRF token, sends the headers."""

    def __init__(self) -> None:
        self.client = APIClient(enforce_csrf_checks=True)
        self.access: str | None = None
        self.csrf: str | None = None

    def fetch_csrf(self) -> str:
        response = self.client.get("/api/auth/csrf/")
        assert response.status_code == 200, response.content
        self.csrf = response.json()["csrf_token"]
        return self.csrf

    def post(self, path, data=None, *, csrf=True, cookie_transport=True, bearer_token=True, **extra):
        headers = dict(extra)
        if cookie_transport:
            headers["HTTP_X_AUTH_TRANSPORT"] = "cookie"
        if csrf:
            headers["HTTP_X_CSRFTOKEN"] = self.csrf or self.fetch_csrf()
        if bearer_token and self.access:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.access}"
        return self.client.post(path, data, format="json", **headers)

    def login(self, email: str, password: str):
        response = self.post("/api/auth/login/", {"email": email, "password": password})
        if response.status_code == 200:
            self.access = response.json()["access"]
        return response

    def refresh(self, **kwargs):
        response = self.post("/api/auth/refresh/", **kwargs)
        if response.status_code == 200:
            self.access = response.json()["access"]
        return response

    @property
    def refresh_cookie(self) -> str | None:
        morsel = self.client.cookies.get(COOKIE)
        return morsel.value if morsel is not None and morsel.value else None

    def set_refresh_cookie(self, value: str) -> None:
        self.client.cookies[COOKIE] = value


@pytest.fixture
def browser():
    return Browser()


@pytest.fixture
def logged_in(browser, user, password):
    assert browser.login(user.email, password).status_code == 200
    return browser


def session_state(token: str) -> tuple[str, bool]:
    session = RefreshSession.objects.get(pk=jwt.decode(token, options={"verify_signature": False})["sid"])
    return session.current_jti, session.revoked_at is not None


def assert_code(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["code"] == code, response.content


# --- GET /api/auth/csrf/ ----------------------------------------------------------------------
def test_csrf_endpoint_returns_a_token_and_sets_a_readable_csrftoken_cookie(api_client):
    response = api_client.get("/api/auth/csrf/")
    assert response.status_code == 200
    assert set(response.json()) == {"csrf_token"} and response.json()["csrf_token"]
    morsel = response.cookies["csrftoken"]
    assert morsel.value and not morsel["httponly"]
    assert "no-store" in response["Cache-Control"]


# --- register and login -----------------------------------------------------------------------
def test_cookie_login_answers_user_and_access_without_refresh_and_sets_the_cookie(browser, user, password):
    response = browser.login(user.email, password)
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"user", "access"}
    assert response.json()["user"]["email"] == user.email
    assert browser.refresh_cookie is not None
    assert jwt.decode(browser.refresh_cookie, options={"verify_signature": False})["token_type"] == "refresh"
    assert "no-store" in response["Cache-Control"]


def test_refresh_cookie_attributes_are_exactly_the_contracts(browser, user, password):
    response = browser.login(user.email, password)
    header = response.cookies[COOKIE].output(header="").strip()
    attributes = [part.strip() for part in header.split(";")]
    lowered = {a.split("=")[0].lower(): (a.split("=", 1)[1] if "=" in a else True) for a in attributes[1:]}
    assert lowered["httponly"] is True
    assert lowered["secure"] is True
    assert lowered["samesite"] == "Strict"
    assert lowered["path"] == "/api/auth/"
    assert "domain" not in lowered
    exp = jwt.decode(browser.refresh_cookie, options={"verify_signature": False})["exp"]
    max_age = int(lowered["max-age"])
    assert LIFETIME - 5 <= max_age <= LIFETIME
    iat = jwt.decode(browser.refresh_cookie, options={"verify_signature": False})["iat"]
    assert abs((exp - iat) - max_age) <= 5


def test_cookie_domain_and_samesite_follow_settings(browser, user, password, settings):
    settings.REFRESH_COOKIE_DOMAIN = "example.com"
    settings.REFRESH_COOKIE_SAMESITE = "None"
    response = browser.login(user.email, password)
    morsel = response.cookies[COOKIE]
    assert morsel["domain"] == "example.com"
    assert morsel["samesite"] == "None"


def test_cookie_register_answers_201_without_refresh_and_sets_the_cookie(browser):
    response = browser.post("/api/auth/register/", {"email": "new@x.io", "password": "a-Long-pass-42"})
    assert response.status_code == 201, response.content
    assert set(response.json()) == {"user", "access"}
    assert browser.refresh_cookie is not None


def test_cookie_login_without_csrf_token_is_403_and_opens_no_session(browser, user, password):
    before = RefreshSession.objects.count()
    response = browser.post("/api/auth/login/", {"email": user.email, "password": password}, csrf=False)
    assert_code(response, 403, "csrf_failed")
    assert RefreshSession.objects.count() == before
    assert COOKIE not in response.cookies


def test_cookie_register_without_csrf_is_403_and_creates_no_user(browser):
    response = browser.post("/api/auth/register/", {"email": "csrf@x.io", "password": "a-Long-pass-42"}, csrf=False)
    assert_code(response, 403, "csrf_failed")
    from apps.accounts.models import User

    assert not User.objects.filter(email="csrf@x.io").exists()


# --- refresh ----------------------------------------------------------------------------------
def test_cookie_refresh_with_empty_body_rotates_into_a_new_cookie(logged_in):
    old = logged_in.refresh_cookie
    response = logged_in.refresh()
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access"}
    assert logged_in.refresh_cookie not in (None, old)
    assert response.cookies[COOKIE]["httponly"] and response.cookies[COOKIE]["path"] == "/api/auth/"


def test_cookie_refresh_ignores_a_refresh_token_in_the_body(logged_in, user):
    other = get_tokens_for_user(user, ip=None, user_agent=None)
    other_before = session_state(other["refresh"])
    response = logged_in.refresh(data={"refresh": other["refresh"]})
    assert response.status_code == 200
    assert session_state(other["refresh"]) == other_before  # the body's session was not touched
    garbage = logged_in.refresh(data={"refresh": "not-a-token"})
    assert garbage.status_code == 200


def test_cookie_refresh_without_a_cookie_is_401_not_authenticated(browser):
    assert_code(browser.refresh(), 401, "not_authenticated")


def test_cookie_refresh_with_a_garbage_cookie_is_401_token_not_valid(browser):
    browser.set_refresh_cookie("garbage")
    assert_code(browser.refresh(), 401, "token_not_valid")


@pytest.mark.parametrize(
    "how",
    ["missing_token", "wrong_token", "foreign_origin", "null_origin"],
)
def test_cookie_refresh_failing_csrf_is_403_changes_nothing_and_the_cookie_still_works(logged_in, how):
    cookie = logged_in.refresh_cookie
    before = session_state(cookie)
    kwargs: dict = {}
    if how == "missing_token":
        kwargs["csrf"] = False
    elif how == "wrong_token":
        kwargs["csrf"] = False
        kwargs["HTTP_X_CSRFTOKEN"] = "x" * 32
    elif how == "foreign_origin":
        kwargs["HTTP_ORIGIN"] = "https://evil.example"
    else:
        kwargs["HTTP_ORIGIN"] = "null"
    response = logged_in.refresh(**kwargs)
    assert_code(response, 403, "csrf_failed")
    assert COOKIE not in response.cookies
    assert session_state(cookie) == before  # not rotated, not spent, not revoked
    assert logged_in.refresh_cookie == cookie
    assert logged_in.refresh().status_code == 200  # and it still works


@pytest.mark.parametrize("path", ["/api/auth/refresh/", "/api/auth/logout/"])
def test_behind_a_script_name_prefix_the_csrf_check_still_runs(logged_in, path):
    """Issue 23: the check keyed on request.path, which SCRIPT_NAME prefixes ("/auth/api/...")."""
    cookie = logged_in.refresh_cookie
    before = session_state(cookie)

    response = logged_in.post(path, csrf=False, SCRIPT_NAME="/auth")

    assert_code(response, 403, "csrf_failed")
    assert session_state(cookie) == before
    assert logged_in.post("/api/auth/refresh/", SCRIPT_NAME="/auth").status_code == 200  # with the token: fine


@pytest.mark.urls("tests.accounts.mounted_urls")
def test_with_the_api_mounted_under_a_sub_path_the_csrf_check_still_runs(browser, user, password):
    response = browser.post("/svc/api/auth/login/", {"email": user.email, "password": password}, csrf=False)

    assert_code(response, 403, "csrf_failed")
    assert not RefreshSession.objects.filter(user=user).exists()


def test_csrf_token_from_another_client_is_refused(logged_in):
    other = Browser()
    token = other.fetch_csrf()
    # The token is valid, but not for this client's csrftoken cookie.
    logged_in.client.cookies["csrftoken"] = Browser().client.get("/api/auth/csrf/").cookies["csrftoken"].value
    response = logged_in.refresh(csrf=False, HTTP_X_CSRFTOKEN=token)
    assert_code(response, 403, "csrf_failed")


def test_cookie_refresh_from_a_trusted_origin_passes(logged_in, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com"]
    assert logged_in.refresh(HTTP_ORIGIN="https://app.example.com").status_code == 200
    assert logged_in.refresh(HTTP_ORIGIN="http://testserver").status_code == 200  # its own origin


def test_over_https_without_origin_the_referer_must_be_the_services_own(logged_in):
    cookie = logged_in.refresh_cookie
    before = session_state(cookie)
    for referer in (None, "https://evil.example/page", "http://testserver/plain-http"):
        extra = {"HTTP_REFERER": referer} if referer else {}
        response = logged_in.refresh(secure=True, **extra)
        assert_code(response, 403, "csrf_failed")
    assert session_state(cookie) == before
    assert logged_in.refresh(secure=True, HTTP_REFERER="https://testserver/app").status_code == 200


def test_header_transport_never_needs_csrf(user, password):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/auth/login/", {"email": user.email, "password": password}, format="json",
                           HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 200
    assert set(response.json()) == {"user", "access", "refresh"}


# --- both transports, one deployment ----------------------------------------------------------
def test_both_transports_work_side_by_side(logged_in, user, password, api_client):
    header = api_client.post("/api/auth/login/", {"email": user.email, "password": password}, format="json")
    assert set(header.json()) == {"user", "access", "refresh"}
    assert not header.cookies.get(COOKIE)
    rotated = api_client.post("/api/auth/refresh/", {"refresh": header.json()["refresh"]}, format="json")
    assert set(rotated.json()) == {"access", "refresh"}
    assert logged_in.refresh().status_code == 200
    me = bearer(logged_in.access).get("/api/auth/me/")
    assert me.status_code == 200 and me.json()["email"] == user.email


def test_a_header_issued_refresh_token_works_as_a_cookie(browser, tokens):
    browser.set_refresh_cookie(tokens["refresh"])
    response = browser.refresh()
    assert response.status_code == 200, response.content
    assert browser.refresh_cookie != tokens["refresh"]


def test_a_cookie_issued_refresh_token_works_in_a_body(logged_in, api_client):
    response = api_client.post("/api/auth/refresh/", {"refresh": logged_in.refresh_cookie}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_without_the_header_the_refresh_cookie_is_never_read(logged_in):
    cookie = logged_in.refresh_cookie
    before = session_state(cookie)
    response = logged_in.post("/api/auth/refresh/", {}, cookie_transport=False, csrf=False)
    assert_code(response, 400, "invalid")  # no body token; the cookie does not stand in for it
    logout = logged_in.post("/api/auth/logout/", {}, cookie_transport=False, csrf=False)
    assert_code(logout, 400, "invalid")
    assert session_state(cookie) == before


# --- grace window, reuse, revocation ----------------------------------------------------------
def test_repeated_cookie_refreshes_in_the_grace_window_get_the_same_new_cookie(logged_in):
    old = logged_in.refresh_cookie
    first = logged_in.refresh()
    new = logged_in.refresh_cookie
    logged_in.set_refresh_cookie(old)  # a second tab, racing with the same cookie
    second = logged_in.refresh()
    assert first.status_code == second.status_code == 200
    assert logged_in.refresh_cookie == new
    assert second.cookies[COOKIE].value == new


def test_cookie_reuse_after_the_grace_window_revokes_the_whole_session(logged_in, clock):
    old = logged_in.refresh_cookie
    assert logged_in.refresh().status_code == 200
    current = logged_in.refresh_cookie
    clock.advance(seconds=settings.REFRESH_REUSE_GRACE_SECONDS + 1)
    logged_in.set_refresh_cookie(old)
    assert_code(logged_in.refresh(), 401, "token_not_valid")
    logged_in.set_refresh_cookie(current)
    assert_code(logged_in.refresh(), 401, "token_not_valid")
    assert session_state(current)[1] is True


# --- logout -----------------------------------------------------------------------------------
def assert_cleared(response, *, domain: str = "") -> None:
    morsel = response.cookies[COOKIE]
    assert morsel.value == ""
    assert str(morsel["max-age"]) == "0"
    assert morsel["path"] == "/api/auth/"
    assert morsel["domain"] == domain
    assert morsel["httponly"] and morsel["secure"]


def test_cookie_logout_revokes_the_cookies_session_and_clears_the_cookie(logged_in):
    cookie = logged_in.refresh_cookie
    response = logged_in.post("/api/auth/logout/")
    assert response.status_code == 205, response.content
    assert_cleared(response)
    assert session_state(cookie)[1] is True
    logged_in.set_refresh_cookie(cookie)
    assert_code(logged_in.refresh(), 401, "token_not_valid")


def test_cookie_logout_clears_with_the_same_domain_it_was_set_with(browser, user, password, settings):
    settings.REFRESH_COOKIE_DOMAIN = "example.com"
    assert browser.login(user.email, password).status_code == 200
    assert_cleared(browser.post("/api/auth/logout/"), domain="example.com")


def test_cookie_logout_with_no_cookie_still_answers_205_and_clears_it(browser, tokens):
    browser.access = tokens["access"]
    response = browser.post("/api/auth/logout/")
    assert response.status_code == 205
    assert_cleared(response)
    assert session_state(tokens["refresh"])[1] is False  # nothing else was touched


def test_cookie_logout_with_a_dead_cookie_clears_it(browser, tokens):
    browser.access = tokens["access"]
    browser.set_refresh_cookie("garbage")
    response = browser.post("/api/auth/logout/")
    assert response.status_code == 205
    assert_cleared(response)


def test_cookie_logout_cannot_revoke_another_users_session(browser, tokens, tenant):
    from tests.factories import UserFactory

    other = get_tokens_for_user(UserFactory(email="other@acme.io", tenant=tenant), ip=None, user_agent=None)
    browser.access = tokens["access"]
    browser.set_refresh_cookie(other["refresh"])
    assert browser.post("/api/auth/logout/").status_code == 205
    assert session_state(other["refresh"])[1] is False


def test_cookie_logout_needs_the_access_token(logged_in):
    response = logged_in.post("/api/auth/logout/", bearer_token=False)
    assert_code(response, 401, "not_authenticated")
    assert session_state(logged_in.refresh_cookie)[1] is False


def test_cookie_logout_without_csrf_is_403_and_the_session_lives(logged_in):
    response = logged_in.post("/api/auth/logout/", csrf=False)
    assert_code(response, 403, "csrf_failed")
    assert COOKIE not in response.cookies
    assert session_state(logged_in.refresh_cookie)[1] is False


# --- password change --------------------------------------------------------------------------
def test_cookie_password_change_puts_the_new_refresh_token_in_the_cookie(logged_in, password):
    old = logged_in.refresh_cookie
    response = logged_in.post("/api/auth/password/change/", {"old_password": password, "new_password": "An0ther-long-pass"})
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access"}
    new = logged_in.refresh_cookie
    assert new not in (None, old)
    logged_in.access = response.json()["access"]
    assert logged_in.refresh().status_code == 200


def test_cookie_password_change_without_csrf_changes_nothing(logged_in, password, user):
    response = logged_in.post(
        "/api/auth/password/change/", {"old_password": password, "new_password": "An0ther-long-pass"}, csrf=False
    )
    assert_code(response, 403, "csrf_failed")
    user.refresh_from_db()
    assert user.check_password(password)


# --- CORS -------------------------------------------------------------------------------------
@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]


def test_a_listed_origin_may_send_credentials_and_the_transport_headers(cors, api_client):
    response = api_client.options(
        "/api/auth/refresh/", HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-auth-transport, x-csrftoken, content-type",
    )
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert response["Access-Control-Allow-Credentials"] == "true"
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"x-auth-transport", "x-csrftoken", "authorization", "content-type"} <= allowed
    actual = api_client.get("/api/auth/csrf/", HTTP_ORIGIN="https://app.example.com")
    assert actual["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert actual["Access-Control-Allow-Credentials"] == "true"


def test_an_unlisted_origin_gets_no_cors_headers(cors, api_client):
    preflight = api_client.options(
        "/api/auth/refresh/", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    actual = api_client.get("/api/auth/csrf/", HTTP_ORIGIN="https://evil.example")
    for response in (preflight, actual):
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Credentials" not in response


# --- OpenAPI ----------------------------------------------------------------------------------
def test_schema_documents_the_transport_header_the_cookie_and_csrf(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "/api/auth/csrf/" in paths
    for path in ("/api/auth/register/", "/api/auth/login/", "/api/auth/refresh/", "/api/auth/logout/",
                 "/api/auth/password/change/"):
        operation = paths[path]["post"]
        names = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        assert ("header", "X-Auth-Transport") in names, path
        assert "403" in operation["responses"], path
    for path in ("/api/auth/refresh/", "/api/auth/logout/"):
        names = {(p["in"], p["name"]) for p in paths[path]["post"]["parameters"]}
        assert ("cookie", COOKIE) in names
    assert "Set-Cookie" in paths["/api/auth/login/"]["post"]["responses"]["200"]["headers"]


# --- Redis outage -----------------------------------------------------------------------------
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_cookies_still_rotate_and_a_logged_out_cookie_stays_dead(redis_server, use_redis, user, password):
    use_redis(redis_server.url)
    gone, alive = Browser(), Browser()
    assert gone.login(user.email, password).status_code == 200
    assert alive.login(user.email, password).status_code == 200
    dead_cookie = gone.refresh_cookie
    assert gone.post("/api/auth/logout/").status_code == 205
    redis_server.stop()
    response = alive.refresh()
    assert response.status_code == 200, response.content
    gone.set_refresh_cookie(dead_cookie)
    assert_code(gone.refresh(), 401, "token_not_valid")


def test_cookie_logout_all_revokes_every_session_and_clears_the_dead_cookie(logged_in, tokens):
    cookie = logged_in.refresh_cookie
    response = logged_in.post("/api/auth/logout-all/")
    assert response.status_code == 200, response.content
    assert response.json()["revoked_sessions"] == 2
    assert_cleared(response)
    assert session_state(cookie)[1] is True and session_state(tokens["refresh"])[1] is True


def test_header_logout_all_sets_no_cookie(auth_client):
    response = auth_client.post("/api/auth/logout-all/")
    assert response.status_code == 200
    assert COOKIE not in response.cookies


def test_the_transport_header_value_is_case_insensitive(browser, user, password):
    response = browser.post("/api/auth/login/", {"email": user.email, "password": password},
                            cookie_transport=False, HTTP_X_AUTH_TRANSPORT=" Cookie ")
    assert response.status_code == 200
    assert set(response.json()) == {"user", "access"}
