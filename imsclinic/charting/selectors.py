"""Reads of charts that pages, PDFs and the API share. None of these audit: the caller does.

Access is the caller's job too: open the patient with `patients.selectors.patient_for_user`
(perm "charting.view_chart") first, then read here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from imsclinic.charting import segments as seg
from imsclinic.charting.errors import no_assessment_message
from imsclinic.charting.models import (
    Addendum,
    Assessment,
    AssessmentSign,
    DiagnosedSegment,
    InfectionControlRecord,
    InfectionControlStep,
    Muscle,
    NeedlingRow,
    NeedlingSession,
    NoteStatus,
    PhysioNote,
)
from imsclinic.charting.signals import measures_due_asked
from imsclinic.clinic.models import Clinic, SharpsContainer
from imsclinic.intake.selectors import add_months
from imsclinic.patients.models import Patient
from imsclinic.safety.selectors import screening_for

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

UNSIGNED_AFTER = dt.timedelta(hours=24)
CHART_QUERIES = 9


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
    physio_notes: the physiotherapy notes of visits that are not IMS, newest visit first;
        each has `practitioner`, `signed_by` and `appointment` (with `service` and
        `location`) loaded and `addenda.all()` from the prefetch cache.
    Drafts are included (check `is_signed`): the page decides what to show of them.
    """

    patient: Patient
    assessments: list[Assessment]
    sessions: list[NeedlingSession]
    physio_notes: list[PhysioNote]

    @property
    def signed_sessions(self) -> list[NeedlingSession]:
        return [session for session in self.sessions if session.is_signed]

    @property
    def signed_physio_notes(self) -> list[PhysioNote]:
        return [note for note in self.physio_notes if note.is_signed]

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
    """Return needling sessions with visit, infection control, rows and addenda (3 queries)."""
    return NeedlingSession.objects.select_related(
        "practitioner",
        "signed_by",
        "assessment",
        "appointment__service",
        "appointment__location",
        "appointment__practitioner",
        "infection_control__sharps_container",
        "infection_control__confirmed_by",
    ).prefetch_related(
        Prefetch(
            "rows",
            queryset=NeedlingRow.objects.select_related("muscle", "needle_lot").order_by(
                "position", "pk"
            ),
        ),
        _addenda(),
    )


def physio_notes_with_addenda() -> QuerySet[PhysioNote]:
    """Return physiotherapy notes with their visit, signer and addenda (2 queries)."""
    return PhysioNote.objects.select_related(
        "practitioner",
        "signed_by",
        "appointment__service",
        "appointment__location",
        "appointment__practitioner",
    ).prefetch_related(_addenda())


def chart_for(patient: Patient) -> Chart:
    """Load the patient's whole chart: assessments, needling and physiotherapy notes."""
    assessments = list(
        assessments_with_parts().filter(patient=patient).order_by("-created_at", "-pk")
    )
    sessions = list(
        sessions_with_rows().filter(patient=patient).order_by("-appointment__start", "-pk")
    )
    physio_notes = list(
        physio_notes_with_addenda().filter(patient=patient).order_by("-appointment__start", "-pk")
    )
    return Chart(
        patient=patient, assessments=assessments, sessions=sessions, physio_notes=physio_notes
    )


def measures_due_at(appointment: Any) -> list[str]:
    """Return the names of the outcome measures due at this visit (empty when none are).

    Outcomes answers `signals.measures_due_asked` from the patient's measure plan; charting
    knows no measure itself.
    """
    names: list[str] = []
    for _receiver, answer in measures_due_asked.send(sender=PhysioNote, appointment=appointment):
        names.extend(name for name in answer or () if name not in names)
    return names


def assessment_detail(assessment_id: int) -> Assessment | None:
    """Return one assessment with its patient and parts loaded, or None."""
    return assessments_with_parts().select_related("patient").filter(pk=assessment_id).first()


@dataclass(frozen=True)
class UnsignedNote:
    """A draft the user wrote more than a day ago and has not signed."""

    kind: str  # "assessment", "session" or "physio"
    note: Assessment | NeedlingSession | PhysioNote
    patient: Patient
    created_at: dt.datetime
    visit_start: dt.datetime | None


def unsigned_notes_for(user: User, *, now: dt.datetime | None = None) -> list[UnsignedNote]:
    """Return the user's own drafts older than 24 hours, oldest first (3 queries)."""
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
    for physio in PhysioNote.objects.filter(
        practitioner=user, status=NoteStatus.DRAFT, created_at__lte=cutoff
    ).select_related("patient", "appointment"):
        notes.append(
            UnsignedNote(
                kind="physio",
                note=physio,
                patient=physio.patient,
                created_at=physio.created_at,
                visit_start=physio.appointment.start,
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


def infection_control_protocol() -> list[InfectionControlStep]:
    """Return the steps of the clinic's infection-control protocol asked today, in order."""
    return list(InfectionControlStep.objects.filter(is_active=True).order_by("order", "pk"))


def infection_control_of(session: NeedlingSession) -> InfectionControlRecord | None:
    """Return what the note confirmed of the infection-control protocol, or None."""
    return (
        InfectionControlRecord.objects.select_related("sharps_container", "confirmed_by")
        .filter(session_id=session.pk)
        .first()
    )


def sharps_containers_for_visit(appointment: Any) -> list[SharpsContainer]:
    """Return the sharps containers the visit's needles could have gone into.

    Those at the visit's location that were open during it: opened before it ended, and not
    sealed before it began. The newest first.
    """
    return list(
        SharpsContainer.objects.filter(
            location_id=appointment.location_id, opened_at__lte=appointment.end
        )
        .exclude(sealed_at__lt=appointment.start)
        .order_by("-opened_at", "-pk")
    )


def active_muscles() -> QuerySet[Muscle]:
    """Return the catalogue muscles offered in charts, in body order."""
    return Muscle.objects.filter(is_active=True).in_body_order()


def suggest_muscles(segments: Iterable[str]) -> list[Muscle]:
    """Return the active muscles whose root range includes a chosen segment (1 query).

    That includes the paraspinals at the chosen levels (each is its own one-level range),
    all in body order: region head to foot, then roots down the spine.
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


# ---------------------------------------------------------------------------------------
# The assessment a course of needling rests on
#
# The first needling of a course needs a signed Gunn assessment signed no more than the
# clinic's `assessment_valid_months` before the visit (or after it: the assessment written
# at the same visit counts), or a recorded reason why not. A visit's needling opens a course
# when the visit belongs to a booked course with no signed needling note before it, or when
# the patient has no signed needling note on a visit in the months before it (a gap longer
# than the assessment stays current starts a new course).

DEFAULT_ASSESSMENT_MONTHS = 12


def assessment_valid_months() -> int:
    """Return how many months a signed assessment stays current (the clinic's setting)."""
    clinic = Clinic.current()
    return clinic.assessment_valid_months if clinic is not None else DEFAULT_ASSESSMENT_MONTHS


def current_assessment(patient_id: int, *, at: dt.datetime, months: int) -> Assessment | None:
    """Return the patient's latest signed assessment signed at most `months` before `at`."""
    return (
        Assessment.objects.filter(
            patient_id=patient_id,
            status=NoteStatus.SIGNED,
            signed_at__gte=add_months(at, -months),
        )
        .order_by("-signed_at", "-pk")
        .first()
    )


def opens_course(appointment: Any, *, months: int) -> bool:
    """Say whether needling at this visit would be the first of a course of care."""
    earlier = NeedlingSession.objects.filter(
        patient_id=appointment.patient_id,
        status=NoteStatus.SIGNED,
        appointment__start__lt=appointment.start,
    ).exclude(appointment_id=appointment.pk)
    if (
        appointment.course_id is not None
        and not earlier.filter(appointment__course_id=appointment.course_id).exists()
    ):
        return True
    return not earlier.filter(
        appointment__start__gte=add_months(appointment.start, -months)
    ).exists()


@dataclass(frozen=True)
class AssessmentOnFile:
    """What a chart says about the assessment behind the needling.

    `assessment`: the current signed assessment (or None); `reason`: why the course was
    needled without one, when it was; `needed`: needling now would open a course without a
    current assessment, so one must be signed first or the reason recorded.
    """

    months: int
    assessment: Assessment | None = None
    reason: str = ""
    needed: bool = False

    @property
    def warning(self) -> str:
        return no_assessment_message(self.months) if self.needed else ""


def visit_assessment_on_file(appointment: Any) -> AssessmentOnFile:
    """Say whether needling at this visit rests on a current assessment or must wait for one.

    `needed` is set when no signed assessment is current at the visit and its needling would
    open a course: one must be signed first, or the reason recorded on the note.
    """
    months = assessment_valid_months()
    assessment = current_assessment(appointment.patient_id, at=appointment.start, months=months)
    if assessment is not None:
        return AssessmentOnFile(months=months, assessment=assessment)
    return AssessmentOnFile(months=months, needed=opens_course(appointment, months=months))


def chart_assessment_on_file(chart: Chart, *, now: dt.datetime, months: int) -> AssessmentOnFile:
    """Say, from a loaded chart, whether the patient's needling rests on a current assessment."""
    since = add_months(now, -months)
    current = [a for a in chart.assessments if a.is_signed and a.signed_at and a.signed_at >= since]
    if current:
        latest = max(current, key=lambda a: (a.signed_at, a.pk))
        return AssessmentOnFile(months=months, assessment=latest)
    recent = [
        s
        for s in chart.signed_sessions
        if s.appointment.start >= since and s.appointment.start <= now
    ]
    if recent:
        reasons = [s for s in recent if s.reason_no_assessment and s.assessment_id is None]
        if reasons:
            opener = max(reasons, key=lambda s: (s.appointment.start, s.pk))
            return AssessmentOnFile(months=months, reason=opener.reason_no_assessment)
    return AssessmentOnFile(months=months, needed=True)


# ---- Lung risk over the chest wall ---------------------------------------------------------


@dataclass(frozen=True)
class LungRisk:
    """Why needling over this patient's chest wall is a lung risk, in words (empty: it is not).

    From the screening flags that restrict the chest wall (the intake's lung answers, or
    questions an earlier form never asked) and the latest signed Gunn assessment's finding
    of a very slim build.
    """

    reasons: list[str]

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)


# Kept in English like the screening reasons (shown translated); marked for makemessages.
SLIM_BUILD_REASON = gettext_noop(
    "Very slim build (Gunn assessment): judge needle depth over the chest wall."
)


def lung_risk(patient: Patient, *, at: dt.datetime) -> LungRisk:
    """Return the patient's lung-risk reasons for needling over the chest wall at `at`."""
    reasons = [
        f"{flag.reason} ({flag.detail})" if flag.detail else flag.reason
        for flag in screening_for(patient, at=at).chest_wall
    ]
    latest = (
        Assessment.objects.filter(patient=patient, status=NoteStatus.SIGNED)
        .order_by("-signed_at", "-pk")
        .only("very_slim_build")
        .first()
    )
    if latest is not None and latest.very_slim_build:
        reasons.append(SLIM_BUILD_REASON)
    return LungRisk(reasons)


def chest_wall_rows(session: NeedlingSession) -> list[NeedlingRow]:
    """Return the note's rows whose muscle carries the catalogue's thoracic precaution."""
    return list(
        session.rows.filter(muscle__thoracic_precaution=True)
        .select_related("muscle")
        .order_by("position")
    )


def technique_confirmed(session: NeedlingSession, rows: Iterable[NeedlingRow]) -> bool:
    """Say whether the note's latest technique confirmation covers every one of these rows."""
    latest = session.chest_wall_confirmations.order_by("-confirmed_at", "-pk").first()
    if latest is None:
        return False
    return {row.muscle_id for row in rows} <= latest.muscle_ids
