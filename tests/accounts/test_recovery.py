"""Password reset by email (contract: "Account recovery and verification"), through HTTP,
with mail handed to a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import re
import statistics
import time
from urllib.parse import parse_qs, urlsplit

import pytest

import devprocs as services
from apps.audit.models import EventType, SecurityEvent
from tests.factories import PASSWORD, UserFactory
from tests.support import assert_throttled, bearer

RESET = "/api/auth/password/reset/"
CONFIRM = "/api/auth/password/reset/confirm/"
LOGIN = "/api/auth/login/"
ME = "/api/auth/me/"
REFRESH = "/api/auth/refresh/"
NEW_PASSWORD = "Brand-New-Passphrase-7"
FRONTEND = "https://app.example.com/account/reset?uid={uid}&token={token}"


@pytest.fixture(autouse=True)
def _frontend(settings):
    settings.PASSWORD_RESET_URL = FRONTEND


def reset_links(server) -> list[tuple[str, str, str]]:
    """(to, uid, token) of every reset email the SMTP server received."""
    found = []
    for message in server.received():
        if message["Subject"] != "Reset your password":
            continue
        lines = services.message_text(message).splitlines()
        [line] = [ln for ln in lines if ln.startswith("https://app.example.com/account/reset?")]
        query = parse_qs(urlsplit(line).query)
        found.append((message["To"], query["uid"][0], query["token"][0]))
    return found


def request_reset(client, email: str, **extra):
    return client.post(RESET, {"email": email}, format="json", **extra)


def confirm(client, uid: str, token: str, password: str = NEW_PASSWORD):
    return client.post(CONFIRM, {"uid": uid, "token": token, "new_password": password}, format="json")




@pytest.fixture
def link(user, api_client, smtp, deliver):
    assert request_reset(api_client, user.email).status_code == 202
    deliver()
    [(_, uid, token)] = reset_links(smtp)
    return uid, token


def test_reset_answers_the_same_for_unknown_inactive_and_real_accounts_and_mails_only_the_real_one(db, api_client, smtp, deliver):
    UserFactory(email="real@example.com")
    UserFactory(email="asleep@example.com", is_active=False)

    answers = [request_reset(api_client, e) for e in ("real@example.com", "asleep@example.com", "ghost@example.com")]

    assert {r.status_code for r in answers} == {202}
    assert len({r.content for r in answers}) == 1
    assert set(answers[0].json()) == {"detail"}
    from apps.mail.models import OutboundMail

    assert OutboundMail.objects.count() == 1  # the no-account paths' placeholder rows are gone
    deliver()
    assert [to for to, _, _ in reset_links(smtp)] == ["real@example.com"]


def test_reset_mail_comes_from_default_from_email_with_the_frontend_link_on_its_own_line(user, link, smtp):
    [message] = smtp.received()
    assert message["From"] == "no-reply@authsvc.test"
    assert message["To"] == user.email
    uid, token = link
    expected = FRONTEND.replace("{uid}", uid).replace("{token}", token)
    assert expected in services.message_text(message).splitlines()
    assert "/api/" not in services.message_text(message)


def test_reset_link_sets_the_new_password(api, user, api_client, link):
    response = confirm(api_client, *link)

    assert response.status_code == 200 and response.json() == {}
    assert api.login(user.email, NEW_PASSWORD).status_code == 200
    assert api.login(user.email, PASSWORD).json()["code"] == "invalid_credentials"


def test_reset_link_works_once(api, user, api_client, link):
    assert confirm(api_client, *link).status_code == 200

    again = confirm(api_client, *link, password="Another-Passphrase-8")
    assert again.status_code == 400 and again.json()["code"] == "invalid_token"
    assert api.login(user.email, NEW_PASSWORD).status_code == 200


def test_reset_link_expires_after_password_reset_timeout(user, api_client, smtp, deliver, clock, settings):
    settings.PASSWORD_RESET_TIMEOUT = 600
    request_reset(api_client, user.email)
    deliver()
    [(_, uid, token)] = reset_links(smtp)

    clock.advance(seconds=601)

    response = confirm(api_client, uid, token)
    assert response.status_code == 400 and response.json()["code"] == "invalid_token"


def test_reset_link_dies_once_the_password_changed_another_way(user, api_client, link):
    user.set_password("Changed-Elsewhere-9")
    user.save()

    response = confirm(api_client, *link)
    assert response.status_code == 400 and response.json()["code"] == "invalid_token"


def test_a_newer_reset_link_ends_the_earlier_one(user, api_client, smtp, deliver):
    request_reset(api_client, user.email)
    request_reset(api_client, user.email)
    deliver()
    [(_, uid, older), (_, _, newer)] = reset_links(smtp)

    refused = confirm(api_client, uid, older)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_token"
    assert confirm(api_client, uid, newer).status_code == 200


def test_a_successful_login_ends_the_reset_links_sent_before_it(api, user, api_client, link, clock):
    clock.advance(seconds=2)  # last_login is hashed in whole seconds
    assert api.login(user.email, PASSWORD).status_code == 200

    refused = confirm(api_client, *link)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_token"


def test_a_failed_login_leaves_the_reset_link_working(api, user, api_client, link, clock):
    clock.advance(seconds=2)
    assert api.login(user.email, "Wrong-Password-1").status_code == 401

    assert confirm(api_client, *link).status_code == 200


def test_a_password_change_through_the_api_ends_the_reset_links_sent_before_it(api, user, api_client, link):
    pair = api.login(user.email, PASSWORD).json()
    changed = bearer(pair["access"]).post(
        "/api/auth/password/change/", {"old_password": PASSWORD, "new_password": "Changed-Here-Passphrase-9"},
        format="json",
    )
    assert changed.status_code == 200

    refused = confirm(api_client, *link)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_token"


def test_completed_reset_revokes_every_session_and_every_earlier_access_token(api, user, api_client, smtp, deliver):
    first = api.login(user.email, PASSWORD).json()
    second = api.login(user.email, PASSWORD).json()
    assert bearer(first["access"]).get(ME).status_code == 200
    request_reset(api_client, user.email)  # after the logins: a login ends earlier links
    deliver()
    [(_, uid, token)] = reset_links(smtp)

    assert confirm(api_client, uid, token).status_code == 200

    for pair in (first, second):
        assert bearer(pair["access"]).get(ME).json()["code"] == "token_not_valid"
        refreshed = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
        assert refreshed.status_code == 401 and refreshed.json()["code"] == "token_not_valid"
    fresh = api.login(user.email, NEW_PASSWORD).json()
    assert bearer(fresh["access"]).get(ME).status_code == 200


def test_weak_new_password_is_400_invalid_and_does_not_use_the_link_up(user, api_client, link):
    weak = confirm(api_client, *link, password="12345678")

    assert weak.status_code == 400
    assert weak.json()["code"] == "invalid" and "new_password" in weak.json()["errors"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # nothing changed (a login would end the link)
    assert confirm(api_client, *link).status_code == 200


@pytest.mark.parametrize("mangle", [
    lambda uid, token, other: (uid, token[:-1] + ("0" if token[-1] != "0" else "1")),
    lambda uid, token, other: (other, token),
    lambda uid, token, other: ("not-base64!", token),
    lambda uid, token, other: ("", token),
    lambda uid, token, other: (uid, "1-" + "a" * 20),
    lambda uid, token, other: ("x" * 60, "y" * 120),
])
def test_tampered_unknown_or_borrowed_uid_and_token_are_400_invalid_token(api, user, api_client, link, mangle):
    from apps.accounts.services.verification import uid_encode

    other = uid_encode(UserFactory(email="someone@example.com"))
    uid, token = mangle(*link, other)

    response = confirm(api_client, uid, token)
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_token", "invalid")  # blank uid: a missing field
    if uid:
        assert response.json()["code"] == "invalid_token"
    assert api.login(user.email, PASSWORD).status_code == 200


def test_deactivated_account_cannot_use_its_reset_link(user, api_client, link):
    user.is_active = False
    user.save()

    response = confirm(api_client, *link)
    assert response.status_code == 400 and response.json()["code"] == "invalid_token"


def test_reset_records_requested_for_real_accounts_only_and_completed(user, api_client, link):
    api_client.post(RESET, {"email": "ghost@example.com"}, format="json")
    confirm(api_client, *link)

    types = list(SecurityEvent.objects.filter(user_id=user.id).values_list("type", flat=True))
    assert types.count(EventType.PASSWORD_RESET_REQUESTED) == 1
    assert types.count(EventType.PASSWORD_RESET_COMPLETED) == 1
    assert SecurityEvent.objects.count() == len(types) + 0  # nothing about the unknown email


def test_completed_reset_marks_the_address_verified(api, user, api_client, link):
    assert confirm(api_client, *link).status_code == 200
    assert api.login(user.email, NEW_PASSWORD).json()["user"]["email_verified"] is True


def test_bad_bodies_are_400_invalid(db, api_client):
    for body in ({}, {"email": "not-an-email"}, {"email": ["a@b.c"]}):
        response = api_client.post(RESET, body, format="json")
        assert response.status_code == 400 and response.json()["code"] == "invalid"
    response = api_client.post(CONFIRM, {"uid": "x"}, format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"token", "new_password"}


def test_reset_with_smtp_down_answers_202_and_the_mail_goes_out_once_when_it_is_back(user, api_client, settings, clock):
    from apps.mail import services as mail
    from tests.support.fixtures import point_smtp

    server = services.SmtpServer()
    point_smtp(settings, server.port)  # nothing listens there yet
    started = time.monotonic()
    assert request_reset(api_client, user.email).status_code == 202
    assert time.monotonic() - started < 2
    assert mail.mail_deliver_due() == 1 and mail.mail_pending_count() == 1  # refused, kept
    server.start()
    try:
        clock.advance(seconds=settings.MAIL_RETRY_MAX_SECONDS + 1)
        mail.mail_deliver_due()
        clock.advance(seconds=settings.MAIL_RETRY_MAX_SECONDS + 1)
        mail.mail_deliver_due()
        [(_, uid, token)] = reset_links(server)
    finally:
        server.stop()
    assert confirm(api_client, uid, token).status_code == 200


# --- timing -------------------------------------------------------------------------------
def test_unknown_and_known_emails_take_about_the_same_time(db, api_client, settings):
    """Medians over interleaved requests; a generous bound (this is a regression guard, the
    numbers are in bench/password_reset.py)."""
    settings.THROTTLE_ENABLED = False
    UserFactory(email="known@example.com")
    known, unknown = [], []
    for i in range(25):
        for email, bucket in (("known@example.com", known), (f"ghost{i}@example.com", unknown)):
            started = time.perf_counter()
            assert request_reset(api_client, email).status_code == 202
            bucket.append(time.perf_counter() - started)
    k, u = statistics.median(known), statistics.median(unknown)
    assert abs(k - u) < max(0.010, 0.75 * max(k, u)), (k, u)


# --- throttles ----------------------------------------------------------------------------
@pytest.fixture
def rates(settings):
    def set_rates(**overrides: str) -> None:
        settings.THROTTLE_ENABLED = True
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**{scope: "1000/hour" for scope in current}, **overrides},
        }

    return set_rates




def test_reset_is_throttled_per_email_whatever_address_asks(db, api_client, rates, settings):
    rates(password_reset_email="3/15m")
    settings.NUM_PROXIES = 1
    for i in range(3):
        assert request_reset(api_client, "Victim@example.com", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code == 202
    assert_throttled(request_reset(api_client, "victim@example.com", HTTP_X_FORWARDED_FOR="203.0.113.99"))
    assert request_reset(api_client, "other@example.com").status_code == 202


def test_reset_is_throttled_per_client_and_a_forged_forwarded_for_does_not_help(db, api_client, rates, settings):
    rates(password_reset_ip="3/15m")
    settings.NUM_PROXIES = 0
    for i in range(3):
        request_reset(api_client, f"a{i}@example.com", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    assert_throttled(request_reset(api_client, "a9@example.com", HTTP_X_FORWARDED_FOR="10.9.9.9"))


def test_reset_confirm_is_throttled_per_client(db, api_client, rates):
    rates(password_reset_confirm="2/15m")
    for _ in range(2):
        assert confirm(api_client, "eA", "1-abc").status_code == 400
    assert_throttled(confirm(api_client, "eA", "1-abc"))


def test_default_reset_rates_are_the_contracts(settings):
    from apps.core.throttling import parse_rate

    rates_ = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert parse_rate(rates_["password_reset_email"]) == (5, 900)
    assert parse_rate(rates_["password_reset_ip"]) == (20, 900)


# --- end to end: gunicorn delivering by itself, through an outage and a hang ---------------
@pytest.mark.live
@pytest.mark.slow
def test_live_reset_through_smtp_down_then_hanging_then_back_is_delivered_once_and_works():
    """The black-box run: gunicorn (2 workers, in-web delivery, nothing else running). SMTP
    down, then accepting and never answering, then back: every request answers at once, and
    each message arrives exactly once after the server is back, within the contract's 60 s."""
    import requests

    server = services.SmtpServer()
    env = {
        "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(server.port), "EMAIL_USE_TLS": "False",
        "EMAIL_TIMEOUT": "2", "PASSWORD_RESET_URL": FRONTEND, "DEFAULT_FROM_EMAIL": "auth@example.com",
    }
    with services.live_server(workers=2, **env) as live:
        def post(path, body):
            started = time.monotonic()
            response = requests.post(live.url + path, json=body, timeout=10)
            return response, time.monotonic() - started

        for _ in range(4):  # both workers booted (the port opens before they are)
            requests.get(live.url + "/health/live", timeout=30)
        # 1. SMTP down.
        registered, took = post("/api/auth/register/", {"email": "carol@example.com", "password": PASSWORD})
        assert registered.status_code == 201 and took < 3
        # 2. SMTP accepts and never answers.
        with services.black_hole(port=server.port):
            time.sleep(0.5)
            answered, took = post(RESET, {"email": "carol@example.com"})
            assert answered.status_code == 202 and took < 3, took
            time.sleep(3)  # at least one attempt hangs until EMAIL_TIMEOUT
        # 3. Back.
        server.start()
        try:
            back_at = time.monotonic()
            assert services.wait_until(lambda: len(server.received()) >= 2, timeout=60, interval=0.2)
            assert time.monotonic() - back_at < 60
            time.sleep(2)  # room for a duplicate to show up
            subjects = sorted(m["Subject"] for m in server.received())
            assert subjects == ["Confirm your email address", "Reset your password"]
            [(to, uid, token)] = reset_links(server)
            assert to == "carol@example.com"
            assert all(m["From"] == "auth@example.com" for m in server.received())
        finally:
            server.stop()
        done, _ = post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
        assert done.status_code == 200 and done.json() == {}
        assert post(LOGIN, {"email": "carol@example.com", "password": NEW_PASSWORD})[0].status_code == 200
        again, _ = post(CONFIRM, {"uid": uid, "token": token, "new_password": "Yet-Another-Pass-3"})
        assert again.status_code == 400 and again.json()["code"] == "invalid_token"
        assert not re.search(re.escape(token), live.read_logs())
