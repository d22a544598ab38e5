"""Refresh sessions' storage: every query on `RefreshSession` (and on the user's
`tokens_valid_after`) lives here, and nothing here decides anything.

The rules are in apps/accounts/services/sessions.py (its numbered guarantees say what each
write here is for); this module only reads and writes what it is told, the fastest way the
database allows:

- `rotate_current`: the one-statement rotation on PostgreSQL (UPDATE ... FROM ... RETURNING,
  a server-side prepared statement where apps/core/prepared.py allows it), with its parameters
  adapted by the fields they meet, as the ORM would;
- `locked`: the row lock with the session's user and tenant, compiled once;
- `save_rotation`: save(update_fields=ROTATION_FIELDS) from SQL built once;
- `revoke`: the revocation rows.

Callers pass parsed ids (uuid.UUID); a malformed id never reaches the database.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import connections

from apps.accounts.models import RefreshSession, User
from apps.core import prepared
from apps.core.prepared import PreparedPkLookup, PreparedReturning, PreparedUpdate
from apps.core.pruning import delete_in_batches

# What a rotation writes (services.sessions._advance, plus the device).
ROTATION_FIELDS = [
    "previous_jti", "rotated_at", "current_jti", "current_issued_at", "current_expires_at",
    "last_used_at", "ip", "user_agent",
]
# save(update_fields=ROTATION_FIELDS) with its UPDATE built once (apps/core/prepared.py):
# compiling it was ~10 % of a refresh's CPU. RefreshSession has no save signals.
_save_rotation = PreparedUpdate(RefreshSession, ROTATION_FIELDS)


def insert(session: RefreshSession) -> None:
    session.save(force_insert=True)


def save_rotation(session: RefreshSession) -> int:
    """Write the rotated fields of `session`; the number of rows written (0: it is gone)."""
    return _save_rotation.run(session)


# --- the one-statement rotation (PostgreSQL) -------------------------------------------------
def rotate_current(
    *, session_id: uuid.UUID, jti: str, user_id: uuid.UUID, now: datetime, new_jti: str,
    new_expires_at: datetime, ip: str | None, user_agent: str,
) -> RefreshSession | None:
    """Rotate the session in one statement if `jti` is its current token and it may be
    refreshed; the session with its user and tenant, or None (nothing written) otherwise.

    The WHERE clause is the SQL mirror of two rules stated in Python, and must change with
    them: `services.sessions.refresh_verdict` returning CURRENT (the owner's session, not
    revoked, before its end, `jti` is `current_jti`), and `User.authentication_refusal`
    returning None (user active; no tenant, or an active one). The SET clause is
    `services.sessions._advance(keep_grace=True)` plus the device: the new token's exp is
    `new_expires_at` capped at the session's end. tests/accounts/test_rotation_fast_path.py
    checks every verdict on this path and on the Python one.

    One UPDATE ... FROM ... RETURNING in autocommit: the row lock it takes is the one
    SELECT ... FOR UPDATE took, held for one statement, and a concurrent rotation of the same
    token waits for it and then finds `current_jti` moved on (READ COMMITTED re-checks the
    WHERE on the new row version), so it takes the locked path and the grace window, as
    before. Four round trips (BEGIN, SELECT ... FOR UPDATE, UPDATE, COMMIT) become one.
    Elsewhere (SQLite: RETURNING cannot name the joined tables) it returns None.
    """
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return None
    stamp = _TIME_FIELD.get_db_prep_value(now, connection)
    params = [
        stamp, new_jti, stamp, _TIME_FIELD.get_db_prep_value(new_expires_at, connection), stamp,
        _IP_FIELD.get_db_prep_value(ip, connection), user_agent,
        _ID_FIELD.get_db_prep_value(session_id, connection), jti, _ID_FIELD.get_db_prep_value(user_id, connection),
        stamp,
    ]
    with connection.cursor() as cursor:
        prepared.execute(cursor, _rotation_sql(connection), params, name="authsvc_rotate_current")
        row = cursor.fetchone()
    return None if row is None else _rotated_row.instance(connection, row)


# What `locked` selects (the session, its user and the user's tenant), as the RETURNING list
# of the one-statement rotation, decoded the same way.
_rotated_row: PreparedReturning[RefreshSession] = PreparedReturning(
    lambda: RefreshSession.objects.select_related("user", "user__tenant")
)
_ROTATION_SQL: dict[str, str] = {}  # per vendor: the text depends on nothing else
# The parameters are adapted by the fields they are compared with or written to, as the ORM does
# (uuid columns: the session's id and user_id; datetimes; the inet column).
_TIME_FIELD = RefreshSession._meta.get_field("rotated_at")
_IP_FIELD = RefreshSession._meta.get_field("ip")
_ID_FIELD = RefreshSession._meta.get_field("id")


def _rotation_sql(connection: Any) -> str:
    sql = _ROTATION_SQL.get(connection.vendor)
    if sql is None:
        qn = connection.ops.quote_name
        tenant_model = User._meta.get_field("tenant").related_model
        s, u, t = (qn(m._meta.db_table) for m in (RefreshSession, User, tenant_model))
        col = lambda table, name: f"{table}.{qn(name)}"  # noqa: E731
        sql = (
            f"UPDATE {s} SET {qn('previous_jti')} = {col(s, 'current_jti')}, {qn('rotated_at')} = %s, "
            f"{qn('current_jti')} = %s, {qn('current_issued_at')} = %s, "
            f"{qn('current_expires_at')} = LEAST(%s, {col(s, 'expires_at')}), {qn('last_used_at')} = %s, "
            f"{qn('ip')} = %s, {qn('user_agent')} = %s "
            f"FROM {u} LEFT OUTER JOIN {t} ON ({col(u, 'tenant_id')} = {col(t, 'id')}) "
            # refresh_verdict(...) is CURRENT:
            f"WHERE {col(s, 'id')} = %s AND {col(s, 'current_jti')} = %s AND {col(s, 'user_id')} = %s "
            f"AND {col(u, 'id')} = {col(s, 'user_id')} AND {col(s, 'revoked_at')} IS NULL "
            f"AND {col(s, 'expires_at')} > %s "
            # User.authentication_refusal() is None:
            f"AND {col(u, 'is_active')} AND ({col(u, 'tenant_id')} IS NULL OR {col(t, 'is_active')}) "
            f"RETURNING {_rotated_row.columns(connection)}"
        )
        _ROTATION_SQL[connection.vendor] = sql
    return sql


# --- reads -----------------------------------------------------------------------------------
# of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the tenant join.
# Compiled once (apps/core/prepared.py): on every refresh, building this 3-table query cost
# more CPU than running it.
_locked_lookup: PreparedPkLookup[RefreshSession] = PreparedPkLookup(
    lambda: RefreshSession.objects.select_for_update(of=("self",)).select_related("user", "user__tenant")
)


def locked(session_id: uuid.UUID) -> RefreshSession | None:
    """The session with its user and tenant, its row locked until the transaction ends
    (call it inside one)."""
    return _locked_lookup.get(session_id)


def with_account(session_id: uuid.UUID) -> RefreshSession | None:
    """The session with its user and tenant, unlocked (read-only checks)."""
    return RefreshSession.objects.select_related("user", "user__tenant").filter(pk=session_id).first()


def of_user(session_id: uuid.UUID | None, *, user: User, unrevoked: bool = False) -> RefreshSession | None:
    """The user's session with this id (only if not revoked, with `unrevoked`), or None."""
    sessions = RefreshSession.objects.filter(pk=session_id, user=user)
    if unrevoked:
        sessions = sessions.filter(revoked_at__isnull=True)
    return sessions.first()


def locked_live_of_user(session_id: uuid.UUID | None, *, user: User, now: datetime) -> RefreshSession | None:
    """The user's session with this id, not revoked and before its end, locked (in a
    transaction), or None."""
    return (
        RefreshSession.objects.select_for_update()
        .filter(pk=session_id, user=user, revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )


def locked_unrevoked_of_user(user: User, *, but: uuid.UUID | str | None = None) -> list[RefreshSession]:
    """Every unrevoked session of the user (but the one with id `but`), locked, with the
    fields a revocation needs."""
    live = RefreshSession.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
    if but is not None:
        live = live.exclude(pk=but)
    return list(live.only("id", "user_id", "current_expires_at", "revoked_at"))


# --- writes ----------------------------------------------------------------------------------
def revoke(session_ids: list[uuid.UUID], *, reason: str, now: datetime) -> int:
    """Mark these sessions revoked (those not revoked yet); how many rows changed."""
    return RefreshSession.objects.filter(pk__in=session_ids, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason
    )


def delete_expired(*, now: datetime, batch_size: int) -> int:
    """Delete the sessions whose current token expired by `now`, in batches; how many."""
    return delete_in_batches(RefreshSession.objects.filter(current_expires_at__lte=now), batch_size=batch_size)


def locked_tokens_valid_after(user: User) -> datetime | None:
    """The user's stored `tokens_valid_after`, its row locked (in a transaction)."""
    return (
        User.objects.select_for_update().filter(pk=user.pk)
        .values_list("tokens_valid_after", flat=True).first()
    )


def set_tokens_valid_after(user: User, value: datetime) -> None:
    User.objects.filter(pk=user.pk).update(tokens_valid_after=value)
    user.tokens_valid_after = value
