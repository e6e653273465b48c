"""SQL the ORM writes at a cost hot paths notice: id lists, plain inserts, whole-row reads."""

from __future__ import annotations

import json
import weakref
from collections.abc import Collection, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model, Q
from django.db.models.expressions import DatabaseDefault, RawSQL


def among_ids(field: str, ids: Collection[int]) -> Q:
    """Return `Q(<field>__in=ids)` with the ids as one array (PostgreSQL) or JSON list (SQLite).

    Django writes `IN (%s, %s, …)` with each id prepared one by one, and psycopg then splits
    a statement of hundreds of placeholders; a calendar naming 400 patients paid about 2 ms
    a query for that. The database reads the same ids from one parameter instead.
    """
    values = [int(value) for value in ids]
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", [values])})
    return Q(**{f"{field}__in": RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])})


def insert_rows(rows: Sequence[Model]) -> None:
    """INSERT new rows of one model in one statement, with the values `bulk_create` would send.

    For rows that nothing listens for a save of (no signals are sent). Each value goes
    through its field's own preparation (`pre_save` for automatic times, then
    `get_db_prep_save`); only the statement is written here, which saves building and
    compiling Django's insert query: more than half a millisecond for a booking's two task
    rows. What the database fills in, an automatic id and columns with a database default,
    comes back (RETURNING) into the rows, as after `save()`.
    """
    if not rows:
        return
    model = type(rows[0])
    if any(type(row) is not model for row in rows):
        raise TypeError("insert_rows takes rows of one model")
    meta = model._meta
    fields = meta.concrete_fields
    if any(field.generated for field in fields):
        raise TypeError(f"{model.__name__} has generated columns: use bulk_create")
    filled = [field for field in fields if field is meta.auto_field or field.has_db_default()]
    written = [field for field in fields if field not in filled]
    values = []
    for row in rows:
        if meta.auto_field is None and row.pk is None:
            raise ValueError(f"A {model.__name__} row needs its primary key before insert_rows")
        for field in filled:
            value = getattr(row, field.attname)
            empty = (
                value is None if field is meta.auto_field else isinstance(value, DatabaseDefault)
            )
            if not empty:
                raise ValueError(f"{model.__name__}.{field.name} is the database's to fill in")
        values += [
            field.get_db_prep_save(field.pre_save(row, True), connection) for field in written
        ]
    quote = connection.ops.quote_name

    def names(chosen: list[Any]) -> str:
        return ", ".join(quote(field.get_attname_column()[1] or field.name) for field in chosen)

    one_row = "(" + ", ".join(["%s"] * len(written)) + ")"
    returning = f" RETURNING {names(filled)}" if filled else ""
    with connection.cursor() as cursor:
        cursor.execute(
            # Names from the model; every value is a parameter.
            f"INSERT INTO {quote(meta.db_table)} ({names(written)}) "  # noqa: S608
            f"VALUES {', '.join([one_row] * len(rows))}{returning}",
            values,
        )
        back = cursor.fetchall() if filled else []
    for at, row in enumerate(rows):
        if filled:
            for field, value in zip(filled, _converted(filled, back[at]), strict=True):
                setattr(row, field.attname, value)
        row._state.adding = False
        row._state.db = connection.alias


def _converted(fields: list[Any], values: Sequence[Any]) -> list[Any]:
    """Return values read from these fields' columns as the ORM would hand them over."""
    out = []
    for field, value in zip(fields, values, strict=True):
        column = field.get_col(field.model._meta.db_table)
        for converter in connection.ops.get_db_converters(column) + column.get_db_converters(
            connection
        ):
            value = converter(value, column, connection)
        out.append(value)
    return out


class ModelColumns:
    """Every column of one model in a hand-written SELECT, read back into a whole instance.

    For the few reads a hot path makes on every request, where building and compiling the
    ORM's query cost more than running it (a booking's token, practitioner and service
    reads did). `select` lists the model's columns under a table alias; `read` turns that
    slice of a result row into the instance the ORM would have built: every field loaded
    (none deferred), each value through the same converters Django's compiler applies
    (the backend's, then the field's), and the instance marked as read from the database.
    """

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self.width = len(self.fields)
        self.pk_at = self.fields.index(model._meta.pk)  # type: ignore[arg-type]
        self._converters: weakref.WeakKeyDictionary[Any, list[tuple[int, list[Any], Any]]]
        self._converters = weakref.WeakKeyDictionary()

    def table(self) -> str:
        """The model's table under this alias, for FROM and JOIN: `"clinic_service" s`."""
        return f"{connection.ops.quote_name(self.model._meta.db_table)} {self.alias}"

    def column(self, name: str) -> str:
        """One field's column under this alias: `pl."practitioner_id"` for "practitioner"."""
        field = self.model._meta.get_field(name)
        assert isinstance(field, Field), f"{name} is not a column of {self.model.__name__}"
        column = field.get_attname_column()[1] or field.name
        return f"{self.alias}.{connection.ops.quote_name(column)}"

    def select(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(
            f"{self.alias}.{quote(field.get_attname_column()[1] or field.name)}"
            for field in self.fields
        )

    def _converters_here(self) -> list[tuple[int, list[Any], Any]]:
        """The converters of this thread's connection (SQLite's are bound to it), kept."""
        ops = connection.ops
        found = self._converters.get(ops)
        if found is None:
            found = []
            for at, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                converters = ops.get_db_converters(column) + column.get_db_converters(connection)
                if converters:
                    found.append((at, converters, column))
            self._converters[ops] = found
        return found

    def read(self, row: Sequence[Any], start: int = 0) -> Any:
        """Return the instance in `row[start:]`, or None where an outer join found none."""
        values = list(row[start : start + self.width])
        if values[self.pk_at] is None:
            return None
        for at, converters, column in self._converters_here():
            value = values[at]
            for converter in converters:
                value = converter(value, column, connection)
            values[at] = value
        return self.model.from_db(connection.alias, self.attnames, values)
