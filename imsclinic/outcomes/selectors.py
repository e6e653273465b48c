"""Reads of outcome results and plans that pages, the API and other apps share."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from imsclinic.outcomes.models import MeasurePlan, OutcomeResult
from imsclinic.outcomes.schedule import PlanFacts, instruments_due

if TYPE_CHECKING:
    from imsclinic.patients.models import Patient
    from imsclinic.scheduling.models import Appointment

# Statuses of a visit that will not happen: nothing is due before it.
_CLOSED_STATUSES = ("cancelled", "no_show")


def results_for(patient: Patient) -> QuerySet[OutcomeResult]:
    """Return the patient's results that stand (not struck out), oldest first."""
    return (
        OutcomeResult.objects.filter(patient=patient, voided_at__isnull=True)
        .select_related("appointment", "session")
        .order_by("taken_at", "pk")
    )


def current_plan(patient: Patient) -> MeasurePlan | None:
    """Return the plan set most recently for the patient, or None."""
    return MeasurePlan.objects.filter(patient=patient).order_by("-set_at", "-pk").first()


def signed_session_starts(patient: Patient) -> list[dt.datetime]:
    """Return the start of each signed needling session's visit, ascending (n = index + 1)."""
    from imsclinic.charting.models import NeedlingSession, NoteStatus

    return list(
        NeedlingSession.objects.filter(patient=patient, status=NoteStatus.SIGNED)
        .order_by("appointment__start", "pk")
        .values_list("appointment__start", flat=True)
    )


def visit_number(appointment: Appointment) -> int:
    """Return which IMS visit this is for the patient: 1 + signed sessions before it."""
    from imsclinic.charting.models import NeedlingSession, NoteStatus

    before = (
        NeedlingSession.objects.filter(
            patient_id=appointment.patient_id,
            status=NoteStatus.SIGNED,
            appointment__start__lt=appointment.start,
        )
        .exclude(appointment_id=appointment.pk)
        .count()
    )
    return before + 1


def due_measures(appointment: Appointment) -> list[str]:
    """Return the questionnaires the patient should fill in before this visit."""
    from imsclinic.charting.models import NeedlingSession, NoteStatus

    if appointment.status in _CLOSED_STATUSES:
        return []
    patient = appointment.patient
    plan = current_plan(patient)
    if plan is None:
        return []
    facts = PlanFacts(
        region_instrument=plan.region_instrument,
        has_psfs_activities=bool(plan.psfs_activities),
        every_visits=plan.every_visits,
    )
    # Answers count for this visit when tied to it, or given since the previous IMS visit.
    previous_end = (
        NeedlingSession.objects.filter(
            patient=patient, status=NoteStatus.SIGNED, appointment__start__lt=appointment.start
        )
        .exclude(appointment_id=appointment.pk)
        .order_by("-appointment__start")
        .values_list("appointment__end", flat=True)
        .first()
    )
    answered_here = OutcomeResult.objects.filter(patient=patient, voided_at__isnull=True)
    tied = set(answered_here.filter(appointment=appointment).values_list("instrument", flat=True))
    recent = answered_here.filter(appointment__isnull=True, taken_at__lte=appointment.end)
    if previous_end is not None:
        recent = recent.filter(taken_at__gt=previous_end)
    answered = tied | set(recent.values_list("instrument", flat=True))
    return instruments_due(facts, visit_number=visit_number(appointment), already_answered=answered)
