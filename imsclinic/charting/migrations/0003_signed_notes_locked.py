"""Make PostgreSQL itself refuse to change or delete a signed note, or anything in it.

A signed assessment or needling session is never updated or deleted; its signs, diagnosed
segments and needling rows are never inserted, updated or deleted once it is signed; an
addendum is never updated or deleted at all. The services and the models refuse the same;
these triggers catch code (or a console) that goes around them.

SQLite gets no triggers: Django's test flush there deletes rows one table at a time, which a
delete-refusing trigger would stop, and production runs on PostgreSQL.
"""

from django.db import migrations

NOTE_FUNCTION = """
CREATE OR REPLACE FUNCTION charting_signed_note_locked() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'signed' THEN
        RAISE EXCEPTION 'charting_signed_note_locked: a signed % cannot be changed or deleted',
            TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""

# TG_ARGV[0]: the parent note's table; TG_ARGV[1]: the column holding its id.
PART_FUNCTION = """
CREATE OR REPLACE FUNCTION charting_signed_part_locked() RETURNS trigger AS $$
DECLARE
    parent_status text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE format('SELECT status FROM %I WHERE id = $1', TG_ARGV[0])
            INTO parent_status USING (to_jsonb(OLD) ->> TG_ARGV[1])::bigint;
        IF parent_status = 'signed' THEN
            RAISE EXCEPTION 'charting_signed_note_locked: % of a signed note cannot be changed',
                TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE format('SELECT status FROM %I WHERE id = $1', TG_ARGV[0])
            INTO parent_status USING (to_jsonb(NEW) ->> TG_ARGV[1])::bigint;
        IF parent_status = 'signed' THEN
            RAISE EXCEPTION 'charting_signed_note_locked: % of a signed note cannot be changed',
                TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$ LANGUAGE plpgsql
"""

ADDENDUM_FUNCTION = """
CREATE OR REPLACE FUNCTION charting_addendum_locked() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'charting_addendum_locked: an addendum cannot be changed or deleted'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql
"""

NOTES = ("charting_assessment", "charting_needlingsession")
PARTS = (
    ("charting_assessmentsign", "charting_assessment", "assessment_id"),
    ("charting_diagnosedsegment", "charting_assessment", "assessment_id"),
    ("charting_needlingrow", "charting_needlingsession", "session_id"),
)

POSTGRES_FORWARD = [
    NOTE_FUNCTION,
    PART_FUNCTION,
    ADDENDUM_FUNCTION,
    *(
        f"""CREATE TRIGGER {table}_locked
            BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION charting_signed_note_locked()"""
        for table in NOTES
    ),
    *(
        f"""CREATE TRIGGER {table}_locked
            BEFORE INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION charting_signed_part_locked('{parent}', '{column}')"""
        for table, parent, column in PARTS
    ),
    """CREATE TRIGGER charting_addendum_locked
        BEFORE UPDATE OR DELETE ON charting_addendum
        FOR EACH ROW EXECUTE FUNCTION charting_addendum_locked()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS charting_addendum_locked ON charting_addendum",
    *(f"DROP TRIGGER IF EXISTS {table}_locked ON {table}" for table, _, _ in PARTS),
    *(f"DROP TRIGGER IF EXISTS {table}_locked ON {table}" for table in NOTES),
    "DROP FUNCTION IF EXISTS charting_addendum_locked()",
    "DROP FUNCTION IF EXISTS charting_signed_part_locked()",
    "DROP FUNCTION IF EXISTS charting_signed_note_locked()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("charting", "0002_muscle_catalogue"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD}),
        ),
    ]
