"""Slow clients against the default gunicorn settings (issue 23, item 6): clients that send a
request line a byte at a time, more of them than there are workers, must not take
/health/live (or anyone else) down, with no buffering proxy in front.

Before: two half-sent requests held both sync workers, and /health/live answered nothing
until the 30 s worker timeout. The live server runs gunicorn.conf.py as shipped (gthread
workers, GUNICORN_THREADS threads each): each trickling client holds one thread."""
from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
import requests

import devprocs as services

pytestmark = [pytest.mark.live, pytest.mark.slow]

WORKERS = 2
SLOW_CLIENTS = 6  # three times the workers
PARTIAL_REQUEST = b"GET /api/auth/me/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


class Trickler:
    """SLOW_CLIENTS sockets, each sending PARTIAL_REQUEST one byte every 0.2 s, never finishing."""

    def __init__(self, port: int) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(SLOW_CLIENTS)]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        payload = PARTIAL_REQUEST + b"x" * 1000
        for index in range(len(payload)):  # bounded: at most ~200 s, stopped long before
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # the server may close it
                    sock.sendall(payload[index:index + 1])
            if self.stop.wait(0.2):
                return

    def __enter__(self) -> Trickler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def test_more_slow_clients_than_workers_leave_health_live_answering():
    with services.live_server(workers=WORKERS, DEBUG="True") as server:
        port = int(server.url.rsplit(":", 1)[1])
        assert requests.get(f"{server.url}/health/live", timeout=10).status_code == 200
        with Trickler(port):
            time.sleep(1.5)  # every slow socket has sent its first bytes: each holds a thread now
            answers = [requests.get(f"{server.url}/health/live", timeout=10) for _ in range(5)]
            me = requests.get(f"{server.url}/api/auth/me/", timeout=10)

        assert [r.status_code for r in answers] == [200] * 5
        assert me.status_code == 401 and me.json()["code"] == "not_authenticated"
