"""The metric objects, named once (contract: "Metrics"). Services only call .inc()/.observe().

Under gunicorn, prometheus-client runs in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set up
in gunicorn.conf.py), so a scrape of /metrics sums every worker of the instance; without it
(runserver, tests) the figures are this process's. Gauges say how they combine across workers
(`multiprocess_mode`), because a per-worker gauge read from one worker would be wrong.
"""
from __future__ import annotations

import itertools
import os

from prometheus_client import Counter, Gauge, Histogram

# prometheus-client writes each process's figures into this directory from the first metric
# on; a named but missing directory (a fresh disk, a one-off manage.py) must not crash import.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

http_requests_total = Counter(
    "http_requests_total", "HTTP requests answered, by URL name, method and status.",
    ["view", "method", "status"],
)
http_request_duration_seconds = Histogram(
    "http_request_duration_seconds", "Time to answer an HTTP request, by URL name and method.",
    ["view", "method"],
)
auth_logins_total = Counter(
    "auth_logins_total", "Login attempts by outcome.", ["outcome"],
)
auth_refresh_total = Counter(
    "auth_refresh_total", "Refresh attempts by outcome (rotated, reissued, rejected, reuse_detected).",
    ["outcome"],
)
auth_sessions_revoked_total = Counter(
    "auth_sessions_revoked_total", "Sessions revoked, each counted once, by reason.", ["reason"],
)
redis_circuit_open = Gauge(
    "redis_circuit_open", "1 while the Redis circuit breaker is open (max over live workers).",
    # live: a worker that died (or was recycled by max_requests) with its breaker open must
    # not hold the instance's figure at 1 until the next restart; child_exit removes its file.
    multiprocess_mode="livemax",
)
mail_queue_pending = Gauge(
    "mail_queue_pending", "Messages waiting to be delivered (read from the database at scrape).",
    multiprocess_mode="mostrecent",
)


# --- known label values: every series exists at 0 from start-up -----------------------------
# The contract lists these values; a fresh instance shows each at 0 so a dashboard's rate() and
# an alert see a series before the first event. This is the one place they are listed: a new
# outcome or reason, or a new labelled counter, is added here with the code that counts it.
# Third release, with their features: auth_logins_total outcomes "mfa_required" and
# "sso_required"; auth_mfa_verifications_total{method,outcome}; auth_sso_logins_total{outcome};
# revocation reasons "mfa_enabled", "mfa_policy", "mfa_reset", "sso_enforced",
# "sso_connection_deleted", "account_linked". tests/ops/test_metrics.py checks that the values
# the code counts (login errors, refresh outcomes, RevokeReason) are all listed here.
KNOWN_LABEL_VALUES: dict[Counter, dict[str, tuple[str, ...]]] = {
    auth_logins_total: {
        "outcome": ("success", "invalid_credentials", "account_inactive", "tenant_inactive", "email_not_verified"),
    },
    auth_refresh_total: {"outcome": ("rotated", "reissued", "rejected", "reuse_detected")},
    auth_sessions_revoked_total: {
        "reason": (
            "logout", "logout_all", "password_changed", "password_reset", "session_deleted", "reuse_detected",
            "user_deactivated", "tenant_deactivated", "admin", "member_removed", "tenant_deleted",
        ),
    },
}


def known_labels_initialise() -> None:
    """Create every known series at 0 in this process (idempotent: adds 0).

    Called at app start (CoreConfig.ready) and, under gunicorn, in each worker before it serves
    (gunicorn.conf.py post_worker_init). In multiprocess mode a series is in a worker's file
    only once that worker touched it after the fork (prometheus-client reopens its files on the
    first value access in a new pid; `.labels()` alone on a series the preloaded master made
    writes nothing), so `inc(0)` it is: the scrape, answered by a worker, then shows them all.
    """
    for metric, labels in KNOWN_LABEL_VALUES.items():
        names = list(labels)
        for values in itertools.product(*labels.values()):
            metric.labels(**dict(zip(names, values, strict=True))).inc(0)


# --- label values ---------------------------------------------------------------------------
# Label values must be bounded, or a scanner walking random paths would create a series per
# path (and a file entry per series in every worker's multiprocess file).
UNMATCHED_VIEW = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


def method_label(method: str | None) -> str:
    return method if method in _METHODS else "other"
