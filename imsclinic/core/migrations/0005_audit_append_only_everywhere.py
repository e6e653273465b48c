"""Refuse UPDATE, DELETE and TRUNCATE of audit rows and seals in the database itself.

PostgreSQL: core/0002's row trigger now guards the seals too, and statement triggers refuse
TRUNCATE of either table (row triggers never see a TRUNCATE). SQLite: triggers refusing
UPDATE and DELETE on both tables (SQLite has no TRUNCATE; a DELETE of every row still fires
them). The model and its querysets refuse the same; these catch whatever goes around them.

On SQLite a later migration that rebuilds one of these tables (most AlterFields do) drops
its triggers with it and must create them again; the append-only tests would fail.
"""

from django.db import migrations

TABLES = ("core_auditevent", "core_auditseal")

POSTGRESQL_CREATE = """
DROP TRIGGER IF EXISTS core_auditseal_append_only ON core_auditseal;
CREATE TRIGGER core_auditseal_append_only
    BEFORE UPDATE OR DELETE ON core_auditseal
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse_change();

DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
CREATE TRIGGER core_auditevent_no_truncate
    BEFORE TRUNCATE ON core_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_refuse_change();

DROP TRIGGER IF EXISTS core_auditseal_no_truncate ON core_auditseal;
CREATE TRIGGER core_auditseal_no_truncate
    BEFORE TRUNCATE ON core_auditseal
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_refuse_change();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS core_auditseal_no_truncate ON core_auditseal;
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
DROP TRIGGER IF EXISTS core_auditseal_append_only ON core_auditseal;
"""

SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS {table}_append_only_{op}
BEFORE {OP} ON {table}
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: {OP} refused');
END
"""


def create_guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE, params=None)
    elif vendor == "sqlite":
        for table in TABLES:
            for op in ("update", "delete"):
                schema_editor.execute(
                    SQLITE_TRIGGER.format(table=table, op=op, OP=op.upper()), params=None
                )


def drop_guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)
    elif vendor == "sqlite":
        for table in TABLES:
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{op}")


class Migration(migrations.Migration):
    dependencies = [("core", "0004_seal_rows_chained_at_insert")]

    operations = [migrations.RunPython(create_guards, drop_guards)]
