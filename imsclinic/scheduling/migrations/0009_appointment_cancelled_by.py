"""Record who called a cancelled visit off: the patient or the clinic.

Adding the column makes Django rebuild scheduling_appointment on SQLite, which drops the
overlap triggers of 0003 and 0006; they are put back after it (and, going back, after the
column is removed). PostgreSQL's constraints survive.
"""

from importlib import import_module

from django.db import migrations, models

_practitioner_and_room = import_module("imsclinic.scheduling.migrations.0003_no_overlap_guards")
_patient = import_module("imsclinic.scheduling.migrations.0006_patient_no_overlap_guard")


def _recreate_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for guards in (_practitioner_and_room, _patient):
        for statement in guards.SQLITE_BACKWARD + guards.SQLITE_FORWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('scheduling', '0008_calendar_and_next_visit_indexes'),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, _recreate_sqlite_triggers),
        migrations.AddField(
            model_name='appointment',
            name='cancelled_by',
            field=models.CharField(blank=True, choices=[('patient', 'The patient'), ('clinic', 'The clinic')], help_text='The patient, or the clinic (a practitioner ill, the clinic closed); blank when the visit was not cancelled, was moved, or nobody said.', max_length=10, verbose_name='cancelled by'),
        ),
        migrations.AddField(
            model_name='historicalappointment',
            name='cancelled_by',
            field=models.CharField(blank=True, choices=[('patient', 'The patient'), ('clinic', 'The clinic')], help_text='The patient, or the clinic (a practitioner ill, the clinic closed); blank when the visit was not cancelled, was moved, or nobody said.', max_length=10, verbose_name='cancelled by'),
        ),
        migrations.RunPython(_recreate_sqlite_triggers, migrations.RunPython.noop),
    ]
