"""Copy the database out and back in, per vendor, with the facts a backup records about it.

PostgreSQL: pg_dump (custom format) of a snapshot exported from our own REPEATABLE READ
transaction, in which the row counts, migrations and audit chain head are read too, so the
dump and the facts describe the same instant. pg_restore --no-owner --no-acl in one
transaction puts it back, as the role DATABASE_URL connects with.

SQLite: Python's online backup API (sqlite3.Connection.backup) copies the file from inside
a read transaction in which the facts are read too; in WAL mode writers carry on meanwhile
and are simply not in the copy. Restoring moves a copy of the file into place in one rename.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.backends.postgresql.client import DatabaseClient
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

from imsclinic.core.audit import ChainHead, chain_head

SUPPORTED_VENDORS = ("postgresql", "sqlite")
VENDOR_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
DUMP_NAMES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
_TOOL_TIMEOUT = 6 * 60 * 60  # a day's database dumps in well under this


class DatabaseProblem(Exception):
    """The database cannot be backed up or restored as asked; the message says why."""


class TargetNotEmpty(DatabaseProblem):
    """The database to restore into already holds tables."""


@dataclass(frozen=True)
class Facts:
    """What a backup records about the database at the instant it was copied."""

    vendor: str
    server_version: str
    row_counts: dict[str, int]
    migrations: dict[str, list[str]]
    chain: ChainHead

    @property
    def rows(self) -> int:
        return sum(self.row_counts.values())


def vendor() -> str:
    """Return the vendor of the database DATABASE_URL names, if backups support it."""
    if connection.vendor not in SUPPORTED_VENDORS:
        raise DatabaseProblem(
            _("Backups support PostgreSQL and SQLite, not %(vendor)s.")
            % {"vendor": connection.vendor}
        )
    return connection.vendor


def read_facts() -> Facts:
    """Count every table's rows, list applied migrations and read the audit chain's head."""
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor, include_views=False))
        counts: dict[str, int] = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = int(cursor.fetchone()[0])
    migrations: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        migrations.setdefault(app, []).append(name)
    return Facts(
        vendor=connection.vendor,
        server_version=_server_version(),
        row_counts=counts,
        migrations={app: sorted(names) for app, names in sorted(migrations.items())},
        chain=chain_head(),
    )


def _server_version() -> str:
    if connection.vendor == "sqlite":
        return sqlite3.sqlite_version
    number = int(getattr(connection, "pg_version", 0))
    return f"{number // 10000}.{number % 10000}"


def dump(into: Path) -> tuple[Path, Facts]:
    """Write a consistent copy of the database into the folder; return it and its facts."""
    kind = vendor()
    path = into / DUMP_NAMES[kind]
    if kind == "postgresql":
        return path, _dump_postgresql(path)
    return path, _dump_sqlite(path)


def _dump_postgresql(path: Path) -> Facts:
    pg_dump = _tool("pg_dump")
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        # The first statement of the transaction: every read below, and pg_dump, see one instant.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = str(cursor.fetchone()[0])
        facts = read_facts()
        # The exported snapshot lives as long as this transaction, so pg_dump runs inside it.
        _run(
            [
                pg_dump,
                "--format=custom",
                "--compress=0",  # the backup file is compressed as a whole
                f"--snapshot={snapshot}",
                f"--file={path}",
                *_pg_connection_args(),
            ],
            what="pg_dump",
        )
    return facts


@contextlib.contextmanager
def _read_transaction() -> Iterator[None]:
    """Open a plain (deferred) read transaction on SQLite, whatever mode writes use."""
    connection.ensure_connection()
    # settings take writes IMMEDIATE; a reader must not hold the write lock for the copy.
    previous = getattr(connection, "transaction_mode", None)
    setattr(connection, "transaction_mode", "DEFERRED")  # noqa: B010
    try:
        with transaction.atomic():
            yield
    finally:
        setattr(connection, "transaction_mode", previous)  # noqa: B010


def _dump_sqlite(path: Path) -> Facts:
    if connection.is_in_memory_db():  # type: ignore[attr-defined]
        raise DatabaseProblem(_("An in-memory SQLite database cannot be backed up."))
    with _read_transaction():
        # The first read fixes the snapshot; the copy below is taken from the same one.
        facts = read_facts()
        raw = connection.connection
        copy = sqlite3.connect(path)
        try:
            raw.backup(copy)
        finally:
            copy.close()
    return facts


# --- checking a copy without restoring it --------------------------------------------------


def check_dump(kind: str, path: Path, row_counts: dict[str, int]) -> list[str]:
    """Return what is wrong with a dump read back from a backup (an empty list if nothing)."""
    if kind == "sqlite":
        return _check_sqlite_copy(path, row_counts)
    return _check_pg_dump(path, row_counts)


def _check_sqlite_copy(path: Path, row_counts: dict[str, int]) -> list[str]:
    problems: list[str] = []
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        ) as copy:
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                problems.append(_("the SQLite file fails its integrity check"))
            tables = {
                name
                for (name,) in copy.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%'"
                )
            }
            for table in sorted(set(row_counts) - tables):
                problems.append(_("table %(table)s is missing") % {"table": table})
            for table in sorted(tables & set(row_counts)):
                quoted = '"' + table.replace('"', '""') + '"'
                found = copy.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0]  # noqa: S608
                if found != row_counts[table]:
                    problems.append(
                        _("table %(table)s holds %(found)s rows, the manifest says %(expected)s")
                        % {"table": table, "found": found, "expected": row_counts[table]}
                    )
    except sqlite3.DatabaseError as error:
        problems.append(_("the SQLite file cannot be read (%(error)s)") % {"error": error})
    return problems


def _check_pg_dump(path: Path, row_counts: dict[str, int]) -> list[str]:
    listing = _run(
        [_tool("pg_restore"), "--list", str(path)], what="pg_restore --list", connect=False
    )
    dumped = set()
    for line in listing.splitlines():
        # e.g. "3456; 0 16390 TABLE DATA public accounts_user postgres"
        match = re.search(r"\bTABLE DATA (\S+) (\S+) ", line)
        if match:
            dumped.add(match.group(2))
    return [
        _("the dump holds no data for table %(table)s") % {"table": table}
        for table in sorted(set(row_counts) - dumped)
    ]


# --- restoring ----------------------------------------------------------------------------


def target_description() -> str:
    """Name the database DATABASE_URL points at, without any password."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return _("SQLite file %(path)s") % {"path": settings["NAME"]}
    host = settings.get("HOST") or "localhost"
    port = settings.get("PORT") or 5432
    return _("PostgreSQL database %(name)s on %(host)s:%(port)s") % {
        "name": settings["NAME"],
        "host": host,
        "port": port,
    }


def require_empty_target() -> None:
    """Refuse (TargetNotEmpty) unless the database DATABASE_URL names holds no tables at all."""
    kind = vendor()
    found = _sqlite_objects() if kind == "sqlite" else _postgresql_relations()
    if found:
        raise TargetNotEmpty(
            _(
                "The %(target)s is not empty: it already holds %(count)s tables. "
                "A backup restores only into a new, empty database: create one and point "
                "DATABASE_URL at it. Nothing was written."
            )
            % {"target": target_description(), "count": found}
        )


def _sqlite_path() -> Path:
    name = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db():  # type: ignore[attr-defined]
        raise DatabaseProblem(_("Restore into a SQLite file, not an in-memory database."))
    return Path(name)


def _sqlite_objects() -> int:
    # Looked at without Django's connection, which would create the file (and a WAL) if missing.
    path = _sqlite_path()
    if not path.exists() or path.stat().st_size == 0:
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as existing:
            found = existing.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type IN ('table', 'view')"
            ).fetchone()[0]
            return int(found)
    except sqlite3.DatabaseError as error:
        raise TargetNotEmpty(
            _(
                "%(path)s exists and is not an empty SQLite database (%(error)s). "
                "Restore into a new file. Nothing was written."
            )
            % {"path": path, "error": error}
        ) from None


def _postgresql_relations() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'
            """
        )
        return int(cursor.fetchone()[0])


def restore(kind: str, path: Path) -> None:
    """Put the dump into the (checked empty) database DATABASE_URL names."""
    if kind == "postgresql":
        _restore_postgresql(path)
    else:
        _restore_sqlite(path)


def _restore_postgresql(path: Path) -> None:
    pg_restore = _tool("pg_restore")
    listing = _run([pg_restore, "--list", str(path)], what="pg_restore --list", connect=False)
    # A comment on an extension belongs to the extension's owner; a clinic's own role may
    # not set it, and it carries nothing the app needs.
    kept = [line for line in listing.splitlines() if " COMMENT - EXTENSION " not in line]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as chosen:
        chosen.write("\n".join(kept) + "\n")
    try:
        connection.close()
        _run(
            [
                pg_restore,
                "--no-owner",
                "--no-acl",
                "--single-transaction",
                "--exit-on-error",
                f"--use-list={chosen.name}",
                f"--dbname={connection.settings_dict['NAME']}",
                str(path),
            ],
            what="pg_restore",
        )
    finally:
        os.unlink(chosen.name)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # pg_restore leaves the planner without statistics


def _restore_sqlite(path: Path) -> None:
    target = _sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    connection.close()
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, path.open("rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        # Checked again at the last moment: nothing may have appeared since the first look.
        if _sqlite_objects():
            raise TargetNotEmpty(
                _("%(path)s was written to during the restore. Nothing was written.")
                % {"path": target}
            )
        # Journal files of the empty file being replaced must not be replayed into the new one.
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{target}{suffix}")
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    fsync_folder(target.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename in the folder survive a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- the PostgreSQL tools -----------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise DatabaseProblem(
            _(
                "%(tool)s is not installed on this server; install the PostgreSQL client tools "
                "of the server's major version (Debian: apt install postgresql-client)."
            )
            % {"tool": name}
        )
    return found


def _pg_environment() -> dict[str, str]:
    settings: dict[str, Any] = dict(connection.settings_dict)
    settings.setdefault("OPTIONS", {})
    _args, extra = DatabaseClient.settings_to_cmd_args_env(settings, [])
    env = dict(os.environ)
    env.update(extra or {})
    for setting, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if settings.get(setting):
            env[variable] = str(settings[setting])
    return env


def _pg_connection_args() -> list[str]:
    return ["--no-password", f"--dbname={connection.settings_dict['NAME']}"]


def _run(args: list[str], *, what: str, connect: bool = True) -> str:
    # The password travels in the environment, never on the command line.
    try:
        result = subprocess.run(  # noqa: S603  (our own argument lists, no shell)
            args,
            env=_pg_environment() if connect else None,
            capture_output=True,
            text=True,
            timeout=_TOOL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DatabaseProblem(_("%(what)s did not finish in time.") % {"what": what}) from None
    if result.returncode != 0:
        raise DatabaseProblem(
            _("%(what)s failed (exit code %(code)s): %(detail)s")
            % {"what": what, "code": result.returncode, "detail": _error_lines(result.stderr)}
        )
    return result.stdout


def _error_lines(stderr: str) -> str:
    """Keep the tools' own error lines; drop the context lines that can quote row values."""
    kept = [
        line.strip()
        for line in stderr.splitlines()
        if re.match(r"^pg_(dump|restore): (error|fatal):", line.strip())
    ]
    return " / ".join(kept[-5:]) or _("no error message")
