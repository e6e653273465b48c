"""Emails about visits: confirmations, changes, cancellations and reminders, each with an .ics.

The services call `appointment_changed` inside their transaction; its task rows are written
in that transaction, so they are queued if and only if it commits (core.queueing). The
emails themselves are sent by the tasks in `tasks.py`, exactly once each (see there).

- CONFIRMATION: "your visit is booked", with a REQUEST .ics; also queues the reminder.
- CHANGE (a reschedule; `appointment` is the new visit, `appointment.rescheduled_from` the old
  one): one email "your visit has moved" carrying two .ics files, a REQUEST for the new visit
  (its own UID) and a CANCEL for the old one (the old UID), so a calendar drops the old entry
  and adds the new; also queues the new visit's reminder and offers the freed time to the
  waitlist.
- CANCELLATION: a CANCEL .ics; offers the freed time to the waitlist.
- Reminders go `Clinic.reminder_hours` of elapsed time before the start (24 h before a 10:00
  visit the day after a DST change is 09:00 or 11:00 wall time the day before). A visit booked
  inside that window gets no reminder: its confirmation has just gone.

Links in emails start with `settings.SITE_URL` (environment `SITE_URL`).
"""

from __future__ import annotations

import datetime as dt
import logging
from email.message import MIMEPart
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from imsclinic.clinic.models import Clinic
from imsclinic.core.queueing import TaskCall, enqueue_together, queue_with_change
from imsclinic.scheduling.ics import Method, appointment_ics, portal_url
from imsclinic.scheduling.models import Appointment, CancelledBy, NoticeKind
from imsclinic.scheduling.signals import notice_composing, reminder_composing

logger = logging.getLogger(__name__)


def appointment_changed(*, appointment: Appointment, kind: NoticeKind) -> None:
    """Queue the email (and, for a booking, the reminder) this change calls for."""
    kind = NoticeKind(kind)
    appointment_id = appointment.pk
    location_id = appointment.location_id
    start = appointment.start
    freed = appointment.rescheduled_from if kind == NoticeKind.CHANGE else appointment
    # The caller's location often has its clinic loaded already (the API's booking does):
    # then the reminder needs no query of its own.
    location = appointment.location
    known_hours = (
        location.clinic.reminder_hours
        if type(location)._meta.get_field("clinic").is_cached(location)
        else None
    )

    def queue() -> None:
        from imsclinic.scheduling.tasks import SENT, send_appointment_notice

        # The email and the reminder it announces go in as one INSERT (core.queueing).
        calls: list[TaskCall] = [(send_appointment_notice, (appointment_id, kind.value, SENT))]
        if kind in (NoticeKind.CONFIRMATION, NoticeKind.CHANGE):
            reminder_hours = (
                known_hours
                if known_hours is not None
                else Clinic.objects.filter(locations__pk=location_id).values_list(
                    "reminder_hours", flat=True
                )[0]
            )
            reminder = reminder_call(
                appointment_id=appointment_id, start=start, reminder_hours=reminder_hours
            )
            if reminder is not None:
                calls.append(reminder)
        enqueue_together(calls)
        if kind in (NoticeKind.CANCELLATION, NoticeKind.CHANGE) and freed is not None:
            freed_time_offer(freed)

    # The task rows commit with the visit (see queue_with_change).
    queue_with_change(queue)


def reminder_due(start: dt.datetime, reminder_hours: int) -> dt.datetime:
    """Return when a visit's reminder is due: that many elapsed hours before it starts."""
    # Aware arithmetic in UTC is elapsed time, whatever the location's DST does.
    return start.astimezone(dt.UTC) - dt.timedelta(hours=reminder_hours)


def gets_reminder(start: dt.datetime, reminder_hours: int, now: dt.datetime | None = None) -> bool:
    """Say whether a visit gets a reminder: not when it is already inside the window."""
    return reminder_due(start, reminder_hours) > (now or timezone.now())


def reminder_schedule(
    *,
    appointment_id: int,
    start: dt.datetime,
    reminder_hours: int,
    now: dt.datetime | None = None,
) -> dt.datetime | None:
    """Queue the reminder for its due time; return it, or None when it is already past."""
    reminder = reminder_call(
        appointment_id=appointment_id, start=start, reminder_hours=reminder_hours, now=now
    )
    if reminder is None:
        return None
    task, args = reminder
    task.enqueue(*args)
    return task.run_after


def reminder_call(
    *,
    appointment_id: int,
    start: dt.datetime,
    reminder_hours: int,
    now: dt.datetime | None = None,
) -> TaskCall | None:
    """Return the reminder task, due at its time, and its arguments; None when already past."""
    from imsclinic.scheduling.tasks import send_reminder

    if not gets_reminder(start, reminder_hours, now):
        return None
    due = reminder_due(start, reminder_hours)
    start_iso = start.astimezone(dt.UTC).isoformat()
    return send_reminder.using(run_after=due), (appointment_id, start_iso)


def freed_time_offer(appointment: Appointment) -> None:
    """Queue offering a freed visit's time to waiting patients (tasks.offer_freed_time)."""
    # Imported here: the waitlist books through the services, which call this module.
    from imsclinic.scheduling.tasks import offer_freed_time

    offer_freed_time.enqueue(
        appointment.practitioner_id,
        appointment.location_id,
        appointment.start.astimezone(dt.UTC).isoformat(),
    )


def local_time_label(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """Return e.g. 'Tuesday 3 November 2026, 10:00 PST' in the given zone."""
    local = moment.astimezone(zone)
    return _("%(date)s, %(time)s %(zone)s") % {
        "date": date_format(local, "l j F Y"),
        "time": date_format(local, "H:i"),
        "zone": local.tzname() or "",
    }


def _subject(kind: NoticeKind, appointment: Appointment, when: str) -> str:
    values = {"service": appointment.service.name, "when": when}
    subjects = {
        NoticeKind.CONFIRMATION: _("Booked: %(service)s on %(when)s"),
        NoticeKind.CHANGE: _("Moved: %(service)s now on %(when)s"),
        NoticeKind.CANCELLATION: _("Cancelled: %(service)s on %(when)s"),
        NoticeKind.REMINDER: _("Reminder: %(service)s on %(when)s"),
    }
    return subjects[kind] % values


def _headline(kind: NoticeKind) -> str:
    headlines = {
        NoticeKind.CONFIRMATION: _("Your visit is booked."),
        NoticeKind.CHANGE: _("Your visit has moved to a new time."),
        NoticeKind.CANCELLATION: _("Your visit has been cancelled."),
        NoticeKind.REMINDER: _("This is a reminder of your upcoming visit."),
    }
    return headlines[kind]


def _calendar_part(content: bytes, *, method: Method, filename: str) -> MIMEPart:
    part = MIMEPart()
    part.set_content(
        content.decode(),
        subtype="calendar",
        params={"method": method},
        disposition="attachment",
        filename=filename,
    )
    return part


def _reminder_extras(appointment: Appointment) -> dict[str, Any]:
    """Return what the areas above scheduling add to a reminder (`signals.reminder_composing`)."""
    extras: dict[str, Any] = {"measures_url": ""}
    for _receiver, answer in reminder_composing.send(sender=Appointment, appointment=appointment):
        if isinstance(answer, dict):
            extras.update(answer)
    return extras


def _notice_extras(appointment: Appointment, kind: NoticeKind) -> dict[str, Any]:
    """Return what the areas above scheduling add to any notice (`signals.notice_composing`)."""
    extras: dict[str, Any] = {"fee_policy": ""}
    for _receiver, answer in notice_composing.send(
        sender=Appointment, appointment=appointment, kind=str(kind)
    ):
        if isinstance(answer, dict):
            extras.update(answer)
    return extras


def send_notice_email(*, appointment: Appointment, kind: NoticeKind) -> bool:
    """Email the patient about their visit; say False when they have no email address."""
    recipient = appointment.patient.contact_email
    if not recipient:
        return False
    location = appointment.location
    clinic = location.clinic
    zone = location.zone
    with translation.override(settings.LANGUAGE_CODE):
        when = local_time_label(appointment.start, zone)
        previous = appointment.rescheduled_from if kind == NoticeKind.CHANGE else None
        patient = appointment.patient
        by_clinic = (
            kind == NoticeKind.CANCELLATION and appointment.cancelled_by == CancelledBy.CLINIC
        )
        context: dict[str, Any] = {
            "kind": str(kind),
            "headline": (
                _("We are sorry: we have had to cancel your visit.")
                if by_clinic
                else _headline(kind)
            ),
            "by_clinic": by_clinic,
            "name": patient.preferred_name or patient.given_name,
            "service": appointment.service.name,
            "when": when,
            "ends": date_format(appointment.end.astimezone(zone), "H:i"),
            "previous_when": (
                local_time_label(previous.start, previous.location.zone) if previous else ""
            ),
            "practitioner": appointment.practitioner.display_name,
            "clinic": clinic,
            "location": location,
            "phone": location.phone or clinic.phone,
            "portal_url": portal_url(),
            "late_hours": clinic.late_cancellation_hours,
            "cancelled": kind == NoticeKind.CANCELLATION,
            "measures_url": "",
        }
        context.update(_notice_extras(appointment, kind))
        if kind == NoticeKind.REMINDER:
            context.update(_reminder_extras(appointment))
        message = EmailMultiAlternatives(
            subject=_subject(kind, appointment, when),
            body=render_to_string("scheduling/email/notice.txt", context),
            to=[recipient],
            reply_to=[clinic.email],
        )
        message.attach_alternative(
            render_to_string("scheduling/email/notice.html", context), "text/html"
        )
        if kind in (NoticeKind.CONFIRMATION, NoticeKind.CHANGE):
            message.attach(
                _calendar_part(
                    appointment_ics(appointment, method="REQUEST"),
                    method="REQUEST",
                    filename="visit.ics",
                )
            )
        if previous is not None:
            message.attach(
                _calendar_part(
                    appointment_ics(previous, method="CANCEL"),
                    method="CANCEL",
                    filename="cancelled-visit.ics",
                )
            )
        if kind == NoticeKind.CANCELLATION:
            message.attach(
                _calendar_part(
                    appointment_ics(appointment, method="CANCEL"),
                    method="CANCEL",
                    filename="cancelled-visit.ics",
                )
            )
    message.send()
    logger.info("sent %s email for appointment %s", kind, appointment.pk)
    return True
