"""apps/core/postgres: CONN_HEALTH_CHECKS answered by the socket, not by a SELECT 1.

A persistent connection the server dropped must be replaced before the request's first query
(no 503 after a database restart); a healthy one must be kept, without a round trip.
"""
from __future__ import annotations

import os
import select
import time
from urllib.parse import urlsplit

import psycopg2
import pytest
import requests
from django.db import connections

from tests import services

pytestmark = pytest.mark.skipif(not services.using_postgres(), reason="PostgreSQL only (DATABASE_URL)")


@pytest.fixture
def own_connection(db):
    """A second connection to the test database, in autocommit (idle between queries, as a
    worker's persistent connection is between requests), closed afterwards."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def terminate_backend(pid: int) -> None:
    admin = psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0] is True
    finally:
        admin.close()


def test_the_project_uses_the_socket_checking_backend(own_connection):
    assert own_connection.__class__.__module__ == "apps.core.postgres.base"
    assert own_connection.vendor == "postgresql"


def test_a_healthy_idle_connection_is_usable_and_kept(own_connection):
    pid = own_connection.connection.info.backend_pid
    for _ in range(3):
        assert own_connection.is_usable()
        own_connection.health_check_done = False
        own_connection.close_if_health_check_failed()
        with own_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] == pid  # the same server backend: no reconnect


def test_a_connection_the_server_terminated_is_not_usable_and_is_replaced(own_connection):
    pid = own_connection.connection.info.backend_pid
    terminate_backend(pid)
    # The server's goodbye (FATAL 57P01, then EOF) arrives asynchronously: wait for it, bounded.
    poller = select.poll()
    poller.register(own_connection.connection.fileno(), select.POLLIN | select.POLLHUP)
    assert poller.poll(5000), "the server never closed the terminated connection"

    assert own_connection.is_usable() is False
    own_connection.health_check_done = False
    own_connection.close_if_health_check_failed()
    with own_connection.cursor() as cursor:  # reconnects: no error reaches the caller
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_closed_or_mid_transaction_connection_is_not_usable(own_connection):
    own_connection.connection.autocommit = False
    with own_connection.connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # opens a transaction: not idle, so not reusable as is
    assert own_connection.is_usable() is False
    own_connection.connection.rollback()
    own_connection.connection.autocommit = True
    assert own_connection.is_usable() is True
    own_connection.connection.close()
    assert own_connection.is_usable() is False


@pytest.mark.live
def test_requests_after_the_server_dropped_every_persistent_connection_all_succeed():
    """Logged-in reads and a refresh right after pg_terminate_backend of every connection of
    the app: the connection check replaces the dead ones, so no request answers 503."""
    with services.live_server(workers=1) as server:
        email, password = f"pgcheck-{time.monotonic_ns()}@example.com", "pg-Check-password-1"
        assert requests.post(f"{server.url}/api/auth/register/", json={"email": email, "password": password},
                             timeout=15).status_code == 201
        pair = requests.post(f"{server.url}/api/auth/login/", json={"email": email, "password": password},
                             timeout=15).json()
        database = urlsplit(server.env["DATABASE_URL"]).path.lstrip("/")
        admin = psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5)
        admin.autocommit = True
        try:
            with admin.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s", [database]
                )
                assert cursor.fetchone()[0] >= 1  # the worker's persistent connection
        finally:
            admin.close()
        headers = {"Authorization": f"Bearer {pair['access']}"}
        me = requests.get(f"{server.url}/api/auth/me/", headers=headers, timeout=15)
        refreshed = requests.post(f"{server.url}/api/auth/refresh/", json={"refresh": pair["refresh"]}, timeout=15)
        me_again = requests.get(f"{server.url}/api/auth/me/", headers=headers, timeout=15)
    assert me.status_code == 200, me.text
    assert refreshed.status_code == 200, refreshed.text
    assert me_again.status_code == 200, me_again.text
