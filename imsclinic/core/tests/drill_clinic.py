"""Fill a fresh database with the demo clinic plus a day's work done through the services.

Run as a program against the database DATABASE_URL names (already migrated), with MEDIA_ROOT
pointing at an empty folder: `python -m imsclinic.core.tests.drill_clinic`. The backup drill
backs this up and restores it. The clock is held at a fixed Monday so the demo loads the same
way whatever the date, and moves forward only when the visit begins.
"""

from __future__ import annotations

import datetime as dt
import io
import os

import django

# A Monday in the clinic's autumn: the demo's schedule loads cleanly from here.
DRILL_NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)
MEDIA_FILES = {
    "uploads/referrals/referral-letter.pdf": b"%PDF-1.4\n% a stand-in referral letter\n%%EOF\n",
    "uploads/consent/scanned-paper-consent.pdf": b"%PDF-1.4\n% a scanned paper form\n%%EOF\n",
    "uploads/photos/body-chart.png": bytes(range(256)) * 64,
}


def main() -> None:
    import time_machine

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsclinic.settings")
    with time_machine.travel(DRILL_NOW, tick=False) as clock:
        django.setup()
        _fill(clock)


def _fill(clock: time_machine.Traveller) -> None:  # type: ignore[name-defined]  # noqa: F821
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.utils import timezone

    from imsclinic.accounts.models import User
    from imsclinic.clinic.models import Service
    from imsclinic.patients.models import Patient
    from imsclinic.scheduling.availability import Slot
    from imsclinic.scheduling.models import AppointmentStatus
    from imsclinic.scheduling.selectors import available_slots
    from imsclinic.scheduling.services import booking as scheduling
    from tests.factories.charting import needle_lot, row, signed_session

    call_command("seed_demo", stdout=io.StringIO())
    desk = User.objects.get(email="frontdesk@cedarims.test")
    physio = User.objects.get(email="physio@cedarims.test")
    follow_up = Service.objects.get(slug="ims-follow-up")
    patient = Patient.objects.get(email="patient@example.com")
    others = list(Patient.objects.exclude(pk=patient.pk).order_by("pk")[:3])

    today = timezone.localdate()
    slots = available_slots(
        service=follow_up,
        start_date=today + dt.timedelta(days=1),
        days=7,
        practitioner=physio.practitioner,
    )
    # The demo patient's visit, then one each for a few other patients at later times.
    visit = scheduling.appointment_book(
        patient=patient,
        practitioner=physio.practitioner,
        service=follow_up,
        location=physio.practitioner.locations.get(pk=slots[0].location_id),
        start=slots[0].start,
        actor=desk,
    )
    # One visit a day on the following days, so no two visits or their buffers meet.
    apart: list[Slot] = []
    for slot in slots[1:]:
        if slot.start.date() not in {taken.start.date() for taken in [slots[0], *apart]}:
            apart.append(slot)
    assert len(apart) >= len(others), "the demo physio should have free times next week"
    for other, slot in zip(others, apart, strict=False):
        scheduling.appointment_book(
            patient=other,
            practitioner=physio.practitioner,
            service=follow_up,
            location=physio.practitioner.locations.get(pk=slot.location_id),
            start=slot.start,
            actor=desk,
        )

    # The visit day: the patient arrives, is needled, and the note is signed.
    clock.move_to(visit.start + dt.timedelta(minutes=2))
    lot = needle_lot("LOT-DRILL-1")
    scheduling.appointment_set_status(
        appointment=visit, status=AppointmentStatus.ARRIVED, actor=desk
    )
    scheduling.appointment_set_status(
        appointment=visit, status=AppointmentStatus.IN_TREATMENT, actor=physio
    )
    signed_session(
        visit, physio, [row("infraspinatus", lot, side="right"), row("deltoid", lot, side="right")]
    )
    clock.move_to(visit.end)
    scheduling.appointment_set_status(
        appointment=visit, status=AppointmentStatus.COMPLETED, actor=physio
    )

    for name, content in MEDIA_FILES.items():
        default_storage.save(name, ContentFile(content))


if __name__ == "__main__":
    main()
