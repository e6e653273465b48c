"""The staff follow-up list: only the user's patients, every check-in to phone about, and
what clinicians' patients answered lately; check-ins that could not be sent are retried."""

from __future__ import annotations

import datetime as dt
import smtplib
from typing import Any

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from imsclinic.accounts.models import User
from imsclinic.charting import services as charting_services
from imsclinic.clinic.models import Clinic, NeedleLot, Service
from imsclinic.clinic.tests.needling import make_lot, needling_session
from imsclinic.core.models import AuditEvent
from imsclinic.followup.models import SKIP_LATE, SKIP_NO_EMAIL, CheckIn, CheckInStatus
from imsclinic.followup.selectors import unanswered_checkins
from imsclinic.followup.tasks import send_checkin
from imsclinic.patients.models import Patient
from tests.factories.charting import confirm_infection_control, ims_visit, row
from tests.factories.clients import signed_in
from tests.factories.followup import sign_visit

CHECKIN_TASK = "imsclinic.followup.tasks.send_checkin"
# Session, user, MFA, clinic and zone, the banner, the call list, the open red flags, the
# answered list, the audit row for one patient: none grows with the rows.
CLINICIAN_LIST_QUERIES = 16
# Each further patient shown adds one audit row: read the chain's last hash, insert (and on
# PostgreSQL take the chain's lock). That is the only growth, and it is per patient, not per row.
AUDIT_ROW_QUERIES = 2


class BrokenMailServer(BaseEmailBackend):
    """A mail backend whose server is down."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def checkin_for(
    patient: Patient, physio: User, *, status: str = CheckInStatus.SENT, **fields: Any
) -> CheckIn:
    """A check-in after a signed session of this patient's, in the given state."""
    now = timezone.now()
    session = needling_session(
        patient,
        physio,
        lots=[make_lot(f"CL-{CheckIn.objects.count()}")],
        # Within the call list's 21 days; an hour apart so one physio's visits never overlap.
        start=now - dt.timedelta(days=3, hours=CheckIn.objects.count()),
    )
    defaults: dict[str, Any] = {"due_at": now - dt.timedelta(hours=50)}
    if status in (CheckInStatus.SENT, CheckInStatus.ANSWERED):
        defaults["sent_at"] = now - dt.timedelta(hours=50)
    if status == CheckInStatus.ANSWERED:
        defaults.update(
            answered_at=now - dt.timedelta(hours=2),
            soreness=4,
            breathless_or_chest_pain=False,
            site_infection_signs=False,
            site_swelling_or_pus=False,
            numbness_or_weakness=False,
            fainted=False,
        )
    defaults.update(fields)
    return CheckIn.objects.create(
        session=session, patient=patient, practitioner=physio, status=status, **defaults
    )


@pytest.fixture
def two_care_teams(patient: Patient, other_patient: Patient, other_physio: User) -> None:
    """Pat is on the treating physio's care team; Otto only on the other physio's."""
    other_patient.care_team.add(other_physio.practitioner)  # type: ignore[attr-defined]


def test_it_shows_a_practitioner_only_the_unanswered_checkins_of_their_own_patients(
    two_care_teams: None,
    patient: Patient,
    other_patient: Patient,
    physio: User,
    other_physio: User,
    front_desk: User,
    owner: User,
    clinic: Clinic,
) -> None:
    pats = checkin_for(patient, physio)
    ottos = checkin_for(other_patient, other_physio)
    url = reverse("followup_list")

    listed = signed_in(physio).get(url).content.decode()
    assert "Pat Ient" in listed and "Otto" not in listed
    listed = signed_in(other_physio).get(url).content.decode()
    assert "Otto" in listed and "Pat Ient" not in listed
    for everyone in (front_desk, owner):
        listed = signed_in(everyone).get(url).content.decode()
        assert "Pat Ient" in listed and "Otto" in listed

    # The audit row names the patient the page showed, so "who viewed Pat" finds it.
    seen = AuditEvent.objects.filter(object_type="followup_list", actor=physio).get()
    assert seen.patient_id == patient.pk
    assert seen.detail["checkins"] == [pats.pk]
    # Front desk saw both patients: one VIEW row for each.
    rows = AuditEvent.objects.filter(object_type="followup_list", actor=front_desk)
    assert sorted(rows.values_list("patient_id", flat=True)) == sorted(
        [patient.pk, other_patient.pk]
    )
    # And someone else's patient cannot be marked as phoned.
    assert signed_in(physio).post(reverse("checkin_phoned", args=[ottos.pk])).status_code == 404
    ottos.refresh_from_db()
    assert ottos.phoned_at is None


def test_it_asks_for_a_call_when_a_checkin_never_went_out_once_it_is_due(
    patient: Patient, physio: User, front_desk: User, clinic: Clinic
) -> None:
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    in_an_hour = timezone.now() + dt.timedelta(hours=1)
    no_email = checkin_for(
        patient, physio, status=CheckInStatus.SKIPPED, skip_reason=SKIP_NO_EMAIL, due_at=hour_ago
    )
    stuck = checkin_for(
        patient,
        physio,
        status=CheckInStatus.SCHEDULED,
        due_at=hour_ago,
        created_at=hour_ago - dt.timedelta(days=1),
    )
    not_yet = [
        checkin_for(
            patient,
            physio,
            status=CheckInStatus.SKIPPED,
            skip_reason=SKIP_NO_EMAIL,
            due_at=in_an_hour,
        ),
        checkin_for(patient, physio, status=CheckInStatus.SCHEDULED, due_at=in_an_hour),
        checkin_for(patient, physio, status=CheckInStatus.SKIPPED, skip_reason="cancelled"),
    ]
    client = signed_in(front_desk)
    text = client.get(reverse("followup_list")).content.decode()
    assert "No email address: call" in text
    assert "Could not be sent: call" in text
    for checkin in (no_email, stuck):
        assert reverse("checkin_phoned", args=[checkin.pk]) in text
    for checkin in not_yet:
        assert reverse("checkin_phoned", args=[checkin.pk]) not in text
    client.post(reverse("checkin_phoned", args=[stuck.pk]))
    stuck.refresh_from_db()
    assert stuck.phoned_by == front_desk


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_is_down_leaves_the_checkin_to_send_and_retries_in_15_minutes(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    lot: NeedleLot,
    clinic: Clinic,
    settings: Any,
) -> None:
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BrokenMailServer"}}
    session = sign_visit(ready_patient, physio, ims_service, lot)
    checkin = CheckIn.objects.get(session=session)
    clock.move_to(checkin.due_at + dt.timedelta(minutes=1))

    with pytest.raises(smtplib.SMTPException):
        send_checkin.call(session.pk)
    checkin.refresh_from_db()
    assert (checkin.status, checkin.sent_at) == (CheckInStatus.SCHEDULED, None)
    retries = DBTaskResult.objects.filter(task_path=CHECKIN_TASK).order_by("run_after")
    assert [task.run_after for task in retries] == [
        checkin.due_at,
        timezone.now() + dt.timedelta(minutes=15),
    ]

    # Still failing near the end of the answer window (due + 48 h): no more retries.
    clock.move_to(checkin.due_at + dt.timedelta(hours=48, minutes=-10))
    with pytest.raises(smtplib.SMTPException):
        send_checkin.call(session.pk)
    assert DBTaskResult.objects.filter(task_path=CHECKIN_TASK).count() == 2

    # Meanwhile the front desk is asked to phone.
    assert (
        "Could not be sent: call"
        in signed_in(physio).get(reverse("followup_list")).content.decode()
    )


def test_a_note_signed_after_the_answer_window_sends_nothing_and_asks_for_a_call(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    front_desk: User,
    ims_service: Service,
    lot: NeedleLot,
    clinic: Clinic,
) -> None:
    visit = ims_visit(ready_patient, physio, ims_service)
    session = charting_services.session_start(appointment=visit, actor=physio)
    session = charting_services.session_save_draft(
        session=session,
        actor=physio,
        data={"nprs_before": 5, "nprs_after": 2, "aftercare_given": True},
        rows=[row("gluteus_medius", lot)],
    )
    confirm_infection_control(session, physio)
    # Due 24 h after the visit, answerable for 48 h more: signed an hour after that.
    clock.move_to(visit.end + dt.timedelta(hours=24 + 48 + 1))
    charting_services.session_sign(session=session, actor=physio)
    assert not DBTaskResult.objects.filter(task_path=CHECKIN_TASK).exists()
    checkin = CheckIn.objects.get(session=session)
    assert (checkin.status, checkin.skip_reason) == (CheckInStatus.SKIPPED, SKIP_LATE)
    text = signed_in(front_desk).get(reverse("followup_list")).content.decode()
    assert "Note signed too late to send: call" in text
    assert reverse("checkin_phoned", args=[checkin.pk]) in text


def test_clinicians_see_what_their_patients_answered_in_the_last_7_days(
    two_care_teams: None,
    patient: Patient,
    other_patient: Patient,
    physio: User,
    other_physio: User,
    front_desk: User,
    clinic: Clinic,
    django_assert_max_num_queries: Any,
) -> None:
    checkin_for(patient, physio, status=CheckInStatus.ANSWERED, soreness=7, notes="Stiff neck.")
    checkin_for(other_patient, other_physio, status=CheckInStatus.ANSWERED, soreness=2)
    checkin_for(
        patient,
        physio,
        status=CheckInStatus.ANSWERED,
        soreness=9,
        answered_at=timezone.now() - dt.timedelta(days=8),
    )
    client = signed_in(physio)
    with django_assert_max_num_queries(
        CLINICIAN_LIST_QUERIES + (connection.vendor == "postgresql")
    ):
        page = client.get(reverse("followup_list"))
    text = page.content.decode()
    assert "Answered in the last 7 days" in text
    assert "7/10" in text
    assert "Yes: read it on the chart" in text
    assert reverse("patient_chart", args=[patient.pk]) in text
    assert "Stiff neck" not in text  # the words themselves stay on the chart
    assert "9/10" not in text  # answered eight days ago
    assert "Otto" not in text and "2/10" not in text

    assert "Answered in the last 7 days" not in (
        signed_in(front_desk).get(reverse("followup_list")).content.decode()
    )


def test_the_list_grows_only_by_one_audit_row_per_further_patient(
    two_care_teams: None,
    patient: Patient,
    other_patient: Patient,
    physio: User,
    other_physio: User,
    owner: User,
    clinic: Clinic,
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(3):
        checkin_for(patient, physio)
        checkin_for(other_patient, other_physio, status=CheckInStatus.ANSWERED)
    per_row = AUDIT_ROW_QUERIES + (connection.vendor == "postgresql")
    client = signed_in(owner)
    with django_assert_max_num_queries(
        CLINICIAN_LIST_QUERIES + (connection.vendor == "postgresql") + per_row
    ):
        page = client.get(reverse("followup_list"))
    assert page.status_code == 200
    rows = AuditEvent.objects.filter(object_type="followup_list", actor=owner)
    assert rows.count() == 2
    assert len(rows.get(patient_id=patient.pk).detail["checkins"]) == 3
    assert len(rows.get(patient_id=other_patient.pk).detail["answered"]) == 3


def test_the_call_list_empties_and_puts_calls_not_yet_made_first(
    patient: Patient, physio: User, front_desk: User, clinic: Clinic
) -> None:
    now = timezone.now()
    older = checkin_for(patient, physio, due_at=now - dt.timedelta(days=5))
    newer = checkin_for(patient, physio)
    phoned_lately = checkin_for(
        patient,
        physio,
        due_at=now - dt.timedelta(days=6),
        phoned_at=now - dt.timedelta(days=2),
        phoned_by=front_desk,
    )
    phoned_long_ago = checkin_for(
        patient,
        physio,
        phoned_at=now - dt.timedelta(days=8),
        phoned_by=front_desk,
    )
    stale = checkin_for(patient, physio)
    appointment = stale.session.appointment
    appointment.start = now - dt.timedelta(days=22)
    appointment.end = appointment.start + dt.timedelta(hours=1)
    appointment.save(update_fields=["start", "end"])

    shown = list(unanswered_checkins(user=front_desk))
    assert shown == [older, newer, phoned_lately]
    assert phoned_long_ago not in shown and stale not in shown
    text = signed_in(front_desk).get(reverse("followup_list")).content.decode()
    assert "Shown: visits in the last 21 days" in text
    assert "stays 7 days" in text
