"""Test data for outcomes: signed needling visits with their pain, plans, questionnaires.

`course` charts weekly sessions with pain falling and ODI and PSFS results at sessions 1, 4
and 6; `book` puts a visit a few days ahead in the book; the rest build portal and paper
questionnaire requests.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting.models import Muscle, NeedlingSession
from imsclinic.charting.services import RowInput
from imsclinic.clinic.models import Location, NeedleLot, Service
from imsclinic.outcomes import services
from imsclinic.outcomes.models import ResultSource
from imsclinic.outcomes.services import result_record
from imsclinic.patients.models import Patient
from imsclinic.safety.readiness import needling_readiness
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
    """Write a completed visit on exactly that day with a signed note and its NPRS results.

    The note goes through the charting services. A patient not yet ready is made ready, and
    a course's first note rests on a Gunn assessment signed at its visit.
    """
    practitioner = physio.practitioner
    start = _free_start(practitioner, location, day, service.duration_minutes)
    end = start + dt.timedelta(minutes=service.duration_minutes)
    if not needling_readiness(patient, at=start).ready:
        make_ready_for_needling(patient, by=physio, at=start - dt.timedelta(days=1))
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
    if not patient.assessments.filter(status="signed").exists():  # type: ignore[attr-defined]
        signed_assessment(patient, physio, at=end, appointment=visit)
    return signed_session(
        visit,
        physio,
        [
            RowInput(
                muscle_id=muscle.pk,
                side="right",
                segment=muscle.root_from,
                insertions=2,
                needle_lot_id=lot.pk,
                grasp="moderate",
                release=True,
            )
        ],
        nprs_before=before,
        nprs_after=after,
        signed_at=end + dt.timedelta(minutes=10),
    )


def book(patient: Patient, physio: User, *, days: int = 3) -> Appointment:
    service, _ = Service.objects.get_or_create(
        slug="ims-visit",
        defaults={"name": "IMS visit", "duration_minutes": 30, "price": Decimal("95")},
    )
    practitioner = physio.practitioner  # type: ignore[attr-defined]
    start = timezone.now() + dt.timedelta(days=days)
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        location=practitioner.locations.get(),
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=30),
    )


def plan(patient: Patient, physio: User, *, activities: list[str] | None = None) -> None:
    services.plan_set(
        patient=patient,
        region_instrument="ODI",
        psfs_activities=activities if activities is not None else ["Walk the dog", "Garden", "Sit"],
        every_visits=3,
        actor=physio,
    )


def odi_post(**answers: str) -> dict[str, str]:
    data = {f"item_{n}": "2" for n in range(1, 11)}
    data.update(answers)
    return data


def fill_url(visit: Appointment, code: str) -> str:
    return reverse("portal_measure_fill", args=[visit.pk, code])


def enter_url(patient: Patient, code: str = "") -> str:
    url = reverse("measures_enter", args=[patient.pk])
    return f"{url}?instrument={code}" if code else url


def paper(code: str, day: dt.date, **extra: str) -> dict[str, str]:
    return {"instrument": code, "taken_on": day.isoformat(), **extra}


ACTIVITIES = ["Sitting an hour", "Lifting my child", "Running 5 km"]
PAIN = ((7, 5), (6, 4), (5, 3), (4, 2), (4, 2), (3, 1), (3, 1), (2, 1), (2, 1), (2, 0))
ODI = {1: [3, 2, 2, 3, 2, 3, 2, 2, 3, 1], 4: [2, 2, 1, 2, 2, 2, 2, 1, 2, 1], 6: [1] * 10}
PSFS = {1: [2, 4, 3], 4: [5, 5, 4], 6: [8, 6, 7]}


def course(
    patient: Patient, physio: Any, location: Location, service: Service, *, sessions: int
) -> None:
    """Chart `sessions` weekly signed sessions with pain falling, ODI and PSFS at 1, 4, 6."""
    lot = needle_lot(f"LOT-{patient.pk}")
    muscle = Muscle.objects.get(code="quadratus_lumborum")
    today = timezone.localdate()
    visits = []
    for index in range(sessions):
        before, after = PAIN[index]
        visits.append(
            signed_past_visit(
                patient=patient,
                physio=physio,
                location=location,
                service=service,
                day=today - dt.timedelta(weeks=sessions - index),
                before=before,
                after=after,
                muscle=muscle,
                lot=lot,
            )
        )
    for number in (1, 4, 6):
        if number > sessions:
            continue
        appointment = visits[number - 1].appointment
        taken = appointment.start - dt.timedelta(hours=1)
        for code, answers, labels in (
            ("ODI", ODI[number], None),
            ("PSFS", PSFS[number], ACTIVITIES),
        ):
            result_record(
                patient=patient,
                instrument=code,
                answers=answers,
                labels=labels,
                actor=physio,
                source=ResultSource.PAPER,
                taken_at=taken,
                appointment=appointment,
                now=taken,
            )
