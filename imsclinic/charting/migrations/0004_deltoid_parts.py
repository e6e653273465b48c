"""Add the deltoid's anterior and posterior parts to a catalogue loaded before they existed.

The whole deltoid wraps the shoulder (the body chart shows it front and back); its anterior
part lies in front and its posterior part behind, so each is charted on its own figure.
Placed right after the deltoid; muscles the owner already has (matched by code) stay as
they are.
"""

from django.db import migrations
from django.db.models import ProtectedError

from imsclinic.charting.catalogue import catalogue_entries

PARTS = ("anterior_deltoid", "posterior_deltoid")


def add_parts(apps, schema_editor):
    Muscle = apps.get_model("charting", "Muscle")
    known = set(Muscle.objects.filter(code__in=PARTS).values_list("code", flat=True))
    whole = Muscle.objects.filter(code="deltoid").first()
    entries = {entry["code"]: entry for entry in catalogue_entries()}
    for step, code in enumerate(PARTS, start=1):
        if code in known:
            continue
        entry = dict(entries[code])
        if whole is not None:
            entry["order"] = whole.order + step
        Muscle.objects.create(**entry)


def remove_parts(apps, schema_editor):
    Muscle = apps.get_model("charting", "Muscle")
    for muscle in Muscle.objects.filter(code__in=PARTS):
        try:
            muscle.delete()
        except ProtectedError:
            # Charted already: signed notes point at it, so it stays.
            pass


class Migration(migrations.Migration):
    dependencies = [
        ("charting", "0003_signed_notes_locked"),
    ]

    operations = [migrations.RunPython(add_parts, remove_parts)]
