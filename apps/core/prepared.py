"""Primary-key lookups compiled once: the ORM's SQL and row decoding, without the ORM's
per-call query building.

Why: on the two most frequent requests (every authenticated request looks its user up; every
refresh locks its session row), building the QuerySet and compiling it to SQL (select_related
joins, column lists, FOR UPDATE OF) cost more CPU than the rest of the request: about 40 % of
a `me` request under gunicorn (py-spy, docs/PERFORMANCE.md). The SQL never changes but for
the primary key, so it is compiled once per database connection object and reused.

What stays exactly the ORM's: the SQL text (the same compiler produced it), the parameter
adaptation of the key (the pk field's get_db_prep_value), the value converters (the
compiler's own, e.g. JSON and SQLite datetimes), and the building of the model instances and
their select_related relations (Model.from_db and Django's RelatedPopulator, as ModelIterable
does). The query goes through `connection.cursor()`, so CONN_HEALTH_CHECKS, query logging and
CaptureQueriesContext see it as before. `tests/core/test_prepared.py` holds the result field
for field equal to the ORM's on SQLite and PostgreSQL.

The cost of this: it relies on Django's compiler internals (`select`, `klass_info`,
`get_converters`, `apply_converters`, `get_related_populators`), stable since Django 2 but
not public API; the test above fails loudly if a Django upgrade changes them.
"""
from __future__ import annotations

import itertools
import re
import uuid
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)

# A key no row has: it only marks where the primary key goes among the compiled parameters.
_SENTINEL = uuid.UUID("00000000-0000-4000-8000-00000000beef")
_TEXT_SENTINEL = "\x00authsvc-prepared-lookup-key\x00"


class _Compiled:
    def __init__(self, queryset: QuerySet, connection: Any, by: str = "pk") -> None:
        model = queryset.model
        key_field = model._meta.pk if by == "pk" else model._meta.get_field(by)
        if not (key_field.primary_key or key_field.unique):
            raise ValueError(f"{by} is not unique: a lookup by it could match several rows")
        sentinel = _SENTINEL if key_field.get_internal_type() == "UUIDField" else _TEXT_SENTINEL
        # .order_by(): a lookup of one row needs no ORDER BY (models' default ordering).
        compiler = queryset.filter(**{by: sentinel}).order_by().query.get_compiler(connection=connection)
        self.sql, params = compiler.as_sql()
        marker = key_field.get_db_prep_value(sentinel, connection)
        indexes = [i for i, p in enumerate(params) if p == marker]
        if len(indexes) != 1:
            raise ValueError("a prepared lookup needs exactly one key parameter")
        self.pk_index, self.params = indexes[0], list(params)
        self.pk_field, self.compiler = key_field, compiler
        select = compiler.select
        self.converters = compiler.get_converters([col for col, _, _ in select])
        klass_info = compiler.klass_info
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [col.target.attname for col, _, _ in select[self.start:self.end]]
        self.model = klass_info["model"]
        self.populators = get_related_populators(klass_info, select, queryset.db)
        # The selected columns, table-qualified as in the SELECT (for a RETURNING clause).
        self.columns_sql = ", ".join(sql for _, (sql, _), _ in select)
        self.aliases_are_table_names = all(alias == join.table_name for alias, join in compiler.query.alias_map.items())

    def instance(self, row: Any, using: str) -> Model:
        """The model instance (select_related relations filled) for one selected row."""
        if self.converters:
            row = next(iter(self.compiler.apply_converters([row], self.converters)))
        obj = self.model.from_db(using, self.init_list, row[self.start:self.end])
        for populator in self.populators:
            populator.populate(row, obj)
        return obj


# --- Server-side prepared statements (PostgreSQL) -------------------------------------------
# PostgreSQL plans every statement it is sent, and for a primary-key lookup with a join the
# plan costs as much as the execution: ~95 us of the server's CPU per `me` user lookup, ~47 us
# as a prepared statement (measured; docs/PERFORMANCE.md). psycopg2 sends text, so the
# statement is PREPAREd by name once per server session and EXECUTEd after that.
#
# Only where it is safe:
# - in autocommit, outside any transaction: a PREPARE inside a transaction that fails would
#   leave this process believing in a statement the server may not have, and a missing one
#   inside a transaction would abort it. Outside one, a missing statement (DEALLOCATE ALL or
#   DISCARD ALL by someone, a pooler's reset) is re-prepared and the EXECUTE retried, once;
# - only with DATABASE_PREPARED_STATEMENTS (config/settings/base.py): off behind PgBouncer in
#   transaction mode (README "Scale-out"), where consecutive statements may reach different
#   server sessions;
# - on our backend (apps/core/postgres), which forgets the names on every new connection.
_INVALID_STATEMENT_NAME = "26000"
_DUPLICATE_PREPARED_STATEMENT = "42P05"
_PLACEHOLDER = re.compile(r"%s")


def can_prepare(connection: Any) -> bool:
    return (
        hasattr(connection, "prepared_statements")
        and not connection.in_atomic_block
        and settings.DATABASE_PREPARED_STATEMENTS
    )


def execute(cursor: Any, sql: str, params: list[Any], *, name: str) -> None:
    """`cursor.execute(sql, params)`, as the prepared statement `name` where that is safe
    (see above). `sql` uses %s placeholders only (no literal %)."""
    connection = cursor.db
    if not can_prepare(connection):
        cursor.execute(sql, params)
        return
    execute_sql = f"EXECUTE {name} ({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}"
    if name not in connection.prepared_statements:
        _prepare(cursor, sql, name)
    try:
        cursor.execute(execute_sql, params)
    except DatabaseError as exc:
        if getattr(exc.__cause__, "pgcode", None) != _INVALID_STATEMENT_NAME:
            raise
        connection.prepared_statements.discard(name)  # the server forgot it: once more
        _prepare(cursor, sql, name)
        cursor.execute(execute_sql, params)


def _prepare(cursor: Any, sql: str, name: str) -> None:
    if "%%" in sql:
        raise ValueError("a prepared statement's SQL must not hold a literal %")
    numbers = itertools.count(1)
    try:
        cursor.execute(f"PREPARE {name} AS {_PLACEHOLDER.sub(lambda _: f'${next(numbers)}', sql)}")
    except DatabaseError as exc:
        # Already there (prepared by this session before we could note it): the same text.
        if getattr(exc.__cause__, "pgcode", None) != _DUPLICATE_PREPARED_STATEMENT:
            raise
    cursor.db.prepared_statements.add(name)


class PreparedPkLookup(Generic[M]):
    """`lookup.get(key)`: what `queryset().get(pk=key)` returns, or None when there is no row.

    `by`: another unique field to look up by instead of the primary key (`by="email"`).
    `queryset` builds the QuerySet (select_related, select_for_update, ...) once per database
    connection; it must not filter on the key itself. A select_for_update lookup must run
    inside a transaction, as with the ORM. `prepare_as`: run it as that server-side prepared
    statement where safe (see `execute`). `using`: the database alias (the project has no
    database routers).
    """

    def __init__(
        self, queryset: Callable[[], QuerySet], *, using: str = "default", prepare_as: str | None = None,
        by: str = "pk",
    ) -> None:
        self._queryset, self._using, self._name, self._by = queryset, using, prepare_as, by
        # Per DatabaseWrapper (one per thread and alias): the converters belong to it.
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get(self, pk: Any) -> M | None:
        connection = connections[self._using]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = _Compiled(self._queryset().using(self._using), connection, self._by)
        params = list(compiled.params)
        params[compiled.pk_index] = compiled.pk_field.get_db_prep_value(pk, connection)
        with connection.cursor() as cursor:
            if self._name:
                execute(cursor, compiled.sql, params, name=self._name)
            else:
                cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        return compiled.instance(row, self._using)


class PreparedReturning(Generic[M]):
    """The columns a QuerySet selects (select_related included) for an UPDATE's RETURNING
    clause, and the decoding of a returned row into the instance that QuerySet would give.

    `returning.columns(connection)`: the SELECT's own column list, qualified by the tables'
    names (each table must appear once in the query, so that its alias is its name).
    `returning.instance(connection, row)`: Model.from_db plus the related populators, with the
    compiler's converters, exactly as PreparedPkLookup.get decodes its row.
    """

    def __init__(self, queryset: Callable[[], QuerySet], *, using: str = "default") -> None:
        self._queryset, self._using = queryset, using
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _for(self, connection: Any) -> _Compiled:
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = _Compiled(self._queryset().using(self._using), connection)
            if not compiled.aliases_are_table_names:
                raise ValueError("a table appears twice in the query: its columns would not name it")
            self._compiled[connection] = compiled
        return compiled

    def columns(self, connection: Any) -> str:
        return self._for(connection).columns_sql

    def instance(self, connection: Any, row: Any) -> M:
        return self._for(connection).instance(row, self._using)


class PreparedUpdate:
    """`update.run(obj)`: writes what `obj.save(update_fields=fields)` writes, from SQL built
    once per database vendor, and returns the number of rows (1, or 0 if the row is gone).

    Same values as save(): each field's pre_save() and get_db_prep_save(). Unlike save() it
    sends no pre_save/post_save signals: only for models that have no receivers (the test
    in tests/core/test_prepared.py checks that for the model it is used with).
    """

    def __init__(self, model: type[Model], fields: list[str], *, using: str = "default") -> None:
        self.model, self._using = model, using
        self.fields = [model._meta.get_field(name) for name in fields]
        self._sql: dict[str, str] = {}

    def run(self, obj: Model) -> int:
        connection = connections[self._using]
        sql = self._sql.get(connection.vendor)
        if sql is None:
            qn = connection.ops.quote_name
            meta = self.model._meta
            sets = ", ".join(f"{qn(field.column)} = %s" for field in self.fields)
            sql = self._sql[connection.vendor] = f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(meta.pk.column)} = %s"
        params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in self.fields]
        params.append(self.model._meta.pk.get_db_prep_value(obj.pk, connection))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount
