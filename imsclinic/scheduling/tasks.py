"""Background work for visits: the emails about them, each sent exactly once, and waitlist offers.

Exactly once, even with several `db_worker` processes: a task first inserts its
`AppointmentNotice(appointment, kind, key)` row, then sends, all inside one transaction. A
second run of the same notice (a duplicate task, a second worker, a retry after success)
hits the unique constraint `appointment_notice_once` and sends nothing; while the first
run's transaction is open, the second one's insert waits on it. If sending raises, the
transaction rolls back, the row goes with it, and a later run can send.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from imsclinic.clinic.models import Location, Practitioner
from imsclinic.scheduling.models import (
    Appointment,
    AppointmentNotice,
    AppointmentStatus,
    NoticeKind,
)
from imsclinic.scheduling.services.waitlist import waitlist_offer_freed_time

logger = logging.getLogger(__name__)

SENT = "sent"


def _claim_notice(appointment: Appointment, kind: NoticeKind, key: str) -> bool:
    """Insert the notice row; say False when this notice was already sent."""
    try:
        # A savepoint, so a duplicate leaves the outer transaction usable.
        with transaction.atomic():
            AppointmentNotice.objects.create(appointment=appointment, kind=kind, key=key)
    except IntegrityError:
        return False
    return True


def _load(appointment_id: int) -> Appointment | None:
    """Fetch and lock the visit, so a cancellation cannot slip in between check and send."""
    return (
        Appointment.objects.select_for_update(of=("self",), no_key=True)
        .select_related(
            "patient__user",
            "practitioner",
            "location__clinic",
            "service",
            "rescheduled_from__location__clinic",
            "rescheduled_from__service",
            "rescheduled_from__patient__user",
        )
        .filter(pk=appointment_id)
        .first()
    )


@task()
def send_appointment_notice(appointment_id: int, kind: str, key: str = SENT) -> bool:
    """Email the patient a confirmation, change or cancellation once; say whether it went."""
    from imsclinic.scheduling.notifications import send_notice_email

    notice_kind = NoticeKind(kind)
    with transaction.atomic():
        appointment = _load(appointment_id)
        if appointment is None:
            return False
        # A confirmation or move the worker reaches only after the visit was cancelled (or
        # has already happened) would contradict what followed; the cancellation says it all.
        announces_visit = notice_kind in (NoticeKind.CONFIRMATION, NoticeKind.CHANGE)
        if announces_visit and appointment.status != AppointmentStatus.BOOKED:
            return False
        if not _claim_notice(appointment, notice_kind, key):
            logger.info("notice %s for appointment %s already sent", kind, appointment_id)
            return False
        sent = send_notice_email(appointment=appointment, kind=notice_kind)
        if not sent:
            # No address to write to: drop the row, so adding one later and retrying works.
            transaction.set_rollback(True)
        return sent


@task()
def send_reminder(appointment_id: int, start_iso: str) -> bool:
    """Remind the patient of a visit still booked at the time it was booked for, once."""
    from imsclinic.scheduling.notifications import send_notice_email

    booked_start = dt.datetime.fromisoformat(start_iso)
    with transaction.atomic():
        appointment = _load(appointment_id)
        if appointment is None or appointment.status != AppointmentStatus.BOOKED:
            return False
        # The visit moved (or the reminder was queued for another time): this one is stale.
        if appointment.start != booked_start:
            return False
        # A worker that was down past the visit does not remind after the fact.
        if appointment.start <= timezone.now():
            return False
        if not _claim_notice(appointment, NoticeKind.REMINDER, start_iso):
            logger.info("reminder for appointment %s already sent", appointment_id)
            return False
        sent = send_notice_email(appointment=appointment, kind=NoticeKind.REMINDER)
        if not sent:
            transaction.set_rollback(True)
        return sent


@task()
def offer_freed_time(practitioner_id: int, location_id: int, start_iso: str) -> int:
    """Offer a time a cancellation or reschedule freed to the waitlist; return offers made."""
    practitioner = Practitioner.objects.filter(pk=practitioner_id).first()
    location = Location.objects.filter(pk=location_id).first()
    if practitioner is None or location is None:
        return 0
    start = dt.datetime.fromisoformat(start_iso)
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.UTC)
    offers = waitlist_offer_freed_time(practitioner=practitioner, location=location, start=start)
    return len(offers)
