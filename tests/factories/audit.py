"""For tests: open the audit tables to raw changes, as the database's owner could."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

AUDIT_TABLES = ("core_auditevent", "core_auditseal")
# Billing's guards refuse deletes too (billing/0002); a test's flush must get past them.
GUARDED_PREFIXES = ("core_audit", "billing_")


@contextmanager
def audit_guards_lifted(connection: BaseDatabaseWrapper | None = None) -> Iterator[None]:
    """Switch the audit and billing tables' guarding triggers off, and back on afterwards."""
    connection = connection or default_connection
    if connection.vendor == "postgresql":
        # What a superuser can do: fire no triggers at all in this session (foreign keys'
        # included). ALTER TABLE ... DISABLE TRIGGER would fail inside a test's transaction
        # while the inserted seals' foreign key checks wait for its commit.
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
    elif connection.vendor == "sqlite":
        # SQLite cannot switch a trigger off: drop it and make it again from its own text.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                " AND (tbl_name LIKE %s OR tbl_name LIKE %s)",
                [f"{prefix}%" for prefix in GUARDED_PREFIXES],
            )
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                for _name, sql in triggers:
                    cursor.execute(sql)
    else:
        yield
