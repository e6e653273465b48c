"""Make PostgreSQL refuse to change or delete a signed physiotherapy note.

The same trigger function migration 0003 made for the assessment and the needling note
(`charting_signed_note_locked`), on the new table. A physiotherapy note has no rows of its
own; its addenda are already locked by 0003's trigger on charting_addendum. SQLite gets no
trigger (see 0003): the model's save() and delete() refuse there.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    """CREATE TRIGGER charting_physionote_locked
        BEFORE UPDATE OR DELETE ON charting_physionote
        FOR EACH ROW EXECUTE FUNCTION charting_signed_note_locked()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS charting_physionote_locked ON charting_physionote",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("charting", "0010_physio_note"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD}),
        ),
    ]
