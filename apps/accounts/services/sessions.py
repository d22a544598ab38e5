"""Refresh sessions: create, rotate, revoke. The contract's refresh-session rules live here.

Invariants, and why they hold
-----------------------------
1. One row per login (a "session"); its refresh tokens carry its id as `sid`. The row holds
   the current token's jti/iat/exp, so the database stores one row per live session, not one
   per token ever issued, and tokens themselves are never stored.
2. A refresh token is accepted only if its jti is the row's `current_jti`, or its
   `previous_jti` while `now - rotated_at <= REFRESH_REUSE_GRACE_SECONDS`. The decision and
   the rotation happen under the row lock (SELECT ... FOR UPDATE in one transaction on
   PostgreSQL, BEGIN IMMEDIATE on SQLite; or, for the current token of a live session on
   PostgreSQL, one UPDATE whose WHERE is the decision), so concurrent refreshes, in any
   worker or instance, are serialised on the row: exactly one rotates, the others see
   `previous_jti`.
3. Inside the grace window, the just-rotated token gets the *current* token back, re-minted
   from the row byte for byte. So a session never forks: at any moment only
   `current_jti` can move it forward. The window does not chain: once the current token
   rotates again, `previous_jti` moves on and older ancestors match nothing.
4. Anything else with a valid signature and our `sid` is a reuse attack: the whole session
   is revoked (in the same transaction, committed before the 401 is raised, because
   ATOMIC_REQUESTS is off) and a WARNING names user, session and ip.
5. Revocation is a database write (`revoked_at`); the Redis marker is written after commit
   and only ever short-circuits a rejection (before the locked path; the one-statement
   rotation already requires `revoked_at IS NULL`). Redis down, empty or flushed can make a
   request slower, never let a revoked token through (see accounts/revocation_cache.py).
6. A session ends at `expires_at` (login + SESSION_MAX_LIFETIME_DAYS): rotated tokens get
   REFRESH_TOKEN_LIFETIME_DAYS, capped there. Rows whose last token has expired are pruned
   (`prune_sessions`, and from login at most once per SESSION_PRUNE_INTERVAL_SECONDS).
"""
from __future__ import annotations

import enum
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, transaction

from apps.accounts import revocation_cache, tokens
from apps.accounts.models import RefreshSession, User
from apps.audit.models import EventType
from apps.audit.services import event_record, events_prune
from apps.core import clock, metrics, prepared
from apps.core.exceptions import NotFound, TokenNotValid
from apps.core.ids import parse_uuid
from apps.core.prepared import PreparedPkLookup, PreparedReturning, PreparedUpdate
from apps.core.pruning import delete_in_batches

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("apps.security")

USER_AGENT_MAX = 256


class RevokeReason(enum.StrEnum):
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    DELETED_BY_USER = "session_deleted"
    REUSE_DETECTED = "reuse_detected"
    USER_DEACTIVATED = "user_deactivated"
    TENANT_DEACTIVATED = "tenant_deactivated"
    ADMIN = "admin"
    MEMBER_REMOVED = "member_removed"  # their tokens carry the tenant's claims
    TENANT_DELETED = "tenant_deleted"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    session_id: uuid.UUID


class _Outcome(enum.Enum):
    # Values are the auth_refresh_total{outcome} labels (contract: "Metrics").
    ROTATED = "rotated"
    REISSUED = "reissued"  # the just-rotated token inside the grace window
    REJECTED = "rejected"
    REUSE = "reuse_detected"


def _refresh_lifetime() -> timedelta:
    return timedelta(days=settings.REFRESH_TOKEN_LIFETIME_DAYS)


def _grace() -> timedelta:
    return timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS)


def _current_refresh(session: RefreshSession) -> str:
    return tokens.mint_refresh(
        user_id=session.user_id,
        session_id=session.id,
        jti=session.current_jti,
        issued_at=session.current_issued_at,
        expires_at=session.current_expires_at,
    )


def _advance(session: RefreshSession, *, now: datetime, keep_grace: bool) -> None:
    """Make a fresh token current (in memory; the caller saves)."""
    session.previous_jti = session.current_jti if keep_grace else ""
    session.rotated_at = now if keep_grace else None
    session.current_jti = tokens.new_jti()
    session.current_issued_at = now
    session.current_expires_at = min(now + _refresh_lifetime(), session.expires_at)
    session.last_used_at = now


_ROTATION_FIELDS = [
    "previous_jti", "rotated_at", "current_jti", "current_issued_at", "current_expires_at",
    "last_used_at", "ip", "user_agent",
]
# save(update_fields=_ROTATION_FIELDS) with its UPDATE built once (apps/core/prepared.py):
# compiling it was ~10 % of a refresh's CPU. RefreshSession has no save signals.
_save_rotation = PreparedUpdate(RefreshSession, _ROTATION_FIELDS)


def _clip_user_agent(user_agent: str | None) -> str:
    return (user_agent or "")[:USER_AGENT_MAX]


# --- create ---------------------------------------------------------------------------------
def session_create(*, user: User, ip: str | None, user_agent: str | None) -> TokenPair:
    """A new session (login, registration): its first refresh token and an access token."""
    now = clock.now()
    session = RefreshSession(
        user=user,
        created_at=now,
        expires_at=now + timedelta(days=settings.SESSION_MAX_LIFETIME_DAYS),
        ip=ip,
        user_agent=_clip_user_agent(user_agent),
    )
    _advance(session, now=now, keep_grace=False)  # sets the first token's jti/iat/exp
    session.save(force_insert=True)
    _maybe_prune(now)
    return TokenPair(
        access=tokens.mint_access(user=user, session_id=session.id, now=now),
        refresh=_current_refresh(session),
        session_id=session.id,
    )


# --- rotate ---------------------------------------------------------------------------------
def session_rotate(*, refresh: str, ip: str | None, user_agent: str | None) -> TokenPair:
    """Exchange a refresh token for a new pair (contract rules 1-3); else TokenNotValid.

    Every attempt is counted once in auth_refresh_total{outcome}; a reuse attack is also a
    `refresh_reuse_detected` security event about the revoked session."""
    try:
        token = tokens.decode_refresh(refresh)
    except TokenNotValid:
        metrics.auth_refresh_total.labels(outcome=_Outcome.REJECTED.value).inc()
        raise
    session_id, jti = token[tokens.SESSION_CLAIM], token["jti"]
    now = clock.now()
    session = _rotate_current(
        session_id=session_id, jti=jti, user_id=token.get("user_id"), now=now, ip=ip,
        user_agent=_clip_user_agent(user_agent),
    )
    if session is not None:
        outcome = _Outcome.ROTATED
    else:
        # Not the current token of a live session: a replay, the grace window, or a revoked,
        # expired or unknown session. The Redis marker answers a revoked one without the row
        # lock; everything else is decided under the lock.
        if revocation_cache.is_marked_revoked(session_id):
            metrics.auth_refresh_total.labels(outcome=_Outcome.REJECTED.value).inc()
            raise TokenNotValid()
        outcome, session = _rotate_locked(
            session_id=session_id, jti=jti, user_id=token.get("user_id"), now=now, ip=ip,
            user_agent=_clip_user_agent(user_agent),
        )
    metrics.auth_refresh_total.labels(outcome=outcome.value).inc()
    if outcome is _Outcome.REUSE:
        security_logger.warning(
            "Refresh token reuse detected: session %s of user %s revoked (ip=%s)",
            session.id, session.user_id, ip,
        )
        event_record(
            type=EventType.REFRESH_REUSE_DETECTED, user=session.user, ip=ip, user_agent=user_agent,
            session_id=session.id,
        )
    if outcome is _Outcome.REJECTED and session is not None and session.revoked_at is not None:
        # Redis lost the marker (restart, flush, eviction): put it back for the next replay.
        revocation_cache.mark_revoked([(session.id, session.current_expires_at)], now=now)
    if outcome in (_Outcome.REUSE, _Outcome.REJECTED):
        raise TokenNotValid()
    logger.info("Session %s of user %s %s", session.id, session.user_id, outcome.value)
    return TokenPair(
        access=tokens.mint_access(user=session.user, session_id=session.id, now=now),
        refresh=_current_refresh(session),
        session_id=session.id,
    )


def _rotate_current(
    *, session_id: str, jti: str, user_id: Any, now: datetime, ip: str | None, user_agent: str,
) -> RefreshSession | None:
    """The common case in one statement: `jti` is the current token of a live session whose
    user and tenant are active. Rotates it as _rotate_locked would (the same columns get the
    same values) and returns the session with its user and tenant; None when any condition
    fails, and the caller goes to the locked path, which decides every other case.

    One UPDATE ... FROM ... RETURNING in autocommit (PostgreSQL): the row lock it takes is the
    one SELECT ... FOR UPDATE took, held for one statement, and a concurrent rotation of the
    same token waits for it and then finds `current_jti` moved on (READ COMMITTED re-checks
    the WHERE on the new row version), so it takes the locked path and the grace window, as
    before. Four round trips (BEGIN, SELECT ... FOR UPDATE, UPDATE, COMMIT) become one.
    Elsewhere (SQLite: RETURNING cannot name the joined tables) it returns None.
    """
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return None
    pk, owner = parse_uuid(session_id), parse_uuid(user_id)
    if pk is None or owner is None or not isinstance(jti, str):
        return None
    stamp = _TIME_FIELD.get_db_prep_value(now, connection)
    new_expiry = _TIME_FIELD.get_db_prep_value(now + _refresh_lifetime(), connection)
    params = [
        stamp, tokens.new_jti(), stamp, new_expiry, stamp, _IP_FIELD.get_db_prep_value(ip, connection), user_agent,
        _ID_FIELD.get_db_prep_value(pk, connection), jti, _ID_FIELD.get_db_prep_value(owner, connection), stamp,
    ]
    with connection.cursor() as cursor:
        prepared.execute(cursor, _rotation_sql(connection), params, name="authsvc_rotate_current")
        row = cursor.fetchone()
    return None if row is None else _rotated_row.instance(connection, row)


# What _locked_session_lookup selects (the session, its user and the user's tenant), as the
# RETURNING list of the one-statement rotation, decoded the same way.
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
        s, u, t = (qn(m._meta.db_table) for m in (RefreshSession, User, User._meta.get_field("tenant").related_model))
        col = lambda table, name: f"{table}.{qn(name)}"  # noqa: E731
        sql = (
            f"UPDATE {s} SET {qn('previous_jti')} = {col(s, 'current_jti')}, {qn('rotated_at')} = %s, "
            f"{qn('current_jti')} = %s, {qn('current_issued_at')} = %s, "
            f"{qn('current_expires_at')} = LEAST(%s, {col(s, 'expires_at')}), {qn('last_used_at')} = %s, "
            f"{qn('ip')} = %s, {qn('user_agent')} = %s "
            f"FROM {u} LEFT OUTER JOIN {t} ON ({col(u, 'tenant_id')} = {col(t, 'id')}) "
            f"WHERE {col(s, 'id')} = %s AND {col(s, 'current_jti')} = %s AND {col(s, 'user_id')} = %s "
            f"AND {col(u, 'id')} = {col(s, 'user_id')} AND {col(s, 'revoked_at')} IS NULL "
            f"AND {col(s, 'expires_at')} > %s AND {col(u, 'is_active')} "
            f"AND ({col(u, 'tenant_id')} IS NULL OR {col(t, 'is_active')}) "
            f"RETURNING {_rotated_row.columns(connection)}"
        )
        _ROTATION_SQL[connection.vendor] = sql
    return sql


def _rotate_locked(
    *, session_id: str, jti: str, user_id: Any, now: datetime, ip: str | None, user_agent: str,
) -> tuple[_Outcome, RefreshSession | None]:
    """Decide and write under the row lock; returns instead of raising so the write commits."""
    with transaction.atomic():
        session = _locked_session(session_id)
        if session is None or str(session.user_id) != str(user_id):
            return _Outcome.REJECTED, session
        if session.revoked_at is not None or now >= session.expires_at:
            return _Outcome.REJECTED, session
        user = session.user
        if not user.is_active or (user.tenant_id and not user.tenant.is_active):
            reason = RevokeReason.USER_DEACTIVATED if not user.is_active else RevokeReason.TENANT_DEACTIVATED
            _revoke_rows([session], reason=reason, now=now)
            return _Outcome.REJECTED, session
        if jti == session.current_jti:
            _advance(session, now=now, keep_grace=True)
            session.ip, session.user_agent = ip, user_agent
            if _save_rotation.run(session) != 1:  # the row is locked: it cannot be gone
                raise RuntimeError(f"session {session.id} vanished while locked")
            return _Outcome.ROTATED, session
        if (
            jti == session.previous_jti
            and session.rotated_at is not None
            and now - session.rotated_at <= _grace()
        ):
            return _Outcome.REISSUED, session
        _revoke_rows([session], reason=RevokeReason.REUSE_DETECTED, now=now)
        return _Outcome.REUSE, session


def _locked_session(session_id: str) -> RefreshSession | None:
    pk = parse_uuid(session_id)
    if pk is None:
        return None
    return _locked_session_lookup.get(pk)


# of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the tenant join.
# Compiled once (apps/core/prepared.py): on every refresh, building this 3-table query cost
# more CPU than running it.
_locked_session_lookup: PreparedPkLookup[RefreshSession] = PreparedPkLookup(
    lambda: RefreshSession.objects.select_for_update(of=("self",)).select_related("user", "user__tenant")
)


# --- verify ---------------------------------------------------------------------------------
def refresh_is_usable(*, token: tokens.Token) -> bool:
    """Would this (already decoded) refresh token be accepted now? Read-only: no reuse
    handling, so /verify/ can never revoke anything."""
    session_id, jti = parse_uuid(token.get(tokens.SESSION_CLAIM)), token.get("jti")
    if session_id is None or revocation_cache.is_marked_revoked(session_id):
        return False
    session = RefreshSession.objects.select_related("user", "user__tenant").filter(pk=session_id).first()
    now = clock.now()
    if session is None or session.revoked_at is not None or now >= session.expires_at:
        return False
    if str(session.user_id) != str(token.get("user_id")):
        return False
    user = session.user
    if not user.is_active or (user.tenant_id and not user.tenant.is_active):
        return False
    if jti == session.current_jti:
        return True
    return bool(
        jti == session.previous_jti and session.rotated_at and now - session.rotated_at <= _grace()
    )


# --- revoke ---------------------------------------------------------------------------------
def _revoke_rows(sessions: list[RefreshSession], *, reason: RevokeReason, now: datetime) -> int:
    """Durably revoke; the Redis markers follow once the transaction commits.

    The one place a session's `revoked_at` is written, so auth_sessions_revoked_total counts
    here: the rows this UPDATE changed (a session already revoked is not counted twice), once
    the transaction commits (a rolled-back revocation is not counted at all)."""
    ids = [s.id for s in sessions if s.revoked_at is None]
    if not ids:
        return 0
    count = RefreshSession.objects.filter(pk__in=ids, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason.value
    )
    for session in sessions:
        session.revoked_at, session.revoked_reason = now, reason.value
    markers = [(s.id, s.current_expires_at) for s in sessions]
    transaction.on_commit(lambda: revocation_cache.mark_revoked(markers, now=now))
    if count:
        transaction.on_commit(lambda: metrics.auth_sessions_revoked_total.labels(reason=reason.value).inc(count))
    return count


# Which revocations are a security event of their own (the others are part of an event the
# caller records: logout_all, password_changed, reuse detection; deactivation has no type).
_REVOKE_EVENTS = {
    RevokeReason.LOGOUT: EventType.LOGOUT,
    RevokeReason.DELETED_BY_USER: EventType.SESSION_REVOKED,
    RevokeReason.ADMIN: EventType.SESSION_REVOKED,
}


@transaction.atomic
def session_revoke(
    *, session: RefreshSession, reason: RevokeReason, ip: str | None = None, user_agent: str | None = None,
) -> bool:
    """Revoke one session for the rest of its tokens' lifetime. Idempotent: only the call that
    revokes it records the event (`logout`, or `session_revoked` for a delete or the admin).
    `ip`/`user_agent` are the caller's (none for the admin: the event is about the user)."""
    revoked = _revoke_rows([session], reason=reason, now=clock.now())
    if revoked:
        logger.info("Session %s of user %s revoked (%s)", session.id, session.user_id, reason.value)
        event_type = _REVOKE_EVENTS.get(reason)
        if event_type is not None:
            event_record(type=event_type, user=session.user, ip=ip, user_agent=user_agent, session_id=session.id)
    return bool(revoked)


@transaction.atomic
def sessions_revoke_for_user(
    *, user: User, reason: RevokeReason, keep_session_id: uuid.UUID | str | None = None,
    revoke_access_tokens: bool = True,
) -> int:
    """Revoke every live session of the user (but `keep_session_id`); with
    `revoke_access_tokens`, every access token issued so far stops working too."""
    now = clock.now()
    live = RefreshSession.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
    if keep_session_id is not None:
        live = live.exclude(pk=keep_session_id)
    count = _revoke_rows(list(live.only("id", "user_id", "current_expires_at", "revoked_at")), reason=reason, now=now)
    if revoke_access_tokens:
        user_revoke_access_tokens(user=user, now=now)
    logger.info("Revoked %d session(s) of user %s (%s)", count, user.id, reason.value)
    return count


@transaction.atomic
def user_revoke_access_tokens(*, user: User, now: datetime) -> None:
    """Every access token of the user issued up to now is rejected from now on.

    The next whole second, because JWT iat has whole seconds (see tokens.access_issued_at).
    If an earlier revocation already claimed that second, tokens minted since carry it as iat,
    so this one moves a second past it, at most 3 s ahead of now (see the cap below).
    """
    valid_after = now.replace(microsecond=0) + timedelta(seconds=1)
    current = (
        User.objects.select_for_update().filter(pk=user.pk)
        .values_list("tokens_valid_after", flat=True).first()
    )
    if current is not None:
        # Capped so a burst of revocations cannot push new tokens' iat past PyJWT's leeway
        # (they would be refused as "not yet valid"); only the 4th+ revocation within one
        # second is affected, and it still revokes everything older than that second.
        valid_after = max(valid_after, min(current + timedelta(seconds=1), valid_after + timedelta(seconds=2)))
    User.objects.filter(pk=user.pk).update(tokens_valid_after=valid_after)
    user.tokens_valid_after = valid_after


def session_revoke_by_refresh(
    *, user: User, refresh: str, ip: str | None = None, user_agent: str | None = None,
) -> None:
    """Logout: revoke the session behind this refresh token, if it is the caller's."""
    token = tokens.decode_refresh(refresh)
    session = RefreshSession.objects.filter(pk=parse_uuid(token[tokens.SESSION_CLAIM]), user=user).first()
    if session is None:
        raise TokenNotValid()
    session.user = user
    session_revoke(session=session, reason=RevokeReason.LOGOUT, ip=ip, user_agent=user_agent)


def session_revoke_by_id(
    *, user: User, session_id: Any, ip: str | None = None, user_agent: str | None = None,
) -> None:
    """DELETE /sessions/<id>/: only the caller's own sessions exist for them."""
    session = RefreshSession.objects.filter(pk=parse_uuid(session_id), user=user, revoked_at__isnull=True).first()
    if session is None:
        raise NotFound("No such session.")
    session.user = user
    session_revoke(session=session, reason=RevokeReason.DELETED_BY_USER, ip=ip, user_agent=user_agent)


@transaction.atomic
def user_logout_all(
    *, user: User, session_id: Any = None, ip: str | None = None, user_agent: str | None = None,
) -> int:
    """Logout-all: every session and access token of the user revoked, one `logout_all`
    event about the caller's session. Returns how many sessions were revoked."""
    count = sessions_revoke_for_user(user=user, reason=RevokeReason.LOGOUT_ALL)
    event_record(
        type=EventType.LOGOUT_ALL, user=user, ip=ip, user_agent=user_agent, session_id=parse_uuid(session_id),
    )
    return count


@transaction.atomic
def session_rotate_for_password_change(*, user: User, session_id: Any, ip: str | None, user_agent: str | None) -> TokenPair:
    """A new pair for the caller's session, with no grace for its previous refresh token:
    after a password change the old token is treated as an ancestor (reuse), because a
    password change is often the answer to a stolen token."""
    now = clock.now()
    session = (
        RefreshSession.objects.select_for_update()
        .filter(pk=parse_uuid(session_id), user=user, revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if session is None:
        return session_create(user=user, ip=ip, user_agent=user_agent)
    _advance(session, now=now, keep_grace=False)
    session.ip, session.user_agent = ip, _clip_user_agent(user_agent)
    session.save(update_fields=_ROTATION_FIELDS)
    session.user = user
    return TokenPair(
        access=tokens.mint_access(user=user, session_id=session.id, now=now),
        refresh=_current_refresh(session),
        session_id=session.id,
    )


# --- prune ----------------------------------------------------------------------------------
def sessions_prune(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Delete sessions none of whose tokens can be used any more (expired or revoked and past
    their last token's exp). Batched, so a large backlog never holds a long lock."""
    now = now or clock.now()
    return delete_in_batches(RefreshSession.objects.filter(current_expires_at__lte=now), batch_size=batch_size)


_prune_lock = threading.Lock()
_last_prune = float("-inf")


def _maybe_prune(now: datetime) -> None:
    """Automatic pruning without cron: at most once per interval per process, from login."""
    global _last_prune
    interval = settings.SESSION_PRUNE_INTERVAL_SECONDS
    if interval <= 0 or time.monotonic() - _last_prune < interval:
        return
    if not _prune_lock.acquire(blocking=False):
        return
    try:
        _last_prune = time.monotonic()
        deleted = sessions_prune(now=now)
        if deleted:
            logger.info("Pruned %d expired session(s)", deleted)
        events = events_prune(now=now)
        if events:
            logger.info("Pruned %d security event(s) past retention", events)
    finally:
        _prune_lock.release()
