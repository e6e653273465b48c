"""Which intake is current, and until when."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from imsclinic.clinic.models import Clinic
from imsclinic.intake.models import Intake
from imsclinic.intake.selectors import (
    add_months,
    current_intake,
    intake_is_current,
    intake_valid_until,
)
from imsclinic.patients.models import Patient

UTC = dt.UTC


def submitted(patient: Patient, at: dt.datetime, **answers: object) -> Intake:
    return Intake.objects.create(
        patient=patient, answers=answers, status=Intake.Status.SUBMITTED, submitted_at=at
    )


def test_a_patient_without_a_submitted_intake_has_no_current_one(patient: Patient) -> None:
    Intake.objects.create(patient=patient, answers={"reason": "sore neck"})
    assert current_intake(patient) is None
    assert not intake_is_current(None, at=dt.datetime(2026, 1, 1, tzinfo=UTC))


def test_the_latest_submitted_intake_is_the_current_one(patient: Patient) -> None:
    submitted(patient, dt.datetime(2025, 1, 5, tzinfo=UTC), reason="old")
    newer = submitted(patient, dt.datetime(2025, 9, 5, tzinfo=UTC), reason="new")
    Intake.objects.create(patient=patient, answers={"reason": "draft"})
    assert current_intake(patient) == newer


def test_of_two_sent_at_the_same_moment_the_later_is_current_and_answers_read_whole(
    patient: Patient, other_patient: Patient
) -> None:
    moment = dt.datetime(2025, 9, 5, 8, 30, tzinfo=UTC)
    submitted(patient, moment, reason="first")
    later = submitted(patient, moment, reason="second", pain=[3, 7])
    submitted(other_patient, moment + dt.timedelta(days=1), reason="someone else")
    current = current_intake(patient)
    assert current == later
    assert current is not None and current.answers == {"reason": "second", "pain": [3, 7]}
    assert current.submitted_at == moment


def test_an_intake_stays_current_for_the_clinics_months(clinic: Clinic, patient: Patient) -> None:
    intake = submitted(patient, dt.datetime(2025, 8, 31, 15, tzinfo=UTC))
    assert intake_valid_until(intake) == dt.datetime(2026, 2, 28, 15, tzinfo=UTC)
    assert intake_is_current(intake, at=dt.datetime(2026, 2, 28, 14, 59, tzinfo=UTC))
    assert not intake_is_current(intake, at=dt.datetime(2026, 2, 28, 15, tzinfo=UTC))
    clinic.intake_valid_months = 12
    clinic.save(update_fields=["intake_valid_months"])
    assert intake_is_current(intake, at=dt.datetime(2026, 8, 30, tzinfo=UTC))


def test_adding_months_crosses_years_and_short_months() -> None:
    assert add_months(dt.datetime(2025, 11, 30, tzinfo=UTC), 3) == dt.datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert add_months(dt.datetime(2024, 1, 31, tzinfo=UTC), 1) == dt.datetime(
        2024, 2, 29, tzinfo=UTC
    )


def test_the_database_refuses_a_second_draft_for_one_patient(patient: Patient) -> None:
    Intake.objects.create(patient=patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        Intake.objects.create(patient=patient)


def test_the_status_follows_the_patient_from_not_started_to_due_again(
    clinic: Clinic, patient: Patient
) -> None:
    from imsclinic.intake.selectors import intake_status

    at = dt.datetime(2026, 3, 1, tzinfo=UTC)
    assert intake_status(patient, at=at).state == "not_started"
    Intake.objects.create(patient=patient, answers={"reason": "neck"})
    assert intake_status(patient, at=at).state == "in_progress"
    submitted(patient, dt.datetime(2026, 2, 1, tzinfo=UTC))
    status = intake_status(patient, at=at)
    assert (status.state, status.in_progress) == ("done", True)
    assert intake_status(patient, at=dt.datetime(2026, 8, 2, tzinfo=UTC)).state == "reconfirm"
    assert intake_status(patient, at=at, valid_months=1).state == "reconfirm"
