"""gunicorn settings: `gunicorn config.wsgi:application` picks this file up by itself."""
import glob
import multiprocessing
import os
import tempfile

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
# Threaded workers, so that slow clients cannot take the service down without a buffering
# proxy in front (issue 23: two half-sent requests held both sync workers, and /health/live,
# for the whole 30 s timeout). A gthread worker waits for a new connection's first bytes in
# its event loop (no thread is held by a silent socket; it is closed after `keepalive`), but a
# client that trickles its request line or headers holds one thread until it finishes:
# gunicorn has no header deadline. So each worker serves `threads` requests at once, and up
# to WEB_CONCURRENCY x GUNICORN_THREADS - 1 trickling clients leave room for everyone else
# (tests/ops/test_slow_clients.py). Each thread has its own database connection (Django),
# opened when the thread first serves a query. README "Production": slow clients.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Idle kept-alive (and silent new) connections close after this many seconds.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "2"))
# Recycle workers now and then, so a slow leak cannot grow without bound. Not too often: a
# new worker imports the app again (~0.5 s of CPU) and answers its first requests slowly, and
# at 2000 a busy worker was recycled every few seconds (see docs/PERFORMANCE.md).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# The master imports the app once and every worker is a fork of it: a new or recycled worker
# serves within milliseconds instead of re-importing Django and the app (~0.5 s of CPU each
# time, which under load came to ~30 us per request at max_requests=20000), and the workers
# share the imported code's memory. The app is fork-safe: nothing connects at import (the
# database, Redis and the mail thread start in each worker), prometheus-client notices the
# new pid, and the log files are opened O_APPEND. A code change needs a restart (a HUP starts
# new workers from the code already loaded), which is what a deploy does.
preload_app = True

# A hostile 1 MB Bearer token must reach the app, which answers 401 JSON after a length check,
# instead of gunicorn's HTML 400. Fewer header fields than the default 100 keep the worst-case
# header buffer per worker at ~55 MB.
limit_request_field_size = 1_100_000
limit_request_fields = 50

# The app writes its own access line per API request (logs/info.log, with the request id).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def post_worker_init(worker):
    """Each worker delivers queued mail in a thread of its own (apps/mail/services.py) from the
    start, so mail kept across a restart goes out without waiting for a first request."""
    # What the app created while loading lives as long as the worker: gc.freeze() takes it
    # out of the collector's sight, so a full collection stops walking ~100k long-lived
    # objects (~55 ms each time, measured; docs/PERFORMANCE.md). Nothing is freed by this.
    import gc

    gc.freeze()

    from django.conf import settings

    from apps.core.metrics import known_labels_initialise

    known_labels_initialise()  # into this worker's metric files, before its first request

    if getattr(settings, "MAIL_DELIVERY_IN_WEB", False):  # bench/stock and bench/floor have no mail
        from apps.mail.services import delivery_thread_ensure_started

        delivery_thread_ensure_started()

# --- Prometheus multiprocess mode (contract: /metrics sums every worker) ------------------------
# prometheus-client picks its storage when the app is imported, so the directory must be in
# the environment before any worker loads the app: set here, in the master, and inherited.
# Each gunicorn master gets a directory of its own unless the operator names one.
# A marker file says the directory is the master's own, so on_exit removes it (a HUP re-reads
# this file with the variable already set, so a module flag would be forgotten).
_OWN_DIR_MARKER = ".created-by-gunicorn-master"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="authsvc-prometheus-")
    with open(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], _OWN_DIR_MARKER), "w") as marker:
        marker.write(str(os.getpid()))


def on_starting(server):
    """Once per master start (not on HUP reload): wipe figures a previous run left behind,
    which would otherwise be added to this run's."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    # Only prometheus-client's files and the archive's: an operator may name a directory that
    # holds others.
    for pattern in ("*.db", "*.db.folding", ".fold-journal.json*"):
        for stale in glob.glob(os.path.join(path, pattern)):
            os.remove(stale)


def child_exit(server, worker):
    """A dead worker's counters and histograms stay in the sums, folded into one archive so the
    directory does not grow with recycles; its live gauges (redis_circuit_open) go
    (apps/core/metrics_archive.py)."""
    from apps.core.metrics_archive import fold_dead

    try:
        fold_dead(os.environ["PROMETHEUS_MULTIPROC_DIR"], [worker.pid])
    except Exception:  # its files stay and still count; the next exit tries again
        server.log.exception("Could not fold the metrics of worker %s", worker.pid)


def on_exit(server):
    """The directory this master created for itself goes with it; a named one stays."""
    import shutil

    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    try:
        with open(os.path.join(path, _OWN_DIR_MARKER)) as marker:
            own = marker.read() == str(os.getpid())
    except OSError:
        own = False
    if own:
        shutil.rmtree(path, ignore_errors=True)


# --- LOG_FORMAT=json: gunicorn's own lines (boot, worker exits, signals) as JSON too -------------
# The app's lines go to stdout as JSON (config/logging.py); without this, a log platform would
# also get gunicorn's plain-text lines on stderr. Read from the environment (as on Render).
if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "apps.core.logging.JsonLineFormatter"}},
        "handlers": {
            "error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False, "qualname": "gunicorn.error"},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False, "qualname": "gunicorn.access"},
        },
    }
