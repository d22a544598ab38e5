"""Password hashing cost: milliseconds per password check, measured in the same run for

  - ours:   apps.accounts.hashers.OwaspArgon2PasswordHasher (Argon2id, m=19 MiB, t=2, p=1)
  - Django's default Argon2PasswordHasher (Argon2id, m=100 MiB, t=2, p=8)
  - Django's default PBKDF2PasswordHasher (PBKDF2-SHA256, Django's iteration count)

    .venv/bin/python bench/password_hashing.py            # ~20 seconds
    .venv/bin/python bench/password_hashing.py --checks 5 # quicker

A benchmark, not a test: it prints numbers. The hashers take turns (one check each, round
after round), so machine noise hits them alike; compare the ratios. "wall" is what a login
waits; "CPU" is what it costs the machine (Argon2 with p=8 runs lanes on several threads,
so its CPU time can exceed its wall time on a multi-core box).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django.conf import settings  # noqa: E402

settings.configure(USE_TZ=True)

from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher  # noqa: E402

from apps.accounts.hashers import OwaspArgon2PasswordHasher  # noqa: E402

PASSWORD = "Correct-Horse-Battery-42!"


def describe(hasher) -> str:
    if isinstance(hasher, Argon2PasswordHasher):
        return f"argon2id m={hasher.memory_cost // 1024} MiB, t={hasher.time_cost}, p={hasher.parallelism}"
    return f"pbkdf2_sha256, {hasher.iterations:,} iterations"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checks", type=int, default=30, help="checks per hasher (after one untimed warm-up)")
    parser.add_argument("--seconds", type=float, default=150.0, help="stop starting new rounds after this")
    args = parser.parse_args()

    hashers = {
        "ours: OwaspArgon2PasswordHasher": OwaspArgon2PasswordHasher(),
        "Django Argon2PasswordHasher": Argon2PasswordHasher(),
        "Django PBKDF2PasswordHasher": PBKDF2PasswordHasher(),
    }
    encoded = {name: h.encode(PASSWORD, h.salt()) for name, h in hashers.items()}
    for name, h in hashers.items():  # warm-up, and a sanity check: right accepted, wrong refused
        assert h.verify(PASSWORD, encoded[name]) and not h.verify(PASSWORD + "x", encoded[name]), name

    wall: dict[str, list[float]] = {name: [] for name in hashers}
    cpu: dict[str, list[float]] = {name: [] for name in hashers}
    deadline = time.monotonic() + args.seconds
    names = list(hashers)
    for round_no in range(args.checks):
        if round_no and time.monotonic() > deadline:
            print(f"time budget reached after {round_no} rounds", file=sys.stderr)
            break
        for name in names[round_no % len(names):] + names[: round_no % len(names)]:
            c0, t0 = time.process_time(), time.perf_counter()
            ok = hashers[name].verify(PASSWORD, encoded[name])
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            assert ok

    ours = names[0]
    ours_wall, ours_cpu = pct(wall[ours], 50), pct(cpu[ours], 50)
    print(f"Password check cost, {date.today().isoformat()}, {os.cpu_count()} CPU(s), "
          f"Python {sys.version.split()[0]}; {len(wall[ours])} checks per hasher, interleaved")
    print()
    headers = ["hasher", "parameters", "wall p50 ms", "wall p95 ms", "CPU p50 ms", "wall vs ours", "CPU vs ours"]
    rows = []
    for name, h in hashers.items():
        w50, w95, c50 = pct(wall[name], 50), pct(wall[name], 95), pct(cpu[name], 50)
        rows.append([name, describe(h), f"{w50 * 1000:.1f}", f"{w95 * 1000:.1f}", f"{c50 * 1000:.1f}",
                     f"{w50 / ours_wall:.2f}x", f"{c50 / ours_cpu:.2f}x"])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print()
    print(f"Checks per CPU-second (what one busy core sustains): ours {1 / ours_cpu:.0f}; "
          + "; ".join(f"{n.split()[1]} {1 / pct(cpu[n], 50):.1f}" for n in names[1:]))


if __name__ == "__main__":
    main()
