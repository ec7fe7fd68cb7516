"""Statements on every API request, written out once instead of compiled by the ORM each time.

The ORM compiles each query anew, and for a lookup that joins a second model that costs more CPU than the
query itself (about 1 ms each on this 2-core machine, a sixth of a label POST; see benchmarks/api.py).
The bearer-token lookup, the project-with-role lookup and the audit-event insert of a label use these
helpers: rows become ordinary instances through `Model.from_db`, with the fields' database converters
applied as the ORM would, and inserts prepare values with the fields' own `pre_save`/`get_db_prep_save`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def fits_bigint(value: int) -> bool:
    """Whether an id may be sent to a bigint column. Hand-written SQL must check what the ORM would answer
    with "no rows" for an out-of-range lookup; PostgreSQL raises an error instead."""
    return 0 < value < 2**63


class Columns:
    """One model's concrete columns under a table alias: their SELECT list and the loader of their values."""

    def __init__(self, model: type[Model], alias: str):
        self.model, self.alias = model, alias
        self.fields = model._meta.concrete_fields

    @functools.cached_property
    def select(self) -> str:
        return ", ".join(f'{self.alias}."{field.column}"' for field in self.fields)

    @functools.cached_property
    def _converters(self) -> list[tuple[int, list, object]]:
        found = []
        for index, field in enumerate(self.fields):
            converters = field.get_db_converters(connection) + connection.ops.get_db_converters(field.cached_col)
            if converters:
                found.append((index, converters, field.cached_col))
        return found

    def load(self, values: Sequence) -> Model:
        values = list(values)
        for index, converters, expression in self._converters:
            for convert in converters:
                values[index] = convert(values[index], expression, connection)
        return self.model.from_db(connection.alias, [field.attname for field in self.fields], values)

    def __len__(self) -> int:
        return len(self.fields)


def fetch_one(sql: str, params: Sequence, *columns: Columns) -> tuple | None:
    """Run `sql` (selecting each `columns`' SELECT list in order, then any extra values) and load one row:
    one instance per Columns followed by the extra values, or None when there is no row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    loaded, start = [], 0
    for group in columns:
        loaded.append(group.load(row[start : start + len(group)]))
        start += len(group)
    return (*loaded, *row[start:])


@functools.cache
def _insert_statement(model: type[Model]) -> tuple[str, list]:
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) RETURNING {quote(meta.pk.column)}"
    return sql, fields


def insert(model: type[Model], **values) -> Model:
    """`model.objects.create(**values)` from a statement written once per model. No save signals are sent
    (this project connects none); the fields' defaults and pre_save (auto_now_add…) apply as in save()."""
    obj = model(**values)
    sql, fields = _insert_statement(model)
    params = [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, connection.alias
    return obj
