"""Django admin: deleting a tenant detaches its users and logs them out; invitations pages."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import RefreshSession, Role, User
from apps.accounts.services import get_tokens_for_user
from apps.tenants.models import Invitation, Tenant
from tests.factories import TenantFactory, UserFactory
from tests.support import bearer


@pytest.fixture
def admin_web(db):
    root = UserFactory(email="root@example.com", tenant=None, role="", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    return client


@pytest.fixture
def acme_users(tenant, user):
    return [user, UserFactory(email="admin@acme.io", tenant=tenant, role=Role.ADMIN),
            UserFactory(email="member@acme.io", tenant=tenant, role=Role.MEMBER)]


def test_delete_confirmation_page_says_users_are_detached_and_logged_out(admin_web, tenant, acme_users):
    response = admin_web.get(f"/admin/tenants/tenant/{tenant.pk}/delete/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "protected related objects" not in page
    assert "will not be deleted" in page
    assert "detached" in page and "revoked" in page
    for u in acme_users:
        assert u.email in page
    assert "Yes, I’m sure" in page


def test_deleting_a_tenant_in_the_admin_detaches_its_users_and_kills_their_tokens(admin_web, api_client, tenant, acme_users):
    other = UserFactory(email="boss@globex.io", tenant=TenantFactory(slug="globex"), role=Role.OWNER)
    pairs = {u.email: get_tokens_for_user(u) for u in [*acme_users, other]}

    response = admin_web.post(f"/admin/tenants/tenant/{tenant.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    for u in acme_users:
        fresh = User.objects.get(pk=u.pk)
        assert (fresh.tenant_id, fresh.role) == (None, "")
        me = bearer(pairs[u.email]["access"]).get("/api/auth/me/")
        assert me.status_code == 401 and me.json()["code"] == "token_not_valid"
        refreshed = api_client.post("/api/auth/refresh/", {"refresh": pairs[u.email]["refresh"]}, format="json")
        assert refreshed.status_code == 401
    assert set(RefreshSession.objects.filter(user__in=acme_users).values_list("revoked_reason", flat=True)) == {"tenant_deleted"}
    # The other tenant is untouched.
    assert bearer(pairs["boss@globex.io"]["access"]).get("/api/auth/me/").json()["tenant"]["slug"] == "globex"


def test_deleting_tenants_with_the_bulk_action_confirms_then_detaches(admin_web, tenant, acme_users):
    second = TenantFactory(slug="initech")
    lone = UserFactory(email="peter@initech.io", tenant=second, role=Role.OWNER)
    form = {"action": "delete_selected", "_selected_action": [str(tenant.pk), str(second.pk)]}

    confirm = admin_web.post("/admin/tenants/tenant/", form)

    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "protected related objects" not in page
    assert "will not be deleted" in page and "peter@initech.io" in page and "member@acme.io" in page

    done = admin_web.post("/admin/tenants/tenant/", {**form, "post": "yes"})

    assert done.status_code == 302
    assert not Tenant.objects.filter(pk__in=[tenant.pk, second.pk]).exists()
    assert User.objects.filter(pk__in=[u.pk for u in [*acme_users, lone]], tenant__isnull=True).count() == 4


def test_deleting_a_tenant_deletes_its_invitations(admin_web, tenant, user):
    now = timezone.now()
    Invitation.objects.create(
        tenant=tenant, email="new@acme.io", role="member", token_hash="a" * 64, invited_by=user,
        created_at=now, expires_at=now + timedelta(days=7),
    )

    admin_web.post(f"/admin/tenants/tenant/{tenant.pk}/delete/", {"post": "yes"})

    assert not Invitation.objects.exists()


def test_tenant_without_users_deletes_as_usual(admin_web):
    empty = TenantFactory(slug="empty")

    page = admin_web.get(f"/admin/tenants/tenant/{empty.pk}/delete/").content.decode()
    response = admin_web.post(f"/admin/tenants/tenant/{empty.pk}/delete/", {"post": "yes"})

    assert "will not be deleted" not in page
    assert response.status_code == 302
    assert not Tenant.objects.filter(pk=empty.pk).exists()


def test_invitation_admin_lists_and_revokes_without_showing_the_token_hash(admin_web, tenant, user):
    now = timezone.now()
    invitation = Invitation.objects.create(
        tenant=tenant, email="new@acme.io", role="member", token_hash="f" * 64, invited_by=user,
        created_at=now, expires_at=now + timedelta(days=7),
    )

    listing = admin_web.get("/admin/tenants/invitation/")
    detail = admin_web.get(f"/admin/tenants/invitation/{invitation.pk}/change/")
    revoke = admin_web.post("/admin/tenants/invitation/", {"action": "revoke", "_selected_action": [str(invitation.pk)]})

    assert listing.status_code == 200 and "new@acme.io" in listing.content.decode()
    assert detail.status_code == 200 and "f" * 64 not in detail.content.decode()
    assert admin_web.get("/admin/tenants/invitation/add/").status_code == 403
    assert revoke.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
