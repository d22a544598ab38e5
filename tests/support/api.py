"""The auth API as tests speak it: every URL by its name (`reverse()`), so a moved route breaks
here once instead of in every file; responses come back untouched, so each test still asserts the
status, `code` and body shape it is about."""
from __future__ import annotations

import time
import uuid

import jwt
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import PASSWORD


def url(name: str, **kwargs) -> str:
    """The path of the route called `name` (apps/*/urls.py), e.g. url("auth-login")."""
    return reverse(name, kwargs=kwargs or None)


def bearer(access: str) -> APIClient:
    """A fresh client that sends `Authorization: Bearer <access>` on every request."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def client_for(user) -> APIClient:
    """A client authenticated as `user` through a new session (no HTTP login)."""
    from apps.accounts.services import get_tokens_for_user

    return bearer(get_tokens_for_user(user)["access"])


def claims(token: str) -> dict:
    """The claims of an access or refresh token, unverified (the test reads what was issued)."""
    return jwt.decode(token, options={"verify_signature": False})


def sid(token: str) -> str:
    """The session id a token belongs to."""
    return claims(token)["sid"]


DROP = object()  # access_claims(user, email=DROP): the claim is left out


def access_claims(user, **overrides) -> dict:
    """The claims the app puts in `user`'s access token (a fresh jti and sid, 5 minutes to live),
    with overrides: for tests that sign their own tokens (forged, legacy, hostile)."""
    now = int(time.time())
    issued = {
        "token_type": "access", "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex,
        "user_id": str(user.id), "email": user.email, "tenant_id": str(user.tenant_id),
        "tenant_slug": user.tenant.slug, "enabled_modules": [], "sid": str(uuid.uuid4()),
        "iss": settings.SIMPLE_JWT["ISSUER"], "aud": settings.SIMPLE_JWT["AUDIENCE"],
        **overrides,
    }
    return {name: value for name, value in issued.items() if value is not DROP}


def assert_error(response, status: int, code: str) -> dict:
    """The response is the contract's error body with this status and `code` (and a non-empty
    human `detail`); returns the body for further assertions."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"], body
    return body


def assert_rejected(response) -> dict:
    """401 `token_not_valid`: how every dead, spent or forged token is refused."""
    return assert_error(response, 401, "token_not_valid")


def assert_throttled(response) -> None:
    """429 `throttled` with a Retry-After of 1 s to an hour."""
    assert_error(response, 429, "throttled")
    retry_after = response["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= 3600


class Api:
    """One API client (cookies persist across calls, as in a browser). Each call returns the
    response; `meta` keywords (REMOTE_ADDR, HTTP_USER_AGENT, ...) go to the request."""

    def __init__(self, client: APIClient | None = None) -> None:
        self.client = client or APIClient()

    def post(self, name: str, body: dict | None = None, *, kwargs: dict | None = None, **meta):
        return self.client.post(reverse(name, kwargs=kwargs), body or {}, format="json", **meta)

    def get(self, name: str, *, kwargs: dict | None = None, **meta):
        return self.client.get(reverse(name, kwargs=kwargs), **meta)

    def login(self, email: str, password: str = PASSWORD, **meta):
        return self.post("auth-login", {"email": email, "password": password}, **meta)

    def pair(self, email: str, password: str = PASSWORD, **meta) -> dict:
        """Log in and return the 200 body ({access, refresh, ...}); any other answer fails."""
        response = self.login(email, password, **meta)
        assert response.status_code == 200, response.content
        return response.json()

    def register(self, *, password: str = PASSWORD, **fields):
        """POST the sign-up form: `password` defaults to the factories' one, other fields as given."""
        return self.post("auth-register", {"password": password, **fields})

    def refresh(self, token: str, **meta):
        return self.post("auth-refresh", {"refresh": token}, **meta)

    def rotate(self, token: str) -> str:
        """Refresh and return the new refresh token; any answer but 200 fails."""
        response = self.refresh(token)
        assert response.status_code == 200, response.content
        return response.json()["refresh"]

    def verify(self, token: str, **meta):
        return self.post("auth-verify", {"token": token}, **meta)

    def logout(self, access: str, refresh: str):
        return bearer(access).post(reverse("auth-logout"), {"refresh": refresh}, format="json")

    def logout_all(self, access: str):
        return bearer(access).post(reverse("auth-logout-all"))

    def me(self, access: str):
        return bearer(access).get(reverse("auth-me"))
