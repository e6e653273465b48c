"""Demo charting for seed_demo: a short course of IMS for the demo patient, signed.

Three weekly visits some weeks back with the demo physiotherapist: the first with the Gunn
assessment, signed before its needling (the first needling of a course rests on it), each
with a signed needling note, so the chart, the body chart, the patient's treatment notes and
the lot trace have something to show. The visits are booked through the booking rules
(`demo.scheduling`); the assessment is written and signed through the charting services;
so are the needling notes, each started at its visit, written as a draft (its rows take
their needles from the lot's stock) and signed just after it (`demo_needling_note`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from imsclinic.charting.models import Assessment, Muscle, NeedlingSession
from imsclinic.charting.services import (
    RowInput,
    SignInput,
    assessment_save_draft,
    assessment_sign,
    session_save_draft,
    session_sign,
    session_start,
)
from imsclinic.clinic.models import NeedleLot, Service
from imsclinic.demo.infection_control import demo_infection_control
from imsclinic.demo.scheduling import days_back_from, demo_attended, demo_book_near
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus

# Weeks back, service slug, pain before and after, rows (muscle code, side, insertions,
# grasp, release, twitch).
COURSE: tuple[tuple[int, str, int, int, tuple[tuple[str, str, int, str, bool, bool], ...]], ...] = (
    (
        5,
        "ims-initial-assessment",
        7,
        5,
        (
            ("paraspinal_c5", "right", 3, "strong", True, False),
            ("paraspinal_c6", "right", 3, "moderate", True, False),
            ("infraspinatus", "right", 2, "strong", True, True),
        ),
    ),
    (
        4,
        "ims-follow-up",
        6,
        3,
        (
            ("paraspinal_c5", "right", 2, "moderate", True, False),
            ("infraspinatus", "right", 2, "moderate", True, False),
            ("supraspinatus", "right", 2, "mild", True, True),
        ),
    ),
    (
        3,
        "ims-follow-up",
        4,
        2,
        (
            ("paraspinal_c6", "right", 2, "mild", True, False),
            ("deltoid", "right", 2, "mild", True, False),
        ),
    ),
)


def seed_demo_course(*, patient: Patient | None, physio: Any, desk: Any) -> dict[str, int]:
    """Chart the demo patient's past course with the demo physio; idempotent."""
    made = {"assessments": 0, "needling notes": 0, "past visits": 0}
    practitioner = getattr(physio, "practitioner", None)
    if patient is None or practitioner is None or patient.needling_sessions.exists():
        return made
    location = practitioner.locations.order_by("pk").first()
    services = {s.slug: s for s in Service.objects.filter(slug__in={c[1] for c in COURSE})}
    muscles = {m.code: m for m in Muscle.objects.all()}
    lot = (
        NeedleLot.objects.filter(recalled_at__isnull=True, expires_on__gt=timezone.localdate())
        .order_by("expires_on")
        .first()
    )
    if location is None or lot is None or len(services) < 2 or not muscles:
        return made
    today = timezone.now().astimezone(location.zone).date()
    assessment: Assessment | None = None
    for weeks, slug, before, after, rows in COURSE:
        service = services[slug]
        visit = demo_book_near(
            days=days_back_from(today - dt.timedelta(weeks=weeks)),
            patient=patient,
            practitioner=practitioner,
            service=service,
            location=location,
            actor=desk,
            earliest=dt.time(10),
        )
        if visit is None:
            continue  # no time offered that week: the course is a visit shorter
        demo_attended(
            visit, AppointmentStatus.COMPLETED, arrived=visit.start - dt.timedelta(minutes=5)
        )
        end = visit.end
        made["past visits"] += 1
        signed_at = end + dt.timedelta(minutes=10)
        if assessment is None:
            # The course's first visit (the initial assessment, unless no time was offered for
            # it): the assessment is signed before the needling note.
            assessment = demo_assessment(
                patient=patient,
                visit=visit,
                physio=physio,
                signed_at=signed_at - dt.timedelta(minutes=5),
            )
            made["assessments"] += 1
        demo_needling_note(
            visit=visit,
            physio=physio,
            before=before,
            after=after,
            rows=[
                RowInput(
                    muscle_id=muscles[code].pk,
                    side=side,
                    segment=muscles[code].root_from,
                    insertions=insertions,
                    needles_used=2 if insertions >= 3 and grasp == "strong" else 1,
                    needle_lot_id=lot.pk,
                    grasp=grasp,
                    release=release,
                    twitch=twitch,
                )
                for code, side, insertions, grasp, release, twitch in rows
            ],
            signed_at=signed_at,
            rom_change="Neck rotation to the right 50° → 65°." if weeks == 5 else "",
        )
        made["needling notes"] += 1
    return made


AFTERCARE = "Heat and gentle movement tonight; soreness for a day or two is expected."


def demo_needling_note(
    *,
    visit: Appointment,
    physio: Any,
    before: int,
    after: int,
    rows: Sequence[RowInput],
    signed_at: dt.datetime,
    rom_change: str = "",
) -> NeedlingSession:
    """Start, write and sign the needling note of a visit the patient attended.

    Each step goes through the charting service a practitioner's page calls: the draft is
    opened as the visit starts, the clinic's infection-control steps are confirmed with an
    open sharps container, and signing (at `signed_at`) re-checks the patient's screening
    and consent, the practitioner's credential, the assessment the course rests on, every
    row's lot and that confirmation, then records the pain scores and schedules the
    check-in.
    """
    session = session_start(appointment=visit, actor=physio, now=visit.start)
    session = session_save_draft(
        session=session,
        actor=physio,
        data={
            "nprs_before": before,
            "nprs_after": after,
            "rom_change": rom_change,
            "aftercare_given": True,
            "aftercare_notes": AFTERCARE,
        },
        rows=rows,
    )
    demo_infection_control(session, physio=physio)
    return session_sign(session=session, actor=physio, now=signed_at)


NECK_GOALS = (
    "Turn the head fully to check the blind spot when driving; sleep on the right side "
    "without waking."
)
NECK_NOTES = "Right-sided neck and shoulder pain for four months, worse with desk work."


def demo_assessment(
    *,
    patient: Patient,
    visit: Appointment,
    physio: Any,
    signed_at: dt.datetime,
    segments: tuple[str, ...] = ("C5", "C6"),
    goals: str = NECK_GOALS,
    notes: str = NECK_NOTES,
) -> Assessment:
    """Write and sign a Gunn assessment at a visit: signs found at `segments`, on the right."""
    first, last = segments[0], segments[-1]
    signs = [
        SignInput(sign=sign, finding=finding, side=side, segment=segment)
        for sign, finding, side, segment in (
            ("tender_motor_points", "present", "right", first),
            ("shortened_bands", "present", "right", last),
            ("trophedema_matchstick", "present", "right", first),
            ("trophedema_skin_rolling", "present", "right", last),
            ("sudomotor", "absent", "", ""),
            ("pilomotor", "not_tested", "", ""),
            ("range_of_motion", "present", "right", first),
        )
    ]
    draft = assessment_save_draft(
        patient=patient,
        actor=physio,
        appointment=visit,
        data={
            "goals": goals,
            "plan_frequency": "weekly",
            "plan_expected_sessions": 6,
            "notes": notes,
        },
        signs=signs,
        segments=[(segment, "right") for segment in segments],
        now=visit.start,
    )
    return assessment_sign(assessment=draft, actor=physio, now=signed_at)
