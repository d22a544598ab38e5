"""0002 turns `enabled_modules` NOT NULL; rows written while it allowed NULL become []."""
from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from apps.tenants.models import Tenant

BEFORE = [("tenants", "0001_initial")]

INSERT = (
    "INSERT INTO tenants_tenant (id, name, slug, enabled_modules, is_active, created_at, updated_at) "
    "VALUES (%s, %s, %s, {modules}, %s, %s, %s)"
)


def insert_tenant(slug: str, modules_sql: str) -> str:
    tenant_id = uuid.uuid4().hex  # both SQLite's char(32) and PostgreSQL's uuid accept it
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT.format(modules=modules_sql),
            [tenant_id, slug.title(), slug, True, "2024-01-01 00:00:00", "2024-01-01 00:00:00"],
        )
    return tenant_id


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def at_0001(transactional_db):
    """Tenants migrated back to 0001 (accounts only needs tenants 0001, so it stays);
    every app back at its latest migration afterwards, whatever the test did."""
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(BEFORE)
    try:
        yield latest
    finally:
        migrate(latest)


def test_migration_turns_sql_null_modules_into_empty_list_and_forbids_null(at_0001):
    null_row = insert_tenant("legacy-null", "NULL")
    json_null_row = insert_tenant("legacy-json-null", "'null'")
    kept_row = insert_tenant("legacy-kept", "'[\"crm\"]'")

    migrate(at_0001)

    assert Tenant.objects.get(pk=null_row).enabled_modules == []
    assert Tenant.objects.get(pk=json_null_row).enabled_modules == []
    assert Tenant.objects.get(pk=kept_row).enabled_modules == ["crm"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM tenants_tenant WHERE enabled_modules IS NULL")
        assert cursor.fetchone()[0] == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_tenant("still-null", "NULL")


def test_column_allows_null_before_the_migration(at_0001):
    """Guards the test above: it really starts from the nullable column."""
    insert_tenant("legacy", "NULL")

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM tenants_tenant WHERE enabled_modules IS NULL")
        assert cursor.fetchone()[0] == 1
