"""Django's PostgreSQL backend with a connection check that costs no round trip.

`CONN_HEALTH_CHECKS` makes Django ask `is_usable()` before the first query of every request
on a persistent connection, so that a connection the server dropped (a restart, a failover,
`idle_session_timeout`, pg_terminate_backend) is replaced instead of failing the request with
a 503. Django's own check sends `SELECT 1` and waits for it: a round trip plus PostgreSQL's
work on every request, about 10 % of a `GET /api/auth/me/` worker's CPU (docs/PERFORMANCE.md).

The same question can be answered locally. Between requests a connection in autocommit mode
is idle: the server has nothing to say unless it is going away, and when it goes away it
sends an error (FATAL 57P01, "terminating connection due to administrator command") and/or
closes the socket. So the connection is usable when libpq says it is open and idle, and its
socket has nothing to read and no error: one `poll()` with a zero timeout.

What this check cannot see: a peer that vanished without a word (a cut network, no FIN).
The first query then fails after the socket's timeout and the request answers 503, and
Django closes the connection; Django's `SELECT 1` would have hung for the same timeout
first. A socket readable for a harmless reason (none exists for us: we never LISTEN) only
costs a reconnect. Django also asks `is_usable()` after a request in which a database error
occurred: a connection whose error left it open and idle is kept, as with `SELECT 1`.
"""
from __future__ import annotations

import select

from django.db.backends.postgresql import base

_TRANSACTION_STATUS_IDLE = 0  # psycopg2.extensions.TRANSACTION_STATUS_IDLE, pq.TransactionStatus.IDLE
_GONE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Names PREPAREd on the current server session (apps/core/prepared.py); a new
        # connection is a new session, which has none.
        self.prepared_statements: set[str] = set()

    def init_connection_state(self) -> None:
        super().init_connection_state()
        self.prepared_statements = set()

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            if int(connection.info.transaction_status) != _TRANSACTION_STATUS_IDLE:
                return False
            poller = select.poll()
            poller.register(connection.fileno(), _GONE)
            return not poller.poll(0)
        except (OSError, ValueError, base.Database.Error):
            return False
