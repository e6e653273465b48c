"""Make the database itself refuse two active appointments that overlap.

PostgreSQL gets exclusion constraints (btree_gist); SQLite, which has none, gets triggers
that abort the same inserts and updates. Each operation runs only on its own database, so
the migration applies cleanly on both.

Beware: on SQLite, Django rebuilds a table for most later AlterField operations, and the
rebuild drops these triggers. A later migration that alters scheduling_appointment must
create them again (test_constraints checks that they are in place).
"""

from django.db import migrations

ACTIVE = "('booked', 'arrived', 'in_treatment', 'completed')"
TABLE = "scheduling_appointment"

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE {TABLE} ADD CONSTRAINT appointment_practitioner_no_overlap
        EXCLUDE USING gist (
            practitioner_id WITH =, tstzrange("start", busy_until, '[)') WITH &&
        ) WHERE (status IN {ACTIVE})""",
    f"""ALTER TABLE {TABLE} ADD CONSTRAINT appointment_room_no_overlap
        EXCLUDE USING gist (
            room_id WITH =, tstzrange("start", busy_until, '[)') WITH &&
        ) WHERE (room_id IS NOT NULL AND status IN {ACTIVE})""",
]
POSTGRES_BACKWARD = [
    f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS appointment_room_no_overlap",
    f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS appointment_practitioner_no_overlap",
]


def _sqlite_trigger(name: str, event: str, column: str) -> str:
    # Half-open intervals: a visit may start exactly when the previous one's buffer ends.
    same_row = "AND other.id <> NEW.id" if event == "UPDATE" else ""
    return f"""
        CREATE TRIGGER {name}_{event.lower()}
        BEFORE {event} ON {TABLE}
        FOR EACH ROW
        WHEN NEW.status IN {ACTIVE} AND NEW.{column} IS NOT NULL
        BEGIN
            SELECT RAISE(ABORT, '{name}')
            WHERE EXISTS (
                SELECT 1 FROM {TABLE} AS other
                WHERE other.{column} = NEW.{column}
                  AND other.status IN {ACTIVE}
                  AND other."start" < NEW.busy_until
                  AND NEW."start" < other.busy_until
                  {same_row}
            );
        END
    """


GUARDS = (
    ("appointment_practitioner_no_overlap", "practitioner_id"),
    ("appointment_room_no_overlap", "room_id"),
)
SQLITE_FORWARD = [
    _sqlite_trigger(name, event, column)
    for name, column in GUARDS
    for event in ("INSERT", "UPDATE")
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}_{event}"
    for name, _column in GUARDS
    for event in ("insert", "update")
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0002_schedules"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
