"""In-process cost of each hot path, and a pyinstrument profile of it.

    .venv/bin/python -m bench.profile_paths                      # CPU ms per request, every path
    .venv/bin/python -m bench.profile_paths me --profile         # + pyinstrument tree (stderr)
    .venv/bin/python -m bench.profile_paths refresh --count 2000
    .venv/bin/python -m bench.profile_paths me --cprofile 40     # + flat cProfile list (stderr)

Ours with the production settings of bench/compare.py (DEBUG=False, HTTPS via the proxy
header, throttling off) on a scratch PostgreSQL database and a private Redis, through Django's
test client: the full middleware stack and view, no HTTP server. What it prints is the
process's CPU time per request (median of 5 batches), steadier than anything over HTTP on a
busy machine; the gunicorn part is measured by bench/compare.py, and a live worker can be
profiled with py-spy (see bench/README.md).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PATHS = ["health", "me", "refresh", "login"]


def parent(args) -> None:
    import shutil
    import tempfile

    from bench.harness import DEFAULT_PG, ROOT, ours_env
    from devprocs import RedisProcess, scratch_database_url

    redis = RedisProcess()
    redis.start()
    tmp = tempfile.mkdtemp(prefix="authsvc-profile-")
    try:
        with scratch_database_url(postgres_url=os.environ.get("BENCH_PG_URL", DEFAULT_PG), prefix="authsvc_bench_prof") as db:
            env = {**ours_env(db, redis.url, tmp), "BENCH_PROFILE_CHILD": "1"}
            subprocess.run([sys.executable, "-m", "bench.profile_paths", *sys.argv[1:]], cwd=ROOT, env=env, check=True, timeout=900)
    finally:
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


def child(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from bench._http_worker import EMAIL_DEFAULT, PASSWORD_DEFAULT, ours_user

    call_command("migrate", verbosity=0, interactive=False)
    ours_user(EMAIL_DEFAULT, PASSWORD_DEFAULT)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="203.0.113.7")
    login_body = {"email": EMAIL_DEFAULT, "password": PASSWORD_DEFAULT}
    pair = client.post("/api/auth/login/", login_body, content_type="application/json").json()
    access, state = pair["access"], {"refresh": pair["refresh"]}

    def health():
        return client.get("/health")

    def me():
        return client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {access}")

    def refresh():
        response = client.post("/api/auth/refresh/", {"refresh": state["refresh"]}, content_type="application/json")
        state["refresh"] = response.json()["refresh"]
        return response

    def login():
        return client.post("/api/auth/login/", login_body, content_type="application/json")

    calls = {"health": health, "me": me, "refresh": refresh, "login": login}
    results = {}
    for name in args.paths or PATHS:
        call = calls[name]
        count = args.count if name != "login" else max(20, args.count // 20)
        for _ in range(min(50, count)):  # warm-up
            assert call().status_code == 200
        batches = []
        for _ in range(5):
            started = time.process_time()
            for _ in range(count // 5):
                response = call()
            batches.append((time.process_time() - started) * 1000 / (count // 5))
            assert response.status_code == 200, response.content
        results[name] = round(statistics.median(batches), 3)
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            with profiler:
                for _ in range(count):
                    call()
            sys.stderr.write(f"\n===== {name}: {count} requests =====\n")
            sys.stderr.write(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False))
        if args.cprofile:
            import cProfile
            import io
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            for _ in range(count):
                call()
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(os.environ.get("BENCH_CPROFILE_SORT", "tottime")).print_stats(args.cprofile)
            sys.stderr.write(f"\n===== {name}: {count} requests, cProfile by own time =====\n{out.getvalue()}")
    print(json.dumps({"cpu_ms_per_request": results}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", metavar="path", help="some of: " + ", ".join(PATHS))
    parser.add_argument("--count", type=int, default=1000, help="requests per path (login: a twentieth)")
    parser.add_argument("--profile", action="store_true", help="pyinstrument tree per path, on stderr")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N",
                        help="cProfile flat list, the N functions with the most own time, on stderr")
    args = parser.parse_args()
    if set(args.paths) - set(PATHS):
        parser.error("paths are some of: " + ", ".join(PATHS))
    if os.environ.get("BENCH_PROFILE_CHILD"):
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
