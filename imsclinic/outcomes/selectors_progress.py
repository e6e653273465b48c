"""Reads for the progress pages and the clinic outcomes report (a fixed number of queries)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imsclinic.outcomes.models import OutcomeResult
from imsclinic.outcomes.progress import (
    ResultPoint,
    Series,
    SessionPair,
    build_all,
    session_number_at,
    session_pairs,
)
from imsclinic.outcomes.report import PatientCourse

if TYPE_CHECKING:
    from imsclinic.patients.models import Patient


@dataclass(frozen=True)
class Progress:
    series: list[Series]
    pairs: list[SessionPair]
    sessions: int  # signed needling sessions so far


Signed = tuple[int, int, dt.datetime]  # session pk, appointment pk, visit start


def _signed_sessions(patient_ids: list[int] | None) -> dict[int, list[Signed]]:
    """Return each patient's signed sessions as (pk, appointment pk, visit start), ascending."""
    from imsclinic.charting.models import NeedlingSession, NoteStatus

    rows = NeedlingSession.objects.filter(status=NoteStatus.SIGNED)
    if patient_ids is not None:
        rows = rows.filter(patient_id__in=patient_ids)
    found: dict[int, list[Signed]] = defaultdict(list)
    for patient_id, pk, appointment_id, start in rows.order_by(
        "appointment__start", "pk"
    ).values_list("patient_id", "pk", "appointment_id", "appointment__start"):
        found[patient_id].append((pk, appointment_id, start))
    return found


def _numbering(sessions: list[Signed]) -> tuple[dict[int, int], dict[int, int], list[dt.datetime]]:
    by_session = {pk: n for n, (pk, _a, _s) in enumerate(sessions, start=1)}
    by_visit = {appointment: n for n, (_p, appointment, _s) in enumerate(sessions, start=1)}
    return by_session, by_visit, [start for _p, _a, start in sessions]


def _point(
    instrument: str,
    taken_at: dt.datetime,
    score: object,
    session_id: int | None,
    appointment_id: int | None,
    timing: str,
    answers: list[int | None],
    labels: list[str],
    numbering: tuple[dict[int, int], dict[int, int], list[dt.datetime]],
) -> ResultPoint:
    """Number a result: its session's, else its visit's, else sessions started before it."""
    by_session, by_visit, starts = numbering
    if session_id is not None and session_id in by_session:
        number = by_session[session_id]
    elif appointment_id is not None and appointment_id in by_visit:
        number = by_visit[appointment_id]
    else:
        number = session_number_at(taken_at, starts)
    return ResultPoint(
        instrument=instrument,
        taken_at=taken_at,
        score=None if score is None else float(score),  # type: ignore[arg-type]
        session_number=number,
        timing=timing,
        answers=list(answers or []),
        labels=list(labels or []),
    )


_FIELDS = (
    "patient_id",
    "instrument",
    "taken_at",
    "score",
    "session_id",
    "appointment_id",
    "timing",
)


def progress_points(patient: Patient) -> tuple[list[ResultPoint], int]:
    """Return the patient's standing results as points, and their signed session count."""
    sessions = _signed_sessions([patient.pk]).get(patient.pk, [])
    numbering = _numbering(sessions)
    rows = (
        OutcomeResult.objects.filter(patient=patient, voided_at__isnull=True)
        .order_by("taken_at", "pk")
        .values_list(*_FIELDS, "answers", "labels")
    )
    points = [
        _point(code, at, score, session_id, visit_id, timing, answers, labels, numbering)
        for _pid, code, at, score, session_id, visit_id, timing, answers, labels in rows
    ]
    return points, len(sessions)


def course_progress(patient: Patient) -> Progress:
    """Return the patient's series per instrument and NPRS pairs (two queries)."""
    points, sessions = progress_points(patient)
    return Progress(series=build_all(points), pairs=session_pairs(points), sessions=sessions)


def clinic_courses() -> list[PatientCourse]:
    """Return every patient's points and signed session count (two queries)."""
    sessions = _signed_sessions(None)
    rows = (
        OutcomeResult.objects.filter(voided_at__isnull=True)
        .order_by("patient_id", "taken_at", "pk")
        .values_list(*_FIELDS)
    )
    points: dict[int, list[ResultPoint]] = defaultdict(list)
    numberings = {patient_id: _numbering(found) for patient_id, found in sessions.items()}
    empty = _numbering([])
    for patient_id, code, at, score, session_id, visit_id, timing in rows:
        numbering = numberings.get(patient_id, empty)
        points[patient_id].append(
            _point(code, at, score, session_id, visit_id, timing, [], [], numbering)
        )
    return [
        PatientCourse(
            patient_id=patient_id, points=found, sessions=len(sessions.get(patient_id, []))
        )
        for patient_id, found in points.items()
    ]
