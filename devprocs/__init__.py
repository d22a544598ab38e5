"""Real servers for tests and benchmarks: the shared Redis, private redis-server processes, a port that
accepts connections but never answers, and the app itself under gunicorn.

Every process started here is stopped by its PID; nothing shared is ever stopped or flushed.
Under CI=true a missing server fails the test instead of skipping it.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI") == "true"


def unavailable(reason: str):
    """Skip locally; fail under CI=true (a missing server must never pass silently)."""
    if CI:
        pytest.fail(f"{reason} (CI=true: required)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate, *, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# --- Redis ------------------------------------------------------------------------------------
class RedisProcess:
    """A private redis-server on its own port: kill it, restart it empty, flush it."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server binary not found")
        self.binary = binary
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="authsvc-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        if not wait_until(lambda: port_open("127.0.0.1", self.port), timeout=10):
            self.stop()
            raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart_empty(self) -> None:
        self.stop()
        self.start()

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2)


@contextmanager
def redis_process() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


def shared_redis_url() -> str:
    """The machine's Redis (TEST_REDIS_URL), for tests that need one shared by processes."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    parts = urlsplit(url)
    if not port_open(parts.hostname or "127.0.0.1", parts.port or 6379):
        unavailable(f"Redis not reachable at {parts.hostname}:{parts.port}")
    return url


@contextmanager
def black_hole(port: int = 0) -> Iterator[int]:
    """A port that accepts TCP connections and never sends a byte (a hung Redis or SMTP
    server); a free one unless `port` is given."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(128)
    server.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept_forever() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except (TimeoutError, OSError):
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()


# --- PostgreSQL -------------------------------------------------------------------------------
def using_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def terminate_connections(database_url: str) -> int:
    """pg_terminate_backend() every connection to that URL's database (a live server's own
    scratch database), as a database restart or failover would; returns how many. Runs
    through an admin connection to DATABASE_URL, which it does not count or touch."""
    import psycopg2

    database = urlsplit(database_url).path.lstrip("/")
    admin = psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s", [database]
            )
            return cursor.fetchone()[0]
    finally:
        admin.close()


@contextmanager
def scratch_database_url(
    *, postgres_url: str | None = None, prefix: str = "authsvc_live"
) -> Iterator[str]:
    """A database of its own: on PostgreSQL (`postgres_url`, else DATABASE_URL on the
    PostgreSQL run) a new database on that server, dropped afterwards; else a SQLite file."""
    if postgres_url is None and using_postgres():
        postgres_url = os.environ["DATABASE_URL"]
    if postgres_url is None:
        folder = tempfile.mkdtemp(prefix=f"{prefix}-db-")
        try:
            yield f"sqlite:///{folder}/scratch.sqlite3"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(postgres_url, connect_timeout=5)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(postgres_url)._replace(path=f"/{name}"))
        finally:  # a failing test must not leave its database behind
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


# --- The app under gunicorn -------------------------------------------------------------------
PROD_LIKE_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "live-test-secret-key-" + "k" * 40,
    "JWT_SECRET_KEY": "live-test-jwt-signing-key-" + "q" * 40,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    # The test client speaks plain HTTP to gunicorn directly.
    "SECURE_SSL_REDIRECT": "False",
    "THROTTLE_ENABLED": "False",
}


class LiveServer:
    def __init__(self, url: str, proc: subprocess.Popen, log_dir: str, env: dict) -> None:
        self.url, self.proc, self.log_dir, self.env = url, proc, log_dir, env

    def read_logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(Path(self.log_dir).glob("*.log*")))


def terminate(proc: subprocess.Popen) -> None:
    """Stop a process we started, by its PID: SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _run_manage(args: list[str], env: dict) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120,
    )


@contextmanager
def live_server(
    *, workers: int = 2, migrate: bool = True, stdout_path: str | None = None,
    gunicorn_args: tuple[str, ...] = (), **overrides: str,
) -> Iterator[LiveServer]:
    """gunicorn serving the app on a free port, production-like settings plus `overrides`.

    Without DATABASE_URL in `overrides`, the server gets a scratch database of its own.
    `stdout_path`: the server's stdout goes to that file (else nowhere). `gunicorn_args` are
    added to gunicorn's command line (with `--certfile`, the URL is https://).
    """
    with _database_for(overrides) as database_url:
        log_dir = tempfile.mkdtemp(prefix="authsvc-live-logs-")
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")},
            **PROD_LIKE_ENV,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": database_url,
            "LOG_DIR": log_dir,
            **overrides,
        }
        if migrate:
            _run_manage(["migrate", "--noinput"], env)
        with (
            open(Path(log_dir) / "gunicorn.err", "w") as errors,  # the child keeps its own handles
            open(stdout_path or os.devnull, "w") as out,
        ):
            proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(workers), "--graceful-timeout", "2", "--timeout", "30", *gunicorn_args],
                cwd=ROOT, env=env, stdout=out, stderr=errors, start_new_session=True,
            )
        try:
            if not wait_until(lambda: port_open("127.0.0.1", port), timeout=30):
                raise RuntimeError("gunicorn did not start: " + (Path(log_dir) / "gunicorn.err").read_text())
            scheme = "https" if "--certfile" in gunicorn_args else "http"
            yield LiveServer(f"{scheme}://127.0.0.1:{port}", proc, log_dir, env)
        finally:
            terminate(proc)
            shutil.rmtree(log_dir, ignore_errors=True)


@contextmanager
def _database_for(overrides: dict) -> Iterator[str]:
    if "DATABASE_URL" in overrides:
        yield overrides.pop("DATABASE_URL")
        return
    with scratch_database_url() as url:
        yield url


# --- SMTP -------------------------------------------------------------------------------------
class SmtpServer:
    """A real SMTP server (aiosmtpd, in a thread of this process) on its own port; `stop()`
    and `start()` again on the same port simulate an outage. `messages` holds what it accepted
    (email.message.Message objects)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list = []
        self._controller = None
        self._lock = threading.Lock()

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        server = self

        class Handler:
            async def handle_DATA(self, _server, _session, envelope):
                import email

                parsed = email.message_from_bytes(envelope.content)
                with server._lock:
                    server.messages.append(parsed)
                return "250 Message accepted for delivery"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self) -> list:
        with self._lock:
            return list(self.messages)


@contextmanager
def smtp_server(*, started: bool = True) -> Iterator[SmtpServer]:
    server = SmtpServer()
    if started:
        server.start()
    try:
        yield server
    finally:
        server.stop()


def message_text(message) -> str:
    """The text/plain part of a received message, decoded."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""
