"""PreparedPkLookup returns what the ORM returns, field for field, with select_related
relations filled (or None), on SQLite and on PostgreSQL (the second test run)."""
from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import RefreshSession, User
from apps.accounts.services import session_open
from apps.core.prepared import PreparedPkLookup
from tests.factories import TenantFactory, UserFactory


def fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


users = PreparedPkLookup(lambda: User.objects.select_related("tenant"))
locked_sessions = PreparedPkLookup(
    lambda: RefreshSession.objects.select_for_update(of=("self",)).select_related("user", "user__tenant")
)


@pytest.mark.parametrize("with_tenant", [True, False])
def test_user_lookup_equals_the_orm(db, with_tenant):
    tenant = TenantFactory(enabled_modules=["crm", "billing"]) if with_tenant else None
    user = UserFactory(tenant=tenant, role="owner" if with_tenant else "", first_name="Zoë")

    got = users.get(user.pk)
    expected = User.objects.select_related("tenant").get(pk=user.pk)

    assert type(got) is User and fields(got) == fields(expected)
    assert not got._state.adding and got._state.db == "default"
    with CaptureQueriesContext(connection) as queries:
        tenant_seen = got.tenant  # filled by the join: no second query
    assert len(queries) == 0
    if with_tenant:
        assert fields(tenant_seen) == fields(expected.tenant)
        assert tenant_seen.modules == ["crm", "billing"]
    else:
        assert tenant_seen is None


def test_missing_key_is_none_and_the_query_has_no_order_by(db):
    with CaptureQueriesContext(connection) as queries:
        assert users.get(uuid.uuid4()) is None
    assert len(queries) == 1
    assert "ORDER BY" not in queries[0]["sql"]


def test_locked_session_lookup_equals_the_orm_inside_a_transaction(db):
    user = UserFactory()
    pair = session_open(user=user, ip="127.0.0.1", user_agent="ua")
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            got = locked_sessions.get(pair.session_id)
        expected = RefreshSession.objects.select_related("user", "user__tenant").get(pk=pair.session_id)
    assert fields(got) == fields(expected)
    assert fields(got.user) == fields(expected.user) and fields(got.user.tenant) == fields(expected.user.tenant)
    if connection.vendor == "postgresql":
        assert "FOR UPDATE OF" in queries[0]["sql"]


def test_prepared_update_writes_what_save_with_update_fields_writes(db):
    from datetime import timedelta

    from django.db.models.signals import post_save, pre_save

    from apps.accounts.session_store import ROTATION_FIELDS as _ROTATION_FIELDS
    from apps.accounts.session_store import _save_rotation
    from apps.core import clock

    # No receivers: PreparedUpdate sends no save signals.
    assert not pre_save.has_listeners(RefreshSession) and not post_save.has_listeners(RefreshSession)
    user = UserFactory()
    twins = [session_open(user=user, ip="127.0.0.1", user_agent="ua").session_id for _ in range(2)]
    now = clock.now()
    values = {
        "previous_jti": "a" * 32, "rotated_at": now, "current_jti": "b" * 32,
        "current_issued_at": now, "current_expires_at": now + timedelta(days=7),
        "last_used_at": now, "ip": "2001:db8::1", "user_agent": "Zoë's browser",
    }
    assert set(values) == set(_ROTATION_FIELDS)
    by_orm, prepared = (RefreshSession.objects.get(pk=pk) for pk in twins)
    for obj in (by_orm, prepared):
        for name, value in values.items():
            setattr(obj, name, value)
    by_orm.save(update_fields=_ROTATION_FIELDS)
    assert _save_rotation.run(prepared) == 1

    a, b = (RefreshSession.objects.get(pk=pk) for pk in twins)
    assert {f: getattr(a, f) for f in _ROTATION_FIELDS} == {f: getattr(b, f) for f in _ROTATION_FIELDS}
    assert b.current_jti == "b" * 32 and b.ip == "2001:db8::1" and b.rotated_at == now
    RefreshSession.objects.filter(pk=twins[1]).delete()
    assert _save_rotation.run(prepared) == 0


def test_a_lookup_by_a_unique_field_equals_the_orm_and_refuses_a_non_unique_one(db):
    from apps.accounts.services.users import _user_by_email

    user = UserFactory(tenant=TenantFactory(), role="owner", email="Zoë.Unique@Example.com")
    got = _user_by_email.get(user.email)
    expected = User.objects.select_related("tenant").get(email=user.email)
    assert fields(got) == fields(expected) and fields(got.tenant) == fields(expected.tenant)
    assert _user_by_email.get("nobody@example.com") is None
    assert _user_by_email.get(user.email.upper()) is None  # exact, as filter(email=...) is

    by_first_name = PreparedPkLookup(lambda: User.objects.all(), by="first_name")
    with pytest.raises(ValueError, match="not unique"):
        by_first_name.get("Zoë")
