"""Test data for charting: needle lots, IMS visits, and notes written through the services.

Used by the charting tests and by the tests of apps that read charts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting import services
from imsclinic.charting.models import Assessment, Muscle, NeedlingSession
from imsclinic.charting.services import SignInput
from imsclinic.clinic.models import NeedleLot, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus


def needle_lot(
    lot_number: str = "LOT-A1",
    *,
    diameter: str = "0.30",
    length: int = 40,
    expires_on: dt.date | None = None,
    recalled: bool = False,
    manufacturer: str = "Acme Needles",
    received: int = 100,
) -> NeedleLot:
    """Return a needle lot in stock, all `received` needles on hand (usable for years)."""
    today = timezone.localdate()
    return NeedleLot.objects.create(
        lot_number=lot_number,
        manufacturer=manufacturer,
        diameter_mm=Decimal(diameter),
        length_mm=length,
        expires_on=expires_on or today + dt.timedelta(days=700),
        quantity_received=received,
        received_on=today - dt.timedelta(days=30),
        recalled_at=timezone.now() if recalled else None,
        recall_reason="Sterility breach reported by the maker." if recalled else "",
    )


def ims_visit(
    patient: Patient,
    user: User,
    service: Service,
    *,
    start: dt.datetime | None = None,
    status: str = AppointmentStatus.IN_TREATMENT,
) -> Appointment:
    """Put a visit with this practitioner straight into the book (test data).

    By default it is under way: it began up to ten minutes ago, on the location's today (just
    after local midnight it began at midnight, so "today's visit" holds at any hour). Pass
    `start` and `status` for a visit booked ahead, arrived, or in the past. Booking itself is
    tested through the services.
    """
    location = user.practitioner.locations.get()
    if start is None:
        now = timezone.now()
        midnight = dt.datetime.combine(
            now.astimezone(location.zone).date(), dt.time(), location.zone
        )
        start = max(now - dt.timedelta(minutes=10), midnight)
    end = start + dt.timedelta(minutes=service.duration_minutes)
    return Appointment.objects.create(
        patient=patient,
        practitioner=user.practitioner,
        location=location,
        service=service,
        start=start,
        end=end,
        busy_until=end,
        status=status,
    )


def ensure_catalogue() -> None:
    """Load the starting muscle catalogue if it is missing.

    The data migration loads it, but a transactional test (browser tests) empties every
    table when it ends, so the next one starts without muscles.
    """
    from imsclinic.charting.catalogue import catalogue_entries

    known = set(Muscle.objects.values_list("code", flat=True))
    Muscle.objects.bulk_create(
        [Muscle(**entry) for entry in catalogue_entries() if entry["code"] not in known]
    )


def muscle(code: str) -> Muscle:
    return Muscle.objects.get(code=code)


def row(
    code: str,
    lot: NeedleLot,
    *,
    side: str = "left",
    segment: str = "",
    insertions: int = 3,
    needles: int = 1,
) -> services.RowInput:
    """Return a needling row for the catalogue muscle `code` (segment: its first root)."""
    found = muscle(code)
    return services.RowInput(
        muscle_id=found.pk,
        side=side,
        segment=segment or found.root_from,
        insertions=insertions,
        needles_used=needles,
        needle_lot_id=lot.pk,
        grasp="moderate",
        release=True,
        twitch=False,
        tolerance="good",
    )


def signed_session(
    appointment: Appointment,
    actor: User,
    rows: list[services.RowInput],
    *,
    nprs_before: int = 6,
    nprs_after: int = 3,
) -> NeedlingSession:
    """Start, fill and sign a session through the services (the patient must be ready)."""
    session = services.session_start(appointment=appointment, actor=actor)
    session = services.session_save_draft(
        session=session,
        actor=actor,
        data={"nprs_before": nprs_before, "nprs_after": nprs_after, "aftercare_given": True},
        rows=rows,
    )
    return services.session_sign(session=session, actor=actor)


def signed_assessment(
    patient: Patient,
    author: User,
    *,
    at: dt.datetime | None = None,
    appointment: Appointment | None = None,
) -> Assessment:
    """Write and sign a Gunn assessment through the services (C5 right, weekly)."""
    draft = services.assessment_save_draft(
        patient=patient,
        actor=author,
        appointment=appointment,
        data={"plan_frequency": "weekly", "goals": "Turn the head fully when driving."},
        signs=[SignInput(sign="tender_motor_points", finding="present", side="right")],
        segments=[("C5", "right")],
    )
    return services.assessment_sign(assessment=draft, actor=author, now=at)
