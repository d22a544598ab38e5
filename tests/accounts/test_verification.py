"""Email verification (contract: "Account recovery and verification"), through HTTP, with
mail handed to a real SMTP server (aiosmtpd)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

import devprocs as services
from apps.accounts.models import User
from apps.audit.models import EventType, SecurityEvent
from apps.core import metrics
from apps.mail.services import mail_pending_count
from tests.factories import PASSWORD
from tests.support import bearer, claims

DANA = "dana@example.com"
VERIFY = "/api/auth/email/verify/"
RESEND = "/api/auth/email/verify/resend/"
ME = "/api/auth/me/"
FRONTEND = "https://app.example.com/verify?token={token}&from=mail"


@pytest.fixture(autouse=True)
def _frontend(settings):
    settings.EMAIL_VERIFY_URL = FRONTEND


def verify_tokens(server) -> list[tuple[str, str]]:
    """(to, token) of every verification email received."""
    found = []
    for message in server.received():
        if message["Subject"] != "Confirm your email address":
            continue
        lines = services.message_text(message).splitlines()
        [line] = [ln for ln in lines if ln.startswith("https://app.example.com/verify?")]
        found.append((message["To"], parse_qs(urlsplit(line).query)["token"][0]))
    return found








@pytest.fixture
def registered(db, api, smtp, deliver):
    body = api.register(email=DANA).json()
    deliver()
    [(to, token)] = verify_tokens(smtp)
    assert to == "dana@example.com"
    return body, token


def test_registration_sends_a_verification_link_to_the_frontend_on_its_own_line(registered, smtp):
    body, token = registered
    assert body["user"]["email_verified"] is False
    assert claims(body["access"])["email_verified"] is False
    [message] = smtp.received()
    assert message["From"] == "no-reply@authsvc.test"
    assert FRONTEND.replace("{token}", token) in services.message_text(message).splitlines()


def test_verify_answers_the_user_now_verified_and_records_the_event(api, registered, api_client):
    body, token = registered
    response = api_client.post(VERIFY, {"token": token}, format="json")

    assert response.status_code == 200
    assert response.json()["email_verified"] is True and response.json()["id"] == body["user"]["id"]
    assert SecurityEvent.objects.filter(user_id=body["user"]["id"], type=EventType.EMAIL_VERIFIED).count() == 1
    again = api.login(DANA).json()
    assert again["user"]["email_verified"] is True
    assert claims(again["access"])["email_verified"] is True
    assert bearer(again["access"]).get(ME).json()["email_verified"] is True


def test_verification_link_works_once(registered, api_client):
    _, token = registered
    assert api_client.post(VERIFY, {"token": token}, format="json").status_code == 200

    again = api_client.post(VERIFY, {"token": token}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "invalid_token"


def test_verification_link_expires(registered, api_client, clock, settings):
    _, token = registered
    clock.advance(seconds=settings.EMAIL_VERIFY_TIMEOUT_SECONDS + 1)

    response = api_client.post(VERIFY, {"token": token}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_token"


def test_a_link_signed_with_a_retired_secret_key_works_while_it_is_in_the_fallbacks(registered, api_client, settings):
    _, token = registered
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-for-the-rotation-" + "x" * 20
    settings.SECRET_KEY_FALLBACKS = []
    refused = api_client.post(VERIFY, {"token": token}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_token"

    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert api_client.post(VERIFY, {"token": token}, format="json").status_code == 200


def test_a_link_stops_working_when_the_address_changes(registered, api_client):
    body, token = registered
    User.objects.filter(pk=body["user"]["id"]).update(email="dana.new@example.com")

    response = api_client.post(VERIFY, {"token": token}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_token"


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),
    lambda t: t.split(".")[0] + ".zzzzzz." + t.split(".")[2],
    lambda t: "garbage",
    lambda t: "a.b.c",
    lambda t: "x" * 250,
])
def test_tampered_or_garbage_tokens_are_400_invalid_token(registered, api_client, mangle):
    _, token = registered
    response = api_client.post(VERIFY, {"token": mangle(token)}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_token"


def test_missing_or_oversized_token_is_400_invalid(db, api_client):
    for body in ({}, {"token": ""}, {"token": "x" * 300}, {"token": ["a"]}):
        response = api_client.post(VERIFY, body, format="json")
        assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_resend_sends_a_fresh_link_and_nothing_to_a_verified_account(registered, api_client, smtp, deliver):
    body, token = registered
    client = bearer(body["access"])

    assert client.post(RESEND).status_code == 202
    deliver()
    assert len(verify_tokens(smtp)) == 2
    fresh = verify_tokens(smtp)[1][1]
    assert api_client.post(VERIFY, {"token": fresh}, format="json").status_code == 200

    assert client.post(RESEND).status_code == 202
    deliver()
    assert len(verify_tokens(smtp)) == 2  # verified: nothing more


def test_resend_needs_an_access_token(db, api_client):
    response = api_client.post(RESEND)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_resend_is_throttled(auth_client, settings):
    settings.THROTTLE_ENABLED = True
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "email_verify_resend": "2/15m"},
    }
    assert [auth_client.post(RESEND).status_code for _ in range(2)] == [202, 202]
    response = auth_client.post(RESEND)
    assert response.status_code == 429 and response.json()["code"] == "throttled"


def test_existing_accounts_and_members_added_by_an_owner_start_unverified(auth_client, user):
    assert auth_client.get(ME).json()["email_verified"] is False
    added = auth_client.post(
        "/api/tenants/current/members/", {"email": "m@acme.io", "password": PASSWORD}, format="json"
    )
    assert added.status_code == 201 and added.json()["email_verified"] is False


def test_optional_mode_lets_an_unverified_account_log_in(registered, api, settings):
    settings.EMAIL_VERIFICATION = "optional"
    response = api.login(DANA)
    assert response.status_code == 200 and response.json()["user"]["email_verified"] is False


# --- EMAIL_VERIFICATION=mandatory ----------------------------------------------------------
@pytest.fixture
def mandatory(settings):
    settings.EMAIL_VERIFICATION = "mandatory"


def test_mandatory_register_answers_201_with_the_user_and_no_tokens(db, api, mandatory, smtp, deliver):
    response = api.register(email=DANA)

    assert response.status_code == 201
    assert set(response.json()) == {"user"}
    assert response.json()["user"]["email_verified"] is False
    deliver()
    assert len(verify_tokens(smtp)) == 1


def test_mandatory_login_of_unverified_account_is_403_only_with_the_right_password(db, api, mandatory, smtp, deliver):
    api.register(email=DANA)
    before = metrics.auth_logins_total.labels(outcome="email_not_verified")._value.get()

    refused = api.login(DANA)
    assert refused.status_code == 403 and refused.json()["code"] == "email_not_verified"
    for wrong in (api.login(DANA, "Wrong-Password-1"), api.login("nobody@example.com")):
        assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    assert metrics.auth_logins_total.labels(outcome="email_not_verified")._value.get() == before + 1
    failed = SecurityEvent.objects.filter(type=EventType.LOGIN_FAILED).count()
    assert failed == 2  # unverified + wrong password; the unknown email records nothing


def test_mandatory_refused_login_resends_the_link_unless_one_went_out_in_the_last_60s(api, db, api_client, mandatory, smtp, deliver, clock):
    api.register(email=DANA)  # sends one
    api.login(DANA)
    api.login(DANA)
    assert mail_pending_count() == 1  # registration's only: within 60 s

    clock.advance(seconds=61)
    assert api.login(DANA).json()["code"] == "email_not_verified"
    api.login(DANA)
    assert mail_pending_count() == 2
    deliver()
    tokens = verify_tokens(smtp)
    assert len(tokens) == 2
    assert api_client.post(VERIFY, {"token": tokens[-1][1]}, format="json").status_code == 200
    response = api.login(DANA)
    assert response.status_code == 200 and set(response.json()) >= {"user", "access", "refresh"}


def test_mandatory_unverified_refusals_count_against_the_per_email_login_throttle(db, api, mandatory, settings):
    api.register(email=DANA)
    settings.THROTTLE_ENABLED = True
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                   "login_email": "2/hour", "login_ip": "1000/hour"},
    }
    assert [api.login(DANA).status_code for _ in range(2)] == [403, 403]
    assert api.login(DANA).status_code == 429


def test_verified_user_logs_in_under_mandatory(user, api, mandatory):
    user.email_verified = True
    user.save()
    assert api.login(user.email).status_code == 200


def test_email_verification_setting_is_checked_at_start_up():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=services.ROOT, capture_output=True, text=True,
        env={**services.os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "EMAIL_VERIFICATION": "sometimes"},
        timeout=60,
    )
    assert result.returncode != 0 and "EMAIL_VERIFICATION must be 'optional' or 'mandatory'" in result.stderr


def test_the_four_endpoints_are_in_the_openapi_schema_with_their_answers(db, api_client):
    paths = api_client.get("/api/schema/?format=json").json()["paths"]
    expected = {
        "/api/auth/password/reset/": {"202", "400", "429"},
        "/api/auth/password/reset/confirm/": {"200", "400", "429"},
        "/api/auth/email/verify/": {"200", "400", "429"},
        "/api/auth/email/verify/resend/": {"202", "401", "429"},
    }
    for path, statuses in expected.items():
        assert statuses <= set(paths[path]["post"]["responses"]), path
    assert "email_not_verified" in paths["/api/auth/login/"]["post"]["responses"]["403"]["description"]
