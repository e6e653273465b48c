"""Reads of charts that pages, PDFs and the API share. None of these audit: the caller does.

Access is the caller's job too: open the patient with `patients.selectors.patient_for_user`
(perm "charting.view_chart") first, then read here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from imsclinic.charting import segments as seg
from imsclinic.charting.models import (
    Addendum,
    Assessment,
    AssessmentSign,
    DiagnosedSegment,
    Muscle,
    NeedlingRow,
    NeedlingSession,
    NoteStatus,
)
from imsclinic.patients.models import Patient

UNSIGNED_AFTER = dt.timedelta(hours=24)
CHART_QUERIES = 7


@dataclass(frozen=True)
class Chart:
    """Everything a patient's chart page shows, loaded in at most CHART_QUERIES queries.

    assessments: newest first. Each has `author`, `signed_by` and `appointment` loaded;
        `signs.all()` (examination order, each with `muscle` or None), `segments.all()`
        (top of the spine first: the service stores them in that order) and `addenda.all()` (oldest
        first, each with `author`) come from the prefetch cache: no further queries.
    sessions: newest visit first. Each has `practitioner`, `signed_by`, `appointment`
        with its `service`, `location` and `practitioner` loaded; `rows.all()` (by
        position, each with `muscle` and `needle_lot`) and `addenda.all()` (oldest first,
        with `author`) come from the prefetch cache.
    Drafts are included (check `is_signed`): the page decides what to show of them.
    """

    patient: Patient
    assessments: list[Assessment]
    sessions: list[NeedlingSession]

    @property
    def signed_sessions(self) -> list[NeedlingSession]:
        return [session for session in self.sessions if session.is_signed]

    @property
    def latest_assessment(self) -> Assessment | None:
        return self.assessments[0] if self.assessments else None


def _addenda() -> Prefetch[Any]:
    return Prefetch(
        "addenda", queryset=Addendum.objects.select_related("author").order_by("created_at", "pk")
    )


def assessments_with_parts() -> QuerySet[Assessment]:
    """Return assessments with their signs, segments and addenda prefetched (4 queries)."""
    return Assessment.objects.select_related("author", "signed_by", "appointment").prefetch_related(
        Prefetch(
            "signs",
            queryset=AssessmentSign.objects.select_related("muscle").order_by("pk"),
        ),
        Prefetch("segments", queryset=DiagnosedSegment.objects.order_by("pk")),
        _addenda(),
    )


def sessions_with_rows() -> QuerySet[NeedlingSession]:
    """Return needling sessions with visit, rows (muscle, lot) and addenda (3 queries)."""
    return NeedlingSession.objects.select_related(
        "practitioner",
        "signed_by",
        "appointment__service",
        "appointment__location",
        "appointment__practitioner",
    ).prefetch_related(
        Prefetch(
            "rows",
            queryset=NeedlingRow.objects.select_related("muscle", "needle_lot").order_by(
                "position", "pk"
            ),
        ),
        _addenda(),
    )


def chart_for(patient: Patient) -> Chart:
    """Load the patient's whole chart: assessments and needling sessions with all their parts."""
    assessments = list(
        assessments_with_parts().filter(patient=patient).order_by("-created_at", "-pk")
    )
    sessions = list(
        sessions_with_rows().filter(patient=patient).order_by("-appointment__start", "-pk")
    )
    return Chart(patient=patient, assessments=assessments, sessions=sessions)


def assessment_detail(assessment_id: int) -> Assessment | None:
    """Return one assessment with its patient and parts loaded, or None."""
    return assessments_with_parts().select_related("patient").filter(pk=assessment_id).first()


def session_detail(session_id: int) -> NeedlingSession | None:
    """Return one needling session with its patient, visit, rows and addenda, or None."""
    return sessions_with_rows().select_related("patient").filter(pk=session_id).first()


@dataclass(frozen=True)
class UnsignedNote:
    """A draft the user wrote more than a day ago and has not signed."""

    kind: str  # "assessment" or "session"
    note: Assessment | NeedlingSession
    patient: Patient
    created_at: dt.datetime
    visit_start: dt.datetime | None


def unsigned_notes_for(user: Any, *, now: dt.datetime | None = None) -> list[UnsignedNote]:
    """Return the user's own drafts older than 24 hours, oldest first (2 queries)."""
    cutoff = (now or timezone.now()) - UNSIGNED_AFTER
    notes: list[UnsignedNote] = []
    for assessment in Assessment.objects.filter(
        author=user, status=NoteStatus.DRAFT, created_at__lte=cutoff
    ).select_related("patient", "appointment"):
        notes.append(
            UnsignedNote(
                kind="assessment",
                note=assessment,
                patient=assessment.patient,
                created_at=assessment.created_at,
                visit_start=assessment.appointment.start if assessment.appointment else None,
            )
        )
    for session in NeedlingSession.objects.filter(
        practitioner=user, status=NoteStatus.DRAFT, created_at__lte=cutoff
    ).select_related("patient", "appointment"):
        notes.append(
            UnsignedNote(
                kind="session",
                note=session,
                patient=session.patient,
                created_at=session.created_at,
                visit_start=session.appointment.start,
            )
        )
    notes.sort(key=lambda item: (item.created_at, item.kind, item.note.pk))
    return notes


def last_signed_session(
    patient: Patient, *, exclude: NeedlingSession | None = None
) -> NeedlingSession | None:
    """Return the patient's most recent signed needling session (by visit time)."""
    sessions = NeedlingSession.objects.filter(patient=patient, status=NoteStatus.SIGNED)
    if exclude is not None and exclude.pk is not None:
        sessions = sessions.exclude(pk=exclude.pk)
    return sessions.order_by("-appointment__start", "-pk").first()


def session_rows_last(
    patient: Patient, *, exclude: NeedlingSession | None = None
) -> list[NeedlingRow]:
    """Return the rows of the patient's last signed session, by position (with muscle, lot)."""
    session = last_signed_session(patient, exclude=exclude)
    if session is None:
        return []
    return list(session.rows.select_related("muscle", "needle_lot").order_by("position", "pk"))


def active_muscles() -> QuerySet[Muscle]:
    """Return the catalogue muscles offered in charts, in catalogue order."""
    return Muscle.objects.filter(is_active=True).order_by("order", "name")


def suggest_muscles(segments: Iterable[str]) -> list[Muscle]:
    """Return the active muscles whose root range includes a chosen segment (1 query).

    That includes the paraspinals at the chosen levels (each is its own one-level range).
    Peripheral muscles come first in catalogue order, then the paraspinals top to bottom.
    """
    chosen = [code for code in segments if seg.is_segment(code)]
    if not chosen:
        return []
    muscles = list(active_muscles())
    codes = set(
        seg.suggest(
            [seg.MuscleRoots(m.code, m.root_from, m.root_to) for m in muscles],
            chosen,
        )
    )
    return [muscle for muscle in muscles if muscle.code in codes]
