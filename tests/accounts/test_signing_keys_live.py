"""Signing keys against the real server (gunicorn, production settings), in one run on one database:

- an outside service verifies our access tokens with plain PyJWT's PyJWKClient, knowing only
  the JWKS URL, JWT_ISSUER and JWT_AUDIENCE (contract: "A service that verifies access tokens");
- a rotation across restarts loses no session: HS256 -> ES256 (the old HMAC key as a fallback)
  -> EdDSA (ES256 kept as previous) -> RS256 (EdDSA kept, ES256 removed, which ends its tokens
  at once with 401 token_not_valid). A previous key keeps its own algorithm.
"""
from __future__ import annotations

import uuid

import jwt
import pytest
import requests

import devprocs as services
from apps.accounts import keys

PASSWORD = "Correct-Horse-42!"
ISSUER, AUDIENCE = "https://auth.example.test", "example-api"


def new_pem(algorithm: str) -> tuple[str, str]:
    private = keys.generate_private_key(algorithm)
    return keys.private_pem(private), keys.public_pem(private)


def register(server, email: str) -> dict:
    response = requests.post(f"{server.url}/api/auth/register/", json={"email": email, "password": PASSWORD}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def login(server, email: str) -> dict:
    response = requests.post(f"{server.url}/api/auth/login/", json={"email": email, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def me(server, access: str) -> requests.Response:
    return requests.get(f"{server.url}/api/auth/me/", headers={"Authorization": f"Bearer {access}"}, timeout=10)


def refresh(server, token: str) -> requests.Response:
    return requests.post(f"{server.url}/api/auth/refresh/", json={"refresh": token}, timeout=10)


def assert_token_not_valid(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "token_not_valid"


def verify_like_another_service(server, access: str) -> dict:
    """What the README tells another service to do, and nothing else: PyJWKClient on the JWKS
    URL, JWT_ISSUER and JWT_AUDIENCE."""
    client = jwt.PyJWKClient(f"{server.url}/.well-known/jwks.json")
    signing_key = client.get_signing_key_from_jwt(access)
    claims = jwt.decode(access, signing_key, algorithms=["EdDSA", "ES256", "RS256"],
                        audience=AUDIENCE, issuer=ISSUER, leeway=5)
    assert claims["token_type"] == "access"
    assert signing_key.algorithm_name == jwt.get_unverified_header(access)["alg"]
    with pytest.raises(jwt.InvalidAudienceError):  # the outside check is a real one
        jwt.decode(access, signing_key, audience="someone-else", issuer=ISSUER)
    return claims


def kids(server) -> list[str]:
    response = requests.get(f"{server.url}/.well-known/jwks.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    return [k["kid"] for k in response.json()["keys"]]


def kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def test_rotation_across_restarts_on_one_database_and_outside_verification_with_pyjwkclient():
    """HS256 -> ES256 -> EdDSA -> RS256 on one database, each step keeping the previous key;
    at every step an outside PyJWKClient verifies current and previous keys' access tokens."""
    secret_1, secret_2 = "hmac-one-" + "1" * 40, "hmac-two-" + "2" * 40
    es, ed, rs = new_pem("ES256"), new_pem("EdDSA"), new_pem("RS256")
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    with services.scratch_database_url(prefix="authsvc_keys") as database_url:
        def serve(*, first: bool = False, **env):
            return services.live_server(workers=1, migrate=first, DATABASE_URL=database_url,
                                        JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE, **env)

        # 1. Today: HS256 with secret 1; nothing to publish.
        with serve(first=True, JWT_SECRET_KEY=secret_1) as server:
            register(server, email)
            hs = login(server, email)
            assert kids(server) == []
        assert jwt.get_unverified_header(hs["access"])["alg"] == "HS256"

        # 2. Switch to ES256 and rotate the HMAC key (secret 1 kept as a fallback): no session lost.
        with serve(JWT_ALGORITHM="ES256", JWT_PRIVATE_KEY=es[0], JWT_SECRET_KEY=secret_2,
                   JWT_SECRET_KEY_FALLBACKS=secret_1) as server:
            assert me(server, hs["access"]).status_code == 200
            assert refresh(server, hs["refresh"]).status_code == 200
            es_pair = login(server, email)
            assert kids(server) == [kid(es_pair["access"])]
            assert verify_like_another_service(server, es_pair["access"])["email"] == email
        assert jwt.get_unverified_header(es_pair["refresh"])["alg"] == "HS256"

        # 3. New key (EdDSA), ES256 key kept as previous; the HMAC fallback dropped.
        with serve(JWT_ALGORITHM="EdDSA", JWT_PRIVATE_KEY=ed[0], JWT_PREVIOUS_PUBLIC_KEYS=es[1],
                   JWT_SECRET_KEY=secret_2) as server:
            assert me(server, es_pair["access"]).status_code == 200
            assert_token_not_valid(me(server, hs["access"]))  # secret 1 is in neither list now
            assert refresh(server, es_pair["refresh"]).status_code == 200
            ed_pair = login(server, email)
            assert kids(server) == [kid(ed_pair["access"]), kid(es_pair["access"])]
            verify_like_another_service(server, ed_pair["access"])
            verify_like_another_service(server, es_pair["access"])  # a previous key, its own algorithm

        # 4. New key (RS256), EdDSA kept as previous, ES256 removed: its tokens stop at once.
        with serve(JWT_ALGORITHM="RS256", JWT_PRIVATE_KEY=rs[0], JWT_PREVIOUS_PUBLIC_KEYS=ed[1],
                   JWT_SECRET_KEY=secret_2) as server:
            assert_token_not_valid(me(server, es_pair["access"]))
            assert me(server, ed_pair["access"]).status_code == 200
            assert refresh(server, ed_pair["refresh"]).status_code == 200
            rs_pair = login(server, email)
            assert kids(server) == [kid(rs_pair["access"]), kid(ed_pair["access"])]
            verify_like_another_service(server, rs_pair["access"])
            verify_like_another_service(server, ed_pair["access"])
            assert me(server, rs_pair["access"]).status_code == 200
