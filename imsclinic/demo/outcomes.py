"""Demo outcomes for seed_demo: six signed sessions of progress for the demo patient, and a
few other patients' courses so the clinic outcomes report has numbers. Idempotent.

Each visit is booked through the booking rules (`demo.scheduling`) and charted through the
charting services (`demo.charting.demo_needling_note`). A course's first needling rests on
a Gunn assessment signed at that visit, as the charting rules require. Signing a note
records its pain scores; the questionnaires and the plan are recorded through the outcomes
services (`result_record`, `plan_set`), dated when they were taken or set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from imsclinic.charting.models import Assessment, Muscle, NeedlingSession, NoteStatus
from imsclinic.charting.services import RowInput
from imsclinic.clinic.models import Location, NeedleLot, Service
from imsclinic.demo.charting import demo_assessment, demo_needling_note
from imsclinic.demo.scheduling import days_back_from, demo_attended, demo_book_near
from imsclinic.outcomes.models import MeasurePlan, OutcomeResult, ResultSource
from imsclinic.outcomes.services import plan_set, result_record, results_from_session
from imsclinic.patients.models import Patient
from imsclinic.safety.readiness import needling_readiness
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
) -> NeedlingSession:
    """Chart and sign the needling note of a completed visit; signing records its two NPRS."""
    return demo_needling_note(
        visit=visit,
        physio=physio,
        before=before,
        after=after,
        rows=[
            RowInput(
                muscle_id=muscle.pk,
                side="right",
                segment=muscle.root_from,
                insertions=2,
                needle_lot_id=lot.pk,
                grasp="moderate",
                release=True,
            )
        ],
        signed_at=visit.end + dt.timedelta(minutes=10),
    )


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
    if not Assessment.objects.filter(patient=patient, status=NoteStatus.SIGNED).exists():
        # The course's first needling: the Gunn assessment is signed at the same visit, first.
        segments = tuple(dict.fromkeys((muscle.root_from, muscle.root_to)))
        demo_assessment(
            patient=patient,
            visit=visit,
            physio=physio,
            signed_at=visit.end + dt.timedelta(minutes=5),
            segments=segments,
            goals="Back to usual work and exercise with less pain.",
            notes=f"Pain for several months; {muscle.name.lower()} shortened and tender.",
        )
    return chart_signed_session(
        visit=visit, physio=physio, before=before, after=after, muscle=muscle, lot=lot
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
    # Patients without a login whom the physio may needle (one whose answers wait for her
    # review has no course): those on her care team first, then those with room on a care
    # team of one, which booking the course's first visit puts her on.
    now = timezone.now()
    on_team = set(physio.practitioner.patients.values_list("pk", flat=True))
    team = sorted(
        (
            p
            for p in patients
            if p.user_id is None
            and (p.pk in on_team or p.care_team.count() < 2)
            and needling_readiness(p, at=now).ready
        ),
        key=lambda p: p.pk not in on_team,
    )
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
