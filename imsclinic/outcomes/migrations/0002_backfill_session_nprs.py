"""Store the pain before and after of every needling note signed before outcomes existed."""

from decimal import Decimal

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

NPRS_VERSION = "NPRS 0-10"  # scoring.INSTRUMENTS["NPRS"].version when this was written


def backfill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Add NPRS before/after results for signed sessions that have none yet."""
    session_model = apps.get_model("charting", "NeedlingSession")
    result_model = apps.get_model("outcomes", "OutcomeResult")
    done = set(
        result_model.objects.filter(session__isnull=False, instrument="NPRS").values_list(
            "session_id", "timing"
        )
    )
    new = []
    signed = session_model.objects.filter(status="signed").select_related("appointment")
    for session in signed.iterator():
        for timing, rating, at in (
            ("before", session.nprs_before, session.appointment.start),
            ("after", session.nprs_after, session.appointment.end),
        ):
            if rating is None or (session.pk, timing) in done:
                continue
            new.append(
                result_model(
                    patient_id=session.patient_id,
                    instrument="NPRS",
                    instrument_version=NPRS_VERSION,
                    answers=[rating],
                    labels=[],
                    score=Decimal(rating),
                    answered=1,
                    timing=timing,
                    appointment_id=session.appointment_id,
                    session_id=session.pk,
                    source="session_note",
                    taken_at=at,
                    recorded_by_id=session.signed_by_id or session.practitioner_id,
                )
            )
    result_model.objects.bulk_create(new, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0001_initial"),
        ("charting", "0003_signed_notes_locked"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
