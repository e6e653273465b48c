"""Booking, moving and cancelling appointments: every write to the schedule goes through here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from imsclinic.clinic.licences import needling_gaps, needling_refusal
from imsclinic.clinic.models import Location, Practitioner, Room, Service
from imsclinic.core.access import record_refusal
from imsclinic.core.audit import audit_record
from imsclinic.core.errors import BookingError
from imsclinic.core.locking import TakenMeanwhile, lock_rows, retry_transient
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.permissions import is_clinic_staff, is_owner
from imsclinic.patients.models import Patient
from imsclinic.patients.services import patient_care_team_add
from imsclinic.scheduling.availability import (
    AvailabilityQuery,
    Slot,
    slot_is_offered,
)
from imsclinic.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    CancelledBy,
    Course,
    NoticeKind,
)
from imsclinic.scheduling.selectors import booking_check, visit_booked_at
from imsclinic.scheduling.signals import visit_status_changed

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

# The names the database gives its overlap guards (constraints on PostgreSQL, triggers on
# SQLite); an IntegrityError naming one of them means another booking got there first.
OVERLAP_GUARDS = ("appointment_practitioner_no_overlap", "appointment_room_no_overlap")
ROOM_GUARD = "appointment_room_no_overlap"
PATIENT_GUARD = "appointment_patient_no_overlap"
DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE


class SlotUnavailable(BookingError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("That time is not available. Please choose another."))


class SlotTaken(SlotUnavailable):
    """Someone else booked the time between the offer and the click."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("That time was just taken. Please choose another."))


class BedTakenMeanwhile(SlotTaken, TakenMeanwhile):
    """Another practitioner's booking took the bed between our check and our insert.

    The outermost booking transaction runs again (`retry_transient`) and finds another bed;
    inside a caller's own transaction it is simply the time taken.
    """


class PatientBusy(SlotUnavailable):
    """The patient already has a visit at that time (with anyone, anywhere)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("The patient already has a visit at that time."))


class LicenceNotCurrent(SlotUnavailable):
    """The practitioner may not needle on that day there: a licence is missing or expired."""


class FirstVisitMustBeAssessment(BookingError):
    def __init__(self, assessment: Service | None = None) -> None:
        name = assessment.name if assessment is not None else _("an initial assessment")
        super().__init__(
            _("Your first IMS visit must be %(name)s. Please book that first.") % {"name": name}
        )
        self.assessment = assessment


class InitialAssessmentAlreadyBooked(BookingError):
    """A second new-patient IMS visit for a patient who has an IMS visit booked or behind them."""

    def __init__(self, service: Service) -> None:
        super().__init__(
            _(
                "You already have an IMS visit booked or behind you, so %(name)s is not for "
                "you again. Choose a follow-up instead."
            )
            % {"name": service.name}
        )
        self.service = service


class TooLateToCancel(BookingError):
    pass


class NotCancellable(BookingError):
    pass


class CancelledByUnstated(BookingError):
    """A cancellation that does not say, or may not say, who called the visit off."""


class StatusChangeNotAllowed(BookingError):
    """A status change the transition table (or the actor's role) does not allow."""


def is_deadlock(error: BaseException) -> bool:
    """Say whether PostgreSQL aborted this transaction to break a deadlock."""
    return getattr(error.__cause__, "sqlstate", None) == DEADLOCK_DETECTED


def _is_staff(actor: User | None) -> bool:
    return bool(getattr(actor, "is_clinic_staff", False))


@contextmanager
def overlap_refused_as_taken() -> Iterator[None]:
    """Turn the database's refusal of an overlapping visit into SlotTaken.

    Wrap the whole transaction: on PostgreSQL it cannot go on after the refusal anyway. A
    deadlock (two bookings of one bed by different practitioners can each wait on the
    other's exclusion-constraint entry) goes on to `retry_transient`, which runs the booking
    again and says SlotTaken only if it keeps failing.
    """
    try:
        yield
    except IntegrityError as error:
        if PATIENT_GUARD in str(error):
            raise PatientBusy() from error
        if any(name in str(error) for name in OVERLAP_GUARDS):
            raise SlotTaken() from error
        raise


def _check_may_act(visit: Appointment, actor: User | None) -> None:
    """Refuse a staff member who may not act on this visit (`scheduling.act_on_visit`)."""
    if (
        actor is not None
        and _is_staff(actor)
        and not actor.has_perm("scheduling.act_on_visit", visit)
    ):
        raise PermissionDenied(
            _("You may act only on your own visits and those of patients in your care.")
        )


def notify_patient(appointment: Appointment, kind: NoticeKind) -> None:
    # Imported here: the notifications module reaches back into scheduling services.
    from imsclinic.scheduling.notifications import appointment_changed

    appointment_changed(appointment=appointment, kind=kind)


def check_may_book(*, patient: Patient, service: Service, actor: User | None) -> None:
    """Refuse what appointment_book refuses before looking at the calendar."""
    if not _is_staff(actor) and (actor is None or patient.user_id != actor.pk):
        raise PermissionDenied(_("Patients may only book visits for themselves."))
    if not service.is_active:
        raise SlotUnavailable(_("That service is not offered at the moment."))
    if not _is_staff(actor) and not service.bookable_online:
        raise SlotUnavailable(_("Please call the clinic to book this service."))
    if not _is_staff(actor):
        _check_screening_gate(patient, service)


def _check_screening_gate(patient: Patient, service: Service) -> None:
    """Refuse a patient's own IMS booking while their health answers stop it (issue 4)."""
    if not service.requires_ims_credential:
        return
    # Imported here: the safety app imports this module (its errors are BookingErrors).
    from imsclinic.safety.errors import OnlineImsBookingStopped
    from imsclinic.safety.selectors import online_ims_refusal

    refusal = online_ims_refusal(patient)
    if refusal is not None:
        raise OnlineImsBookingStopped(refusal)


def has_had_ims_visit(patient: Patient, before: dt.datetime | None = None) -> bool:
    """Say whether the patient has an IMS visit booked or behind them (before a time)."""
    visits = Appointment.objects.filter(
        patient=patient, service__requires_ims_credential=True, status__in=ACTIVE_STATUSES
    )
    if before is not None:
        visits = visits.filter(start__lt=before)
    return visits.exists()


def needs_assessment_first(
    patient: Patient,
    service: Service,
    before: dt.datetime | None = None,
    *,
    had_ims_visit: bool | None = None,
) -> bool:
    """Say whether this IMS follow-up would be refused for want of an earlier IMS visit.

    `had_ims_visit` is that history when the caller has read it already (`booking_check`).
    """
    if not service.requires_ims_credential or service.for_new_patients:
        return False
    if had_ims_visit is None:
        had_ims_visit = has_had_ims_visit(patient, before)
    return not had_ims_visit


def has_initial_assessment(patient: Patient, service: Service) -> bool:
    """Say whether this new-patient IMS visit would be a second one (the first-visit rule).

    An IMS service for new patients is the first IMS visit; a patient with any IMS visit
    booked or behind them (`has_had_ims_visit`, the rule that opens follow-ups) has had it.
    """
    if not service.requires_ims_credential or not service.for_new_patients:
        return False
    return has_had_ims_visit(patient)


def check_first_visit(
    patient: Patient, service: Service, start: dt.datetime, *, had_ims_visit: bool | None = None
) -> None:
    """Refuse an IMS follow-up for a patient who has not had an IMS visit before it."""
    if needs_assessment_first(patient, service, start, had_ims_visit=had_ims_visit):
        assessment = (
            Service.objects.filter(
                requires_ims_credential=True, for_new_patients=True, is_active=True
            )
            .order_by("order", "pk")
            .first()
        )
        raise FirstVisitMustBeAssessment(assessment)


# Locks, in the one order of `imsclinic.core.locking`: the practitioners (in pk order), then
# the patient, then the beds a new visit takes (`lock_beds`), then the visit
# (`_locked_visit`); the audit log takes none. Booking, courses, moves and waitlist claims
# take them all; cancelling and status changes only the visit.


def lock_practitioners(*practitioner_ids: int) -> None:
    """Queue behind every other booking for these practitioners, always in pk order (first)."""
    lock_rows(Practitioner, *practitioner_ids)


def lock_patient(patient: Patient) -> None:
    """Queue behind any other booking for this patient (after the practitioners' locks)."""
    lock_rows(Patient, patient.pk)


def lock_beds(*room_ids: int | None) -> None:
    """Queue behind any other booking into these beds (in pk order), just before inserting.

    Two practitioners' bookings of one bed would otherwise insert at the same moment and
    each wait on the other's entry in the bed's overlap guard, a deadlock PostgreSQL breaks
    by aborting one. Under the lock the second insert finds the first committed and is
    refused at once (and `create_checked` looks for another bed).
    """
    lock_rows(Room, *(pk for pk in room_ids if pk is not None))


def _locked_visit(appointment_id: int, *related: str) -> Appointment:
    """Re-read the visit under its row lock (last in the order), with related rows unlocked.

    Only the visit's own row: locking its location and clinic too would queue this change
    behind every booking at the location, and deadlock with them.
    """
    return (
        Appointment.objects.select_for_update(of=("self",), no_key=True)
        .select_related(*related)
        .get(pk=appointment_id)
    )


def _check_patient_free(query: AvailabilityQuery, patient: Patient, start: dt.datetime) -> None:
    """Refuse a time that overlaps one of the patient's own visits, saying so."""
    service = query.service
    begin = start.timestamp()
    finish = begin + service.duration_minutes * 60
    for busy in query.patient_busy:
        low, high = (
            busy if isinstance(busy, tuple) else (busy.start.timestamp(), busy.end.timestamp())
        )
        if low < finish and begin < high:
            raise PatientBusy()


def _check_licences(
    query: AvailabilityQuery,
    practitioner: Practitioner,
    location_id: int,
    start: dt.datetime,
    *,
    staff: bool,
) -> None:
    """Refuse an IMS time for want of a licence, saying which (staff) or plainly (patients).

    The licences come from the re-check's own fresh read (`booking_check_query`), judged by
    the one rule (`clinic.licences`) the engine applied.
    """
    if not query.service.requires_ims_credential:
        return
    who = next((p for p in query.practitioners if p.practitioner_id == practitioner.pk), None)
    place = next((loc for loc in query.locations if loc.location_id == location_id), None)
    if who is None or place is None:
        return
    day = start.astimezone(ZoneInfo(place.time_zone)).date()
    gaps = needling_gaps(
        who.licences, day, authorisation_required=place.needling_authorisation_required
    )
    if not gaps:
        return
    if staff:
        raise LicenceNotCurrent(needling_refusal(gaps, name=practitioner.display_name, day=day))
    raise LicenceNotCurrent(
        _(
            "%(name)s cannot give IMS visits on that day. Please choose another day or "
            "another practitioner."
        )
        % {"name": practitioner.display_name}
    )


def _require_licences(visit: Appointment) -> None:
    """Refuse to start an IMS visit's treatment unless every licence is current that day."""
    day = visit.start.astimezone(visit.location.zone).date()
    gaps = visit.practitioner.needling_gaps(day, visit.location)
    if gaps:
        raise StatusChangeNotAllowed(
            needling_refusal(gaps, name=visit.practitioner.display_name, day=day)
        )


def create_checked(
    *,
    patient: Patient,
    practitioner: Practitioner,
    service: Service,
    location: Location,
    slot: Slot,
    actor: User | None,
    request: HttpRequest | None,
    course: Course | None = None,
    rescheduled_from: Appointment | None = None,
    on_care_team: bool | None = None,
) -> Appointment:
    """Insert a visit for a slot just checked under the practitioner's lock, and audit it.

    Run inside `overlap_refused_as_taken()` and a transaction: the database's guards still
    refuse an overlap the check missed. When the bed's guard refuses the insert, another
    practitioner's booking took the bed between our check and our insert (the practitioner
    lock does not cover beds) and has committed by now: `BedTakenMeanwhile` sends the whole
    transaction round again (`retry_transient`), and its fresh check finds another free bed if
    there is one. No savepoint is needed for that, and none is paid for on every booking.
    `on_care_team` is what the caller's check read (None: ask). The caller checks the
    first-visit rule.
    """
    # Elapsed time, not wall time: on a DST change day the two differ.
    start = slot.start.astimezone(dt.UTC)
    end = start + dt.timedelta(minutes=service.duration_minutes)
    lock_beds(slot.room_id)
    try:
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
            course=course,
            rescheduled_from=rescheduled_from,
        )
    except IntegrityError as error:
        if ROOM_GUARD in str(error):
            raise BedTakenMeanwhile() from error
        raise
    if not on_care_team:
        patient_care_team_add(
            patient=patient, practitioner=practitioner, actor=actor, request=request
        )
    detail: dict[str, Any] = {
        "service": service.slug,
        "practitioner": practitioner.pk,
        "start": start.isoformat(),
    }
    if course is not None:
        detail["course"] = course.pk
    if rescheduled_from is not None:
        detail["rescheduled_from"] = rescheduled_from.pk
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type=ObjectType.APPOINTMENT,
        object_id=appointment.pk,
        patient=patient,
        request=request,
        detail=detail,
    )
    return appointment


@retry_transient(conflict=SlotTaken)
def appointment_book(
    *,
    patient: Patient,
    practitioner: Practitioner,
    service: Service,
    location: Location,
    start: dt.datetime,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
    notify: bool = True,
) -> Appointment:
    """Book a visit if that exact time is still offered; the database refuses any overlap.

    `notify=False` books without emailing the patient, for visits entered from records
    (the demo clinic's history) rather than booked with them.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    check_may_book(patient=patient, service=service, actor=actor)
    with overlap_refused_as_taken(), transaction.atomic():
        # Bookings for one practitioner queue here, so the re-check below sees every
        # booking committed before ours.
        lock_practitioners(practitioner.pk)
        lock_patient(patient)
        check = booking_check(
            service=service,
            practitioner=practitioner,
            location=location,
            start=start,
            now=now,
            patient=patient,
        )
        check_first_visit(patient, service, start, had_ims_visit=check.had_ims_visit)
        query = check.query
        slot = slot_is_offered(query, practitioner.pk, location.pk, start)
        if slot is None:
            _check_patient_free(query, patient, start)
            _check_licences(query, practitioner, location.pk, start, staff=_is_staff(actor))
            raise SlotUnavailable()
        appointment = create_checked(
            patient=patient,
            practitioner=practitioner,
            service=service,
            location=location,
            slot=slot,
            actor=actor,
            request=request,
            on_care_team=check.on_care_team,
        )
        if notify:
            notify_patient(appointment, NoticeKind.CONFIRMATION)
    return appointment


def appointment_book_once(
    *,
    patient: Patient,
    practitioner: Practitioner,
    service: Service,
    location: Location,
    start: dt.datetime,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book a visit as `appointment_book` does; the same booking sent again returns the first.

    A form sent twice (a double click, a reload) finds its time taken by its own first
    request: that visit is the answer, not a refusal.
    """
    try:
        return appointment_book(
            patient=patient,
            practitioner=practitioner,
            service=service,
            location=location,
            start=start,
            actor=actor,
            request=request,
            now=now,
        )
    except SlotUnavailable:
        repeated = visit_booked_at(
            patient=patient, practitioner=practitioner, service=service, start=start
        )
        if repeated is None:
            raise
        return repeated


def inside_late_window(visit: Appointment, now: dt.datetime) -> bool:
    """Say whether the visit is too close to cancel or move online (the clinic's window)."""
    hours = visit.location.clinic.late_cancellation_hours
    return visit.start - now < dt.timedelta(hours=hours)


def _late_window_check(
    visit: Appointment, *, now: dt.datetime, staff: bool, reason: str, moving: bool
) -> bool:
    """Say whether the visit is inside the late window; refuse who may not act there."""
    hours = visit.location.clinic.late_cancellation_hours
    late = inside_late_window(visit, now)
    if late and not staff:
        if moving:
            message = _(
                "It is less than %(hours)d hours before your visit, so it can no longer "
                "be moved online. Please call the clinic."
            )
        else:
            message = _(
                "It is less than %(hours)d hours before your visit, so it can no longer "
                "be cancelled online. Please call the clinic."
            )
        raise TooLateToCancel(message % {"hours": hours})
    if late and not reason:
        if moving:
            raise TooLateToCancel(
                _("Give a reason to move a visit inside the late window."), field="reason"
            )
        raise TooLateToCancel(
            _("Give a reason to cancel inside the late-cancellation window."), field="reason"
        )
    return late


@retry_transient()
def appointment_cancel(
    *,
    appointment: Appointment,
    actor: User | None,
    reason: str = "",
    cancelled_by: str = "",
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
    notify: bool = True,
) -> Appointment:
    """Cancel a visit; patients only outside the late window, staff at any time with a reason.

    `cancelled_by` says who called the visit off (`CancelledBy`). A patient's own
    cancellation is always theirs. Staff say it inside the late window, where it decides the
    fee: the patient's late cancellation is charged (`billing.receivers`), the clinic's is
    not, and its email apologises. Outside the window staff may leave it unsaid.
    """
    now = now or timezone.now()
    reason = reason.strip()
    staff = _is_staff(actor)
    if cancelled_by and cancelled_by not in CancelledBy.values:
        raise CancelledByUnstated(
            _("Say whether the patient or the clinic cancelled."), field="cancelled_by"
        )
    if not staff:
        if cancelled_by == CancelledBy.CLINIC:
            raise CancelledByUnstated(
                _("Only the clinic can record a cancellation as the clinic's."),
                field="cancelled_by",
            )
        cancelled_by = CancelledBy.PATIENT
    with transaction.atomic():
        locked = _locked_visit(appointment.pk, "location__clinic", "patient", "practitioner")
        if not staff and (actor is None or locked.patient.user_id != actor.pk):
            raise PermissionDenied(_("Patients may only cancel their own visits."))
        _check_may_act(locked, actor)
        if locked.status != AppointmentStatus.BOOKED:
            raise NotCancellable(_("Only a visit that is still booked can be cancelled."))
        if locked.start <= now:
            raise NotCancellable(_("This visit has already started."))
        late = _late_window_check(locked, now=now, staff=staff, reason=reason, moving=False)
        if late and not cancelled_by:
            raise CancelledByUnstated(
                _(
                    "Say who cancelled: a late cancellation by the patient is charged its "
                    "fee, one by the clinic is not."
                ),
                field="cancelled_by",
            )
        locked.status = AppointmentStatus.CANCELLED
        locked.cancelled_at = now
        locked.cancellation_reason = reason
        locked.cancelled_late = late
        locked.cancelled_by = cancelled_by
        locked._change_reason = "cancelled"  # type: ignore[attr-defined]
        locked.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancellation_reason",
                "cancelled_late",
                "cancelled_by",
            ]
        )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.APPOINTMENT,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={
                "status": "cancelled",
                "late": late,
                "staff_override": late and staff,
                "cancelled_by": cancelled_by,
            },
        )
        visit_status_changed.send(
            sender=Appointment,
            appointment=locked,
            source=AppointmentStatus.BOOKED,
            target=AppointmentStatus.CANCELLED,
            late=late,
            actor=actor,
            now=now,
        )
        if notify:
            notify_patient(locked, NoticeKind.CANCELLATION)
    appointment.refresh_from_db()
    return appointment


@retry_transient(conflict=SlotTaken)
def appointment_reschedule(
    *,
    appointment: Appointment,
    start: dt.datetime,
    actor: User | None,
    practitioner: Practitioner | None = None,
    location: Location | None = None,
    reason: str = "",
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move a booked visit to a new time (and maybe practitioner or location); all or nothing.

    The old visit is cancelled first, inside the same transaction, so that the visit may move
    to a time overlapping its old one; if the new time is not offered, nothing changes.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    now = now or timezone.now()
    reason = reason.strip()
    staff = _is_staff(actor)
    with overlap_refused_as_taken(), transaction.atomic():
        old_practitioner_id = (
            Appointment.objects.filter(pk=appointment.pk)
            .values_list("practitioner_id", flat=True)
            .get()
        )
        new_practitioner = practitioner or Practitioner.objects.get(pk=old_practitioner_id)
        # Both practitioners in pk order, the patient, then the visit: the same order as
        # every booking.
        lock_practitioners(old_practitioner_id, new_practitioner.pk)
        lock_patient(appointment.patient)
        old = _locked_visit(appointment.pk, "location__clinic", "patient", "service")
        if not staff and (actor is None or old.patient.user_id != actor.pk):
            raise PermissionDenied(_("Patients may only move their own visits."))
        _check_may_act(old, actor)
        if old.status != AppointmentStatus.BOOKED:
            raise NotCancellable(_("Only a visit that is still booked can be moved."))
        if old.start <= now:
            raise NotCancellable(_("This visit has already started."))
        service = old.service
        if not staff and not service.bookable_online:
            raise SlotUnavailable(_("Please call the clinic to move this visit."))
        if not staff:
            # A move books a new time: the same screening gate as a new booking.
            _check_screening_gate(old.patient, service)
        new_location = location or old.location
        if (
            start.timestamp() == old.start.timestamp()
            and new_practitioner.pk == old.practitioner_id
            and new_location.pk == old.location_id
        ):
            raise SlotUnavailable(_("The visit is already booked for that time."))
        late = _late_window_check(old, now=now, staff=staff, reason=reason, moving=True)

        old.status = AppointmentStatus.CANCELLED
        old.cancelled_at = now
        old.cancellation_reason = (
            _("Rescheduled: %(reason)s") % {"reason": reason} if reason else _("Rescheduled")
        )
        old.cancelled_late = late
        old._change_reason = "rescheduled"  # type: ignore[attr-defined]
        old.save(update_fields=["status", "cancelled_at", "cancellation_reason", "cancelled_late"])

        # Read after the cancellation: the old visit no longer blocks its own time.
        check = booking_check(
            service=service,
            practitioner=new_practitioner,
            location=new_location,
            start=start,
            now=now,
            patient=old.patient,
        )
        query = check.query
        slot = slot_is_offered(query, new_practitioner.pk, new_location.pk, start)
        if slot is None:
            _check_patient_free(query, old.patient, start)
            _check_licences(query, new_practitioner, new_location.pk, start, staff=staff)
            raise SlotUnavailable()
        check_first_visit(old.patient, service, slot.start, had_ims_visit=check.had_ims_visit)
        new = create_checked(
            patient=old.patient,
            practitioner=new_practitioner,
            service=service,
            location=new_location,
            slot=slot,
            actor=actor,
            request=request,
            course=old.course,
            rescheduled_from=old,
            on_care_team=check.on_care_team,
        )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.APPOINTMENT,
            object_id=old.pk,
            patient=old.patient,
            request=request,
            detail={
                "status": "cancelled",
                "rescheduled_to": new.pk,
                "late": late,
                "staff_override": late and staff,
            },
        )
        notify_patient(new, NoticeKind.CHANGE)
    return new


# Who may make each status change: "staff" is anyone on the clinic's staff, "treating" the
# practitioner of the visit or the owner. Cancelling is appointment_cancel's job.
_TRANSITIONS: dict[tuple[str, str], str] = {
    (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED): "staff",
    (AppointmentStatus.ARRIVED, AppointmentStatus.BOOKED): "staff",
    (AppointmentStatus.ARRIVED, AppointmentStatus.IN_TREATMENT): "treating",
    (AppointmentStatus.IN_TREATMENT, AppointmentStatus.COMPLETED): "treating",
    (AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW): "staff",
    (AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW): "staff",
}


def allowed_status_changes(
    appointment: Appointment, actor: User | None, *, may_act: bool | None = None
) -> list[str]:
    """Return the statuses this actor may move the visit to now (for buttons on pages).

    `may_act` is the visit rule's answer when the caller already has it for a whole page of
    visits (`selectors.with_patient_shown`); otherwise the rule is asked here, for this visit.
    """
    if actor is None or not is_clinic_staff(actor):
        return []
    if may_act is None:
        may_act = actor.has_perm("scheduling.act_on_visit", appointment)
    if not may_act:
        return []
    return [
        to
        for (source, to), who in _TRANSITIONS.items()
        if source == appointment.status and _may_change(appointment, actor, who)
    ]


def _may_change(appointment: Appointment, actor: User | None, who: str) -> bool:
    """Say whether the table lets this staff member make a change (the visit rule is apart)."""
    if actor is None or not is_clinic_staff(actor):
        return False
    if who == "treating":
        return bool(is_owner(actor) or appointment.practitioner.user_id == actor.pk)
    return True


def appointment_set_status(
    *,
    appointment: Appointment,
    status: str,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move a visit along the day (check-in, treatment, completed, no-show) by the table."""
    from imsclinic.safety.errors import NeedlingNotAllowed

    now = now or timezone.now()
    if actor is None or not is_clinic_staff(actor):
        raise PermissionDenied(_("Only clinic staff may change the status of a visit."))
    if status not in AppointmentStatus.values:
        raise StatusChangeNotAllowed(_("That is not a status a visit can have."))
    try:
        _change_status(appointment, AppointmentStatus(status), actor, request, now)
    except NeedlingNotAllowed as refusal:
        # The visit is unchanged; the refused attempt to start needling stays on record.
        record_refusal(
            request,
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.APPOINTMENT,
            object_id=appointment.pk,
            patient_id=appointment.patient_id,
            detail={"status": {"to": str(status)}, "missing": len(refusal.missing)},
        )
        raise
    appointment.refresh_from_db()
    return appointment


@retry_transient()
def _change_status(
    appointment: Appointment,
    target: AppointmentStatus,
    actor: User,
    request: HttpRequest | None,
    now: dt.datetime,
) -> None:
    # Never inside a caller's transaction: a refused start of needling is recorded after
    # this one rolls back (appointment_set_status), and must not roll back with the caller's.
    with transaction.atomic(durable=True):
        locked = _locked_visit(appointment.pk, "practitioner", "patient", "location__clinic")
        source = locked.status
        who = _TRANSITIONS.get((source, target))
        if who is None:
            raise StatusChangeNotAllowed(
                _("A visit that is %(source)s cannot be marked %(target)s.")
                % {
                    "source": AppointmentStatus(source).label.lower(),
                    "target": target.label.lower(),
                }
            )
        if not actor.has_perm("scheduling.act_on_visit", locked):
            raise StatusChangeNotAllowed(
                _("You may act only on your own visits and those of patients in your care.")
            )
        if not _may_change(locked, actor, who):
            raise StatusChangeNotAllowed(
                _("Only the treating practitioner or the owner may start or complete treatment.")
            )
        if target == AppointmentStatus.NO_SHOW and now < locked.start:
            raise StatusChangeNotAllowed(
                _("A visit can be marked a no-show only once its start time has passed.")
            )
        _check_the_clock(locked, target, now)
        if target == AppointmentStatus.IN_TREATMENT and locked.service.requires_ims_credential:
            # The interlock: no needling without current intake, clearance and consent.
            from imsclinic.safety.readiness import require_needling_readiness

            require_needling_readiness(locked.patient, at=now)
            _require_licences(locked)
        fields = ["status"]
        locked.status = target
        if target == AppointmentStatus.ARRIVED:
            locked.arrived_at = now
            fields.append("arrived_at")
        elif source == AppointmentStatus.ARRIVED and target == AppointmentStatus.BOOKED:
            locked.arrived_at = None  # the check-in was a mistake
            fields.append("arrived_at")
        locked._change_reason = f"status {source} to {target}"  # type: ignore[attr-defined]
        locked.save(update_fields=fields)
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.APPOINTMENT,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={"status": {"from": str(source), "to": str(target)}},
        )
        visit_status_changed.send(
            sender=Appointment,
            appointment=locked,
            source=source,
            target=target,
            late=False,
            actor=actor,
            now=now,
        )


def _check_the_clock(visit: Appointment, target: AppointmentStatus, now: dt.datetime) -> None:
    """Refuse checking in before the visit's day, or treating before the clinic allows."""
    zone = visit.location.zone
    if target == AppointmentStatus.ARRIVED and visit.status == AppointmentStatus.BOOKED:
        day = visit.start.astimezone(zone).date()
        if now.astimezone(zone).date() < day:
            raise StatusChangeNotAllowed(
                _("A visit can be checked in from its own day, %(day)s.")
                % {"day": date_format(day, "DATE_FORMAT")}
            )
    if target == AppointmentStatus.IN_TREATMENT:
        opens = visit.start - dt.timedelta(minutes=visit.location.clinic.treatment_early_minutes)
        if now < opens:
            raise StatusChangeNotAllowed(
                _("Treatment can start from %(time)s, shortly before the visit.")
                % {"time": time_format(opens.astimezone(zone), "H:i")}
            )
