"""The two PostgreSQL roles production runs with, and what the runtime role may do.

Migrations run as an owner role, which owns every table. The web server and the task worker
connect as a runtime role that owns nothing, so it can never TRUNCATE, ALTER or DROP a
table, nor switch a trigger off: only a table's owner (or a superuser) can. On the audit
log it may only read and add rows, so the log's tamper evidence does not rest on the app's
own credentials. See docs/DEPLOY.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

# The tables the runtime role may only read and add to: the audit log. Any table whose name
# starts with AUDIT_TABLE_PREFIX counts too, so a new audit table (a seal or a checkpoint
# of the chain) is held to the same rule by the first release that creates it.
APPEND_ONLY_TABLES: frozenset[str] = frozenset({"core_auditevent"})
AUDIT_TABLE_PREFIX = "core_audit"

# Read only: the record of applied migrations is the owner's business.
READ_ONLY_TABLES: frozenset[str] = frozenset({"django_migrations"})

READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
APPEND_ONLY = ("SELECT", "INSERT")
READ_ONLY = ("SELECT",)
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")
# Never granted on any table; checked again after every grant.
NEVER_GRANTED = ("TRUNCATE", "TRIGGER", "REFERENCES")

# Role attributes that would let the runtime role around every rule here.
_FORBIDDEN_ATTRIBUTES = {
    "rolsuper": "SUPERUSER",
    "rolcreaterole": "CREATEROLE",
    "rolcreatedb": "CREATEDB",
    "rolreplication": "REPLICATION",
    "rolbypassrls": "BYPASSRLS",
}


class RoleRefused(Exception):
    """The role cannot serve as the runtime role; the message says why and what to do."""


def is_append_only(table: str) -> bool:
    """Say whether the runtime role may only read and add rows to this table."""
    return table in APPEND_ONLY_TABLES or table.startswith(AUDIT_TABLE_PREFIX)


def table_privileges(table: str) -> tuple[str, ...]:
    """Return the privileges the runtime role gets on an ordinary table."""
    if is_append_only(table):
        return APPEND_ONLY
    if table in READ_ONLY_TABLES:
        return READ_ONLY
    return READ_WRITE


@dataclass
class GrantReport:
    """What grant_runtime_role granted, by kind of table."""

    role: str
    read_write: list[str] = field(default_factory=list)
    append_only: list[str] = field(default_factory=list)
    read_only: list[str] = field(default_factory=list)
    sequences: list[str] = field(default_factory=list)


def _quote(connection: BaseDatabaseWrapper, name: str) -> str:
    from psycopg import sql

    connection.ensure_connection()
    return sql.Identifier(name).as_string(connection.connection)


def _rows(connection: BaseDatabaseWrapper, query: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return list(cursor.fetchall())


def check_runtime_role(connection: BaseDatabaseWrapper, role: str) -> None:
    """Refuse a role that is missing, privileged, or owns (or may act as the owner of) anything."""
    if connection.vendor != "postgresql":
        raise RoleRefused("Database roles are a PostgreSQL matter; this database is not one.")
    found = _rows(
        connection,
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,"
        " rolname = current_user, pg_has_role(%s, current_user, 'MEMBER')"
        " FROM pg_roles WHERE rolname = %s",
        [role, role],
    )
    if not found:
        raise RoleRefused(
            f"There is no role {role!r}. Create it first (deploy/postgres-setup.sql)."
        )
    *attributes, is_current, inside_current = found[0]
    if is_current:
        raise RoleRefused(
            f"{role!r} is the role running this command. Run it as the owner role, and name "
            "the runtime role the app connects as."
        )
    granted = [
        name for name, on in zip(_FORBIDDEN_ATTRIBUTES.values(), attributes, strict=True) if on
    ]
    if granted:
        raise RoleRefused(
            f"{role!r} has {', '.join(granted)}; the runtime role must have none of these "
            f"(ALTER ROLE {role} NO{' NO'.join(granted)})."
        )
    if inside_current:
        raise RoleRefused(
            f"{role!r} is a member of the owner role running this command, so it could act "
            "as the owner of every table. Revoke that membership."
        )
    owns = _rows(
        connection,
        """
        SELECT kind, name FROM (
            SELECT 'database' AS kind, datname::text AS name, datdba AS owner
              FROM pg_database WHERE datname = current_database()
            UNION ALL
            SELECT 'schema', nspname::text, nspowner
              FROM pg_namespace WHERE nspname = ANY (current_schemas(false))
            UNION ALL
            SELECT 'table', c.relname::text, c.relowner
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = ANY (current_schemas(false))
            UNION ALL
            SELECT 'function', p.proname::text, p.proowner
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = ANY (current_schemas(false))
        ) AS objects
        WHERE pg_has_role(%s, owner, 'MEMBER')
        ORDER BY kind, name
        LIMIT 5
        """,
        [role],
    )
    if owns:
        listed = ", ".join(f"{kind} {name}" for kind, name in owns)
        raise RoleRefused(
            f"{role!r} owns (or is a member of a role that owns) {listed}. The runtime role "
            "must own nothing: give those objects to the owner role (REASSIGN OWNED BY)."
        )
    if connection.pg_version >= 150000:  # type: ignore[attr-defined]
        (can_set,) = _rows(
            connection,
            "SELECT has_parameter_privilege(%s, 'session_replication_role', 'SET')",
            [role],
        )[0]
        if can_set:
            raise RoleRefused(
                f"{role!r} may SET session_replication_role, which switches triggers off. "
                f"REVOKE SET ON PARAMETER session_replication_role FROM {role}."
            )


def grant_runtime_role(connection: BaseDatabaseWrapper, role: str) -> GrantReport:
    """Give the runtime role exactly its privileges on every table and sequence; idempotent.

    Run as the owner role after every migrate. Privileges the role held before are revoked
    first, so a table that became an audit table loses UPDATE and DELETE. Raises RoleRefused
    when the role is unfit, or when it still holds a forbidden privilege afterwards (from a
    role it belongs to, say).
    """
    from django.db import transaction

    check_runtime_role(connection, role)
    who = _quote(connection, role)
    report = GrantReport(role=role)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        (database,) = _rows(connection, "SELECT current_database()", [])[0]
        cursor.execute(f"GRANT CONNECT ON DATABASE {_quote(connection, database)} TO {who}")
        (schemas,) = _rows(connection, "SELECT current_schemas(false)", [])[0]
        for schema in schemas:
            quoted = _quote(connection, schema)
            cursor.execute(f"REVOKE ALL ON SCHEMA {quoted} FROM {who}")
            cursor.execute(f"GRANT USAGE ON SCHEMA {quoted} TO {who}")
            # Nothing reaches the runtime role through PUBLIC either.
            cursor.execute(f"REVOKE CREATE ON SCHEMA {quoted} FROM PUBLIC")
            cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {quoted} FROM PUBLIC")
        relations = _rows(
            connection,
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = ANY (current_schemas(false))"
            " AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
            " ORDER BY c.relname",
            [],
        )
        for schema, name, kind in relations:
            target = f"{_quote(connection, schema)}.{_quote(connection, name)}"
            if kind == "S":
                cursor.execute(f"REVOKE ALL ON SEQUENCE {target} FROM {who}")
                cursor.execute(
                    f"GRANT {', '.join(SEQUENCE_PRIVILEGES)} ON SEQUENCE {target} TO {who}"
                )
                report.sequences.append(name)
                continue
            privileges = table_privileges(name) if kind in ("r", "p") else READ_ONLY
            cursor.execute(f"REVOKE ALL ON TABLE {target} FROM {who}")
            cursor.execute(f"GRANT {', '.join(privileges)} ON TABLE {target} TO {who}")
            if privileges == APPEND_ONLY:
                report.append_only.append(name)
            elif privileges == READ_ONLY:
                report.read_only.append(name)
            else:
                report.read_write.append(name)
        _check_effective_privileges(connection, role)
    return report


def _check_effective_privileges(connection: BaseDatabaseWrapper, role: str) -> None:
    """Refuse (rolling the grants back) if the role can still do what it must never do."""
    leaks = _rows(
        connection,
        """
        SELECT c.relname, p.privilege
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          CROSS JOIN unnest(%s::text[]) AS p(privilege)
         WHERE n.nspname = ANY (current_schemas(false))
           AND c.relkind IN ('r', 'p')
           AND has_table_privilege(%s, c.oid, p.privilege)
           AND (p.privilege = ANY (%s::text[])
                OR ((c.relname = ANY (%s::text[]) OR starts_with(c.relname, %s))
                    AND p.privilege IN ('UPDATE', 'DELETE')))
         ORDER BY c.relname, p.privilege
         LIMIT 5
        """,
        [
            [*NEVER_GRANTED, "UPDATE", "DELETE"],
            role,
            list(NEVER_GRANTED),
            sorted(APPEND_ONLY_TABLES),
            AUDIT_TABLE_PREFIX,
        ],
    )
    if leaks:
        listed = ", ".join(f"{privilege} on {table}" for table, privilege in leaks)
        raise RoleRefused(
            f"{role!r} still holds {listed} after the grants, through PUBLIC or a role it "
            "belongs to (pg_write_all_data, say). Revoke that first."
        )
