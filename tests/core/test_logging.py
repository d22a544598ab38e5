"""Log files: the contract's line format, which levels reach which file, stdout, and rotation
with several processes writing at once (config.logging.build_logging is what production uses)."""
from __future__ import annotations

import json
import logging
import logging.config
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from config.logging import build_logging
from tests.core import logfiles

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def configure_logging(tmp_path):
    """Apply build_logging(...) into a fresh directory; the app's logging is restored after."""

    def apply(**options) -> Path:
        log_dir = tmp_path / "logs"
        logging.config.dictConfig(build_logging(log_dir=log_dir, **options))
        return log_dir

    yield apply
    logging.config.dictConfig(django_settings.LOGGING)


def write_one_of_each_level(marker: str) -> None:
    log = logging.getLogger("apps.core.tests")
    for level in ("debug", "info", "warning", "error", "critical"):
        getattr(log, level)("%s level=%s", marker, level)


def levels_in(log_dir: Path, name: str, marker: str) -> list[str]:
    return [logfiles.LINE.match(e).group("level") for e in logfiles.entries_containing(marker, name, log_dir)]


# --- Line format ----------------------------------------------------------------------------
def test_every_line_matches_the_contract_format(configure_logging):
    log_dir = configure_logging(debug=False)
    logging.getLogger("apps.accounts.services").info("User %s logged in", "42")

    (line,) = logfiles.read("info.log", log_dir).splitlines()
    match = logfiles.LINE.match(line)
    assert match, line
    assert match.group("level") == "INFO"
    assert match.group("logger") == "apps.accounts.services"
    assert match.group("func") == "test_every_line_matches_the_contract_format"
    assert match.group("request_id") == "-"  # outside a request
    assert match.group("message") == "User 42 logged in"


def test_line_timestamp_is_the_time_of_logging(configure_logging):
    log_dir = configure_logging(debug=False)
    before = time.time()
    logging.getLogger("apps.core").info("tick")

    stamp = logfiles.LINE.match(logfiles.read("info.log", log_dir).splitlines()[0]).group("time")
    seconds = time.mktime(time.strptime(stamp.split(",")[0], "%Y-%m-%d %H:%M:%S"))
    assert before - 2 <= seconds <= time.time() + 1


def test_api_request_lines_in_the_app_log_match_the_contract_format(api_client, db):
    tail = logfiles.Tail()
    api_client.get("/api/auth/me/")
    api_client.get("/api/nope/")
    lines = tail.entries()
    assert len(lines) >= 4
    for line in lines:
        assert logfiles.LINE.match(line), line


# --- Which levels go where -----------------------------------------------------------------
def test_error_log_holds_only_error_and_above(configure_logging):
    log_dir = configure_logging(debug=False)
    write_one_of_each_level(marker := uuid.uuid4().hex)
    assert levels_in(log_dir, "error.log", marker) == ["ERROR", "CRITICAL"]


def test_info_log_holds_info_and_above(configure_logging):
    log_dir = configure_logging(debug=False)
    write_one_of_each_level(marker := uuid.uuid4().hex)
    assert levels_in(log_dir, "info.log", marker) == ["INFO", "WARNING", "ERROR", "CRITICAL"]


def test_debug_log_is_absent_or_empty_when_debug_is_off(configure_logging):
    log_dir = configure_logging(debug=False)
    write_one_of_each_level(uuid.uuid4().hex)
    debug_log = log_dir / "debug.log"
    assert not debug_log.exists() or debug_log.stat().st_size == 0


def test_debug_log_holds_everything_when_debug_is_on(configure_logging):
    log_dir = configure_logging(debug=True)
    write_one_of_each_level(marker := uuid.uuid4().hex)
    assert levels_in(log_dir, "debug.log", marker) == ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
    assert levels_in(log_dir, "info.log", marker) == ["INFO", "WARNING", "ERROR", "CRITICAL"]
    assert levels_in(log_dir, "error.log", marker) == ["ERROR", "CRITICAL"]


def test_exception_traceback_goes_to_error_log(configure_logging):
    log_dir = configure_logging(debug=False)
    try:
        raise ValueError("the reason it broke")
    except ValueError:
        logging.getLogger("apps.core").exception("Something failed")

    (entry,) = logfiles.entries("error.log", log_dir)
    assert "Traceback (most recent call last)" in entry
    assert "ValueError: the reason it broke" in entry


def test_sql_queries_stay_out_of_debug_log(configure_logging):
    log_dir = configure_logging(debug=True)
    logging.getLogger("django.db.backends").debug("(0.001) SELECT password FROM accounts_user")
    assert "SELECT" not in logfiles.read("debug.log", log_dir)


# --- Subprocesses: stdout and rotation -------------------------------------------------------
# Each writer configures logging exactly as settings do (build_logging), then writes numbered
# lines. No Django settings are needed: the filters only import apps.core.
WRITER = """
import json, logging, logging.config, sys
from pathlib import Path
from config.logging import build_logging

options = json.loads(sys.argv[1])
writer, count, payload = options.pop("writer"), options.pop("count"), options.pop("payload")
logging.config.dictConfig(build_logging(log_dir=Path(options.pop("log_dir")), **options))
log = logging.getLogger("apps.rotation")
print("ready", flush=True)
sys.stdin.readline()  # start together
for seq in range(count):
    log.info("writer=%d seq=%05d payload=%s", writer, seq, payload)
logging.shutdown()
"""


def start_writer(**options) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, json.dumps(options)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )


def test_log_to_stdout_writes_every_line_to_stdout_too(tmp_path):
    log_dir = tmp_path / "logs"
    proc = start_writer(writer=7, count=3, payload="p", log_dir=str(log_dir), debug=False, to_stdout=True)
    out, err = proc.communicate(input="go\n", timeout=30)
    assert proc.returncode == 0, err

    printed = [line for line in out.splitlines() if line != "ready"]
    assert [logfiles.LINE.match(line).group("message") for line in printed] == [
        f"writer=7 seq={seq:05d} payload=p" for seq in range(3)
    ]
    assert logfiles.read("info.log", log_dir).splitlines() == printed


def test_stdout_stays_quiet_without_log_to_stdout(tmp_path):
    proc = start_writer(writer=1, count=3, payload="p", log_dir=str(tmp_path / "logs"), debug=False)
    out, err = proc.communicate(input="go\n", timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == "ready"


WRITERS, LINES_PER_WRITER = 4, 2_500
PAYLOAD = "abcdefghij" * 4
ROTATED_LINE = re.compile(rf"^writer=(\d+) seq=(\d{{5}}) payload={PAYLOAD}$")


@pytest.mark.slow
def test_rotation_with_several_processes_loses_and_corrupts_no_line(tmp_path):
    log_dir = tmp_path / "logs"
    options = dict(log_dir=str(log_dir), debug=False, count=LINES_PER_WRITER, payload=PAYLOAD,
                   max_bytes=4 * 1024, backup_count=5_000)
    writers = [start_writer(writer=w, **options) for w in range(WRITERS)]
    try:
        for proc in writers:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        for proc in writers:  # release them together, so they rotate under each other
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in writers:
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert "Traceback" not in err, err
    finally:
        for proc in writers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    files = sorted(log_dir.glob("info.log*"))
    assert len(files) > 10, "the files should have rotated many times"
    seen: Counter = Counter()
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = logfiles.LINE.match(line)
            assert match, f"corrupted line in {path.name}: {line!r}"
            message = ROTATED_LINE.match(match.group("message"))
            assert message, f"interleaved line in {path.name}: {line!r}"
            seen[(int(message.group(1)), int(message.group(2)))] += 1

    expected = {(w, seq) for w in range(WRITERS) for seq in range(LINES_PER_WRITER)}
    missing = expected - set(seen)
    duplicated = [key for key, n in seen.items() if n > 1]
    assert not missing, f"{len(missing)} lines lost, e.g. {sorted(missing)[:5]}"
    assert not duplicated, f"{len(duplicated)} lines written twice, e.g. {duplicated[:5]}"
    assert set(seen) == expected
    assert logfiles.read("error.log", log_dir) == ""
