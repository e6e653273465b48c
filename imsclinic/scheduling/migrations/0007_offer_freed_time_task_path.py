"""Waitlist offers queued before `offer_freed_time` lived in `scheduling.tasks` run from there."""

from django.db import migrations

OLD = "imsclinic.scheduling.waitlist.offer_freed_time"
NEW = "imsclinic.scheduling.tasks.offer_freed_time"


def _rename(apps, schema_editor, old: str, new: str) -> None:
    task_results = apps.get_model("django_tasks_database", "DBTaskResult")
    task_results.objects.filter(task_path=old).update(task_path=new)


def forwards(apps, schema_editor):
    _rename(apps, schema_editor, OLD, NEW)


def backwards(apps, schema_editor):
    _rename(apps, schema_editor, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0006_patient_no_overlap_guard"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
