"""Signing keys: what each access-token algorithm costs, beside HS256, in one run.

    .venv/bin/python bench/signing_keys.py              # in-process + HTTP, ~2 min
    .venv/bin/python bench/signing_keys.py --quick      # ~40 s
    .venv/bin/python bench/signing_keys.py --skip-http

A benchmark, not a test: it prints numbers and judges nothing.

1. In-process, per algorithm (HS256, EdDSA, ES256, RS256 with a 3072-bit key as
   `generate_signing_key` makes): microseconds to VERIFY one access token through our full
   decode path (`TenantAccessToken(raw)`: kid lookup in the key ring, signature, exp/iss/aud),
   and to SIGN one (`mint_access`'s encode). Rounds interleave the algorithms; medians.
2. Over HTTP: `GET /api/auth/me/` with wrk (`-t2 -c4`, /usr/bin/wrk) against two gunicorn
   servers (2 sync workers each, production settings, a scratch SQLite database each, or
   PostgreSQL when DATABASE_URL points at one), one signing HS256, one EdDSA, both up at once
   and measured alternately (HS256, EdDSA, EdDSA, HS256, ...); median req/s, p50/p99, and app
   CPU ms per request (gunicorn master + workers from /proc, SQLite included since it runs in
   the worker): on a shared machine req/s swings with other load, CPU per request much less.

127.0.0.1 only; each server is stopped by its PID; every run is bounded by wrk's -d.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ALGORITHMS = ("HS256", "EdDSA", "ES256", "RS256")
PASSWORD = "bench-Password-1"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


def in_process(*, rounds: int, per_round: int) -> dict[str, dict[str, float]]:
    _setup_django()
    import uuid
    from datetime import UTC, datetime

    from django.test.utils import override_settings

    from apps.accounts import keys, tokens

    private = {alg: keys.private_pem(keys.generate_private_key(alg)) for alg in ALGORITHMS[1:]}
    now = datetime.now(tz=UTC)

    class _User:  # what mint_access reads; no database needed
        id = uuid.uuid4()
        email = "bench@example.com"
        tenant_id = None
        tenant = None
        tokens_valid_after = None

    verify_us: dict[str, list[float]] = {alg: [] for alg in ALGORITHMS}
    sign_us: dict[str, list[float]] = {alg: [] for alg in ALGORITHMS}
    for round_number in range(rounds):
        order = ALGORITHMS if round_number % 2 == 0 else tuple(reversed(ALGORITHMS))
        for alg in order:
            with override_settings(JWT_ALGORITHM=alg, JWT_PRIVATE_KEY=private.get(alg, "")):
                keys.keyring()  # parse keys outside the timed loops
                started = time.process_time()
                raws = [tokens.mint_access(user=_User, session_id=uuid.uuid4(), now=now) for _ in range(per_round)]
                sign_us[alg].append((time.process_time() - started) / per_round * 1e6)
                started = time.process_time()
                for raw in raws:
                    tokens.TenantAccessToken(raw)
                verify_us[alg].append((time.process_time() - started) / per_round * 1e6)
    return {alg: {"verify_us": statistics.median(verify_us[alg]), "sign_us": statistics.median(sign_us[alg])}
            for alg in ALGORITHMS}


def _wrk(url: str, access: str, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", "-c4", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {access}", url],
        capture_output=True, text=True, timeout=seconds + 30, check=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def latency_ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency_ms("50%"), "p99_ms": latency_ms("99%"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def over_http(*, rounds: int, seconds: int) -> dict[str, dict[str, float]]:
    import requests

    import devprocs as services
    from apps.accounts import keys
    from bench.compare import tree_cpu

    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found (apt-get install wrk)")
    eddsa = keys.private_pem(keys.generate_private_key("EdDSA"))
    configs = {"HS256": {}, "EdDSA": {"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY": eddsa}}
    runs: dict[str, list[dict[str, float]]] = {alg: [] for alg in configs}
    with ExitStack() as stack:
        servers, access = {}, {}
        for alg, env in configs.items():
            server = stack.enter_context(services.live_server(workers=2, LOG_LEVEL="WARNING", **env))
            email = f"bench-{alg.lower()}@example.com"
            body = requests.post(f"{server.url}/api/auth/register/", json={"email": email, "password": PASSWORD},
                                 timeout=10).json()
            servers[alg], access[alg] = server, body["access"]
        for alg in configs:  # warm-up: every worker has imported and connected
            _wrk(f"{servers[alg].url}/api/auth/me/", access[alg], 2)
        for round_number in range(rounds):
            order = list(configs) if round_number % 2 == 0 else list(reversed(configs))
            for alg in order:
                cpu_before = tree_cpu(servers[alg].proc.pid)
                run = _wrk(f"{servers[alg].url}/api/auth/me/", access[alg], seconds)
                run["cpu_ms"] = (tree_cpu(servers[alg].proc.pid) - cpu_before) / max(run["requests"], 1) * 1000
                runs[alg].append(run)
                print(f"  round {round_number + 1} {alg}: {run['rps']:.0f} req/s, {run['cpu_ms']:.2f} CPU ms/request",
                      file=sys.stderr)
    return {alg: {key: statistics.median(r[key] for r in results) for key in results[0]}
            for alg, results in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    rounds, per_round, seconds = (3, 300, 4) if args.quick else (5, 1000, 10)

    print(f"In-process, median of {rounds} rounds x {per_round} tokens (this machine, {os.cpu_count()} CPUs):")
    results = in_process(rounds=rounds, per_round=per_round)
    base = results["HS256"]["verify_us"]
    print(f"{'algorithm':<10}{'verify us':>11}{'x HS256':>9}{'sign us':>10}")
    for alg, r in results.items():
        print(f"{alg:<10}{r['verify_us']:>11.1f}{r['verify_us'] / base:>9.2f}{r['sign_us']:>10.1f}")

    if args.skip_http:
        return
    print(f"\nGET /api/auth/me/ over HTTP, wrk -t2 -c4, {rounds} x {seconds} s per server, alternating:")
    http = over_http(rounds=rounds, seconds=seconds)
    print(f"{'algorithm':<10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}{'errors':>8}")
    for alg, r in http.items():
        print(f"{alg:<10}{r['rps']:>9.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['cpu_ms']:>12.2f}{r['errors']:>8.0f}")
    print(f"EdDSA / HS256: req/s {http['EdDSA']['rps'] / http['HS256']['rps']:.3f}, "
          f"app CPU per request {http['EdDSA']['cpu_ms'] / http['HS256']['cpu_ms']:.3f}")


if __name__ == "__main__":
    main()
