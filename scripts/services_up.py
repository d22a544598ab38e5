"""Exit 0 when the test PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL) accept TCP."""
from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    ok = reachable(os.environ["TEST_DATABASE_URL"], 5432) and reachable(os.environ["TEST_REDIS_URL"], 6379)
    sys.exit(0 if ok else 1)
