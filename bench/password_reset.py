"""POST /api/auth/password/reset/ over HTTP: a real account vs an unknown email.

    .venv/bin/python -m bench.password_reset                 # SQLite scratch file, ~1 min
    .venv/bin/python -m bench.password_reset --postgres postgres://postgres@127.0.0.1:5432/test

The app runs under gunicorn (1 worker, production settings, throttles off, mail delivery off
so that only the request path is measured) on a scratch database. Requests alternate known,
unknown, known, ... so machine noise hits both alike. Prints p50/p90/p99 per kind and the
difference of the medians: the contract asks for "about the same time" (no enumeration by
timing). A real account costs two INSERTs more (the queued mail and the security event) in
the request's transaction; the throttles (5 per email, 20 per client per 15 minutes) bound
how many samples an attacker gets.
"""
from __future__ import annotations

import argparse
import statistics
import time

import requests

import devprocs as services

PASSWORD = "Correct-Horse-Battery-42!"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per kind (after 20 warm-ups)")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL: a scratch database on that server")
    parser.add_argument("--seconds", type=float, default=120.0, help="stop early after this")
    args = parser.parse_args()

    with services.scratch_database_url(postgres_url=args.postgres, prefix="authsvc_bench_reset") as db_url, \
            services.live_server(workers=1, DATABASE_URL=db_url, MAIL_DELIVERY_IN_WEB="False") as live:
        services._run_manage(["shell", "-c", (
            "from apps.accounts.models import User\n"
            f"User.objects.create_user(email='known@example.com', password={PASSWORD!r})"
        )], live.env)
        session = requests.Session()

        def timed(email: str) -> float:
            started = time.perf_counter()
            response = session.post(f"{live.url}/api/auth/password/reset/", json={"email": email}, timeout=30)
            took = time.perf_counter() - started
            assert response.status_code == 202, response.text
            return took

        for i in range(10):
            timed("known@example.com")
            timed(f"warm{i}@example.com")
        known, unknown = [], []
        deadline = time.monotonic() + args.seconds
        for i in range(args.requests):
            if time.monotonic() > deadline:
                break
            known.append(timed("known@example.com"))
            unknown.append(timed(f"ghost{i}@example.com"))

    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"POST /api/auth/password/reset/ under gunicorn (1 worker), {database}, {len(known)} requests per kind")
    print(f"{'kind':<28}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}")
    for name, values in (("real account (mail queued)", known), ("unknown email", unknown)):
        print(f"{name:<28}{pct(values, 50) * 1000:>9.2f}{pct(values, 90) * 1000:>9.2f}{pct(values, 99) * 1000:>9.2f}")
    diff = (statistics.median(known) - statistics.median(unknown)) * 1000
    print(f"difference of medians: {diff:+.2f} ms")


if __name__ == "__main__":
    main()
