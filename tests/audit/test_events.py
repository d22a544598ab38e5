"""Security events: recorded by the flows themselves (through HTTP here), listed per user and
per tenant with cursor pagination, never holding a secret, never failing the request."""
from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from io import StringIO

import jwt
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.audit.models import SecurityEvent
from apps.core import clock as app_clock
from tests.conftest import bearer
from tests.factories import PASSWORD, TenantFactory, UserFactory

UA = "EventTest/1.0"
EVENT_KEYS = {"id", "type", "created_at", "ip", "user_agent", "user_id", "session_id", "detail"}


def post(client, path, body=None):
    return client.post(path, body or {}, format="json", HTTP_USER_AGENT=UA)


def login(email, password=PASSWORD):
    return post(APIClient(), "/api/auth/login/", {"email": email, "password": password})


def sid(refresh: str) -> str:
    return jwt.decode(refresh, options={"verify_signature": False})["sid"]


def types_of(user) -> list[str]:
    return list(SecurityEvent.objects.filter(user_id=user.pk).values_list("type", flat=True))


@pytest.fixture
def member(db, tenant):
    return UserFactory(email="member@acme.io", tenant=tenant, role=Role.MEMBER)


# --- recorded by real flows -----------------------------------------------------------------
def test_login_records_login_succeeded_with_the_new_session(user):
    response = login(user.email)

    assert response.status_code == 200
    event = SecurityEvent.objects.get(user_id=user.pk)
    assert event.type == "login_succeeded"
    assert str(event.session_id) == sid(response.json()["refresh"])
    assert (event.ip, event.user_agent, event.tenant_id) == ("127.0.0.1", UA, user.tenant_id)


def test_wrong_password_records_login_failed_without_a_session(user):
    response = login(user.email, "Wrong-password-1!")

    assert response.status_code == 401
    event = SecurityEvent.objects.get(user_id=user.pk)
    assert (event.type, event.session_id, event.ip, event.user_agent) == ("login_failed", None, "127.0.0.1", UA)


def test_inactive_account_and_inactive_tenant_record_login_failed(user, member):
    member.is_active = False
    member.save()
    assert login(member.email).json()["code"] == "account_inactive"
    user.tenant.is_active = False
    user.tenant.save()
    assert login(user.email).json()["code"] == "tenant_inactive"

    assert types_of(member) == ["login_failed"]
    assert types_of(user) == ["login_failed"]


def test_unknown_email_records_nothing_anywhere(db, caplog):
    caplog.set_level(logging.DEBUG)
    email = "nobody-here@example.com"

    response = login(email)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert SecurityEvent.objects.count() == 0
    assert "nobody-here" not in caplog.text


def test_refresh_reuse_records_refresh_reuse_detected_about_that_session(user, clock):
    first = login(user.email).json()["refresh"]
    assert post(APIClient(), "/api/auth/refresh/", {"refresh": first}).status_code == 200
    clock.advance(seconds=11)  # past the grace window

    assert post(APIClient(), "/api/auth/refresh/", {"refresh": first}).status_code == 401

    event = SecurityEvent.objects.filter(type="refresh_reuse_detected").get()
    assert (event.user_id, str(event.session_id), event.user_agent) == (user.pk, sid(first), UA)


def test_logout_logout_all_session_delete_and_password_change_record_their_events(user):
    one, two, three = (login(user.email).json() for _ in range(3))
    client = bearer(one["access"])

    assert post(client, "/api/auth/logout/", {"refresh": two["refresh"]}).status_code == 205
    assert client.delete(f"/api/auth/sessions/{sid(three['refresh'])}/", HTTP_USER_AGENT=UA).status_code == 204
    changed = post(client, "/api/auth/password/change/", {"old_password": PASSWORD, "new_password": "Another-Horse-43!"})
    assert changed.status_code == 200
    assert post(bearer(changed.json()["access"]), "/api/auth/logout-all/").status_code == 200

    events = {e.type: e for e in SecurityEvent.objects.filter(user_id=user.pk).exclude(type="login_succeeded")}
    assert set(events) == {"logout", "session_revoked", "password_changed", "logout_all"}
    assert str(events["logout"].session_id) == sid(two["refresh"])
    assert str(events["session_revoked"].session_id) == sid(three["refresh"])
    assert str(events["password_changed"].session_id) == sid(one["refresh"])  # the caller's
    assert str(events["logout_all"].session_id) == sid(one["refresh"])
    assert all(e.ip == "127.0.0.1" and e.user_agent == UA for e in events.values())


def test_logging_out_an_already_revoked_session_records_no_second_event(user):
    tokens = login(user.email).json()
    client = bearer(tokens["access"])
    post(client, "/api/auth/logout/", {"refresh": tokens["refresh"]})
    post(client, "/api/auth/logout/", {"refresh": tokens["refresh"]})

    assert types_of(user).count("logout") == 1


def test_admin_revocation_records_session_revoked(user):
    tokens = login(user.email).json()
    root = UserFactory(email="root@example.com", tenant=None, role="", is_staff=True, is_superuser=True)
    web = Client()
    web.force_login(root)

    response = web.post("/admin/accounts/refreshsession/", {"action": "revoke", "_selected_action": [sid(tokens["refresh"])]})

    assert response.status_code == 302
    event = SecurityEvent.objects.get(type="session_revoked")
    assert (event.user_id, str(event.session_id)) == (user.pk, sid(tokens["refresh"]))


def test_registration_records_no_event(db):
    response = post(APIClient(), "/api/auth/register/", {"email": "new@example.com", "password": PASSWORD})

    assert response.status_code == 201
    assert SecurityEvent.objects.count() == 0


def test_no_event_holds_a_password_or_a_token(user, clock):
    tokens = login(user.email).json()
    login(user.email, "Wrong-Secret-99!")
    rotated = post(APIClient(), "/api/auth/refresh/", {"refresh": tokens["refresh"]}).json()
    client = bearer(rotated["access"])
    changed = post(client, "/api/auth/password/change/", {"old_password": PASSWORD, "new_password": "Another-Horse-43!"}).json()
    clock.advance(seconds=11)
    post(APIClient(), "/api/auth/refresh/", {"refresh": tokens["refresh"]})  # reuse
    post(bearer(changed["access"]), "/api/auth/logout/", {"refresh": changed["refresh"]})

    listed = bearer(login(user.email, "Another-Horse-43!").json()["access"]).get("/api/auth/events/").json()
    stored = json.dumps(list(SecurityEvent.objects.values()), default=str)
    assert {e["type"] for e in listed["results"]} >= {"login_succeeded", "login_failed", "password_changed", "refresh_reuse_detected"}
    for text in (json.dumps(listed), stored):
        for secret in (PASSWORD, "Wrong-Secret-99!", "Another-Horse-43!", "eyJ"):
            assert secret not in text
        for pair in (tokens, rotated, changed):
            assert pair["access"] not in text and pair["refresh"] not in text


# --- a failed write never fails the request -------------------------------------------------
@pytest.fixture
def broken_event_insert(monkeypatch):
    """Every event insert hits a real database error (on PostgreSQL that aborts the
    transaction it runs in, so only a savepoint keeps the caller's transaction alive)."""

    def failing_save(self, *args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO no_such_table_for_events VALUES (1)")

    monkeypatch.setattr(SecurityEvent, "save", failing_save)


def test_a_failed_event_write_does_not_fail_login_and_is_logged_at_error(user, broken_event_insert, caplog):
    caplog.set_level(logging.ERROR, logger="apps.audit.services")

    response = login(user.email)

    assert response.status_code == 200
    assert "access" in response.json()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "apps.audit.services"]
    assert errors and "login_succeeded" in errors[0].getMessage()


def test_a_failed_event_write_inside_a_transaction_keeps_the_password_change(user, broken_event_insert, caplog):
    tokens = login(user.email).json()

    response = post(bearer(tokens["access"]), "/api/auth/password/change/", {"old_password": PASSWORD, "new_password": "Another-Horse-43!"})

    assert response.status_code == 200
    assert login(user.email, "Another-Horse-43!").status_code == 200
    assert post(APIClient(), "/api/auth/refresh/", {"refresh": response.json()["refresh"]}).status_code == 200
    assert any(r.levelno == logging.ERROR and "password_changed" in r.getMessage() for r in caplog.records)


# --- the lists ------------------------------------------------------------------------------
def test_my_events_lists_the_callers_events_newest_first_in_the_contract_shape(user, member):
    login(user.email, "nope-nope-1")
    login(member.email)
    access = login(user.email).json()["access"]

    response = bearer(access).get("/api/auth/events/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results", "next"}
    assert body["next"] is None
    assert [e["type"] for e in body["results"]] == ["login_succeeded", "login_failed"]
    assert all(set(e) == EVENT_KEYS and e["user_id"] == str(user.pk) for e in body["results"])


def test_my_events_needs_authentication(db):
    response = APIClient().get("/api/auth/events/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_tenant_events_show_every_members_events_and_nothing_of_another_tenant(user, member):
    outsider = UserFactory(email="boss@initech.io", tenant=TenantFactory(name="Initech", slug="initech"))
    login(member.email)
    login(outsider.email)
    access = login(user.email).json()["access"]

    response = bearer(access).get("/api/tenants/current/events/")

    assert response.status_code == 200
    user_ids = {e["user_id"] for e in response.json()["results"]}
    assert user_ids == {str(user.pk), str(member.pk)}
    other = bearer(login(outsider.email).json()["access"]).get("/api/tenants/current/events/").json()
    assert {e["user_id"] for e in other["results"]} == {str(outsider.pk)}


def test_a_former_members_events_stay_with_the_tenant_they_happened_in(user, member):
    login(member.email)
    member.tenant, member.role = None, ""
    member.save()
    login(member.email)  # after leaving: no tenant

    listed = bearer(login(user.email).json()["access"]).get("/api/tenants/current/events/").json()["results"]

    assert [e["type"] for e in listed if e["user_id"] == str(member.pk)] == ["login_succeeded"]
    assert len(bearer(login(member.email).json()["access"]).get("/api/auth/events/").json()["results"]) == 3


def test_tenant_events_refuse_a_member_and_a_user_without_tenant(member):
    loner = UserFactory(email="loner@example.com", tenant=None, role="")

    as_member = bearer(login(member.email).json()["access"]).get("/api/tenants/current/events/")
    as_loner = bearer(login(loner.email).json()["access"]).get("/api/tenants/current/events/")

    assert (as_member.status_code, as_member.json()["code"]) == (403, "permission_denied")
    assert (as_loner.status_code, as_loner.json()["code"]) == (404, "no_tenant")


def test_tenant_admin_may_list_tenant_events(tenant):
    admin = UserFactory(email="admin@acme.io", tenant=tenant, role=Role.ADMIN)

    response = bearer(login(admin.email).json()["access"]).get("/api/tenants/current/events/")

    assert response.status_code == 200


def _bulk_events(user, count, *, same_instant=False):
    now = app_clock.now()
    SecurityEvent.objects.bulk_create(
        SecurityEvent(
            type="login_failed", user_id=user.pk, tenant_id=user.tenant_id,
            created_at=now - timedelta(hours=1) if same_instant else now - timedelta(hours=1, seconds=i),
        )
        for i in range(count)
    )


def _walk(client, url):
    pages, seen = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        pages.append(len(body["results"]))
        seen.extend(body["results"])
        url = body["next"]
        assert len(pages) < 20
    return pages, seen


@pytest.mark.parametrize("same_instant", [False, True], ids=["distinct-times", "one-instant"])
def test_pagination_walks_every_event_once_at_most_50_a_page_newest_first(user, same_instant):
    _bulk_events(user, 119, same_instant=same_instant)
    client = bearer(login(user.email).json()["access"])  # the 120th, newest

    pages, seen = _walk(client, "/api/auth/events/")

    assert pages == [50, 50, 20]
    assert len({e["id"] for e in seen}) == 120
    assert seen[0]["type"] == "login_succeeded"
    assert [e["created_at"] for e in seen] == sorted((e["created_at"] for e in seen), reverse=True)
    assert _walk(client, "/api/tenants/current/events/")[0] == [50, 50, 20]


def test_page_size_can_shrink_but_never_exceed_50(user):
    _bulk_events(user, 60)
    client = bearer(login(user.email).json()["access"])

    assert len(client.get("/api/auth/events/?page_size=10").json()["results"]) == 10
    assert len(client.get("/api/auth/events/?page_size=500").json()["results"]) == 50


def test_a_new_event_does_not_shift_the_next_page(user):
    _bulk_events(user, 60)
    client = bearer(login(user.email).json()["access"])
    first = client.get("/api/auth/events/").json()
    login(user.email)  # a newer event arrives between pages

    second = client.get(first["next"]).json()

    ids = [e["id"] for e in first["results"]] + [e["id"] for e in second["results"]]
    assert len(ids) == len(set(ids)) == 61


def _cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


# DRF's cursor is base64 of a query string (o=offset, r=reverse, p=position): decoding it is
# lenient, and a position that is no timestamp reached the database as one.
TAMPERED_CURSORS = {
    "not_base64": "not-a-cursor",
    "position_not_a_time": "cD14",  # "p=x"
    "position_garbage": _cursor("p=2026-13-45T99:99:99"),
    "position_huge_year": _cursor("p=99999-01-01T00:00:00Z"),
    "position_nul": _cursor("p=\x00"),
    "position_with_offset_and_reverse": _cursor("o=1&r=1&p=x"),
    "offset_negative": _cursor("o=-5&p=x"),
}


@pytest.mark.parametrize("path", ["/api/auth/events/", "/api/tenants/current/events/"])
@pytest.mark.parametrize("cursor", TAMPERED_CURSORS.values(), ids=TAMPERED_CURSORS.keys())
def test_a_tampered_cursor_is_400_invalid(user, path, cursor):
    _bulk_events(user, 3)
    client = bearer(login(user.email).json()["access"])

    response = client.get(path, {"cursor": cursor})

    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "invalid"
    assert "cursor" in response.json()["errors"]


# --- retention and admin --------------------------------------------------------------------
def test_prune_sessions_also_prunes_events_past_retention(user, clock, settings):
    settings.SECURITY_EVENT_RETENTION_DAYS = 90
    login(user.email)
    clock.advance(days=91)
    login(user.email)
    out = StringIO()

    call_command("prune_sessions", stdout=out)

    assert "Pruned 1 security event(s)." in out.getvalue()
    assert SecurityEvent.objects.filter(user_id=user.pk).count() == 1


def test_login_prunes_old_events_without_cron(user, clock, settings, monkeypatch):
    from apps.accounts.services import sessions as session_service

    settings.SESSION_PRUNE_INTERVAL_SECONDS = 3600
    settings.SECURITY_EVENT_RETENTION_DAYS = 30
    login(user.email)
    clock.advance(days=31)
    monkeypatch.setattr(session_service, "_last_prune", float("-inf"))

    login(user.email)

    assert SecurityEvent.objects.filter(user_id=user.pk).count() == 1


def test_admin_lists_security_events_read_only(user):
    login(user.email)
    root = UserFactory(email="root@example.com", tenant=None, role="", is_staff=True, is_superuser=True)
    web = Client()
    web.force_login(root)
    event = SecurityEvent.objects.get(user_id=user.pk)

    listing = web.get("/admin/audit/securityevent/")
    assert listing.status_code == 200
    assert b"Security events" in listing.content
    assert web.get("/admin/audit/securityevent/add/").status_code == 403
    assert web.post(f"/admin/audit/securityevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert web.get(f"/admin/audit/securityevent/{event.pk}/change/").status_code == 200
    assert SecurityEvent.objects.filter(pk=event.pk).exists()
