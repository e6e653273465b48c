"""Demo outcomes for seed_demo: six signed sessions of progress for the demo patient, and a
few other patients' courses so the clinic outcomes report has numbers. Idempotent.

Each visit is booked through the booking rules (`demo.scheduling`); the notes are then
opened and signed directly, their rows written through `session_save_draft`, the way
demo/charting.py writes its course. A course's first needling
rests on a Gunn assessment signed at that visit through the charting services, as the
charting rules require. The notes' pain scores, the questionnaires and the plan are recorded
through the outcomes services (`results_from_session`, `result_record`, `plan_set`), dated
when they were taken or set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from imsclinic.charting.models import Assessment, Muscle, NeedlingSession, NoteStatus
from imsclinic.charting.services import RowInput, session_save_draft
from imsclinic.clinic.models import Location, NeedleLot, Service
from imsclinic.demo.charting import demo_assessment
from imsclinic.demo.scheduling import days_back_from, demo_attended, demo_book_near
from imsclinic.outcomes.models import MeasurePlan, OutcomeResult, ResultSource
from imsclinic.outcomes.services import plan_set, result_record, results_from_session
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus

FOLLOW_UP = "ims-follow-up"
ASSESSMENT = "ims-initial-assessment"
DEMO_ACTIVITIES = [
    "Turning my head to check the blind spot when driving",
    "Sleeping on my right side",
    "Working at my desk for an hour",
]
# Visits 4, 5 and 6 of the demo course (1-3 come from demo/charting.py): days back, pain
# before and after needling.
DEMO_EXTRA_VISITS = ((14, 4, 2), (7, 3, 2), (3, 3, 1))
# Questionnaires of the demo course, by visit: NDI items (0-5) and PSFS ratings (0-10).
DEMO_QUESTIONNAIRES: dict[int, tuple[list[int | None], list[int | None]]] = {
    1: ([3, 2, 2, 3, 2, 2, 3, 2, 1, 2], [3, 2, 4]),
    4: ([2, 1, 2, 2, 1, 1, 2, 2, 1, 1], [5, 5, 6]),
    6: ([1, 1, 1, 1, 1, 0, 1, 1, 0, 1], [8, 7, 8]),
}


@dataclass(frozen=True)
class OtherCourse:
    region: str  # the region questionnaire
    muscle: str
    nprs: tuple[tuple[int, int], ...]  # pain before, after, per session
    scores: dict[int, int]  # visit -> region questionnaire target score


OTHER_COURSES = (
    OtherCourse(
        "ODI",
        "quadratus_lumborum",
        ((8, 6), (7, 5), (7, 5), (6, 4), (5, 4), (5, 3), (4, 3), (3, 2), (3, 2), (2, 1)),
        {1: 48, 4: 38, 7: 26, 10: 18},
    ),
    OtherCourse(
        "NDI",
        "upper_trapezius",
        ((6, 4), (6, 5), (5, 4), (5, 4), (5, 3), (4, 3)),
        {1: 40, 4: 36, 6: 30},
    ),
    OtherCourse("LEFS", "gastrocnemius", ((5, 3), (4, 3), (3, 2)), {1: 38, 3: 50}),
    OtherCourse(
        "QuickDASH",
        "extensor_carpi_radialis",
        ((6, 4), (5, 4), (5, 3), (4, 3)),
        {1: 50, 4: 40},
    ),
)


def _items(code: str, score: int) -> list[int | None]:
    """Return item answers that score (about) this much on the region questionnaire."""
    count, low, high = {"ODI": (10, 0, 5), "NDI": (10, 0, 5), "LEFS": (20, 0, 4)}.get(
        code, (11, 1, 5)
    )
    if code in ("ODI", "NDI"):
        total = round(score / 2)
    elif code == "LEFS":
        total = score
    else:  # QuickDASH: score = (mean - 1) x 25
        total = round((score / 25 + 1) * count)
    base, extra = divmod(total - low * count, count)
    return [min(high, low + base + (1 if i < extra else 0)) for i in range(count)]


def demo_result(
    *,
    patient: Patient,
    instrument: str,
    answers: list[int | None],
    actor: Any,
    source: str,
    taken_at: dt.datetime,
    appointment: Appointment | None = None,
    labels: list[str] | None = None,
) -> OutcomeResult:
    """Record one answered questionnaire as taken at `taken_at`, entered then."""
    return result_record(
        patient=patient,
        instrument=instrument,
        answers=answers,
        labels=labels,
        actor=actor,
        source=source,
        taken_at=taken_at,
        appointment=appointment,
        now=taken_at,
    )


def chart_signed_session(
    *,
    visit: Appointment,
    physio: Any,
    before: int,
    after: int,
    muscle: Muscle,
    lot: NeedleLot,
    assessment: Assessment | None = None,
) -> NeedlingSession:
    """Write a signed needling note for a completed visit and record its two NPRS results."""
    # Written directly, as in demo/charting.py (which says why), not by session_sign.
    session = NeedlingSession.objects.create(
        patient=visit.patient,
        appointment=visit,
        practitioner=physio,
        nprs_before=before,
        nprs_after=after,
        aftercare_given=True,
        aftercare_notes="Heat and gentle movement tonight; soreness for a day or two is expected.",
        created_at=visit.start,
    )
    # The row goes through the draft service: its needle leaves the lot's stock.
    session = session_save_draft(
        session=session,
        actor=physio,
        rows=[
            RowInput(
                muscle_id=muscle.pk,
                side="right",
                segment=muscle.root_from,
                insertions=2,
                needle_lot_id=lot.pk,
                grasp="moderate",
                release=True,
                twitch=False,
                tolerance="good",
            )
        ],
    )
    session.assessment = assessment
    session.status = NoteStatus.SIGNED
    session.signed_at = visit.end + dt.timedelta(minutes=10)
    session.signed_by = physio
    session.save(update_fields=["assessment", "status", "signed_at", "signed_by"])
    results_from_session(session=session, actor=physio)
    return session


def demo_session(
    *,
    patient: Patient,
    physio: Any,
    desk: Any,
    location: Location,
    service: Service,
    day: dt.date,
    before: int,
    after: int,
    muscle: Muscle,
    lot: NeedleLot,
) -> NeedlingSession | None:
    """Book a past visit on or a few days before `day`, mark it seen and chart it, signed."""
    visit = demo_book_near(
        days=days_back_from(day),
        patient=patient,
        practitioner=physio.practitioner,
        service=service,
        location=location,
        actor=desk,
        ends_by=timezone.now() - dt.timedelta(hours=1),
    )
    if visit is None:
        return None
    demo_attended(visit, AppointmentStatus.COMPLETED, arrived=visit.start - dt.timedelta(minutes=5))
    assessment = (
        Assessment.objects.filter(patient=patient, status=NoteStatus.SIGNED)
        .order_by("-signed_at", "-pk")
        .first()
    )
    if assessment is None:
        # The course's first needling: the Gunn assessment is signed at the same visit, first.
        segments = tuple(dict.fromkeys((muscle.root_from, muscle.root_to)))
        assessment = demo_assessment(
            patient=patient,
            visit=visit,
            physio=physio,
            signed_at=visit.end + dt.timedelta(minutes=5),
            segments=segments,
            goals="Back to usual work and exercise with less pain.",
            notes=f"Pain for several months; {muscle.name.lower()} shortened and tender.",
        )
    return chart_signed_session(
        visit=visit,
        physio=physio,
        before=before,
        after=after,
        muscle=muscle,
        lot=lot,
        assessment=assessment,
    )


def _ingredients(physio: Any) -> tuple[Location, Service, NeedleLot] | None:
    practitioner = getattr(physio, "practitioner", None)
    if practitioner is None:
        return None
    location = practitioner.locations.order_by("pk").first()
    service = Service.objects.filter(slug=FOLLOW_UP).first()
    lot = (
        NeedleLot.objects.filter(recalled_at__isnull=True, expires_on__gt=timezone.localdate())
        .order_by("expires_on")
        .first()
    )
    if location is None or service is None or lot is None:
        return None
    return location, service, lot


def _signed(patient: Patient) -> list[NeedlingSession]:
    return list(
        NeedlingSession.objects.filter(patient=patient, status=NoteStatus.SIGNED)
        .select_related("appointment")
        .order_by("appointment__start", "pk")
    )


def seed_demo_progress(*, patient: Patient | None, physio: Any, desk: Any) -> dict[str, int]:
    """Give the demo patient six signed sessions, a plan and NDI/PSFS at visits 1, 4 and 6."""
    made = {"needling notes": 0, "outcome results": 0, "measure plans": 0}
    found = _ingredients(physio)
    if patient is None or found is None:
        return made
    location, service, lot = found
    sessions = _signed(patient)
    if len(sessions) < 3:
        return made  # demo/charting.py has not written its course: nothing to extend
    muscle = Muscle.objects.filter(code="infraspinatus").first()
    if muscle is None:
        return made
    today = timezone.now().astimezone(location.zone).date()
    for days, before, after in DEMO_EXTRA_VISITS[len(sessions) - 3 :]:
        if demo_session(
            patient=patient,
            physio=physio,
            desk=desk,
            location=location,
            service=service,
            day=today - dt.timedelta(days=days),
            before=before,
            after=after,
            muscle=muscle,
            lot=lot,
        ):
            made["needling notes"] += 1
    sessions = _signed(patient)
    results = OutcomeResult.objects.filter(patient=patient)
    stored = results.count()
    for session in sessions:
        results_from_session(session=session, actor=physio)
    made["outcome results"] += results.count() - stored
    if not MeasurePlan.objects.filter(patient=patient).exists():
        plan_set(
            patient=patient,
            assessment=patient.assessments.order_by("created_at").first(),  # type: ignore[attr-defined]
            region_instrument="NDI",
            psfs_activities=DEMO_ACTIVITIES,
            every_visits=3,
            actor=physio,
            now=sessions[0].appointment.end,
        )
        made["measure plans"] += 1
    if OutcomeResult.objects.filter(patient=patient, instrument__in=("NDI", "PSFS")).exists():
        return made
    actor = patient.user or physio
    source = ResultSource.PORTAL if patient.user else ResultSource.PAPER
    for visit, (ndi, psfs) in DEMO_QUESTIONNAIRES.items():
        if visit > len(sessions):
            continue
        appointment = sessions[visit - 1].appointment
        taken_at = appointment.start - dt.timedelta(hours=2)
        for code, answers, labels in (("NDI", ndi, None), ("PSFS", psfs, DEMO_ACTIVITIES)):
            demo_result(
                patient=patient,
                instrument=code,
                answers=answers,
                labels=labels,
                actor=actor,
                source=source,
                taken_at=taken_at,
                appointment=appointment,
            )
            made["outcome results"] += 1
    return made


def seed_other_courses(*, patients: list[Patient], physio: Any, desk: Any) -> dict[str, int]:
    """Chart a course with outcomes for a few of the physio's other patients (report data)."""
    made = {"needling notes": 0, "outcome results": 0}
    found = _ingredients(physio)
    if found is None:
        return made
    location, service, lot = found
    assessment = Service.objects.filter(slug=ASSESSMENT).first() or service
    muscles = {m.code: m for m in Muscle.objects.filter(code__in={c.muscle for c in OTHER_COURSES})}
    team = [
        p
        for p in patients
        if p.care_team.filter(pk=physio.practitioner.pk).exists()  # type: ignore[attr-defined]
        and p.user_id is None
    ]
    today = timezone.now().astimezone(location.zone).date()
    for patient, course in zip(team, OTHER_COURSES, strict=False):
        if patient.needling_sessions.exists() or course.muscle not in muscles:  # type: ignore[attr-defined]
            continue
        count = len(course.nprs)
        sessions: dict[int, NeedlingSession] = {}
        for index, (before, after) in enumerate(course.nprs):
            session = demo_session(
                patient=patient,
                physio=physio,
                desk=desk,
                location=location,
                # The first IMS visit of a course is the initial assessment.
                service=assessment if index == 0 else service,
                day=today - dt.timedelta(weeks=count - index, days=-1),
                before=before,
                after=after,
                muscle=muscles[course.muscle],
                lot=lot,
            )
            if session is None:
                continue
            sessions[index + 1] = session
            made["needling notes"] += 1
            made["outcome results"] += 2
        for visit, score in course.scores.items():
            if visit not in sessions:
                continue
            appointment = sessions[visit].appointment
            taken_at = appointment.start - dt.timedelta(minutes=15)
            demo_result(
                patient=patient,
                instrument=course.region,
                answers=_items(course.region, score),
                actor=physio,
                source=ResultSource.PAPER,
                taken_at=taken_at,
                appointment=appointment,
            )
            made["outcome results"] += 1
    return made


def seed_outcomes(
    *, patient: Patient | None, physio: Any, desk: Any, others: list[Patient]
) -> dict[str, int]:
    """Seed the demo patient's progress and the other patients' courses; idempotent."""
    made = seed_demo_progress(patient=patient, physio=physio, desk=desk)
    for kind, count in seed_other_courses(patients=others, physio=physio, desk=desk).items():
        made[kind] = made.get(kind, 0) + count
    return made
