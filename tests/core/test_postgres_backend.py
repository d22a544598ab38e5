"""apps/core/postgres: CONN_HEALTH_CHECKS answered by the socket, not by a SELECT 1.

A persistent connection the server dropped must be replaced before the request's first query
(no 503 after a database restart); a healthy one must be kept, without a round trip.
"""
from __future__ import annotations

import os
import select
import time
import uuid

import psycopg2
import pytest
import requests
from django.db import connections

import devprocs as services

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
        assert services.terminate_connections(server.env["DATABASE_URL"]) >= 1  # the worker's persistent one
        headers = {"Authorization": f"Bearer {pair['access']}"}
        me = requests.get(f"{server.url}/api/auth/me/", headers=headers, timeout=15)
        refreshed = requests.post(f"{server.url}/api/auth/refresh/", json={"refresh": pair["refresh"]}, timeout=15)
        me_again = requests.get(f"{server.url}/api/auth/me/", headers=headers, timeout=15)
    assert me.status_code == 200, me.text
    assert refreshed.status_code == 200, refreshed.text
    assert me_again.status_code == 200, me_again.text


# --- Server-side prepared statements (apps/core/prepared.py) ----------------------------------
def verbs(queries) -> list[str]:
    return [q["sql"].split()[0].upper() for q in queries]


def test_the_user_lookup_is_prepared_once_per_connection_and_then_only_executed(transactional_db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.authentication import _user_with_tenant
    from apps.accounts.models import User
    from tests.factories import UserFactory

    user = UserFactory()
    connection.close()  # a new server session knows no prepared statement
    with CaptureQueriesContext(connection) as first:
        got = _user_with_tenant.get(user.pk)
    with CaptureQueriesContext(connection) as second:
        again = _user_with_tenant.get(user.pk)
    assert verbs(first) == ["PREPARE", "EXECUTE"]
    assert verbs(second) == ["EXECUTE"]
    expected = User.objects.select_related("tenant").get(pk=user.pk)
    for obj in (got, again):
        assert {f.attname: getattr(obj, f.attname) for f in User._meta.concrete_fields} == {
            f.attname: getattr(expected, f.attname) for f in User._meta.concrete_fields}
        assert obj.tenant == expected.tenant
    assert _user_with_tenant.get(uuid.uuid4()) is None


def test_a_statement_the_server_forgot_is_prepared_again_and_answers(transactional_db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.authentication import _user_with_tenant
    from tests.factories import UserFactory

    user = UserFactory()
    assert _user_with_tenant.get(user.pk) == user
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler's reset or DISCARD ALL would
    with CaptureQueriesContext(connection) as queries:
        assert _user_with_tenant.get(user.pk) == user
    assert verbs(queries) == ["EXECUTE", "PREPARE", "EXECUTE"]


def test_inside_a_transaction_the_plain_statement_runs(transactional_db):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.authentication import _user_with_tenant
    from tests.factories import UserFactory

    user = UserFactory()
    with transaction.atomic(), CaptureQueriesContext(connection) as in_transaction:
        assert _user_with_tenant.get(user.pk) == user
    assert verbs(in_transaction) == ["SELECT"]


def test_with_prepared_statements_turned_off_nothing_is_prepared(transactional_db, settings):
    # DATABASE_PREPARED_STATEMENTS=False, as behind PgBouncer in transaction mode: the user
    # lookup, login and the one-statement rotation all run as plain statements.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from apps.accounts.authentication import _user_with_tenant
    from tests.factories import UserFactory

    settings.DATABASE_PREPARED_STATEMENTS = False
    user = UserFactory(password="Correct-Horse-9")
    client = APIClient()
    with CaptureQueriesContext(connection) as queries:
        assert _user_with_tenant.get(user.pk) == user
        login = client.post("/api/auth/login/", {"email": user.email, "password": "Correct-Horse-9"}, format="json")
        assert login.status_code == 200, login.content
        refreshed = client.post("/api/auth/refresh/", {"refresh": login.json()["refresh"]}, format="json")
        assert refreshed.status_code == 200, refreshed.content
        me = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
        assert me.status_code == 200, me.content
    assert not [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("PREPARE", "EXECUTE"))]
    assert any(q["sql"].startswith("UPDATE") and "RETURNING" in q["sql"] for q in queries)


def test_refreshes_run_the_prepared_rotation(transactional_db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from apps.accounts.services import get_tokens_for_user
    from tests.factories import UserFactory

    token = get_tokens_for_user(UserFactory(), ip="127.0.0.1", user_agent="pytest")["refresh"]
    rounds = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            response = APIClient().post("/api/auth/refresh/", {"refresh": token}, format="json")
        assert response.status_code == 200, response.content
        token = response.json()["refresh"]
        rounds.append(queries)
    assert all(q["sql"].startswith("EXECUTE authsvc_rotate_current") for q in rounds[-1])
    assert verbs(rounds[-1]) == ["EXECUTE"]


def test_a_statement_the_server_still_holds_is_taken_as_prepared(transactional_db):
    from django.db import connection

    from apps.accounts.authentication import _user_with_tenant
    from tests.factories import UserFactory

    user = UserFactory()
    assert _user_with_tenant.get(user.pk) == user
    connection.prepared_statements.clear()  # this process forgot; the server did not
    assert _user_with_tenant.get(user.pk) == user
    assert "authsvc_user_with_tenant" in connection.prepared_statements
