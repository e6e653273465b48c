"""Reads of outcome results and plans: what pages, the API and other apps share.

The progress pages and the clinic outcomes report read theirs in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.outcomes.models import MeasurePlan, OutcomeResult, ResultSource
from imsclinic.outcomes.progress import (
    ResultPoint,
    Series,
    SessionPair,
    SignedSession,
    build_all,
    number_result,
    session_pairs,
)
from imsclinic.outcomes.report import PatientCourse
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


# Progress pages and the clinic outcomes report


@dataclass(frozen=True)
class StruckOut:
    instrument: str
    taken_at: dt.datetime
    score: float | None
    reason: str
    struck_at: dt.datetime
    struck_by: str


@dataclass(frozen=True)
class Progress:
    series: list[Series]
    pairs: list[SessionPair]
    sessions: int  # signed needling sessions so far
    struck: list[StruckOut] = field(default_factory=list)  # results struck out, oldest first


def signed_sessions(patient_ids: list[int] | None) -> dict[int, list[SignedSession]]:
    """Return each patient's signed sessions (pk, visit pk, visit start), ascending."""
    from imsclinic.charting.models import NeedlingSession, NoteStatus

    rows = NeedlingSession.objects.filter(status=NoteStatus.SIGNED)
    if patient_ids is not None:
        rows = rows.filter(patient_id__in=patient_ids)
    found: dict[int, list[SignedSession]] = defaultdict(list)
    for patient_id, pk, appointment_id, start in rows.order_by(
        "appointment__start", "pk"
    ).values_list("patient_id", "pk", "appointment_id", "appointment__start"):
        found[patient_id].append(SignedSession(pk=pk, appointment_id=appointment_id, start=start))
    return found


def _point(
    instrument: str,
    taken_at: dt.datetime,
    score: Decimal | None,
    session_id: int | None,
    appointment_id: int | None,
    visit_start: dt.datetime | None,
    timing: str,
    answers: list[int | None],
    labels: list[str],
    signed: list[SignedSession],
    result_id: int | None,
    source: str,
    zone: Callable[[], zoneinfo.ZoneInfo],
) -> ResultPoint:
    """Turn a stored result into a point numbered by the sessions done when it was measured."""
    numbering = number_result(
        signed=signed,
        taken_at=taken_at,
        timing=timing,
        session_id=session_id,
        appointment_id=appointment_id,
        visit_start=visit_start,
        day_start=paper_day_start(source, appointment_id, taken_at, zone),
    )
    return ResultPoint(
        instrument=instrument,
        taken_at=taken_at,
        score=None if score is None else float(score),
        sessions_done=numbering.sessions_done,
        timing=timing,
        answers=list(answers or []),
        labels=list(labels or []),
        session=numbering.session,
        result_id=result_id,
    )


_FIELDS = (
    "patient_id",
    "instrument",
    "taken_at",
    "score",
    "session_id",
    "appointment_id",
    "appointment__start",
    "timing",
    "source",
)


def clinic_zone_once() -> Callable[[], zoneinfo.ZoneInfo]:
    """Return a getter of the clinic's zone that reads it on first use only, for one request.

    Numbering many results needs the zone for each paper form without a visit, and none
    for the others: read once when needed, never once per result.
    """
    return functools.cache(clinic_zone)


def paper_day_start(
    source: str,
    appointment_id: int | None,
    taken_at: dt.datetime,
    zone: Callable[[], zoneinfo.ZoneInfo],
) -> dt.datetime | None:
    """Return the start of a paper form's date (clinic time) when it names no visit.

    `zone` gives the clinic's zone: a `clinic_zone_once()` shared by all the results numbered.
    """
    if source != ResultSource.PAPER or appointment_id is not None:
        return None
    local = zone()
    day = taken_at.astimezone(local).date()
    return dt.datetime.combine(day, dt.time(0), tzinfo=local)


def _struck_by(first: str | None, last: str | None, email: str | None) -> str:
    return f"{first or ''} {last or ''}".strip() or (email or "")


def progress_points(patient: Patient) -> tuple[list[ResultPoint], int, list[StruckOut]]:
    """Return the patient's standing results as points, signed session count, struck-out ones."""
    sessions = signed_sessions([patient.pk]).get(patient.pk, [])
    rows = (
        OutcomeResult.objects.filter(patient=patient)
        .order_by("taken_at", "pk")
        .values_list(
            *_FIELDS,
            "answers",
            "labels",
            "pk",
            "voided_at",
            "void_reason",
            "voided_by__first_name",
            "voided_by__last_name",
            "voided_by__email",
        )
    )
    points: list[ResultPoint] = []
    struck: list[StruckOut] = []
    zone = clinic_zone_once()
    for row in rows:
        _pid, code, at, score, session_id, visit_id, start, timing, source = row[:9]
        answers, labels, pk, voided_at, reason, first, last, email = row[9:]
        if voided_at is not None:
            struck.append(
                StruckOut(
                    instrument=code,
                    taken_at=at,
                    score=None if score is None else float(score),
                    reason=reason,
                    struck_at=voided_at,
                    struck_by=_struck_by(first, last, email),
                )
            )
            continue
        points.append(
            _point(
                code,
                at,
                score,
                session_id,
                visit_id,
                start,
                timing,
                answers,
                labels,
                sessions,
                pk,
                source,
                zone,
            )
        )
    return points, len(sessions), struck


def course_progress(patient: Patient) -> Progress:
    """Return the patient's series per instrument, NPRS pairs and struck-out results."""
    points, sessions, struck = progress_points(patient)
    return Progress(
        series=build_all(points), pairs=session_pairs(points), sessions=sessions, struck=struck
    )


def clinic_courses() -> list[PatientCourse]:
    """Return every patient's points and signed session count (two queries, and the zone)."""
    sessions = signed_sessions(None)
    zone = clinic_zone_once()
    rows = (
        OutcomeResult.objects.filter(voided_at__isnull=True)
        .order_by("patient_id", "taken_at", "pk")
        .values_list(*_FIELDS)
    )
    points: dict[int, list[ResultPoint]] = defaultdict(list)
    for patient_id, code, at, score, session_id, visit_id, start, timing, source in rows:
        signed = sessions.get(patient_id, [])
        points[patient_id].append(
            _point(
                code,
                at,
                score,
                session_id,
                visit_id,
                start,
                timing,
                [],
                [],
                signed,
                None,
                source,
                zone,
            )
        )
    return [
        PatientCourse(
            patient_id=patient_id, points=found, sessions=len(sessions.get(patient_id, []))
        )
        for patient_id, found in points.items()
    ]
