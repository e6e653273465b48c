"""Reads of intakes that pages, the API and the safety app share."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db import connection

from imsclinic.clinic.models import Clinic
from imsclinic.core.sql import ModelColumns
from imsclinic.intake.models import Intake
from imsclinic.intake.questions import not_asked
from imsclinic.patients.models import Patient

DEFAULT_VALID_MONTHS = 6


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Return the same day and time `months` later, on the month's last day if it is shorter."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


_INTAKE = ModelColumns(Intake, "i")


def current_intake(patient: Patient) -> Intake | None:
    """Return the patient's latest submitted intake, or None if they have none.

    Written out in SQL (`core.sql.ModelColumns`): every patient's IMS booking asks, and the
    ORM cost it more to build the query than to run it. A submitted intake always has its
    time (the `intake_submitted_has_time` constraint), so the order needs no rule for NULL.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_INTAKE.select()} FROM {_INTAKE.table()}"  # noqa: S608
            " WHERE i.patient_id = %s AND i.status = %s"
            " ORDER BY i.submitted_at DESC, i.id DESC LIMIT 1",
            [patient.pk, Intake.Status.SUBMITTED.value],
        )
        row = cursor.fetchone()
    return None if row is None else _INTAKE.read(row)


def intake_valid_months() -> int:
    """Return how many months a submitted intake stays current (the clinic's setting)."""
    clinic = Clinic.current()
    return clinic.intake_valid_months if clinic is not None else DEFAULT_VALID_MONTHS


def intake_valid_until(intake: Intake) -> dt.datetime:
    """Return when a submitted intake stops being current and must be re-confirmed."""
    if intake.submitted_at is None:
        raise ValueError("A draft intake has no validity period.")
    return add_months(intake.submitted_at, intake_valid_months())


def intake_not_asked(intake: Intake) -> tuple[str, ...]:
    """Return the keys of today's questions this intake's form never asked (none if current)."""
    return not_asked(intake.form_version)


def intake_is_current(intake: Intake | None, *, at: dt.datetime) -> bool:
    """Say whether this intake is submitted, within the clinic's validity period, and asked
    every question of today's form (an older form must be re-confirmed with the new ones)."""
    if intake is None or not intake.is_submitted:
        return False
    return at < intake_valid_until(intake) and not intake_not_asked(intake)


def intake_draft(patient: Patient) -> Intake | None:
    """Return the patient's intake in progress, if any."""
    return Intake.objects.filter(patient=patient, status=Intake.Status.DRAFT).first()


def intake_history(patient: Patient) -> list[Intake]:
    """Return every submitted intake of the patient, newest first."""
    return list(
        Intake.objects.filter(patient=patient, status=Intake.Status.SUBMITTED)
        .select_related("submitted_by", "entered_by")
        .order_by("-submitted_at", "-pk")
    )


@dataclass(frozen=True)
class IntakeStatus:
    """Where a patient stands with their health questions, for cards and badges."""

    state: str  # "not_started" | "in_progress" | "done" | "reconfirm"
    submitted_at: dt.datetime | None
    valid_until: dt.datetime | None
    months: int
    in_progress: bool  # a draft exists (also while re-confirming)
    # Questions added to the form since the patient answered: re-confirming asks them.
    not_asked: tuple[str, ...] = ()


def intake_status(
    patient: Patient, *, at: dt.datetime, valid_months: int | None = None
) -> IntakeStatus:
    """Return whether the patient's intake is not started, in progress, done or due again.

    It is due again when older than the clinic's validity period, or when the form has asked
    new questions since it was submitted.

    One query (two without `valid_months`, which pages that hold the clinic pass in).
    """
    rows = list(
        Intake.objects.filter(patient=patient)
        .only("pk", "status", "submitted_at", "form_version")
        .order_by("-submitted_at", "-pk")
    )
    has_draft = any(row.status == Intake.Status.DRAFT for row in rows)
    current = next((row for row in rows if row.status == Intake.Status.SUBMITTED), None)
    months = intake_valid_months() if valid_months is None else valid_months
    if current is None or current.submitted_at is None:
        state = "in_progress" if has_draft else "not_started"
        return IntakeStatus(state, None, None, months, has_draft)
    until = add_months(current.submitted_at, months)
    missing = intake_not_asked(current)
    state = "done" if at < until and not missing else "reconfirm"
    return IntakeStatus(state, current.submitted_at, until, months, has_draft, missing)
