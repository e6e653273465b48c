"""Load the starting muscle catalogue: the clinic's muscles.csv plus paraspinals C2-S1.

Existing entries (matched by code) are left as the owner edited them.
"""

from django.db import migrations

from imsclinic.charting.catalogue import catalogue_entries


def load(apps, schema_editor):
    Muscle = apps.get_model("charting", "Muscle")
    known = set(Muscle.objects.values_list("code", flat=True))
    Muscle.objects.bulk_create(
        [Muscle(**entry) for entry in catalogue_entries() if entry["code"] not in known]
    )


def unload(apps, schema_editor):
    Muscle = apps.get_model("charting", "Muscle")
    Muscle.objects.filter(code__in=[entry["code"] for entry in catalogue_entries()]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("charting", "0001_initial"),
    ]

    operations = [migrations.RunPython(load, unload)]
