"""The check-in after needling: queued at signing, sent once 24 h after the visit, never wrongly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from imsclinic.accounts.models import User
from imsclinic.charting import services as charting_services
from imsclinic.clinic.models import Clinic, NeedleLot, Service
from imsclinic.followup.models import CheckIn, CheckInStatus
from imsclinic.followup.tasks import send_checkin
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from tests.factories.charting import confirm_infection_control, ims_visit
from tests.factories.followup import sign_visit

CHECKIN_TASK = "imsclinic.followup.tasks.send_checkin"


def run_worker() -> None:
    """Run the same worker `make run` starts, in batch mode: it stops when nothing is due."""
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_signed_session_gets_exactly_one_checkin_email_24_hours_after_the_visit(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    lot: NeedleLot,
    clinic: Clinic,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    session = sign_visit(ready_patient, physio, ims_service, lot)
    due = session.appointment.end + dt.timedelta(hours=24)
    task_row = DBTaskResult.objects.get(task_path=CHECKIN_TASK)
    assert task_row.run_after == due
    checkin = CheckIn.objects.get(session=session)
    assert checkin.status == CheckInStatus.SCHEDULED

    clock.move_to(due - dt.timedelta(minutes=1))
    run_worker()
    assert mailoutbox == []

    clock.move_to(due + dt.timedelta(minutes=1))
    run_worker()
    run_worker()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["pat@patients.example"]
    assert "How are you after your visit on 12 March 2031?" in message.body
    assert "/check-in/" in message.body
    # No health information: not the muscles, the pain scores, the kind of treatment.
    for word in ("gluteus", "Gluteus", "needl", "pain", "6/10", "sore"):
        assert word not in message.body
        assert word not in message.subject
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SENT
    assert checkin.sent_at == due + dt.timedelta(minutes=1)
    assert DBTaskResult.objects.get(task_path=CHECKIN_TASK).status == TaskResultStatus.SUCCESSFUL


def test_the_checkin_goes_at_once_when_a_note_is_signed_after_the_due_time(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    lot: NeedleLot,
) -> None:
    visit = ims_visit(ready_patient, physio, ims_service)
    session = charting_services.session_start(appointment=visit, actor=physio)
    from tests.factories.charting import row

    session = charting_services.session_save_draft(
        session=session,
        actor=physio,
        data={"nprs_before": 5, "nprs_after": 2, "aftercare_given": True},
        rows=[row("gluteus_medius", lot)],
    )
    confirm_infection_control(session, physio)
    clock.move_to(visit.end + dt.timedelta(hours=30))
    charting_services.session_sign(session=session, actor=physio)
    task_row = DBTaskResult.objects.get(task_path=CHECKIN_TASK)
    assert task_row.run_after == visit.end + dt.timedelta(hours=30)


def test_the_checkin_hours_setting_moves_the_due_time(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    lot: NeedleLot,
    clinic: Clinic,
) -> None:
    clinic.checkin_hours = 36
    clinic.save(update_fields=["checkin_hours"])
    session = sign_visit(ready_patient, physio, ims_service, lot)
    assert CheckIn.objects.get(session=session).due_at == session.appointment.end + dt.timedelta(
        hours=36
    )


def test_the_task_run_twice_sends_once(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    lot: NeedleLot,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    session = sign_visit(ready_patient, physio, ims_service, lot)
    clock.shift(dt.timedelta(hours=25))
    assert send_checkin.call(session.pk) is True
    assert send_checkin.call(session.pk) is False
    assert len(mailoutbox) == 1


def test_a_cancelled_visit_gets_no_checkin(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    lot: NeedleLot,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    session = sign_visit(ready_patient, physio, ims_service, lot)
    Appointment.objects.filter(pk=session.appointment_id).update(status=AppointmentStatus.CANCELLED)
    clock.shift(dt.timedelta(hours=25))
    assert send_checkin.call(session.pk) is False
    assert mailoutbox == []
    checkin = CheckIn.objects.get(session=session)
    assert (checkin.status, checkin.skip_reason) == (CheckInStatus.SKIPPED, "cancelled")


def test_an_unsigned_note_gets_no_checkin(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visit = ims_visit(ready_patient, physio, ims_service)
    draft = charting_services.session_start(appointment=visit, actor=physio)
    clock.shift(dt.timedelta(hours=25))
    assert send_checkin.call(draft.pk) is False
    assert mailoutbox == []
    assert not CheckIn.objects.exists()


def test_a_patient_without_an_email_address_is_skipped(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    lot: NeedleLot,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    Patient.objects.filter(pk=ready_patient.pk).update(email="")
    User.objects.filter(patient=ready_patient).update(email="")
    session = sign_visit(ready_patient, physio, ims_service, lot)
    clock.shift(dt.timedelta(hours=25))
    assert send_checkin.call(session.pk) is False
    assert mailoutbox == []
    checkin = CheckIn.objects.get(session=session)
    assert (checkin.status, checkin.skip_reason) == (CheckInStatus.SKIPPED, "no_email")


def test_a_thoracic_session_carries_its_precaution_to_the_checkin(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    lot: NeedleLot,
) -> None:
    session = sign_visit(ready_patient, physio, ims_service, lot, muscle="rhomboids")
    assert CheckIn.objects.get(session=session).thoracic_precaution is True
