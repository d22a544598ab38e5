"""The metric objects, named once (contract: "Metrics"). Services only call .inc()/.observe().

Under gunicorn, prometheus-client runs in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set up
in gunicorn.conf.py), so a scrape of /metrics sums every worker of the instance; without it
(runserver, tests) the figures are this process's. Gauges say how they combine across workers
(`multiprocess_mode`), because a per-worker gauge read from one worker would be wrong.
"""
from __future__ import annotations

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


# --- label values ---------------------------------------------------------------------------
# Label values must be bounded, or a scanner walking random paths would create a series per
# path (and a file entry per series in every worker's multiprocess file).
UNMATCHED_VIEW = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


def method_label(method: str | None) -> str:
    return method if method in _METHODS else "other"
