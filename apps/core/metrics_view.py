"""GET /metrics: Prometheus text exposition of this instance (contract: "Metrics").

Guarantees, and why
-------------------
- Under gunicorn every worker writes its figures to PROMETHEUS_MULTIPROC_DIR (set up in
  gunicorn.conf.py) and a scrape reads them all through `MultiProcessCollector`: whichever
  worker answers, the figures are the sum (counters, histograms) or the live maximum
  (`redis_circuit_open`) over every worker. A per-worker registry would show one worker.
  Workers that exited count too: their figures are folded into an archive file
  (apps/core/metrics_archive.py), read under a lock so none is counted twice or missed.
- Without that directory (runserver, tests) the figures are this process's.
- `METRICS_TOKEN` unset: 404, as if the endpoint did not exist. Set: only
  `Authorization: Bearer <METRICS_TOKEN>` gets in (401 otherwise), compared in constant time.
  Like /api/, it follows the HTTPS redirect in production (not exempt like /health).
- Figures read at scrape time (`mail_queue_pending`, from the database) come from hooks the
  owning app registers with `scrape_hook_register` in its `ready()` (core knows no app), so
  they are right even when no worker touched them lately; a failing hook is logged, leaves
  its last value, and the scrape still answers with the other figures.
"""
from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from apps.core import metrics, metrics_archive
from apps.core.cache import gateway

logger = logging.getLogger(__name__)

_scrape_hooks: dict[str, Callable[[], None]] = {}


def scrape_hook_register(name: str, hook: Callable[[], None]) -> None:
    """Run `hook` before each scrape (it sets a gauge). `name` keys it: registering again
    (a second `ready()`) replaces it rather than running it twice."""
    _scrape_hooks[name] = hook


def _authorized(request: HttpRequest, expected: str) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        return False
    return hmac.compare_digest(presented.strip().encode("utf-8", "surrogateescape"), expected.encode())


def _refresh_scrape_time_gauges() -> None:
    metrics.redis_circuit_open.set(1 if gateway.circuit_open else 0)
    for name, hook in list(_scrape_hooks.items()):
        try:
            hook()
        except Exception:  # a scrape must still answer with the other figures
            logger.exception("Could not read %s for /metrics", name)


class _Collector(MultiProcessCollector):
    """prometheus-client's collector, reading the files under the archive's shared lock, so a
    scrape never sees a dead worker's figures both in its file and in the archive (or in
    neither) while gunicorn's master folds them (apps/core/metrics_archive.py)."""

    def collect(self):
        with metrics_archive.scrape_files(self._path) as files:
            return list(self.merge(files, accumulate=True))


def _exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _Collector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@csrf_exempt
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics of this instance, for a scraper holding METRICS_TOKEN."""
    expected = settings.METRICS_TOKEN
    if not expected:
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    if not _authorized(request, expected):
        response = JsonResponse(
            {"detail": "A valid metrics bearer token is required.", "code": "not_authenticated"}, status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse({"detail": "Method not allowed.", "code": "method_not_allowed"}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    _refresh_scrape_time_gauges()
    return HttpResponse(_exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
