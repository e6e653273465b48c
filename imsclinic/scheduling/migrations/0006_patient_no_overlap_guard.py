"""Make the database refuse two active visits of one patient that overlap in time.

The same two forms as 0003's guards: an exclusion constraint on PostgreSQL, triggers on
SQLite, named `appointment_patient_no_overlap`. A patient's visit occupies them from start
to end; the practitioner's buffer after it is not theirs.

A database that already holds overlapping visits of one patient cannot take the guard: the
migration stops and names them, so that the clinic can move or cancel one of each pair
first (nothing is changed for it).
"""

from django.db import migrations

ACTIVE = "('booked', 'arrived', 'in_treatment', 'completed')"
TABLE = "scheduling_appointment"
NAME = "appointment_patient_no_overlap"

FIND_OVERLAPS = f"""
    SELECT a.id, b.id FROM {TABLE} a JOIN {TABLE} b
      ON a.patient_id = b.patient_id AND a.id < b.id
     WHERE a.status IN {ACTIVE} AND b.status IN {ACTIVE}
       AND a."start" < b."end" AND b."start" < a."end"
     ORDER BY a.id, b.id
"""

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE {TABLE} ADD CONSTRAINT {NAME}
        EXCLUDE USING gist (
            patient_id WITH =, tstzrange("start", "end", '[)') WITH &&
        ) WHERE (status IN {ACTIVE})""",
]
POSTGRES_BACKWARD = [f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {NAME}"]


def _sqlite_trigger(event: str) -> str:
    same_row = "AND other.id <> NEW.id" if event == "UPDATE" else ""
    return f"""
        CREATE TRIGGER {NAME}_{event.lower()}
        BEFORE {event} ON {TABLE}
        FOR EACH ROW
        WHEN NEW.status IN {ACTIVE}
        BEGIN
            SELECT RAISE(ABORT, '{NAME}')
            WHERE EXISTS (
                SELECT 1 FROM {TABLE} AS other
                WHERE other.patient_id = NEW.patient_id
                  AND other.status IN {ACTIVE}
                  AND other."start" < NEW."end"
                  AND NEW."start" < other."end"
                  {same_row}
            );
        END
    """


SQLITE_FORWARD = [_sqlite_trigger("INSERT"), _sqlite_trigger("UPDATE")]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS {NAME}_{event}" for event in ("insert", "update")]


def forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FIND_OVERLAPS)
        pairs = cursor.fetchall()
    if pairs:
        listed = ", ".join(f"{a} and {b}" for a, b in pairs[:20])
        raise RuntimeError(
            f"{len(pairs)} pairs of active visits book one patient twice at the same time "
            f"(appointment ids {listed}). Move or cancel one visit of each pair, then migrate "
            "again; nothing was changed."
        )
    statements = {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}
    for statement in statements.get(schema_editor.connection.vendor, ()):
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    statements = {"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}
    for statement in statements.get(schema_editor.connection.vendor, ()):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0005_busy_until_indexes")]

    operations = [migrations.RunPython(forward, backward)]
