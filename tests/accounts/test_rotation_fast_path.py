"""The one-statement rotation (PostgreSQL): the common refresh, a current token of a live
session, is one UPDATE ... RETURNING that writes exactly what the locked path writes; every
other case is left, untouched, to the locked path. Every verdict of `refresh_verdict` is
checked on both paths: the Python one (locked rotation and /verify/), on both databases, and
the SQL one, on PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

import devprocs as services
from apps.accounts import session_store
from apps.accounts.models import RefreshSession, User
from apps.accounts.services import get_tokens_for_user, sessions
from apps.accounts.services.sessions import RefreshVerdict
from apps.accounts.tokens import decode_refresh
from apps.core import clock
from apps.core.ids import parse_uuid
from tests.factories import TenantFactory, UserFactory

postgres_only = pytest.mark.skipif(not services.using_postgres(), reason="the one-statement rotation is PostgreSQL's")

ROTATION_COLUMNS = ["rotated_at", "current_issued_at", "current_expires_at", "last_used_at", "ip", "user_agent",
                    "revoked_at", "revoked_reason", "expires_at", "created_at", "user_id"]


def session_ids(pair: dict) -> tuple[str, str, str]:
    """(sid, jti, user_id) of the pair's refresh token."""
    token = decode_refresh(pair["refresh"])
    return token["sid"], token["jti"], token["user_id"]


def fast(pair: dict, *, now=None, ip="198.51.100.9", user_agent="ua/2", user_id=None):
    sid, jti, owner = session_ids(pair)
    return sessions._rotate_current(session_id=parse_uuid(sid), jti=jti, user_id=user_id or owner,
                                    now=now or clock.now(), ip=ip, user_agent=user_agent)


def locked(pair: dict, *, now, ip="198.51.100.9", user_agent="ua/2", user_id=None):
    sid, jti, owner = session_ids(pair)
    return sessions._rotate_locked(session_id=parse_uuid(sid), jti=jti, user_id=user_id or owner, now=now, ip=ip,
                                   user_agent=user_agent)


def row(session_id) -> dict:
    return {name: getattr(RefreshSession.objects.get(pk=session_id), name) for name in ROTATION_COLUMNS}


@postgres_only
def test_a_refresh_of_the_current_token_is_one_statement(user):
    pair = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")
    with CaptureQueriesContext(connection) as queries:
        response = APIClient().post("/api/auth/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200, response.content
    assert len(queries) == 1, [q["sql"][:80] for q in queries]
    assert queries[0]["sql"].startswith("UPDATE") and "RETURNING" in queries[0]["sql"]


@postgres_only
def test_it_writes_and_returns_what_the_locked_path_writes_and_returns(db):
    user = UserFactory(tenant=TenantFactory(enabled_modules=["crm"]), role="owner")
    one, two = (get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest") for _ in range(2))
    RefreshSession.objects.filter(pk=session_ids(two)[0]).update(
        created_at=RefreshSession.objects.get(pk=session_ids(one)[0]).created_at,
        expires_at=RefreshSession.objects.get(pk=session_ids(one)[0]).expires_at,
    )
    now = clock.now() + timedelta(seconds=3)

    by_fast = fast(one, now=now)
    outcome, by_lock = locked(two, now=now)

    assert outcome is sessions._Outcome.ROTATED
    assert row(by_fast.pk) == row(by_lock.pk)
    for got, expected in ((by_fast, by_lock),):
        assert {n: getattr(got, n) for n in ROTATION_COLUMNS} == {n: getattr(expected, n) for n in ROTATION_COLUMNS}
        assert got.previous_jti == session_ids(one)[1] and expected.previous_jti == session_ids(two)[1]
        assert got.current_jti != got.previous_jti and len(got.current_jti) == 32
        assert got.user == user and got.user.tenant == user.tenant
        assert got.user.tenant.modules == ["crm"]
    # The new refresh token is minted from the returned row: it rotates in turn.
    assert fast({"refresh": sessions._current_refresh(by_fast)}) is not None


@postgres_only
def test_the_new_token_lifetime_is_capped_at_the_session_end(user, settings):
    pair = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")
    end = clock.now() + timedelta(hours=2)
    RefreshSession.objects.filter(pk=session_ids(pair)[0]).update(expires_at=end)
    rotated = fast(pair)
    assert rotated.current_expires_at == end


# Each case of a refresh, and the verdict `refresh_verdict` gives it.
CASES = {
    "current_token": RefreshVerdict.CURRENT,
    "previous_token_inside_the_grace_window": RefreshVerdict.GRACE,
    "previous_token_after_the_grace_window": RefreshVerdict.SPENT,
    "older_ancestor": RefreshVerdict.SPENT,
    "inactive_user": RefreshVerdict.BARRED,
    "inactive_tenant": RefreshVerdict.BARRED,
    "unknown_session": RefreshVerdict.DEAD,
    "other_user": RefreshVerdict.DEAD,
    "revoked": RefreshVerdict.DEAD,
    "expired": RefreshVerdict.DEAD,
}
# What the locked path does with each verdict.
OUTCOMES = {
    RefreshVerdict.CURRENT: sessions._Outcome.ROTATED,
    RefreshVerdict.GRACE: sessions._Outcome.REISSUED,
    RefreshVerdict.SPENT: sessions._Outcome.REUSE,
    RefreshVerdict.BARRED: sessions._Outcome.REJECTED,
    RefreshVerdict.DEAD: sessions._Outcome.REJECTED,
}


def arrange(case: str) -> tuple[dict, dict]:
    """A session in the state `case` names; the pair whose refresh token is presented, and
    the claims to override."""
    tenant = TenantFactory()
    user = UserFactory(tenant=tenant, role="owner")
    pair = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")
    sid = session_ids(pair)[0]
    kwargs = {}
    if case.startswith("previous_token") or case == "older_ancestor":
        _, rotated = locked(pair, now=clock.now())  # pair's token is now the previous one
        if case == "older_ancestor":
            locked({"refresh": sessions._current_refresh(rotated)}, now=clock.now())
        elif case.endswith("after_the_grace_window"):
            RefreshSession.objects.filter(pk=sid).update(rotated_at=clock.now() - timedelta(seconds=11))
    elif case == "unknown_session":
        RefreshSession.objects.filter(pk=sid).delete()
    elif case == "other_user":
        kwargs["user_id"] = str(UserFactory().pk)
    elif case == "revoked":
        RefreshSession.objects.filter(pk=sid).update(revoked_at=clock.now(), revoked_reason="logout")
    elif case == "expired":
        RefreshSession.objects.filter(pk=sid).update(expires_at=clock.now() - timedelta(seconds=1))
    elif case == "inactive_user":
        User.objects.filter(pk=user.pk).update(is_active=False)
    elif case == "inactive_tenant":
        type(tenant).objects.filter(pk=tenant.pk).update(is_active=False)
    return pair, kwargs


@pytest.mark.parametrize("case", CASES)
def test_each_case_gets_its_verdict_and_the_python_paths_act_on_it(db, case, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 10
    expected = CASES[case]
    pair, kwargs = arrange(case)
    sid, jti, owner = session_ids(pair)
    now = clock.now()

    verdict = sessions.refresh_verdict(
        session_store.with_account(parse_uuid(sid)), jti=jti, user_id=kwargs.get("user_id", owner), now=now,
    )
    usable = sessions.refresh_is_usable(token={**decode_refresh(pair["refresh"]).payload, **kwargs})
    outcome, session = locked(pair, now=now, **kwargs)

    assert verdict is expected
    assert usable is (expected in (RefreshVerdict.CURRENT, RefreshVerdict.GRACE))
    assert outcome is OUTCOMES[expected]
    if expected in (RefreshVerdict.SPENT, RefreshVerdict.BARRED):  # revoked on sight
        assert RefreshSession.objects.get(pk=sid).revoked_at is not None


@postgres_only
@pytest.mark.parametrize("case", CASES)
def test_the_one_statement_rotation_takes_exactly_the_current_verdict(db, case, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 10
    pair, kwargs = arrange(case)
    sid = session_ids(pair)[0]
    before = list(RefreshSession.objects.filter(pk=sid).values())

    rotated = fast(pair, **kwargs)

    if CASES[case] is RefreshVerdict.CURRENT:
        assert rotated is not None and rotated.previous_jti == session_ids(pair)[1]
    else:  # left to the locked path, nothing written
        assert rotated is None
        assert list(RefreshSession.objects.filter(pk=sid).values()) == before


@postgres_only
def test_a_user_without_a_tenant_rotates_in_one_statement(db):
    user = UserFactory(tenant=None, role="")
    pair = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")
    rotated = fast(pair)
    assert rotated is not None and rotated.user == user and rotated.user.tenant is None
