"""Where a live gunicorn worker spends its CPU under wrk load: py-spy samples, summarised.

    .venv/bin/pip install 'py-spy==0.4.3'                 # bench-only tool, not in requirements
    .venv/bin/python -m bench.spy me                       # ours, `GET /api/auth/me/`, 10 s
    .venv/bin/python -m bench.spy health refresh --seconds 15
    .venv/bin/python -m bench.spy me --target stock        # the peer, for comparison
    .venv/bin/python -m bench.spy me --raw me.raw          # also keep the collapsed stacks

Starts the target exactly as bench/compare.py does (bench/harness.py) (same environment, same gunicorn command
line, 2 workers, PostgreSQL scratch database, private Redis), drives one scenario with
wrk, and records every worker with py-spy (CPU samples only: time spent waiting on
PostgreSQL or Redis is not counted). It prints, for a list of functions on the hot paths,
the share of the worker's CPU samples that have that function on the stack (inclusive), so a
middleware's share includes everything it calls. Numbers, not assertions; nothing is kept
unless --raw is given.
"""
from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.compare import SCENARIOS
from bench.harness import DEFAULT_PG, children, lab, wrk

# (label, substring of a py-spy frame "Class.function (path:line)"), in roughly call order.
PROBES = [
    ("gunicorn worker loop (everything, sync)", "SyncWorker.run_for_one ("),
    ("gunicorn request thread (everything, gthread)", "ThreadWorker.handle ("),
    ("  Django WSGIHandler.__call__", "WSGIHandler.__call__ (django/core/handlers/wsgi.py"),
    ("    WSGIRequest.__init__", "WSGIRequest.__init__ ("),
    ("    RequestIdMiddleware", "RequestIdMiddleware.__call__ ("),
    ("      access log line (logger.info)", "Logger.info (logging/__init__.py"),
    ("      uuid4 (request id)", "uuid4 (uuid.py"),
    ("    MetricsMiddleware", "MetricsMiddleware.__call__ ("),
    ("      prometheus-client", "(prometheus_client/"),
    ("    HealthCheckMiddleware", "HealthCheckMiddleware.__call__ ("),
    ("      health view", "health (apps/core/health.py"),
    ("    SecurityMiddleware", "SecurityMiddleware."),
    ("    WhiteNoiseMiddleware", "WhiteNoiseMiddleware."),
    ("    CorsMiddleware", "CorsMiddleware."),
    ("    SessionMiddleware", "SessionMiddleware."),
    ("    CommonMiddleware", "CommonMiddleware."),
    ("    CsrfViewMiddleware", "CsrfViewMiddleware."),
    ("    AuthenticationMiddleware", "AuthenticationMiddleware."),
    ("    MessageMiddleware", "MessageMiddleware."),
    ("    XFrameOptionsMiddleware", "XFrameOptionsMiddleware."),
    ("    URL resolve", "URLResolver.resolve ("),
    ("    DRF dispatch", "dispatch (rest_framework/views.py"),
    ("      DRF initialize_request", "initialize_request (rest_framework/views.py"),
    ("      DRF initial (auth, permissions, throttles)", "initial (rest_framework/views.py"),
    ("        JWT authentication", "authenticate (rest_framework_simplejwt/authentication.py"),
    ("          PyJWT", "(jwt/"),
    ("          user lookup", "PreparedPkLookup.get ("),
    ("      DRF finalize_response", "finalize_response (rest_framework/views.py"),
    ("      view method", "View.get (apps/"),
    ("      view method (POST)", "View.post (apps/"),
    ("      response render", "Response.rendered_content ("),
    ("      password hash (argon2)", "(argon2/"),
    ("      security event", "event_record ("),
    ("      session create", "session_open ("),
    ("    SQL (Django cursor)", "(django/db/backends/"),
    ("    redis-py", "(redis/"),
    ("    signals (request_started/finished)", "Signal.send ("),
    ("  gunicorn HTTP parse + write", "(gunicorn/http/"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="+", help="health, me, refresh, refresh_cookie, login")
    parser.add_argument("--target", default="ours", choices=["ours", "stock"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--raw", help="also write the collapsed stacks to RAW.<scenario>")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        sys.exit("py-spy not found: .venv/bin/pip install 'py-spy==0.4.3'")

    by_name = {sc.name: sc for sc in SCENARIOS}
    bench_args = argparse.Namespace(pool=8, threads=2, connections=4, workers=2, pg_url=args.pg_url)
    tokens = {args.target: 16 * (len(args.scenarios) + 1)}
    with lab(bench_args, {args.target: (args.target, {})}, tokens=tokens) as bench:
        target = bench.targets[args.target]
        for name in args.scenarios:
            scenario = by_name[name]
            wrk(target.url, seconds=2, connections=4, threads=2, env=bench.spec(scenario, args.target))  # warm-up
            spec = bench.spec(scenario, args.target)
            workers = children(target.master)
            outputs = [os.path.join(bench.tmp, f"{name}-{pid}.raw") for pid in workers]
            spies = [
                subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(args.seconds),
                                  "--rate", str(args.rate), "--format", "raw", "--nonblocking", "-o", out],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for pid, out in zip(workers, outputs, strict=True)
            ]
            result = wrk(target.url, seconds=args.seconds, connections=4, threads=2, env=spec)
            for proc in spies:
                proc.wait(timeout=args.seconds + 30)
            report(name, args.target, result, outputs, args.raw)


def report(scenario: str, target: str, result: dict, outputs: list[str], raw: str | None) -> None:
    totals: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    samples = 0
    lines = []
    for path in outputs:
        if not os.path.exists(path):
            continue
        for line in Path(path).read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            samples += n
            lines.append(line)
            leaves[stack.rsplit(";", 1)[-1]] += n
            for label, needle in PROBES:
                if needle in stack:
                    totals[label] += n
    if raw:
        Path(f"{raw}.{scenario}").write_text("\n".join(lines) + "\n")
    rps = result["requests"] / (result["duration_us"] / 1e6)
    print(f"\n== {target} {scenario}: {rps:.0f} req/s, {samples} CPU samples in the workers ==")
    print("  inclusive (the function and all it calls):")
    for label, _ in PROBES:
        if totals[label]:
            print(f"  {label:<46} {100 * totals[label] / max(samples, 1):5.1f} %")
    print("  own time, top 15 (the frame running when sampled):")
    for frame, n in leaves.most_common(15):
        print(f"  {100 * n / max(samples, 1):5.1f} %  {frame}")


if __name__ == "__main__":
    main()
