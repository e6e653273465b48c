"""Emails about visits: queued on commit, sent once, with an .ics that places the visit right."""

from __future__ import annotations

import datetime as dt
import email
from email.message import EmailMessage as ParsedMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from django.conf import LazySettings
from django.core import mail
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentNotice, NoticeKind, Shift
from imsclinic.scheduling.notifications import appointment_changed
from imsclinic.scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from imsclinic.scheduling.tasks import send_appointment_notice
from tests.factories import VANCOUVER

NOW = dt.datetime(2031, 2, 24, 12, 0, tzinfo=dt.UTC)
NOTICE_TASK = "imsclinic.scheduling.tasks.send_appointment_notice"
REMINDER_TASK = "imsclinic.scheduling.tasks.send_reminder"
WAITLIST_TASK = "imsclinic.scheduling.tasks.offer_freed_time"

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=VANCOUVER)


def book(
    patient: Patient, physio: User, service: Service, start: dt.datetime, actor: User
) -> Appointment:
    return appointment_book(
        patient=patient,
        practitioner=physio.practitioner,
        service=service,
        location=physio.practitioner.locations.get(),
        start=start,
        actor=actor,
        now=NOW,
    )


def queued(task_path: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=task_path).order_by("enqueued_at"))


def run(row: DBTaskResult) -> Any:
    """Run a queued task's own function with the arguments it was queued with."""
    result = row.task_result
    return row.task.call(*result.args, **result.kwargs)


def parsed(message: mail.EmailMessage) -> ParsedMessage:
    raw = message.message().as_bytes()
    return email.message_from_bytes(raw, policy=default_policy)  # type: ignore[return-value]


def calendars(message: mail.EmailMessage) -> dict[str, Calendar]:
    """Return the email's .ics attachments, parsed, by file name."""
    found = {}
    for part in parsed(message).walk():
        if part.get_content_type() == "text/calendar":
            found[str(part.get_filename())] = (
                Calendar.from_ical(part.get_content()),
                part.get_param("method"),
            )
    for name, (calendar, method) in found.items():
        assert calendar["METHOD"] == method, name
    return {name: calendar for name, (calendar, _) in found.items()}


def html_of(message: mail.EmailMessage) -> str:
    assert isinstance(message, mail.EmailMultiAlternatives)
    (html,) = [content for content, kind in message.alternatives if kind == "text/html"]
    return str(html)


def test_a_booking_queues_its_confirmation_and_reminder_in_its_own_transaction(
    patient: Patient,
    physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list[Shift],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The task rows commit with the visit: nothing waits for an on-commit hook that a crash
    # between the two could lose.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        visit = book(patient, physio, assessment, at(dt.date(2031, 3, 3), 10), front_desk)
    assert callbacks == []
    (notice,) = queued(NOTICE_TASK)
    assert notice.task_result.args == [visit.pk, "confirmation", "sent"]
    (reminder,) = queued(REMINDER_TASK)
    assert reminder.task_result.args == [visit.pk, "2031-03-03T18:00:00+00:00"]
    assert reminder.run_after == visit.start - dt.timedelta(hours=24)
    assert queued(WAITLIST_TASK) == []


def test_the_confirmation_tells_the_patient_when_where_and_how_to_change_it(
    patient: Patient,
    physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list[Shift],
    location: Location,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visit = book(patient, physio, assessment, at(dt.date(2031, 3, 3), 10), front_desk)
    assert run(queued(NOTICE_TASK)[0]) is True
    (message,) = mailoutbox
    assert message.to == ["pat@patients.example"]
    assert message.subject == "Booked: IMS initial assessment on Monday 3 March 2031, 10:00 PST"
    portal = "http://127.0.0.1:8000" + reverse("portal_home")
    for body in (message.body, html_of(message)):
        assert "Monday 3 March 2031, 10:00 PST" in body
        assert "Tara Treating" in body
        assert "100 Example Ave" in body
        assert "604-555-0101" in body
        assert portal in body
        assert "24 hours" in body
        # Nothing about the patient beyond their name: not their birth date, phone or notes.
        assert "1980" not in body
        assert "555-0199" not in body
    (calendar,) = calendars(message).values()
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(dt.UTC) == visit.start
    assert calendar["METHOD"] == "REQUEST"
    assert (
        AppointmentNotice.objects.filter(appointment=visit, kind=NoticeKind.CONFIRMATION).count()
        == 1
    )


def test_a_notice_task_run_twice_sends_one_email(
    patient: Patient,
    physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list[Shift],
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visit = book(patient, physio, assessment, at(dt.date(2031, 3, 3), 10), front_desk)
    assert send_appointment_notice.call(visit.pk, "confirmation", "sent") is True
    assert send_appointment_notice.call(visit.pk, "confirmation", "sent") is False
    assert len(mailoutbox) == 1
    assert AppointmentNotice.objects.filter(appointment=visit).count() == 1


def test_a_failed_send_leaves_no_record_so_a_retry_sends(
    patient: Patient,
    physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list[Shift],
    settings: LazySettings,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visit = book(patient, physio, assessment, at(dt.date(2031, 3, 3), 10), front_desk)
    locmem = settings.MAILERS
    # Nothing listens on port 1: the SMTP backend fails to connect.
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
        }
    }
    with pytest.raises(OSError):
        send_appointment_notice.call(visit.pk, "confirmation", "sent")
    assert not AppointmentNotice.objects.filter(appointment=visit).exists()
    settings.MAILERS = locmem
    assert send_appointment_notice.call(visit.pk, "confirmation", "sent") is True
    assert len(mailoutbox) == 1


def test_a_patient_without_an_email_address_is_not_recorded_as_told(
    other_patient: Patient,
    physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list[Shift],
    mailoutbox: list[mail.EmailMessage],
) -> None:
    assert other_patient.user is not None
    other_patient.user.email = ""
    other_patient.user.save(update_fields=["email"])
    visit = book(other_patient, physio, assessment, at(dt.date(2031, 3, 3), 10), front_desk)
    assert send_appointment_notice.call(visit.pk, "confirmation", "sent") is False
    assert mailoutbox == []
    assert not AppointmentNotice.objects.exists()


def test_the_patients_account_address_is_used_when_the_record_has_none(
    other_patient: Patient,
    physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list[Shift],
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visit = book(other_patient, physio, assessment, at(dt.date(2031, 3, 3), 10), front_desk)
    send_appointment_notice.call(visit.pk, "confirmation", "sent")
    assert mailoutbox[0].to == ["other@patients.example"]


def test_a_cancellation_withdraws_the_same_calendar_entry_and_frees_the_time(
    patient: Patient,
    physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list[Shift],
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visit = book(patient, physio, assessment, at(dt.date(2031, 3, 3), 10), front_desk)
    run(queued(NOTICE_TASK)[0])
    appointment_cancel(appointment=visit, actor=front_desk, now=NOW)
    run(queued(NOTICE_TASK)[1])
    booked, cancelled = mailoutbox
    assert (
        cancelled.subject == "Cancelled: IMS initial assessment on Monday 3 March 2031, 10:00 PST"
    )
    assert "To book another time" in cancelled.body
    (invitation,) = calendars(booked).values()
    (withdrawal,) = calendars(cancelled).values()
    (invited,) = invitation.walk("VEVENT")
    (withdrawn,) = withdrawal.walk("VEVENT")
    assert withdrawal["METHOD"] == "CANCEL"
    assert withdrawn["UID"] == invited["UID"]
    assert withdrawn.decoded("SEQUENCE") > invited.decoded("SEQUENCE")
    assert str(withdrawn["STATUS"]) == "CANCELLED"
    (offer,) = queued(WAITLIST_TASK)
    assert offer.task_result.args == [
        physio.practitioner.pk,
        visit.location_id,
        "2031-03-03T18:00:00+00:00",
    ]


def test_a_moved_visit_is_announced_once_with_the_new_time_added_and_the_old_removed(
    patient: Patient,
    physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list[Shift],
    mailoutbox: list[mail.EmailMessage],
) -> None:
    old = book(patient, physio, assessment, at(dt.date(2031, 3, 3), 10), front_desk)
    DBTaskResult.objects.all().delete()
    new = appointment_reschedule(
        appointment=old, start=at(dt.date(2031, 3, 10), 14), actor=front_desk, now=NOW
    )
    (notice,) = queued(NOTICE_TASK)
    assert notice.task_result.args == [new.pk, "change", "sent"]
    run(notice)
    (message,) = mailoutbox
    # The day after the spring change: the new time is in PDT, the old one was in PST.
    assert message.subject == "Moved: IMS initial assessment now on Monday 10 March 2031, 14:00 PDT"
    assert "Monday 10 March 2031, 14:00 PDT" in message.body
    assert "Instead of: Monday 3 March 2031, 10:00 PST" in message.body
    files = calendars(message)
    assert set(files) == {"visit.ics", "cancelled-visit.ics"}
    (added,) = files["visit.ics"].walk("VEVENT")
    (removed,) = files["cancelled-visit.ics"].walk("VEVENT")
    assert files["visit.ics"]["METHOD"] == "REQUEST"
    assert files["cancelled-visit.ics"]["METHOD"] == "CANCEL"
    assert (
        added.decoded("DTSTART").astimezone(dt.UTC)
        == new.start
        == dt.datetime(2031, 3, 10, 21, tzinfo=dt.UTC)
    )
    assert removed.decoded("DTSTART").astimezone(dt.UTC) == old.start
    assert str(added["UID"]) == f"appointment-{new.pk}@127.0.0.1"
    assert str(removed["UID"]) == f"appointment-{old.pk}@127.0.0.1"
    (reminder,) = queued(REMINDER_TASK)
    assert reminder.task_result.args == [new.pk, "2031-03-10T21:00:00+00:00"]
    (offer,) = queued(WAITLIST_TASK)
    assert offer.task_result.args[2] == "2031-03-03T18:00:00+00:00"


def test_nothing_is_queued_when_the_change_is_rolled_back(
    patient: Patient,
    physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list[Shift],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.db import transaction

    visit = book(patient, physio, assessment, at(dt.date(2031, 3, 3), 10), front_desk)
    queued_by_the_booking = set(DBTaskResult.objects.values_list("pk", flat=True))
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        appointment_changed(appointment=visit, kind=NoticeKind.CANCELLATION)
        assert DBTaskResult.objects.count() > len(queued_by_the_booking)
        raise RuntimeError("rolled back")
    assert callbacks == []
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == queued_by_the_booking


def test_a_confirmation_reached_only_after_the_cancellation_is_not_sent(
    patient: Patient,
    physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list[Shift],
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visit = book(patient, physio, assessment, at(dt.date(2031, 3, 3), 10), front_desk)
    appointment_cancel(appointment=visit, actor=front_desk, now=NOW)
    confirmation, cancellation = queued(NOTICE_TASK)
    assert run(confirmation) is False
    assert run(cancellation) is True
    (message,) = mailoutbox
    assert message.subject.startswith("Cancelled:")
    assert list(AppointmentNotice.objects.values_list("kind", flat=True)) == ["cancellation"]


def test_the_reminder_follows_the_clinics_reminder_hours(
    patient: Patient,
    physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list[Shift],
    location: Location,
) -> None:
    clinic = location.clinic
    clinic.reminder_hours = 48
    clinic.save(update_fields=["reminder_hours"])
    visit = book(patient, physio, assessment, at(dt.date(2031, 3, 4), 10), front_desk)
    (reminder,) = queued(REMINDER_TASK)
    assert reminder.run_after == visit.start - dt.timedelta(hours=48)
