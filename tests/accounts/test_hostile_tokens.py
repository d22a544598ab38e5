"""Hostile and malformed JWTs (RFC 8725, OWASP ASVS V3.5): every one is a 401
`token_not_valid`, as a Bearer header on /me/ and in the body of /refresh/ and /verify/;
none is ever a 5xx. The algorithm is pinned to HS256 with JWT_SECRET_KEY, and iss, aud and
exp are required."""
from __future__ import annotations

import base64
import json
import time
import uuid
import warnings

import jwt
import jwt.warnings
import pytest
import requests
from django.conf import settings
from rest_framework.test import APIClient

import devprocs as services
from apps.accounts.services import get_tokens_for_user
from tests.support import DROP, access_claims

ONE_MB = 1_000_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(obj: dict) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())





def _sign(claims: dict, *, key: str | None = None, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():  # PyJWT warns that our 61-byte key is short for HS512
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)


def _hostile_tokens(user, valid: dict[str, str]) -> dict[str, str]:
    """name -> token; each is well formed enough to get past a naive check, or not at all."""
    claims = access_claims(user)
    header, payload, signature = valid["access"].split(".")
    forged_payload = _segment({**json.loads(base64.urlsafe_b64decode(payload + "==")), "user_id": str(uuid.uuid4())})
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    return {
        "alg_none": f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}.",
        "alg_none_upper": f"{_segment({'alg': 'NONE', 'typ': 'JWT'})}.{_segment(claims)}.",
        "hs512_right_key": _sign(claims, algorithm="HS512"),
        "hs384_right_key": _sign(claims, algorithm="HS384"),
        # Algorithm confusion: claims RS256, HMAC-signed with the (public-looking) secret.
        "rs256_header_hmac_signature": _hmac_with_header({"alg": "RS256", "typ": "JWT"}, claims, key),
        "rs256_header_garbage_signature": f"{_segment({'alg': 'RS256', 'typ': 'JWT'})}.{_segment(claims)}.{_b64(b'x' * 256)}",
        "signed_with_django_secret_key": _sign(claims, key=settings.SECRET_KEY),
        "wrong_iss": _sign({**claims, "iss": "https://evil.example"}),
        "missing_iss": _sign({k: v for k, v in claims.items() if k != "iss"}),
        "wrong_aud": _sign({**claims, "aud": "someone-else"}),
        "missing_aud": _sign({k: v for k, v in claims.items() if k != "aud"}),
        "expired_beyond_leeway": _sign({**claims, "iat": int(time.time()) - 3600, "exp": int(time.time()) - 60}),
        "not_yet_valid": _sign({**claims, "nbf": int(time.time()) + 3600}),
        "tampered_payload": f"{header}.{forged_payload}.{signature}",
        "truncated": valid["access"][:-12],
        "signature_stripped": f"{header}.{payload}.",
        "not_base64": "!!!.@@@.###",
        "two_segments": f"{header}.{payload}",
        "four_segments": f"{valid['access']}.{signature}",
        "one_megabyte": "a" * ONE_MB,
        "one_megabyte_jwt_shaped": f"{header}.{'A' * ONE_MB}.{signature}",
        "non_uuid_user_id": _sign({**claims, "user_id": "1 OR 1=1"}),
        "numeric_user_id": _sign({**claims, "user_id": 1}),
        "non_uuid_sid": _sign({**claims, "sid": "../../etc/passwd"}),
        "unknown_user": _sign({**claims, "user_id": str(uuid.uuid4())}),
        "exp_as_string": _sign({**claims, "exp": "tomorrow"}),
        "no_token_type": _sign({k: v for k, v in claims.items() if k != "token_type"}),
        # Numeric claims past what a datetime holds (year 9999): signed, so only our own
        # handling of them can turn them into a 500.
        **{f"{claim}_{name}": _sign({**claims, claim: value})
           for claim in ("exp", "nbf", "iat") for name, value in _HUGE_NUMBERS.items()},
    }


_HUGE_NUMBERS = {"1e20": 1e20, "minus_1e20": -1e20, "int_10_pow_30": 10**30, "1e308": 1e308, "nan": float("nan"), "inf": float("inf")}


def _hmac_with_header(header: dict, claims: dict, key: str) -> str:
    import hashlib
    import hmac

    signing_input = f"{_segment(header)}.{_segment(claims)}"
    digest = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(digest)}"


def _hostile_refresh_tokens(user, valid: dict[str, str]) -> dict[str, str]:
    """The same attacks shaped as refresh tokens (token_type refresh, a real-looking sid)."""
    refresh_claims = access_claims(user, token_type="refresh", email=DROP, tenant_id=DROP, tenant_slug=DROP, enabled_modules=DROP)
    tokens = _hostile_tokens(user, valid)
    tokens.update({
        "refresh_hs512_right_key": _sign(refresh_claims, algorithm="HS512"),
        "refresh_signed_with_django_secret_key": _sign(refresh_claims, key=settings.SECRET_KEY),
        "refresh_wrong_iss": _sign({**refresh_claims, "iss": "evil"}),
        "refresh_missing_aud": _sign({k: v for k, v in refresh_claims.items() if k != "aud"}),
        "refresh_non_uuid_sid": _sign({**refresh_claims, "sid": "not-a-uuid"}),
        "refresh_sid_as_list": _sign({**refresh_claims, "sid": ["x"]}),
        "refresh_non_uuid_user_id": _sign({**refresh_claims, "user_id": "admin"}),
        "refresh_unknown_sid": _sign(refresh_claims),
        "refresh_expired": _sign({**refresh_claims, "exp": int(time.time()) - 60}),
        "refresh_truncated": valid["refresh"][:-5],
        "refresh_exp_1e20": _sign({**refresh_claims, "exp": 1e20}),
        "refresh_iat_1e20": _sign({**refresh_claims, "iat": 1e20}),
    })
    return tokens


@pytest.fixture
def valid(user):
    return get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")


def _assert_token_not_valid(response, name: str) -> None:
    assert response.status_code == 401, (name, response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] == "token_not_valid", (name, body)
    assert isinstance(body["detail"], str) and body["detail"]


def test_every_hostile_bearer_token_is_rejected_as_token_not_valid(user, valid):
    for name, token in _hostile_tokens(user, valid).items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        _assert_token_not_valid(client.get("/api/auth/me/"), name)


def test_every_hostile_token_in_the_refresh_body_is_rejected_as_token_not_valid(user, valid, api_client, settings):
    settings.THROTTLE_ENABLED = False
    for name, token in _hostile_refresh_tokens(user, valid).items():
        response = api_client.post("/api/auth/refresh/", {"refresh": token}, format="json")
        _assert_token_not_valid(response, name)


def test_every_hostile_token_in_the_verify_body_is_rejected_as_token_not_valid(user, valid, api_client, settings):
    settings.THROTTLE_ENABLED = False
    for name, token in _hostile_refresh_tokens(user, valid).items():
        response = api_client.post("/api/auth/verify/", {"token": token}, format="json")
        _assert_token_not_valid(response, name)


def test_hostile_tokens_never_revoke_the_users_real_session(user, valid, api_client, settings):
    settings.THROTTLE_ENABLED = False
    for token in _hostile_refresh_tokens(user, valid).values():
        api_client.post("/api/auth/refresh/", {"refresh": token}, format="json")

    response = api_client.post("/api/auth/refresh/", {"refresh": valid["refresh"]}, format="json")

    assert response.status_code == 200


@pytest.mark.parametrize("header", ["Bearer ", "Bearer", "Bearer a b", "Bearer \t "])
def test_bearer_with_empty_or_split_token_is_token_not_valid(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    _assert_token_not_valid(client.get("/api/auth/me/"), header)


@pytest.mark.parametrize("path,field", [("/api/auth/refresh/", "refresh"), ("/api/auth/verify/", "token")])
@pytest.mark.parametrize("token", ["", "   "], ids=["empty", "blank"])
def test_empty_token_in_body_is_token_not_valid(db, api_client, path, field, token):
    _assert_token_not_valid(api_client.post(path, {field: token}, format="json"), repr(token))


def test_access_token_presented_at_refresh_is_token_not_valid(valid, api_client):
    response = api_client.post("/api/auth/refresh/", {"refresh": valid["access"]}, format="json")

    _assert_token_not_valid(response, "access at /refresh/")


def test_refresh_token_presented_as_bearer_is_token_not_valid(valid):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {valid['refresh']}")

    _assert_token_not_valid(client.get("/api/auth/me/"), "refresh as Bearer")


def test_access_token_at_logout_is_token_not_valid_and_session_survives(valid, api_client):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {valid['access']}")

    _assert_token_not_valid(client.post("/api/auth/logout/", {"refresh": valid["access"]}, format="json"), "access at logout")
    assert api_client.post("/api/auth/refresh/", {"refresh": valid["refresh"]}, format="json").status_code == 200


def test_the_valid_tokens_used_as_a_baseline_are_accepted(valid, api_client):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {valid['access']}")

    assert client.get("/api/auth/me/").status_code == 200
    assert api_client.post("/api/auth/verify/", {"token": valid["refresh"]}, format="json").status_code == 200


@pytest.mark.live
def test_one_megabyte_token_reaches_the_app_under_gunicorn_and_gets_json_401():
    """gunicorn.conf.py's limit_request_field_size lets a 1 MB header through to the app,
    whose length check answers a JSON 401 instead of gunicorn's HTML 400."""
    token = "a" * ONE_MB
    with services.live_server(workers=1) as server:
        as_bearer = requests.get(f"{server.url}/api/auth/me/", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        in_refresh = requests.post(f"{server.url}/api/auth/refresh/", json={"refresh": token}, timeout=30)
        in_verify = requests.post(f"{server.url}/api/auth/verify/", json={"token": token}, timeout=30)

    for name, response in [("bearer", as_bearer), ("refresh", in_refresh), ("verify", in_verify)]:
        assert response.status_code == 401, (name, response.status_code, response.text[:200])
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "token_not_valid"
