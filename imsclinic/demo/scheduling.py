"""Place the demo clinic's visits by the booking rules, whatever day the demo is loaded on.

Every demo visit is booked through `appointment_book`, at a time the availability engine
offers, as the front desk would have booked it a week ahead: the practitioner's shift and
breaks, the bed, the service's buffer and the first-visit rule all apply, and the database's
overlap guards stand behind them. A patient comes at most once a day. What happened to the
visit afterwards (seen, missed, cancelled) is then written the way the day went.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from imsclinic.clinic.models import Location, Practitioner, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    CancelledBy,
)
from imsclinic.scheduling.selectors import available_slots
from imsclinic.scheduling.services.booking import (
    SlotUnavailable,
    appointment_book,
    appointment_cancel,
    appointment_set_status,
)

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

# Demo visits were booked this long before their day (or now, for days further ahead).
BOOKED_AHEAD = dt.timedelta(days=7)


def booked_at(location: Location, day: dt.date) -> dt.datetime:
    """Return when a demo visit on that local day was booked."""
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=location.zone)
    return min(midnight - BOOKED_AHEAD, timezone.now())


def has_visit_on(patient: Patient, location: Location, day: dt.date) -> bool:
    """Say whether the patient already has a visit (of any status) on that local day."""
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=location.zone)
    next_midnight = dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time(0), tzinfo=location.zone
    )
    return Appointment.objects.filter(
        patient=patient, start__gte=midnight, start__lt=next_midnight
    ).exists()


def demo_book(
    *,
    patient: Patient,
    practitioner: Practitioner,
    service: Service,
    location: Location,
    day: dt.date,
    actor: User | None,
    earliest: dt.time | None = None,
    latest: dt.time | None = None,
    ends_by: dt.datetime | None = None,
) -> Appointment | None:
    """Book the first offered time on `day` in [earliest, latest]; None when there is none.

    `ends_by` keeps a visit that should lie in the past from running into the future.
    """
    if has_visit_on(patient, location, day):
        return None
    booked = booked_at(location, day)
    slots = available_slots(
        service=service,
        start_date=day,
        days=1,
        practitioner=practitioner,
        location=location,
        now=booked,
    )
    for slot in slots:
        wall = slot.start.astimezone(location.zone).time()
        if earliest is not None and wall < earliest:
            continue
        if latest is not None and wall > latest:
            break
        if ends_by is not None and slot.end > ends_by:
            break
        try:
            visit = appointment_book(
                patient=patient,
                practitioner=practitioner,
                service=service,
                location=location,
                start=slot.start,
                actor=actor,
                now=booked,
                notify=False,
            )
        except SlotUnavailable:
            continue  # a bed went to another practitioner's visit: try the next time
        Appointment.objects.filter(pk=visit.pk).update(created_at=booked)
        visit.created_at = booked
        return visit
    return None


def demo_book_near(*, days: Iterable[dt.date], **booking: Any) -> Appointment | None:
    """Book on the first of these days that has a time offered; None when none has."""
    for day in days:
        visit = demo_book(day=day, **booking)
        if visit is not None:
            return visit
    return None


def days_back_from(day: dt.date, count: int = 5) -> list[dt.date]:
    """Return the day and the days before it, for a past visit that may move a little earlier."""
    return [day - dt.timedelta(days=n) for n in range(count)]


def demo_cancel(visit: Appointment, *, actor: User | None, now: dt.datetime) -> None:
    """Cancel a demo visit the day before it (or now, if that is sooner), by phone.

    The patient called, as the desk's page records it: inside the late window that is a late
    cancellation, charged its fee when the service has one.
    """
    appointment_cancel(
        appointment=visit,
        actor=actor,
        reason="Patient called to cancel (demo).",
        cancelled_by=CancelledBy.PATIENT,
        now=min(now, visit.start - dt.timedelta(days=1)),
        notify=False,
    )
    visit.refresh_from_db()


def demo_no_show(visit: Appointment, *, actor: User, now: dt.datetime) -> None:
    """Mark a past demo visit a no-show as the desk does, twenty minutes in (or now).

    Through the desk's own service, so the no-show fee is charged when the service has one.
    """
    appointment_set_status(
        appointment=visit,
        status=AppointmentStatus.NO_SHOW,
        actor=actor,
        now=max(visit.start, min(now, visit.start + dt.timedelta(minutes=20))),
    )
    visit.refresh_from_db()


def demo_attended(visit: Appointment, status: AppointmentStatus, *, arrived: dt.datetime) -> None:
    """Record how a booked demo visit went: arrived, in treatment, seen or missed."""
    visit.status = status
    fields = ["status"]
    if status in ACTIVE_STATUSES and status != AppointmentStatus.BOOKED:
        visit.arrived_at = arrived
        fields.append("arrived_at")
    visit._change_reason = "demo"  # type: ignore[attr-defined]
    visit.save(update_fields=fields)
