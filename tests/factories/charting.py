"""Test data for charting: needle lots, IMS visits, and notes written through the services.

Used by the charting tests and by the tests of apps that read charts.
"""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting import services
from imsclinic.charting.models import Assessment, Muscle, NeedlingSession, PhysioNote
from imsclinic.charting.selectors import infection_control_protocol, sharps_containers_for_visit
from imsclinic.charting.services import SignInput
from imsclinic.clinic.models import Location, NeedleLot, Service, SharpsContainer
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


def ensure_infection_protocol() -> None:
    """Seed the starting infection-control protocol if no step is there.

    Migration 0009 seeds it, but a transactional test empties every table when it ends, so
    the next test on that database starts without a protocol.
    """
    from django.apps import apps

    seeding = importlib.import_module(
        "imsclinic.charting.migrations.0009_infection_control_protocol_and_record"
    )
    seeding.seed_protocol(apps, None)


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


def sharps_container(
    location: Location,
    user: User,
    *,
    label: str = "S-001",
    opened_at: dt.datetime | None = None,
    sealed_at: dt.datetime | None = None,
) -> SharpsContainer:
    """Return a sharps container at the location, open since a week ago unless told."""
    opened = opened_at or timezone.now() - dt.timedelta(days=7)
    return SharpsContainer.objects.create(
        label=label,
        location=location,
        opened_at=opened,
        opened_by=user,
        sealed_at=sealed_at,
        sealed_by=user if sealed_at is not None else None,
    )


def confirm_infection_control(
    session: NeedlingSession, actor: User, *, container: SharpsContainer | None = None
) -> None:
    """Confirm every step of the protocol on the draft, with a container open at the visit.

    Without `container`, one open at the visit's location during the visit (opened the day
    before it if there is none).
    """
    ensure_infection_protocol()
    visit = session.appointment
    if container is None:
        found = sharps_containers_for_visit(visit)
        container = (
            found[0]
            if found
            else sharps_container(
                visit.location,
                actor,
                opened_at=min(
                    timezone.now() - dt.timedelta(days=7), visit.start - dt.timedelta(days=1)
                ),
            )
        )
    services.infection_control_confirm(
        session=session,
        step_ids=[step.pk for step in infection_control_protocol()],
        sharps_container=container,
        actor=actor,
    )


def signed_session(
    appointment: Appointment,
    actor: User,
    rows: list[services.RowInput],
    *,
    nprs_before: int = 6,
    nprs_after: int = 3,
    signed_at: dt.datetime | None = None,
) -> NeedlingSession:
    """Start, fill and sign a session through the services (the patient must be ready).

    Infection control is confirmed first (`confirm_infection_control`). With `signed_at`,
    the note is started as the visit starts and signed then (a past visit).
    """
    session = services.session_start(
        appointment=appointment, actor=actor, now=appointment.start if signed_at else None
    )
    session = services.session_save_draft(
        session=session,
        actor=actor,
        data={"nprs_before": nprs_before, "nprs_after": nprs_after, "aftercare_given": True},
        rows=rows,
    )
    confirm_infection_control(session, actor)
    return services.session_sign(session=session, actor=actor, now=signed_at)


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


def physio_service() -> Service:
    """Return the clinic's physiotherapy assessment: a visit that is not IMS."""
    service, _created = Service.objects.get_or_create(
        slug="physiotherapy-assessment",
        defaults={
            "name": "Physiotherapy assessment",
            "duration_minutes": 45,
            "price": Decimal("120.00"),
            "requires_ims_credential": False,
        },
    )
    return service


PHYSIO_NOTE_TEXT = {
    "subjective": "Stiff neck for three weeks, worse after long drives.",
    "objective": "Cervical rotation 50 degrees to the left, 70 to the right.",
    "assessment": "Mechanical neck pain with reduced left rotation.",
    "plan": "Home exercises daily; review in two weeks.",
    "treatment_given": "Taught chin tucks and rotation stretches; posture advice.",
}


def signed_physio_note(
    appointment: Appointment, actor: User, *, now: dt.datetime | None = None
) -> PhysioNote:
    """Start, write and sign the physiotherapy note of a visit that is not IMS."""
    note = services.physio_note_start(appointment=appointment, actor=actor, now=now)
    note = services.physio_note_save_draft(note=note, actor=actor, data=PHYSIO_NOTE_TEXT)
    return services.physio_note_sign(note=note, actor=actor, now=now)
