"""Demo physiotherapy note for seed_demo: one past visit that is not IMS, charted and signed.

The demo patient came back for a physiotherapy assessment (exercise and manual therapy, no
needling) a little after their IMS course. The visit is booked through the booking rules
(`demo.scheduling`) and its note is started, written and signed through the charting
services, each dated when it happened.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from imsclinic.charting.services import (
    physio_note_save_draft,
    physio_note_sign,
    physio_note_start,
)
from imsclinic.clinic.models import Service
from imsclinic.demo.scheduling import days_back_from, demo_attended, demo_book_near
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import AppointmentStatus

SERVICE_SLUG = "physiotherapy-assessment"
NOTE = {
    "subjective": "Neck much easier since the IMS course; right shoulder still tires with "
    "overhead work. Wants a home programme to keep the gains.",
    "objective": "Cervical rotation right 70°, left 75°. Shoulder flexion full, pain-free; "
    "scapular control reduced on the right in the last 30° of elevation.",
    "assessment": "Improving right C5-6 pain; residual scapular control deficit.",
    "plan": "Home programme daily for three weeks; review then, and book IMS again only if "
    "the neck pain returns.",
    "treatment_given": "Taught scapular setting, wall slides and chin tucks (3 x 10 each); "
    "soft-tissue release of the right upper trapezius; desk set-up advice.",
}


def seed_physio_note(*, patient: Patient | None, physio: Any, desk: Any) -> dict[str, int]:
    """Book, see and chart one physiotherapy visit of the demo patient; idempotent."""
    made = {"physiotherapy notes": 0}
    practitioner = getattr(physio, "practitioner", None)
    if patient is None or practitioner is None or patient.physio_notes.exists():
        return made
    service = Service.objects.filter(slug=SERVICE_SLUG, requires_ims_credential=False).first()
    location = practitioner.locations.order_by("pk").first()
    if service is None or location is None:
        return made
    now = timezone.now()
    today = now.astimezone(location.zone).date()
    visit = demo_book_near(
        days=days_back_from(today - dt.timedelta(days=10), count=10),
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        actor=desk,
        earliest=dt.time(9),
        ends_by=now - dt.timedelta(hours=2),
    )
    if visit is None:
        return made  # no time offered in those days: the demo has no physiotherapy note
    demo_attended(visit, AppointmentStatus.COMPLETED, arrived=visit.start - dt.timedelta(minutes=5))
    note = physio_note_start(appointment=visit, actor=physio, now=visit.start)
    note = physio_note_save_draft(note=note, actor=physio, data=NOTE)
    physio_note_sign(note=note, actor=physio, now=visit.end + dt.timedelta(minutes=10))
    made["physiotherapy notes"] += 1
    return made
