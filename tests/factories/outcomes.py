"""Test data for outcomes: signed needling visits days ago or on a given day, with their pain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from imsclinic.charting.models import Muscle, NeedlingSession
from imsclinic.clinic.models import Location, NeedleLot, Service
from imsclinic.outcomes.demo import chart_signed_session
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus
from tests.factories.charting import (
    ensure_catalogue,
    ims_visit,
    needle_lot,
    row,
    signed_assessment,
    signed_session,
)
from tests.factories.safety import make_ready_for_needling


def ready_with_lot(patient: Patient, physio: Any) -> NeedleLot:
    """Make the patient ready for needling, assessed, and return a usable needle lot."""
    ensure_catalogue()
    make_ready_for_needling(patient, by=physio)
    if not patient.assessments.filter(status="signed").exists():  # type: ignore[attr-defined]
        signed_assessment(patient, physio)
    return NeedleLot.objects.filter(lot_number="LOT-OUT-1").first() or needle_lot("LOT-OUT-1")


def signed_visit(
    patient: Patient,
    physio: Any,
    service: Service,
    lot: NeedleLot,
    *,
    days_ago: int,
    before: int = 6,
    after: int = 3,
) -> NeedlingSession:
    """Sign a needling session (one soleus row) on a visit `days_ago` days back."""
    start = timezone.now() - dt.timedelta(days=days_ago, minutes=10)
    visit = ims_visit(patient, physio, service, start=start)
    return signed_session(visit, physio, [row("soleus", lot)], nprs_before=before, nprs_after=after)


def _free_start(practitioner: Any, location: Location, day: dt.date, minutes: int) -> dt.datetime:
    """Return a start on that day clear of the practitioner's visits (test visits take no bed)."""
    for hour in (9, 10, 11, 14, 15, 16, 8, 17):
        start = dt.datetime.combine(day, dt.time(hour), tzinfo=location.zone).astimezone(dt.UTC)
        end = start + dt.timedelta(minutes=minutes)
        clash = Appointment.objects.filter(
            practitioner=practitioner, start__lt=end, busy_until__gt=start
        ).filter(status__in=ACTIVE_STATUSES)
        if not clash.exists():
            return start
    return dt.datetime.combine(day, dt.time(7), tzinfo=location.zone).astimezone(dt.UTC)


def signed_past_visit(
    *,
    patient: Patient,
    physio: Any,
    location: Location,
    service: Service,
    day: dt.date,
    before: int,
    after: int,
    muscle: Muscle,
    lot: NeedleLot,
) -> NeedlingSession:
    """Write a completed visit on exactly that day with a signed note and its NPRS results."""
    practitioner = physio.practitioner
    start = _free_start(practitioner, location, day, service.duration_minutes)
    end = start + dt.timedelta(minutes=service.duration_minutes)
    visit = Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        location=location,
        service=service,
        start=start,
        end=end,
        busy_until=end + dt.timedelta(minutes=service.buffer_minutes),
        status=AppointmentStatus.COMPLETED,
        arrived_at=start - dt.timedelta(minutes=5),
        created_at=start - dt.timedelta(days=3),
    )
    return chart_signed_session(
        visit=visit, physio=physio, before=before, after=after, muscle=muscle, lot=lot
    )
