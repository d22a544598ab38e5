"""Start-up refusals for signing keys (contract: "Configuration added in the second release"):
with an asymmetric JWT_ALGORITHM the process refuses to start, with one line naming
JWT_PRIVATE_KEY, when the key is missing, unparsable, not for that algorithm, or RSA under
2048 bits; in DEBUG too (no silent fallback to HS256). No line ever holds key material.

Same harness as test_settings.py: `manage.py check` in a subprocess on a copy of the code,
with a clean environment.
"""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from apps.accounts import keys
from tests.core.test_settings import JWT_SECRET, SECRET, check, config_error
from tests.core.test_settings import project as project  # the fixture, used by name

PROD = {"DEBUG": "False", "SECRET_KEY": SECRET, "JWT_SECRET_KEY": JWT_SECRET}
ED25519 = keys.generate_private_key("EdDSA")
P256 = keys.generate_private_key("ES256")
RSA_1024 = rsa.generate_private_key(public_exponent=65537, key_size=1024)


def _body(pem: str) -> str:
    """The base64 body of a PEM: what must never show up in an error."""
    return "".join(pem.strip().splitlines()[1:-1])


@pytest.mark.parametrize(("algorithm", "pem", "expected"), [
    ("EdDSA", None, "JWT_PRIVATE_KEY must be set when JWT_ALGORITHM=EdDSA"),
    ("ES256", "", "JWT_PRIVATE_KEY must be set when JWT_ALGORITHM=ES256"),
    ("RS256", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
     "JWT_PRIVATE_KEY is not a readable PEM private key"),
    ("ES256", keys.private_pem(ED25519), "JWT_PRIVATE_KEY is an Ed25519 key, which cannot sign ES256"),
    ("EdDSA", keys.private_pem(P256), "JWT_PRIVATE_KEY is an EC secp256r1 key, which cannot sign EdDSA"),
    ("RS256", keys.private_pem(RSA_1024), "JWT_PRIVATE_KEY is a 1024-bit RSA key; RS256 needs at least 2048 bits"),
    ("RS256", keys.public_pem(P256), "JWT_PRIVATE_KEY is not a readable PEM private key"),
], ids=["missing", "empty", "unparsable", "ed25519-for-es256", "p256-for-eddsa", "rsa-1024", "public-key"])
def test_bad_private_key_with_debug_off_refuses_to_start_with_one_line_naming_it(project, algorithm, pem, expected):
    env = {**PROD, "JWT_ALGORITHM": algorithm}
    if pem is not None:
        env["JWT_PRIVATE_KEY"] = pem
    result = check(project, **env)

    message = config_error(result)
    assert message.startswith(expected), message
    if pem and "BEGIN" in pem:
        assert _body(pem)[:40] not in result.stderr + result.stdout


def test_asymmetric_algorithm_without_key_refuses_in_debug_too(project):
    message = config_error(check(project, DEBUG="True", JWT_ALGORITHM="EdDSA"))
    assert message.startswith("JWT_PRIVATE_KEY must be set when JWT_ALGORITHM=EdDSA"), message


@pytest.mark.parametrize(("env", "expected"), [
    ({"JWT_ALGORITHM": "HS512"}, "JWT_ALGORITHM must be one of HS256, EdDSA, ES256, RS256"),
    ({"JWT_PREVIOUS_PUBLIC_KEYS": "not a key"}, "JWT_PREVIOUS_PUBLIC_KEYS must hold only PEM public keys"),
    ({"JWT_SECRET_KEY_FALLBACKS": "short"}, "JWT_SECRET_KEY_FALLBACKS: each key must be at least 32 bytes"),
    ({"JWT_PRIVATE_KEY": keys.private_pem(ED25519)}, "JWT_PRIVATE_KEY is set but JWT_ALGORITHM is HS256"),
], ids=["unknown-algorithm", "junk-previous-keys", "short-fallback", "key-without-algorithm"])
def test_other_bad_key_settings_refuse_to_start_naming_the_variable(project, env, expected):
    message = config_error(check(project, **PROD, **env))
    assert message.startswith(expected), message


def test_good_keys_start_and_the_one_line_escaped_form_is_accepted(project):
    one_line = keys.private_pem(ED25519).replace("\n", "\\n")
    previous = keys.public_pem(P256) + "\n" + keys.public_pem(keys.generate_private_key("RS256"))
    result = check(project, **PROD, JWT_ALGORITHM="EdDSA", JWT_PRIVATE_KEY=one_line,
                   JWT_PREVIOUS_PUBLIC_KEYS=previous, JWT_SECRET_KEY_FALLBACKS="f" * 40)
    assert result.returncode == 0, result.stderr
