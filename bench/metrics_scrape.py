"""Does a /metrics scrape get slower as gunicorn recycles workers? (issue 22)

    .venv/bin/python -m bench.metrics_scrape                 # with the archive (gunicorn.conf.py)
    .venv/bin/python -m bench.metrics_scrape --no-fold       # the old child_exit, for comparison
    .venv/bin/python -m bench.metrics_scrape --requests 3600 --max-requests 20

A gunicorn of the app (2 workers, a scratch SQLite database, GUNICORN_MAX_REQUESTS small) gets
`--requests` GETs of /health/live from 8 clients; at every quarter it prints the number of
files in PROMETHEUS_MULTIPROC_DIR, their size, and the median of 20 timed scrapes. `--no-fold`
runs the same with the child_exit that only called `mark_process_dead` (files of dead workers
kept), i.e. before apps/core/metrics_archive.py. Standalone, to be folded into the harness.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

import devprocs

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-metrics-token-" + "b" * 20
NO_FOLD_CONF = """
exec(open({conf!r}).read())


def child_exit(server, worker):  # noqa: F811 - the behaviour before the archive
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
"""


def directory(path: Path) -> tuple[int, int]:
    files = [p for p in path.iterdir() if p.name.endswith(".db")]
    return len(files), sum(p.stat().st_size for p in files)


def scrape_ms(url: str, times: int = 20) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        response = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        spent.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3600)
    parser.add_argument("--max-requests", type=int, default=20)
    parser.add_argument("--no-fold", action="store_true", help="the old child_exit (no archive)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as scratch:
        multiproc = Path(scratch) / "prom"
        gunicorn_args: tuple[str, ...] = ()
        if args.no_fold:
            conf = Path(scratch) / "no_fold.conf.py"
            conf.write_text(NO_FOLD_CONF.format(conf=str(ROOT / "gunicorn.conf.py")))
            gunicorn_args = ("--config", str(conf))
        with devprocs.live_server(
            workers=2, gunicorn_args=gunicorn_args, METRICS_TOKEN=TOKEN,
            PROMETHEUS_MULTIPROC_DIR=str(multiproc), GUNICORN_MAX_REQUESTS=str(args.max_requests),
        ) as server:
            label = "no fold (before)" if args.no_fold else "archive (after)"
            print(f"{label}: max_requests={args.max_requests}, 2 workers")
            print(f"{'requests':>9} {'files':>6} {'kB':>8} {'scrape ms (median of 20)':>26}")
            step, sent = max(args.requests // 4, 1), 0
            with ThreadPoolExecutor(max_workers=8) as pool:
                while True:
                    time.sleep(0.5)  # let the master reap and fold the last exits
                    files, size = directory(multiproc)
                    print(f"{sent:>9} {files:>6} {size / 1024:>8.0f} {scrape_ms(server.url):>26.1f}", flush=True)
                    if sent >= args.requests:
                        break
                    batch = min(step, args.requests - sent)
                    statuses = list(pool.map(
                        lambda _: requests.get(f"{server.url}/health/live", timeout=30).status_code, range(batch),
                    ))
                    assert set(statuses) == {200}, set(statuses)
                    sent += batch


if __name__ == "__main__":
    main()
