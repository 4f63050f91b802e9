"""Writing many rows with few statements: the intake fast path, the ``alerts.process`` engine module, the escalation
step and the notification sender.

Django's ``bulk_create`` and ``bulk_update`` build their SQL in Python at a cost of tens of microseconds per row
(on PostgreSQL ``bulk_create`` quotes every value into ``UNNEST`` arrays through the client-side cursor), which
is more than the rest of the hot paths together. On PostgreSQL these helpers send a multi-row ``INSERT`` (a few
rows) or ``COPY`` (more), and one ``UPDATE ... FROM unnest(<arrays>)`` for many rows, with server-side parameters;
elsewhere (SQLite, the embedded mode) they use Django's ``bulk_create`` and a portable ``UPDATE ... FROM
(VALUES ...)``. Values are prepared exactly as ``bulk_create`` prepares them (``pre_save``, then
``get_db_prep_save``); only table and column names from the models, types and placeholders are ever formatted
into SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.fields import AutoFieldMixin
from psycopg.types.json import Jsonb

from warroom.lib import jsontext

MULTIROW_MAX = 16  # rows up to which one multi-row INSERT is sent; beyond, COPY
MAX_PARAMS = 30_000  # per statement, under every backend's limit
PREPARE_THRESHOLD = 2  # executions of a statement after which psycopg prepares it (see raw_connection)


def db() -> BaseDatabaseWrapper:
    """This thread's default connection itself (``django.db.connection`` is a proxy that looks it up on every
    attribute access, which adds up over thousands of values)."""
    return connections[DEFAULT_DB_ALIAS]


def postgres() -> bool:
    return db().vendor == "postgresql"


def raw_connection(*, prepare: bool = False) -> psycopg.Connection[Any]:
    """The psycopg connection under Django's (PostgreSQL), opened if need be. ``prepare``: the connection is a
    dedicated one (the intake committer's): let psycopg prepare the statements it sends often, with a generic
    plan (Django's own queries never are prepared; a connection pooler in transaction mode must support
    prepared statements, as PgBouncer does from 1.21 with ``max_prepared_statements``)."""
    wrapper = db()
    wrapper.ensure_connection()
    raw: psycopg.Connection[Any] = wrapper.connection
    idle = raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    if (
        prepare and raw.prepare_threshold != PREPARE_THRESHOLD and idle
    ):  # a SET in a transaction may roll back
        raw.prepare_threshold = PREPARE_THRESHOLD
        # The statements prepared here have the same best plan whatever their parameters: plan them once.
        raw.execute("SET plan_cache_mode = force_generic_plan")
    return raw


def column(model_field: Any) -> str:
    name = model_field.column
    assert isinstance(name, str)
    return name


_PLAIN_PRE_SAVE = (models.Field.pre_save, models.DateField.pre_save, models.DateTimeField.pre_save)
_AS_IS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)


def preparer(model_field: Any, wrapper: BaseDatabaseWrapper) -> Callable[[models.Model], Any]:
    """How to get a field's value of a row ready for the database, as ``bulk_create`` would (``pre_save``, then
    ``get_db_prep_save``), but without the long way for the plain values that way hands on unchanged: strings,
    numbers, booleans and keys, and aware datetimes on PostgreSQL; and on PostgreSQL a JSON object whose text is
    made already (:class:`~warroom.lib.jsontext.Encoded`) is sent as that text. Anything else takes the long
    way."""
    attname = model_field.attname
    prep = model_field.get_db_prep_save
    automatic = getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False)
    if automatic or type(model_field).pre_save not in _PLAIN_PRE_SAVE:
        return lambda row: prep(model_field.pre_save(row, True), wrapper)
    if isinstance(model_field, _AS_IS) and not isinstance(model_field, models.JSONField):
        plain = (str, int, bool)

        def as_is(row: models.Model) -> Any:
            value = getattr(row, attname)
            return value if value is None or type(value) in plain else prep(value, wrapper)

        return as_is
    if (
        isinstance(model_field, models.JSONField)
        and model_field.encoder is None
        and wrapper.vendor == "postgresql"
    ):

        def json_value(row: models.Model) -> Any:
            value = getattr(row, attname)
            # a JSON object whose text was made already (the intake's payloads): send that text
            return (
                Jsonb(value, dumps=_encoded_text) if type(value) is jsontext.Encoded else prep(value, wrapper)
            )

        return json_value
    if isinstance(model_field, models.DateTimeField) and wrapper.vendor == "postgresql":

        def aware(row: models.Model) -> Any:
            value = getattr(row, attname)
            return value if getattr(value, "tzinfo", None) is not None else prep(value, wrapper)

        return aware
    return lambda row: prep(getattr(row, attname), wrapper)


def _encoded_text(value: jsontext.Encoded) -> str:
    return value.text


@dataclass(frozen=True)
class _Table:
    name: str
    columns: str
    fields: list[Any]
    preparers: list[Callable[[models.Model], Any]]

    @classmethod
    def of(cls, model: type[models.Model], *, with_pk: bool) -> _Table:
        opts = model._meta
        fields = [
            f
            for f in opts.concrete_fields
            if (with_pk or not (f.primary_key and isinstance(f, AutoFieldMixin)))
            and not getattr(f, "generated", False)
        ]
        wrapper = db()
        quote = wrapper.ops.quote_name
        preparers = [preparer(f, wrapper) for f in fields]
        return cls(quote(opts.db_table), ", ".join(quote(column(f)) for f in fields), fields, preparers)

    def values(self, row: models.Model) -> list[Any]:
        return [prepare(row) for prepare in self.preparers]


_TABLES: dict[tuple[type[models.Model], bool], _Table] = {}


def _table(model: type[models.Model], *, with_pk: bool) -> _Table:
    key = (model, with_pk)
    return _TABLES.get(key) or _TABLES.setdefault(key, _Table.of(model, with_pk=with_pk))


def _mark_saved(rows: Sequence[models.Model], alias: str) -> None:
    for row in rows:
        row._state.adding = False
        row._state.db = alias


def insert(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    """Insert ``rows`` (all with a primary key set, or all without) with one statement where the database
    allows; the objects are marked saved. Primary keys the database assigns are not read back."""
    if not rows:
        return
    wrapper = db()
    if wrapper.vendor != "postgresql":
        model._default_manager.bulk_create(list(rows))
        return
    with_pk = rows[0].pk is not None
    table = _table(model, with_pk=with_pk)
    # A server-side binding cursor: parameters travel apart from the SQL.
    with psycopg.Cursor(raw_connection()) as raw:
        if len(rows) <= MULTIROW_MAX:
            marks = "(" + ", ".join(["%s"] * len(table.fields)) + ")"
            raw.execute(
                f"INSERT INTO {table.name} ({table.columns}) VALUES {', '.join([marks] * len(rows))}",  # noqa: S608
                [value for row in rows for value in table.values(row)],
            )
        else:
            with raw.copy(f"COPY {table.name} ({table.columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(table.values(row))
    _mark_saved(rows, wrapper.alias)


def insert_new(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    """Insert ``rows`` (without primary keys) and skip those that break a unique constraint, in one statement
    whatever their number: ``INSERT … SELECT * FROM unnest(<one array per column>) ON CONFLICT DO NOTHING`` on
    PostgreSQL (measured: half the CPU time of a multi-row ``VALUES`` insert of 500 outbox rows), elsewhere
    ``bulk_create(ignore_conflicts=True)``. Like ``bulk_create(ignore_conflicts=True)``, the objects get no
    primary key back."""
    if not rows:
        return
    wrapper = db()
    if wrapper.vendor != "postgresql":
        model._default_manager.bulk_create(list(rows), ignore_conflicts=True, batch_size=1000)
        return
    table = _table(model, with_pk=False)
    arrays = ", ".join(f"%s::{f.db_type(wrapper)}[]" for f in table.fields)
    columns = [list(values) for values in zip(*(table.values(row) for row in rows), strict=True)]
    sql = (
        f"INSERT INTO {table.name} ({table.columns}) SELECT * FROM unnest({arrays}) "  # noqa: S608
        "ON CONFLICT DO NOTHING"
    )
    with psycopg.Cursor(raw_connection()) as raw:
        raw.execute(sql, columns)
    _mark_saved(rows, wrapper.alias)


def set_many(model: type[models.Model], names: list[str], rows: Sequence[tuple[Any, ...]]) -> int:
    """``UPDATE <table> SET <names> = ...`` for many rows with one statement; each row is ``(pk, *values)``.
    Returns how many rows were updated."""
    if not rows:
        return 0
    wrapper = db()
    quote = wrapper.ops.quote_name
    opts = model._meta
    fields: list[Any] = [opts.get_field(name) for name in names]
    pk: Any = opts.pk
    table = quote(opts.db_table)
    every = [pk, *fields]
    columns = [[f.get_db_prep_save(row[index], wrapper) for row in rows] for index, f in enumerate(every)]
    sets = ", ".join(f"{quote(column(f))} = v.c{index + 1}" for index, f in enumerate(fields))
    where = f"{table}.{quote(column(pk))} = v.c0"
    if wrapper.vendor == "postgresql":
        aliases = ", ".join(f"c{index}" for index in range(len(every)))
        # One statement whatever the number of rows: one array per column.
        arrays = ", ".join(f"%s::{f.db_type(wrapper)}[]" for f in every)
        sql = f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({aliases}) WHERE {where}"  # noqa: S608
        with psycopg.Cursor(raw_connection()) as raw:
            raw.execute(sql, columns)
            return max(raw.rowcount, 0)
    # Elsewhere (SQLite) a VALUES list, whose columns are called column1, column2, ...
    named = ", ".join(f"column{index + 1} AS c{index}" for index in range(len(every)))
    per_statement = max(1, MAX_PARAMS // len(every))
    updated = 0
    with wrapper.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = list(zip(*(values[start : start + per_statement] for values in columns), strict=True))
            values = ", ".join(["(" + ", ".join(["%s"] * len(every)) + ")"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM (SELECT {named} FROM (VALUES {values})) AS v "  # noqa: S608
                f"WHERE {where}",
                [value for row in chunk for value in row],
            )
            updated += max(cursor.rowcount, 0)
    return updated


def save_fields(model: type[models.Model], objs: Sequence[models.Model], names: list[str]) -> int:
    """``bulk_update(objs, names)`` in one statement (:func:`set_many`): each object's current attribute values.
    Returns how many rows were updated."""
    fields: list[Any] = [model._meta.get_field(name) for name in names]
    attnames = [field.attname for field in fields]  # "bundled_into" → "bundled_into_id"
    return set_many(model, names, [(obj.pk, *(getattr(obj, name) for name in attnames)) for obj in objs])


def _reserve_sqlite(model: type[models.Model], count: int) -> list[int]:
    # SQLite serialises writers: the caller's transaction holds the write lock, so no one else takes ids meanwhile.
    wrapper = db()
    table = model._meta.db_table
    quote = wrapper.ops.quote_name
    with wrapper.cursor() as cursor:
        cursor.execute(f"SELECT max({quote(column(model._meta.pk))}) FROM {quote(table)}")  # noqa: S608
        row = cursor.fetchone()
        highest = row[0] if row and row[0] else 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        highest = max(highest, row[0] if row and row[0] else 0)
    return list(range(highest + 1, highest + 1 + count))


def _reserve_postgresql(model: type[models.Model], count: int) -> list[int]:
    with db().cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, column(model._meta.pk), count],
        )
        return sorted(row[0] for row in cursor.fetchall())


RESERVE_IDS: dict[str, Callable[[type[models.Model], int], list[int]]] = {
    "postgresql": _reserve_postgresql,
    "sqlite": _reserve_sqlite,
}


def can_reserve_ids() -> bool:
    return db().vendor in RESERVE_IDS


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys of ``model`` (an auto-increment key), increasing, before its rows are inserted.
    Inside a transaction; on SQLite the transaction must hold the write lock (Warroom's start ``IMMEDIATE``)."""
    return RESERVE_IDS[db().vendor](model, count)


# ---------------------------------------------------------------------------------------------------------------
# rows as tuples of values, without model instances


def _value_preparer(model_field: Any, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """How to get one value of ``model_field`` ready for the database, as ``get_db_prep_save`` would, but handing
    on unchanged the plain values that way hands on unchanged (:func:`_preparer`'s rule, for a value instead of a
    row): strings, numbers, booleans and keys, and aware datetimes on PostgreSQL."""
    prep = model_field.get_db_prep_save
    if isinstance(model_field, _AS_IS) and not isinstance(model_field, models.JSONField):
        plain = (str, int, bool)
        return lambda value: value if value is None or type(value) in plain else prep(value, wrapper)
    if isinstance(model_field, models.DateTimeField) and wrapper.vendor == "postgresql":
        return lambda value: (
            value if value is None or getattr(value, "tzinfo", None) is not None else prep(value, wrapper)
        )
    return lambda value: prep(value, wrapper)


@dataclass(frozen=True)
class _Layout:
    """An insert of tuples: the columns whose values differ per row (from the tuple, or a fresh default per row)
    travel as one array each; those that take a constant default as one value each."""

    insert: str
    #: per array column: (index in the tuple, or -1 for a default made per row; preparer; field)
    per_row: list[tuple[int, Callable[[Any], Any], Any]]
    #: per constant column: (preparer, field)
    constant: list[tuple[Callable[[Any], Any], Any]]

    @classmethod
    def of(cls, model: type[models.Model], names: tuple[str, ...]) -> _Layout:
        opts = model._meta
        wrapper = db()
        index = {name: n for n, name in enumerate(names)}
        if len(index) != len(names):
            raise ValueError(f"a name is given twice: {names}")
        per_row: list[tuple[int, Callable[[Any], Any], Any]] = []
        constant: list[tuple[Callable[[Any], Any], Any]] = []
        for f in opts.concrete_fields:
            # a foreign key by its attribute name only (``user_id``): the value is a key, never an instance
            at = index.pop(f.attname, -1) if f.is_relation else index.pop(f.name, -1)
            if getattr(f, "generated", False) or (at < 0 and f.primary_key and isinstance(f, AutoFieldMixin)):
                continue
            automatic = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            if automatic or type(f).pre_save not in _PLAIN_PRE_SAVE:
                raise TypeError(
                    f"{opts.label}.{f.name} computes its value when saved: insert instances instead"
                )
            prepare = _value_preparer(f, wrapper)
            if at >= 0 or (
                f.has_default() and callable(f.default)
            ):  # uuid4, dict ...: one per row, as instances
                per_row.append((at, prepare, f))
            else:
                constant.append((prepare, f))
        if index:
            raise ValueError(f"{opts.label} has no field {', '.join(index)}")
        if not per_row:
            raise ValueError("name at least one field")
        quote = wrapper.ops.quote_name
        columns = ", ".join(
            quote(column(f)) for f in [*(f for _, _, f in per_row), *(f for _, f in constant)]
        )
        arrays = ", ".join(f"%b::{f.db_type(wrapper)}[]" for _, _, f in per_row)
        values = ", ".join(["v.*", *(f"%b::{f.db_type(wrapper)}" for _, f in constant)])
        insert = f"INSERT INTO {quote(opts.db_table)} ({columns}) SELECT {values} FROM unnest({arrays}) AS v"  # noqa: S608
        return cls(insert, per_row, constant)

    def params(self, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """The parameters of :attr:`insert` in their order in it: one value per constant column (in the select
        list), then one list of database values per array column (in ``unnest``)."""
        given = list(zip(*rows, strict=True))
        out: list[Any] = [prepare(f.get_default()) for prepare, f in self.constant]
        for at, prepare, f in self.per_row:
            if at >= 0:
                out.append([prepare(value) for value in given[at]])
            else:
                out.append([prepare(f.get_default()) for _ in rows])
        return out


_LAYOUTS: dict[tuple[type[models.Model], tuple[str, ...], str], _Layout] = {}


def insert_values(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    skip_conflicts: bool = False,
) -> None:
    """Insert rows given as tuples, without building a model instance per row: ``rows[i][j]`` is the value of the
    field named ``names[j]`` (a foreign key by its attribute name, such as ``user_id``), as the model's
    attribute would hold it (a key for a foreign key, an aware datetime, a dict for JSON). Fields not named get
    their default, as ``model(**values)`` would give them; an automatic primary key not named is assigned by the
    database and not read back. ``skip_conflicts``: a row that breaks a unique constraint is skipped (``ON CONFLICT
    DO NOTHING``), as with :func:`insert_new`.

    On PostgreSQL one ``INSERT … SELECT … FROM unnest(<one binary array per column>)`` whatever the number of rows,
    a column whose default is a constant sent once (measured on 500 outbox rows: a quarter of the CPU time of
    :func:`insert_new` with its instances); elsewhere ``bulk_create`` of instances built from the tuples. Errors
    are Django's (``IntegrityError`` ...). Fields that compute their value when saved (``auto_now``) are refused:
    insert instances for those."""
    if not rows:
        return
    wrapper = db()
    key = (model, tuple(names), wrapper.alias)
    layout = _LAYOUTS.get(key) or _LAYOUTS.setdefault(key, _Layout.of(model, tuple(names)))
    if wrapper.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in rows],
            ignore_conflicts=skip_conflicts,
            batch_size=1000,
        )
        return
    sql = layout.insert + (" ON CONFLICT DO NOTHING" if skip_conflicts else "")
    # Django's exceptions (IntegrityError ...), as from its own cursors
    with wrapper.wrap_database_errors, psycopg.Cursor(raw_connection()) as raw:
        raw.execute(sql, layout.params(rows))


def update_values(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """:func:`set_many` (each row is ``(pk, *values)`` for ``names``) with :func:`insert_values`'s way with values
    on PostgreSQL: plain values handed on as they are, binary arrays. Returns how many rows were updated."""
    if not rows:
        return 0
    wrapper = db()
    if wrapper.vendor != "postgresql":
        return set_many(model, list(names), [tuple(row) for row in rows])
    quote = wrapper.ops.quote_name
    opts = model._meta
    every: list[Any] = [opts.pk, *(opts.get_field(name) for name in names)]
    preparers = [_value_preparer(f, wrapper) for f in every]
    columns = [
        [prepare(value) for value in values]
        for prepare, values in zip(preparers, zip(*rows, strict=True), strict=True)
    ]
    table = quote(opts.db_table)
    sets = ", ".join(f"{quote(column(f))} = v.c{index}" for index, f in enumerate(every) if index)
    aliases = ", ".join(f"c{index}" for index in range(len(every)))
    arrays = ", ".join(f"%b::{f.db_type(wrapper)}[]" for f in every)
    sql = (
        f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({aliases}) "  # noqa: S608
        f"WHERE {table}.{quote(column(opts.pk))} = v.c0"
    )
    with wrapper.wrap_database_errors, psycopg.Cursor(raw_connection()) as raw:
        raw.execute(sql, columns)
        return max(raw.rowcount, 0)
