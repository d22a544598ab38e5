"""Signing keys (contract "Signing keys"): each algorithm end to end, the JWKS, rotation with
previous keys and HMAC fallbacks, and algorithm confusion (RFC 8725 section 2.1 and 3.1).

In-process, with settings overridden per test; the live-server cases (an outside PyJWKClient,
rotation across restarts) are in test_signing_keys_live.py.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from apps.accounts import keys
from tests.support import access_claims, bearer

LOGIN, ME, REFRESH, VERIFY, JWKS = (
    "/api/auth/login/", "/api/auth/me/", "/api/auth/refresh/", "/api/auth/verify/", "/.well-known/jwks.json",
)
ASYMMETRIC = ["EdDSA", "ES256", "RS256"]
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def key_pem(algorithm: str, n: int = 0) -> tuple[str, str]:
    """(private PEM, public PEM), one cached pair per (algorithm, n); RSA at 2048 bits for speed."""
    return _key_pem(algorithm, n)


@functools.cache
def _key_pem(algorithm: str, n: int) -> tuple[str, str]:
    if algorithm == "RS256":
        from cryptography.hazmat.primitives.asymmetric import rsa

        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        private = keys.generate_private_key(algorithm)
    return keys.private_pem(private), keys.public_pem(private)


def use_keys(settings, algorithm: str, *, n: int = 0, previous: list[str] = (), fallbacks: list[str] = ()):
    settings.JWT_ALGORITHM = algorithm
    settings.JWT_PRIVATE_KEY = key_pem(algorithm, n)[0] if algorithm != "HS256" else ""
    settings.JWT_PREVIOUS_PUBLIC_KEYS = "\n\n".join(previous)
    settings.JWT_SECRET_KEY_FALLBACKS = list(fallbacks)


def use_hmac_key(settings, secret: str, fallbacks: list[str] = ()):
    settings.JWT_SECRET_KEY = secret
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": secret}
    settings.JWT_SECRET_KEY_FALLBACKS = list(fallbacks)


def header(token: str) -> dict:
    return jwt.get_unverified_header(token)




def assert_401(response) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "token_not_valid"




# --- Each algorithm end to end --------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["HS256", *ASYMMETRIC])
def test_each_algorithm_logs_in_reads_me_refreshes_and_verifies(api, settings, api_client, user, algorithm):
    use_keys(settings, algorithm)
    pair = api.pair(user.email)

    access_header = header(pair["access"])
    assert access_header["alg"] == algorithm
    assert access_header["kid"] == keys.keyring().access_kid
    # Refresh tokens stay HS256 with JWT_SECRET_KEY whatever the access algorithm.
    assert header(pair["refresh"]) == {"alg": "HS256", "kid": keys.hmac_kid(settings.JWT_SECRET_KEY), "typ": "JWT"}
    assert bearer(pair["access"]).get(ME).json()["email"] == user.email

    rotated = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200, rotated.content
    assert header(rotated.json()["access"])["alg"] == algorithm
    assert bearer(rotated.json()["access"]).get(ME).status_code == 200
    for token in (rotated.json()["access"], rotated.json()["refresh"]):
        response = api_client.post(VERIFY, {"token": token}, format="json")
        assert response.status_code == 200 and response.json() == {}, response.content


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_asymmetric_access_token_verifies_with_the_public_jwk_alone(api, settings, api_client, user, algorithm):
    use_keys(settings, algorithm)
    access = api.pair(user.email)["access"]
    jwk = api_client.get(JWKS).json()["keys"][0]

    decoded = jwt.decode(access, jwt.PyJWK(jwk), audience=settings.JWT_AUDIENCE, issuer=settings.JWT_ISSUER)

    assert decoded["user_id"] == str(user.id) and decoded["token_type"] == "access"
    assert jwk["kid"] == header(access)["kid"]


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_kid_is_the_rfc7638_thumbprint_of_the_public_key(settings, algorithm):
    use_keys(settings, algorithm)
    public = serialization.load_pem_public_key(key_pem(algorithm)[1].encode())
    members = keys._algorithm_class(algorithm).to_jwk(public, as_dict=True)
    required = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}[members["kty"]]
    canonical = json.dumps({m: members[m] for m in required}, sort_keys=True, separators=(",", ":"))

    expected = jwt.utils.base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()
    assert keys.keyring().access_kid == expected


def test_rfc7638_example_thumbprint():
    """RFC 7638 section 3.1's worked example: our thumbprint matches the RFC's."""
    jwk = {
        "kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZ"
             "CiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZg"
             "nYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqb"
             "w0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    }
    assert keys.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_hmac_kid_reveals_no_part_of_the_key(settings):
    secret = "s3cr3t-" + uuid.uuid4().hex * 2
    kid = keys.hmac_kid(secret)
    encodings = {secret, secret.encode().hex(), jwt.utils.base64url_encode(secret.encode()).decode()}
    for encoding in encodings:
        for start in range(0, len(encoding) - 4):
            assert encoding[start:start + 5] not in kid
    assert kid == keys.hmac_kid(secret) != keys.hmac_kid(secret + "x")


# --- JWKS -----------------------------------------------------------------------------------------
def test_jwks_is_empty_with_hs256_and_cacheable(settings, api_client, db):
    use_keys(settings, "HS256")
    response = api_client.get(JWKS)

    assert response.status_code == 200
    assert response.json() == {"keys": []}
    assert response["Content-Type"] == "application/json"
    cache_control = response["Cache-Control"]
    assert cache_control.startswith("public, max-age=") and int(cache_control.split("=")[1]) > 0


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_jwks_lists_current_then_previous_public_keys_and_no_private_member(settings, api_client, db, algorithm):
    previous = [key_pem("EdDSA", 7)[1], key_pem("RS256", 7)[1]]
    use_keys(settings, algorithm, previous=previous, fallbacks=["an-old-hmac-key-" + "x" * 32])

    jwks = api_client.get(JWKS).json()

    assert [k["alg"] for k in jwks["keys"]] == [algorithm, "EdDSA", "RS256"]
    assert jwks["keys"][0]["kid"] == keys.keyring().access_kid
    for jwk in jwks["keys"]:
        assert jwk["use"] == "sig" and jwk["kty"] in ("OKP", "EC", "RSA")
        assert not PRIVATE_MEMBERS & set(jwk), jwk
        assert set(jwk) <= {"kty", "kid", "alg", "use", "crv", "x", "y", "n", "e"}
        assert jwk["kid"] == keys.thumbprint(jwk)
    assert "oct" not in json.dumps(jwks)


@pytest.mark.parametrize("accept", ["application/jwk-set+json", "application/xml", "*/*"])
def test_jwks_is_served_as_json_whatever_the_accept_header(settings, api_client, db, accept):
    use_keys(settings, "EdDSA")
    response = api_client.get(JWKS, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["keys"][0]["kid"] == keys.keyring().access_kid


def test_jwks_other_methods_and_unknown_well_known_paths_are_json(api_client, db):
    response = api_client.post(JWKS, {}, format="json")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    response = api_client.get("/.well-known/nope.json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_jwks_follows_the_https_redirect_unlike_health(settings, client, db):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(JWKS)

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/.well-known/jwks.json"


def test_jwks_is_in_the_openapi_schema(api_client, db):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "get" in schema["paths"]["/.well-known/jwks.json"]


# --- Rotation -------------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_rotation_keeps_old_tokens_signs_new_ones_with_new_kid_and_removal_ends_old_key(api, settings, api_client, user, algorithm):
    use_keys(settings, algorithm, n=1)
    old = api.pair(user.email)
    old_kid = header(old["access"])["kid"]

    use_keys(settings, algorithm, n=2, previous=[key_pem(algorithm, 1)[1]])
    assert bearer(old["access"]).get(ME).status_code == 200
    rotated = api_client.post(REFRESH, {"refresh": old["refresh"]}, format="json")
    assert rotated.status_code == 200  # refresh tokens are HS256: an access-key rotation leaves them be
    new_kid = header(rotated.json()["access"])["kid"]
    assert new_kid != old_kid and new_kid == keys.keyring().access_kid

    use_keys(settings, algorithm, n=2)
    assert_401(bearer(old["access"]).get(ME))
    assert_401(api_client.post(VERIFY, {"token": old["access"]}, format="json"))
    assert bearer(rotated.json()["access"]).get(ME).status_code == 200


def test_previous_key_keeps_its_own_algorithm_whatever_jwt_algorithm_is_now(settings, api, user):
    use_keys(settings, "EdDSA", n=3)
    eddsa_access = api.pair(user.email)["access"]

    use_keys(settings, "RS256", previous=[key_pem("EdDSA", 3)[1]])
    assert bearer(eddsa_access).get(ME).status_code == 200
    assert header(api.pair(user.email)["access"])["alg"] == "RS256"


def test_switching_hs256_to_asymmetric_keeps_hs256_access_tokens_until_they_expire(api, settings, api_client, user, clock):
    use_keys(settings, "HS256")
    hs_pair = api.pair(user.email)

    use_keys(settings, "EdDSA")
    assert bearer(hs_pair["access"]).get(ME).status_code == 200
    assert api_client.post(REFRESH, {"refresh": hs_pair["refresh"]}, format="json").status_code == 200

    clock.advance(seconds=settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() + 10)
    assert_401(bearer(hs_pair["access"]).get(ME))


def test_hmac_rotation_with_fallbacks_keeps_sessions_and_removal_ends_them(api, settings, api_client, user):
    old_secret, new_secret = "old-hmac-key-" + "a" * 40, "new-hmac-key-" + "b" * 40
    use_hmac_key(settings, old_secret)
    old = api.pair(user.email)

    use_hmac_key(settings, new_secret, fallbacks=[old_secret])
    assert bearer(old["access"]).get(ME).status_code == 200
    rotated = api_client.post(REFRESH, {"refresh": old["refresh"]}, format="json")
    assert rotated.status_code == 200, rotated.content
    assert header(rotated.json()["refresh"])["kid"] == keys.hmac_kid(new_secret)
    assert header(rotated.json()["access"])["kid"] == keys.hmac_kid(new_secret)
    second = api.pair(user.email)

    use_hmac_key(settings, new_secret)
    assert_401(bearer(old["access"]).get(ME))
    assert bearer(rotated.json()["access"]).get(ME).status_code == 200
    assert api_client.post(REFRESH, {"refresh": second["refresh"]}, format="json").status_code == 200


def test_token_without_kid_from_before_the_upgrade_still_verifies_as_hs256(settings, api_client, user):
    use_keys(settings, "EdDSA", fallbacks=["previous-hmac-" + "c" * 40])
    legacy = jwt.encode(access_claims(user), settings.JWT_SECRET_KEY, algorithm="HS256")
    legacy_fallback = jwt.encode(access_claims(user), "previous-hmac-" + "c" * 40, algorithm="HS256")
    assert "kid" not in header(legacy)

    assert bearer(legacy).get(ME).status_code == 200
    assert bearer(legacy_fallback).get(ME).status_code == 200


# --- Algorithm confusion --------------------------------------------------------------------------
def _hmac_sign(payload: dict, key: bytes, extra_header: dict) -> str:
    """HS256 over raw bytes, bypassing PyJWT's refusal to use a PEM/JWK as an HMAC secret."""
    import base64
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", **extra_header}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_hs256_token_signed_with_our_public_key_is_refused(settings, api_client, user, algorithm):
    use_keys(settings, algorithm)
    public_pem = key_pem(algorithm)[1].encode()
    jwk_bytes = json.dumps(api_client.get(JWKS).json()["keys"][0]).encode()
    kid = keys.keyring().access_kid

    for secret in (public_pem, public_pem.strip(), jwk_bytes):
        for extra in ({"kid": kid}, {}):
            forged = _hmac_sign(access_claims(user), secret, extra)
            assert_401(bearer(forged).get(ME))
            assert_401(api_client.post(VERIFY, {"token": forged}, format="json"))


@pytest.mark.parametrize("algorithm", ["HS256", *ASYMMETRIC])
def test_alg_none_and_unknown_kid_are_refused(settings, api_client, user, algorithm):
    use_keys(settings, algorithm)
    kid = keys.keyring().access_kid
    unsigned = jwt.encode(access_claims(user), None, algorithm="none", headers={"kid": kid})
    stranger_private = key_pem("EdDSA", 99)[0]
    stranger = jwt.encode(access_claims(user), stranger_private, algorithm="EdDSA", headers={"kid": "not-one-of-ours"})
    # A foreign key that claims our kid: the signature must still be checked with OUR key.
    stranger_with_our_kid = jwt.encode(access_claims(user), stranger_private, algorithm="EdDSA", headers={"kid": kid})

    for forged in (unsigned, stranger, stranger_with_our_kid):
        assert_401(bearer(forged).get(ME))
        assert_401(api_client.post(VERIFY, {"token": forged}, format="json"))


def test_kid_of_another_key_type_with_its_algorithm_swapped_is_refused(settings, api_client, user):
    """An RS256 kid presented with alg HS256, or the HMAC key's kid with alg EdDSA: refused."""
    use_keys(settings, "RS256")
    rs_kid, hmac_kid = keys.keyring().access_kid, keys.hmac_kid(settings.JWT_SECRET_KEY)
    hs_with_rs_kid = jwt.encode(access_claims(user), settings.JWT_SECRET_KEY, algorithm="HS256", headers={"kid": rs_kid})
    ed_with_hmac_kid = jwt.encode(access_claims(user), key_pem("EdDSA", 5)[0], algorithm="EdDSA", headers={"kid": hmac_kid})

    for forged in (hs_with_rs_kid, ed_with_hmac_kid):
        assert_401(bearer(forged).get(ME))


def test_access_token_signed_with_the_private_key_is_not_a_refresh_token(api, settings, api_client, user):
    use_keys(settings, "EdDSA")
    session = header(api.pair(user.email)["refresh"])
    assert session["alg"] == "HS256"
    forged_refresh = jwt.encode(
        {**access_claims(user), "token_type": "refresh"}, key_pem("EdDSA")[0], algorithm="EdDSA",
        headers={"kid": keys.keyring().access_kid},
    )
    assert_401(api_client.post(REFRESH, {"refresh": forged_refresh}, format="json"))


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        type(self).requests.append(self.path)
        body = json.dumps({"keys": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def recording_server():
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("algorithm", ["HS256", "EdDSA"])
def test_keys_named_by_url_or_embedded_in_the_token_are_never_used_or_fetched(settings, api_client, user, recording_server, algorithm):
    use_keys(settings, algorithm)
    url, requests_seen = recording_server
    attacker = key_pem("EdDSA", 42)
    attacker_jwk = keys.public_jwk(serialization.load_pem_public_key(attacker[1].encode()), algorithm="EdDSA")
    forged = [
        jwt.encode(access_claims(user), attacker[0], algorithm="EdDSA",
                   headers={"jku": f"{url}/jwks.json", "kid": attacker_jwk["kid"]}),
        jwt.encode(access_claims(user), attacker[0], algorithm="EdDSA",
                   headers={"x5u": f"{url}/cert.pem", "kid": attacker_jwk["kid"]}),
        jwt.encode(access_claims(user), attacker[0], algorithm="EdDSA", headers={"jwk": attacker_jwk}),
        jwt.encode(access_claims(user), attacker[0], algorithm="EdDSA", headers={"jwk": attacker_jwk, "kid": attacker_jwk["kid"]}),
    ]
    for token in forged:
        assert_401(bearer(token).get(ME))
        assert_401(api_client.post(VERIFY, {"token": token}, format="json"))
        assert_401(api_client.post(REFRESH, {"refresh": token}, format="json"))
    time.sleep(0.2)  # a fetch would have been made during the requests; give a stray one time to land
    assert requests_seen == []
    # The recorder works: a request to it is seen (so the empty list above means something).
    import urllib.request

    urllib.request.urlopen(f"{url}/probe", timeout=5).read()
    assert requests_seen == ["/probe"]


# --- Unit: loading ---------------------------------------------------------------------------------
def test_previous_public_keys_accept_one_line_escaped_pems_and_refuse_junk():
    two = key_pem("EdDSA", 11)[1] + "\n" + key_pem("ES256", 11)[1]
    assert len(keys.load_public_keys(two.replace("\n", "\\n"))) == 2
    with pytest.raises(keys.ImproperlyConfigured, match="^JWT_PREVIOUS_PUBLIC_KEYS"):
        keys.load_public_keys(two + "\ngarbage")
    with pytest.raises(keys.ImproperlyConfigured, match="^JWT_PREVIOUS_PUBLIC_KEYS"):
        keys.load_public_keys(key_pem("EdDSA", 11)[0])


def test_log_redaction_masks_private_keys_and_hmac_fallbacks(settings):
    from apps.core.logging import redact

    fallback = "old-hmac-key-" + uuid.uuid4().hex
    settings.JWT_SECRET_KEY_FALLBACKS = [fallback]
    private = key_pem("EdDSA")[0]
    body = "".join(private.strip().splitlines()[1:-1])

    masked = redact(f"config: {private} then {fallback} and a cut one {private[:60]}")

    assert body not in masked and body[:20] not in masked and fallback not in masked


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
def test_grace_window_returns_the_same_refresh_token_with_an_asymmetric_algorithm(api, settings, api_client, user, algorithm):
    """ES256 signatures are randomised; refresh tokens stay HS256, so the grace window's
    "same token back" holds whatever JWT_ALGORITHM is."""
    use_keys(settings, algorithm)
    first = api.pair(user.email)["refresh"]
    new = api_client.post(REFRESH, {"refresh": first}, format="json").json()
    again = api_client.post(REFRESH, {"refresh": first}, format="json").json()

    assert again["refresh"] == new["refresh"]
    assert header(again["access"])["alg"] == algorithm
    assert bearer(again["access"]).get(ME).status_code == 200


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_generate_signing_key_prints_a_private_key_then_its_public_key(algorithm):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("generate_signing_key", "--algorithm", algorithm, stdout=out)
    text = out.getvalue()
    private_end = text.index("-----END PRIVATE KEY-----\n") + len("-----END PRIVATE KEY-----\n")
    private = keys.load_private_key(text[:private_end], algorithm=algorithm)  # fits the algorithm
    (public,) = keys.load_public_keys(text[private_end:])

    assert text.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert keys.public_pem(private) == text[private_end:]
    assert keys.algorithm_of(public, variable="-") == algorithm
    if algorithm == "RS256":
        assert private.key_size == 3072
