"""Refresh sessions: create, rotate, revoke. The contract's refresh-session rules live here;
every query they need is in apps/accounts/session_store.py, which decides nothing.

Invariants, and why they hold
-----------------------------
1. One row per login (a "session"); its refresh tokens carry its id as `sid`. The row holds
   the current token's jti/iat/exp, so the database stores one row per live session, not one
   per token ever issued, and tokens themselves are never stored.
2. A refresh token is accepted only if its jti is the row's `current_jti`, or its
   `previous_jti` while `now - rotated_at <= REFRESH_REUSE_GRACE_SECONDS`, and its account
   may authenticate (`User.authentication_refusal`): `refresh_verdict` states this once, for
   the refresh and for /verify/. The decision and
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
from django.db import transaction

from apps.accounts import revocation_cache, session_store, tokens
from apps.accounts.models import RefreshSession, Refusal, User
from apps.audit.models import EventType
from apps.audit.services import event_record, events_prune
from apps.core import clock, metrics
from apps.core.exceptions import NotFound, TokenNotValid
from apps.core.ids import parse_uuid

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

    def body(self) -> dict[str, str]:
        """{"access", "refresh"}: what a response that issues a pair carries (transport.py)."""
        return {"access": self.access, "refresh": self.refresh}


class RefreshVerdict(enum.Enum):
    """What a refresh token is to its session now (`refresh_verdict`)."""

    CURRENT = "current"  # the session's current token: rotate it (rule 2)
    GRACE = "grace"  # the token it just replaced, inside the window: re-issue the current one (rule 3)
    SPENT = "spent"  # any other token of the live session: a reuse attack, revoke it (rule 4)
    BARRED = "barred"  # a live session whose account may not authenticate: revoke it, 401
    DEAD = "dead"  # no such session, another user's, revoked or past its end: 401


def refresh_verdict(session: RefreshSession | None, *, jti: Any, user_id: Any, now: datetime) -> RefreshVerdict:
    """The one statement of "who may refresh" (rules 2-4 and 6). `session` is the row named by
    the token's `sid` (None if there is none), with its user and tenant loaded; `jti` and
    `user_id` are the token's claims.

    Both Python paths ask it: the locked rotation (`_rotate_locked`, which acts on it) and
    /verify/ (`refresh_is_usable`, which only reads it). Its CURRENT case is mirrored in SQL by
    `session_store.rotate_current`, the one-statement rotation tried first on PostgreSQL.
    """
    if session is None or str(session.user_id) != str(user_id):
        return RefreshVerdict.DEAD
    if session.revoked_at is not None or now >= session.expires_at:
        return RefreshVerdict.DEAD
    if not session.user.may_authenticate():
        return RefreshVerdict.BARRED
    if jti == session.current_jti:
        return RefreshVerdict.CURRENT
    if jti == session.previous_jti and session.rotated_at is not None and now - session.rotated_at <= _grace():
        return RefreshVerdict.GRACE
    return RefreshVerdict.SPENT


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


def _clip_user_agent(user_agent: str | None) -> str:
    return (user_agent or "")[:USER_AGENT_MAX]


# --- open -----------------------------------------------------------------------------------
def session_open(*, user: User, ip: str | None = None, user_agent: str | None = None) -> TokenPair:
    """The one way a session starts (login, registration, invitation acceptance, a password
    change whose session is gone): a new session row, and its first pair, with tenant-aware
    claims, and the session's id.

    Safe for a user without a tenant, a tenant whose enabled_modules is None, and a
    deactivated tenant (the claims are built from whatever is there; login is where an account
    that may not authenticate is refused). Never logs a token.
    """
    logger.info("Generating tokens for user %s", user.id)
    try:
        tenant = user.tenant if user.tenant_id else None
        logger.debug(
            "Token tenant for user %s: tenant=%s slug=%s modules=%s active=%s",
            user.id,
            getattr(tenant, "id", None),
            getattr(tenant, "slug", None),
            getattr(tenant, "enabled_modules", None),
            getattr(tenant, "is_active", None),
        )
        pair = _session_insert(user=user, ip=ip, user_agent=user_agent)
    except Exception:
        logger.exception("Token generation failed for user %s", user.id)
        raise
    logger.info("Tokens generated for user %s (session %s)", user.id, pair.session_id)
    return pair


def get_tokens_for_user(user: User, *, ip: str | None = None, user_agent: str | None = None) -> dict[str, str]:
    """Deprecated, kept for the tests that still call it: `session_open(...).body()`."""
    return session_open(user=user, ip=ip, user_agent=user_agent).body()


def _session_insert(*, user: User, ip: str | None, user_agent: str | None) -> TokenPair:
    now = clock.now()
    session = RefreshSession(
        user=user,
        created_at=now,
        expires_at=now + timedelta(days=settings.SESSION_MAX_LIFETIME_DAYS),
        ip=ip,
        user_agent=_clip_user_agent(user_agent),
    )
    _advance(session, now=now, keep_grace=False)  # sets the first token's jti/iat/exp
    session_store.insert(session)
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
    session_id, jti = parse_uuid(token[tokens.SESSION_CLAIM]), token["jti"]
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
        if session_id is None or revocation_cache.is_marked_revoked(session_id):
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
    *, session_id: uuid.UUID | None, jti: str, user_id: Any, now: datetime, ip: str | None, user_agent: str,
) -> RefreshSession | None:
    """The common case in one statement (PostgreSQL): if `refresh_verdict` would say CURRENT,
    rotate as `_rotate_locked` would (the same columns get the same values) and return the
    session with its user and tenant; else None, and the locked path decides. See
    `session_store.rotate_current` for why one statement keeps rule 2's serialisation."""
    owner = parse_uuid(user_id)
    if session_id is None or owner is None:
        return None
    return session_store.rotate_current(
        session_id=session_id, jti=jti, user_id=owner, now=now, new_jti=tokens.new_jti(),
        new_expires_at=now + _refresh_lifetime(), ip=ip, user_agent=user_agent,
    )


# The revocation reason of a BARRED session, by why its account may not authenticate.
_BARRED_BECAUSE = {Refusal.USER_INACTIVE: RevokeReason.USER_DEACTIVATED, Refusal.TENANT_INACTIVE: RevokeReason.TENANT_DEACTIVATED}


def _rotate_locked(
    *, session_id: uuid.UUID | None, jti: str, user_id: Any, now: datetime, ip: str | None, user_agent: str,
) -> tuple[_Outcome, RefreshSession | None]:
    """Decide (`refresh_verdict`) and write under the row lock; returns instead of raising so
    the write commits."""
    with transaction.atomic():
        session = session_store.locked(session_id) if session_id is not None else None
        verdict = refresh_verdict(session, jti=jti, user_id=user_id, now=now)
        if verdict is RefreshVerdict.CURRENT:
            _advance(session, now=now, keep_grace=True)
            session.ip, session.user_agent = ip, user_agent
            if session_store.save_rotation(session) != 1:  # the row is locked: it cannot be gone
                raise RuntimeError(f"session {session.id} vanished while locked")
            return _Outcome.ROTATED, session
        if verdict is RefreshVerdict.GRACE:
            return _Outcome.REISSUED, session
        if verdict is RefreshVerdict.SPENT:
            _revoke_rows([session], reason=RevokeReason.REUSE_DETECTED, now=now)
            return _Outcome.REUSE, session
        if verdict is RefreshVerdict.BARRED:
            _revoke_rows([session], reason=_BARRED_BECAUSE[session.user.authentication_refusal()], now=now)
        return _Outcome.REJECTED, session


# --- verify ---------------------------------------------------------------------------------
def refresh_is_usable(*, token: tokens.Token) -> bool:
    """Would this (already decoded) refresh token be accepted now? Read-only: no reuse
    handling, so /verify/ can never revoke anything."""
    session_id = parse_uuid(token.get(tokens.SESSION_CLAIM))
    if session_id is None or revocation_cache.is_marked_revoked(session_id):
        return False
    verdict = refresh_verdict(
        session_store.with_account(session_id), jti=token.get("jti"), user_id=token.get("user_id"), now=clock.now(),
    )
    return verdict in (RefreshVerdict.CURRENT, RefreshVerdict.GRACE)


# --- revoke ---------------------------------------------------------------------------------
def _revoke_rows(sessions: list[RefreshSession], *, reason: RevokeReason, now: datetime) -> int:
    """Durably revoke; the Redis markers follow once the transaction commits.

    The one place a session's `revoked_at` is written, so auth_sessions_revoked_total counts
    here: the rows this UPDATE changed (a session already revoked is not counted twice), once
    the transaction commits (a rolled-back revocation is not counted at all)."""
    ids = [s.id for s in sessions if s.revoked_at is None]
    if not ids:
        return 0
    count = session_store.revoke(ids, reason=reason.value, now=now)
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
    live = session_store.locked_unrevoked_of_user(user, but=keep_session_id)
    count = _revoke_rows(live, reason=reason, now=now)
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
    current = session_store.locked_tokens_valid_after(user)
    if current is not None:
        # Capped so a burst of revocations cannot push new tokens' iat past PyJWT's leeway
        # (they would be refused as "not yet valid"); only the 4th+ revocation within one
        # second is affected, and it still revokes everything older than that second.
        valid_after = max(valid_after, min(current + timedelta(seconds=1), valid_after + timedelta(seconds=2)))
    session_store.set_tokens_valid_after(user, valid_after)


def session_revoke_by_refresh(
    *, user: User, refresh: str, ip: str | None = None, user_agent: str | None = None,
) -> None:
    """Logout: revoke the session behind this refresh token, if it is the caller's."""
    token = tokens.decode_refresh(refresh)
    session = session_store.of_user(parse_uuid(token[tokens.SESSION_CLAIM]), user=user)
    if session is None:
        raise TokenNotValid()
    session.user = user
    session_revoke(session=session, reason=RevokeReason.LOGOUT, ip=ip, user_agent=user_agent)


def session_revoke_by_id(
    *, user: User, session_id: Any, ip: str | None = None, user_agent: str | None = None,
) -> None:
    """DELETE /sessions/<id>/: only the caller's own sessions exist for them."""
    session = session_store.of_user(parse_uuid(session_id), user=user, unrevoked=True)
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
    session = session_store.locked_live_of_user(parse_uuid(session_id), user=user, now=now)
    if session is None:
        return session_open(user=user, ip=ip, user_agent=user_agent)
    _advance(session, now=now, keep_grace=False)
    session.ip, session.user_agent = ip, _clip_user_agent(user_agent)
    session_store.save_rotation(session)
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
    return session_store.delete_expired(now=now, batch_size=batch_size)


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
