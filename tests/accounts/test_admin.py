"""/admin/: tenants, users and sessions, with deactivation and revocation that really bite."""
from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from apps.accounts.models import RefreshSession, Role, User
from apps.accounts.services import get_tokens_for_user
from apps.audit.models import SecurityEvent
from apps.tenants.models import Tenant
from tests.factories import PASSWORD, TenantFactory, UserFactory

CHANGELISTS = ["/admin/accounts/user/", "/admin/tenants/tenant/", "/admin/accounts/refreshsession/"]


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.com", tenant=None, role="", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_web(superuser):
    client = Client()
    client.force_login(superuser)
    return client




@pytest.mark.parametrize("url", CHANGELISTS)
def test_superuser_loads_every_changelist(admin_web, tokens, url):
    response = admin_web.get(url)

    assert response.status_code == 200
    assert response["X-Request-ID"]


@pytest.mark.parametrize("url", CHANGELISTS)
def test_anonymous_is_sent_to_the_admin_login(db, url):
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_login_page_accepts_email_and_password(superuser):
    client = Client()

    response = client.post("/admin/login/?next=/admin/", {"username": "ROOT@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_user_search_finds_by_email_and_tenant(admin_web, user):
    UserFactory(email="bystander@example.com", tenant=TenantFactory(name="Initech", slug="initech"))

    by_email = admin_web.get("/admin/accounts/user/", {"q": "owner@acme"}).content.decode()
    by_tenant = admin_web.get("/admin/accounts/user/", {"q": "acme"}).content.decode()

    assert "owner@acme.io" in by_email and "bystander@example.com" not in by_email
    assert "owner@acme.io" in by_tenant and "bystander@example.com" not in by_tenant


def test_tenant_search_finds_by_name_and_slug(admin_web, tenant):
    TenantFactory(name="Initech", slug="initech")

    found = admin_web.get("/admin/tenants/tenant/", {"q": "acm"}).content.decode()

    assert "Acme" in found and "Initech" not in found


def test_session_search_finds_by_user_email(admin_web, user, tokens):
    other = UserFactory(email="stranger@example.com")
    get_tokens_for_user(other)

    found = admin_web.get("/admin/accounts/refreshsession/", {"q": "owner@acme"}).content.decode()

    assert "owner@acme.io" in found and "stranger@example.com" not in found


def test_user_and_tenant_change_pages_load(admin_web, user, tenant, tokens):
    session = RefreshSession.objects.get(user=user)

    for url in (
        f"/admin/accounts/user/{user.pk}/change/",
        f"/admin/tenants/tenant/{tenant.pk}/change/",
        f"/admin/accounts/refreshsession/{session.pk}/change/",
        "/admin/accounts/user/add/",
        "/admin/tenants/tenant/add/",
    ):
        assert admin_web.get(url).status_code == 200, url


def test_tenant_deactivate_action_revokes_its_users_sessions(api, admin_web, api_client, tenant, user):
    colleague = UserFactory(email="colleague@acme.io", tenant=tenant, role=Role.MEMBER)
    outsider = UserFactory(email="outsider@example.com", tenant=TenantFactory())
    owner_tokens, colleague_tokens, outsider_tokens = (get_tokens_for_user(u) for u in (user, colleague, outsider))

    response = admin_web.post(
        "/admin/tenants/tenant/", {"action": "deactivate", "_selected_action": [str(tenant.pk)]}, follow=True
    )

    assert response.status_code == 200
    assert not Tenant.objects.get(pk=tenant.pk).is_active
    for pair in (owner_tokens, colleague_tokens):
        rejected = api.refresh(pair["refresh"])
        assert rejected.status_code == 401
        assert rejected.json()["code"] == "token_not_valid"
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
        assert api_client.get("/api/auth/me/").status_code == 401
        api_client.credentials()
    assert api.refresh(outsider_tokens["refresh"]).status_code == 200


def test_tenant_reactivated_in_admin_does_not_revive_old_tokens(api, admin_web, api_client, tenant, tokens):
    admin_web.post("/admin/tenants/tenant/", {"action": "deactivate", "_selected_action": [str(tenant.pk)]})
    admin_web.post("/admin/tenants/tenant/", {"action": "activate", "_selected_action": [str(tenant.pk)]})

    assert Tenant.objects.get(pk=tenant.pk).is_active
    assert api.refresh(tokens["refresh"]).status_code == 401
    assert api_client.post("/api/auth/login/", {"email": "owner@acme.io", "password": PASSWORD}, format="json").status_code == 200


def test_session_revoke_action_revokes_that_session_only(admin_web, api, user):
    first, second = get_tokens_for_user(user), get_tokens_for_user(user)
    session_id = jwt.decode(first["refresh"], options={"verify_signature": False})["sid"]

    admin_web.post("/admin/accounts/refreshsession/", {"action": "revoke", "_selected_action": [session_id]})

    assert api.refresh(first["refresh"]).status_code == 401
    assert api.refresh(second["refresh"]).status_code == 200


def test_admin_add_user_with_email_taken_in_other_case_is_a_form_error(admin_web, user):
    response = admin_web.post(
        "/admin/accounts/user/add/",
        {"email": "OWNER@ACME.IO", "role": "", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 200  # the form again, with its error; not a 500
    assert User.objects.filter(email__iexact="owner@acme.io").count() == 1


def test_admin_add_user_stores_a_lowercased_email(admin_web):
    response = admin_web.post(
        "/admin/accounts/user/add/",
        {"email": "New.Admin@Example.com", "role": "", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(email="new.admin@example.com").check_password(PASSWORD)


def test_createsuperuser_works_non_interactively_with_email(db, monkeypatch, api_client):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command("createsuperuser", interactive=False, email="Boss@Example.com", verbosity=0)

    boss = User.objects.get(email="boss@example.com")
    assert boss.is_superuser and boss.is_staff and boss.is_active
    assert boss.tenant is None and boss.tenant_role is None
    assert Client().login(username="boss@example.com", password=PASSWORD)
    login = api_client.post("/api/auth/login/", {"email": "boss@example.com", "password": PASSWORD}, format="json")
    assert login.status_code == 200
    assert login.json()["user"]["tenant"] is None


def test_createsuperuser_refuses_an_email_taken_in_other_case(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    UserFactory(email="boss@example.com")

    with pytest.raises(CommandError):
        call_command("createsuperuser", interactive=False, email="BOSS@example.com", verbosity=0)

    assert User.objects.filter(email__iexact="boss@example.com").count() == 1


def tenant_form(tenant, **changes):
    data = {"name": tenant.name, "slug": tenant.slug, "enabled_modules": '["crm"]', "is_active": "on"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_tenant_saved_with_a_blank_modules_box_gets_an_empty_list(admin_web, tenant):
    response = admin_web.post(f"/admin/tenants/tenant/{tenant.pk}/change/", tenant_form(tenant, enabled_modules=""))

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.enabled_modules == []


def test_tenant_added_with_a_blank_modules_box_gets_an_empty_list(admin_web):
    response = admin_web.post(
        "/admin/tenants/tenant/add/", {"name": "Fresh", "slug": "fresh", "enabled_modules": "", "is_active": "on"}
    )

    assert response.status_code == 302
    assert Tenant.objects.get(slug="fresh").enabled_modules == []


@pytest.mark.parametrize("modules", ['"crm"', '{"crm": true}', "[1]", '["CRM"]', "null"])
def test_tenant_modules_other_than_a_list_of_names_are_a_form_error_or_empty(admin_web, tenant, modules):
    response = admin_web.post(f"/admin/tenants/tenant/{tenant.pk}/change/", tenant_form(tenant, enabled_modules=modules))

    tenant.refresh_from_db()
    if modules == "null":  # JSON null: no modules
        assert response.status_code == 302 and tenant.enabled_modules == []
    else:
        assert response.status_code == 200  # the form again, with its error
        assert tenant.enabled_modules == ["crm"]


def test_unticking_active_on_the_tenant_page_revokes_its_users_sessions(admin_web, api, tenant, tokens):
    response = admin_web.post(f"/admin/tenants/tenant/{tenant.pk}/change/", tenant_form(tenant, is_active=None))

    assert response.status_code == 302
    assert not Tenant.objects.get(pk=tenant.pk).is_active
    assert api.refresh(tokens["refresh"]).status_code == 401


# --- the admin's login shares the API's limits and records (issue 23 item 1) -----------------
ADMIN_LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def admin_login_limits(settings):
    """Throttles on with the API's per-account limit (5 failures), every other limit high; the
    clock in the middle of the hour, so no window ends mid-test."""
    import time_machine

    settings.THROTTLE_ENABLED = True
    rates = {scope: "1000/hour" for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "login_email": "5/hour"}}
    now = datetime.now(tz=UTC)
    with time_machine.travel(now.replace(minute=30, second=0, microsecond=0), tick=True):
        yield settings


def admin_login(client, email, password):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password})


def logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_admin_login_locks_the_account_after_five_wrong_passwords_and_records_each(superuser, admin_login_limits):
    client = Client()
    for _ in range(5):
        assert admin_login(client, superuser.email, "Wrong-Guess-123").status_code == 200  # the form again

    refused = admin_login(client, superuser.email, PASSWORD)
    assert refused.status_code == 200 and "Too many failed attempts" in refused.content.decode()
    assert not logged_in(client)
    types = list(SecurityEvent.objects.filter(user_id=superuser.pk).values_list("type", flat=True))
    assert types.count("login_failed") == 5 and "login_succeeded" not in types


def test_admin_login_records_login_succeeded(superuser, admin_login_limits):
    client = Client()
    admin_login(client, superuser.email, "Wrong-Guess-123")

    assert admin_login(client, superuser.email, PASSWORD).status_code == 302
    assert logged_in(client)
    types = sorted(SecurityEvent.objects.filter(user_id=superuser.pk).values_list("type", flat=True))
    assert types == ["login_failed", "login_succeeded"]


def test_failures_on_the_api_count_against_the_admin_login(api, superuser, api_client, admin_login_limits):
    for _ in range(5):
        api = api_client.post("/api/auth/login/", {"email": superuser.email, "password": "Wrong-1"}, format="json")
        assert api.status_code == 401

    client = Client()
    assert "Too many failed attempts" in admin_login(client, superuser.email, PASSWORD).content.decode()
    assert not logged_in(client)


def test_admin_login_failures_count_per_client_across_accounts(db, superuser, admin_login_limits):
    rates = admin_login_limits.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    admin_login_limits.REST_FRAMEWORK = {
        **admin_login_limits.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "login_ip": "3/hour"},
    }
    client = Client()
    for n in range(3):
        admin_login(client, f"nobody{n}@example.com", "Wrong-Guess-123")

    refused = admin_login(client, superuser.email, PASSWORD)
    assert "Too many failed attempts" in refused.content.decode()
    assert not logged_in(client)
