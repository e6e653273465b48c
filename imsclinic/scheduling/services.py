"""Booking and cancelling appointments: every write to the schedule goes through here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.clinic.models import Location, Practitioner, Service
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action
from imsclinic.patients.models import Patient
from imsclinic.scheduling.availability import slot_is_offered
from imsclinic.scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus
from imsclinic.scheduling.selectors import availability_query

# The names the database gives its overlap guards (constraints on PostgreSQL, triggers on
# SQLite); an IntegrityError naming one of them means another booking got there first.
OVERLAP_GUARDS = ("appointment_practitioner_no_overlap", "appointment_room_no_overlap")
DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE


class BookingError(Exception):
    """A booking or cancellation the clinic's rules do not allow; str() is for the user."""


class SlotUnavailable(BookingError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("That time is not available. Please choose another."))


class SlotTaken(SlotUnavailable):
    """Someone else booked the time between the offer and the click."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("That time was just taken. Please choose another."))


class FirstVisitMustBeAssessment(BookingError):
    def __init__(self, assessment: Service | None = None) -> None:
        name = assessment.name if assessment is not None else _("an initial assessment")
        super().__init__(
            _("Your first IMS visit must be %(name)s. Please book that first.") % {"name": name}
        )
        self.assessment = assessment


class TooLateToCancel(BookingError):
    pass


class NotCancellable(BookingError):
    pass


def is_deadlock(error: BaseException) -> bool:
    """Say whether PostgreSQL aborted this transaction to break a deadlock."""
    return getattr(error.__cause__, "sqlstate", None) == DEADLOCK_DETECTED


def _is_staff(actor: Any) -> bool:
    return bool(getattr(actor, "is_clinic_staff", False))


def _check_first_visit(patient: Patient, service: Service, start: dt.datetime) -> None:
    """Refuse an IMS follow-up for a patient who has not had an IMS visit before it."""
    if not service.requires_ims_credential or service.for_new_patients:
        return
    had_ims_visit = Appointment.objects.filter(
        patient=patient,
        service__requires_ims_credential=True,
        status__in=ACTIVE_STATUSES,
        start__lt=start,
    ).exists()
    if not had_ims_visit:
        assessment = (
            Service.objects.filter(
                requires_ims_credential=True, for_new_patients=True, is_active=True
            )
            .order_by("order", "pk")
            .first()
        )
        raise FirstVisitMustBeAssessment(assessment)


def appointment_book(
    *,
    patient: Patient,
    practitioner: Practitioner,
    service: Service,
    location: Location,
    start: dt.datetime,
    actor: Any,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book a visit if that exact time is still offered; the database refuses any overlap."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if not _is_staff(actor) and (actor is None or patient.user_id != actor.pk):
        raise PermissionDenied(_("Patients may only book visits for themselves."))
    if not service.is_active:
        raise SlotUnavailable(_("That service is not offered at the moment."))
    if not _is_staff(actor) and not service.bookable_online:
        raise SlotUnavailable(_("Please call the clinic to book this service."))
    try:
        with transaction.atomic():
            # Bookings for one practitioner queue here, so the re-check below sees every
            # booking committed before ours.
            Practitioner.objects.select_for_update().filter(pk=practitioner.pk).first()
            _check_first_visit(patient, service, start)
            day = start.astimezone(location.zone).date()
            query = availability_query(
                service=service,
                start_date=day,
                days=1,
                practitioner=practitioner,
                location=location,
                now=now,
            )
            slot = slot_is_offered(query, practitioner.pk, location.pk, start)
            if slot is None:
                raise SlotUnavailable()
            # Elapsed time, not wall time: on a DST change day the two differ.
            start = start.astimezone(dt.UTC)
            end = start + dt.timedelta(minutes=service.duration_minutes)
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    patient=patient,
                    practitioner=practitioner,
                    location=location,
                    room_id=slot.room_id,
                    service=service,
                    start=start,
                    end=end,
                    busy_until=end + dt.timedelta(minutes=service.buffer_minutes),
                    status=AppointmentStatus.BOOKED,
                    created_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
            patient.care_team.add(practitioner)
            audit_record(
                actor=actor,
                action=Action.CREATE,
                object_type="appointment",
                object_id=appointment.pk,
                patient=patient,
                request=request,
                detail={
                    "service": service.slug,
                    "practitioner": practitioner.pk,
                    "start": start.astimezone(dt.UTC).isoformat(),
                },
            )
    except IntegrityError as error:
        if any(name in str(error) for name in OVERLAP_GUARDS):
            raise SlotTaken() from error
        raise
    except OperationalError as error:
        # Two bookings of one bed by different practitioners can each wait on the other's
        # exclusion-constraint entry; PostgreSQL then aborts one of them as a deadlock.
        if is_deadlock(error):
            raise SlotTaken() from error
        raise
    return appointment


def appointment_cancel(
    *,
    appointment: Appointment,
    actor: Any,
    reason: str = "",
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Cancel a visit; patients only outside the late window, staff at any time with a reason."""
    now = now or timezone.now()
    reason = reason.strip()
    staff = _is_staff(actor)
    with transaction.atomic():
        locked = (
            Appointment.objects.select_for_update()
            .select_related("location__clinic", "patient")
            .get(pk=appointment.pk)
        )
        if not staff and (actor is None or locked.patient.user_id != actor.pk):
            raise PermissionDenied(_("Patients may only cancel their own visits."))
        if locked.status != AppointmentStatus.BOOKED:
            raise NotCancellable(_("Only a visit that is still booked can be cancelled."))
        if locked.start <= now:
            raise NotCancellable(_("This visit has already started."))
        window = dt.timedelta(hours=locked.location.clinic.late_cancellation_hours)
        late = locked.start - now < window
        if late and not staff:
            raise TooLateToCancel(
                _(
                    "It is less than %(hours)d hours before your visit, so it can no longer "
                    "be cancelled online. Please call the clinic."
                )
                % {"hours": locked.location.clinic.late_cancellation_hours}
            )
        if late and not reason:
            raise TooLateToCancel(_("Give a reason to cancel inside the late-cancellation window."))
        locked.status = AppointmentStatus.CANCELLED
        locked.cancelled_at = now
        locked.cancellation_reason = reason
        locked.cancelled_late = late
        locked._change_reason = "cancelled"  # type: ignore[attr-defined]
        locked.save(
            update_fields=["status", "cancelled_at", "cancellation_reason", "cancelled_late"]
        )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type="appointment",
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={"status": "cancelled", "late": late, "staff_override": late and staff},
        )
    appointment.refresh_from_db()
    return appointment
