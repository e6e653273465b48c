"""Chart reads: the whole chart in a fixed number of queries, last rows, unsigned notes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting import selectors, services
from imsclinic.charting.services import SignInput
from imsclinic.clinic.models import NeedleLot, Service
from imsclinic.patients.models import Patient
from tests.factories.charting import (
    ims_visit,
    physio_service,
    row,
    signed_physio_note,
    signed_session,
)

pytestmark = pytest.mark.django_db


def chart_with(
    patient: Patient, physio: User, service: Service, lot: NeedleLot, *, sessions: int
) -> None:
    for weeks_ago in range(sessions, 0, -1):
        visit = ims_visit(
            patient, physio, service, start=timezone.now() - dt.timedelta(days=7 * weeks_ago)
        )
        signed = signed_session(visit, physio, [row("deltoid", lot), row("rhomboids", lot)])
        services.addendum_add(
            note=signed, reason="Follow-up call", text="Sore 1 day.", actor=physio
        )
    for days_ago in (3, 2):
        visit = ims_visit(
            patient, physio, physio_service(), start=timezone.now() - dt.timedelta(days=days_ago)
        )
        note = signed_physio_note(visit, physio)
        services.addendum_add(note=note, reason="Missed a detail", text="Left.", actor=physio)
    for _ in range(2):
        draft = services.assessment_save_draft(
            patient=patient,
            actor=physio,
            data={"plan_frequency": "weekly"},
            signs=[SignInput(sign="vasomotor", finding="present", muscle_id=None)],
            segments=[("C6", "left"), ("C5", "right")],
        )
        signed_assessment = services.assessment_sign(assessment=draft, actor=physio)
        services.addendum_add(note=signed_assessment, reason="Typo", text="C6.", actor=physio)


def read_everything(chart: selectors.Chart) -> list[str]:
    """Touch every part the chart page shows, as a template would."""
    seen: list[str] = []
    for assessment in chart.assessments:
        seen.append(assessment.author.email)
        seen += [
            s.get_sign_display() + (s.muscle.name if s.muscle else "")
            for s in assessment.signs.all()
        ]
        seen += [f"{s.segment}{s.side}" for s in assessment.segments.all()]
        seen += [a.author.email + a.reason for a in assessment.addenda.all()]
    for session in chart.sessions:
        seen.append(session.appointment.service.name + session.appointment.location.time_zone)
        seen.append(session.practitioner.email)
        seen.append(str(session.assessment.signed_at if session.assessment else ""))
        seen += [r.muscle.name + r.needle_lot.size_label for r in session.rows.all()]
        seen += [a.author.email for a in session.addenda.all()]
    for note in chart.physio_notes:
        seen.append(note.appointment.service.name + note.appointment.location.time_zone)
        seen.append(note.practitioner.email + (note.signed_by.email if note.signed_by else ""))
        seen += [a.author.email for a in note.addenda.all()]
    return seen


@pytest.mark.parametrize("sessions", [1, 6])
def test_the_whole_chart_loads_in_a_fixed_number_of_queries(
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    lot: NeedleLot,
    sessions: int,
    django_assert_num_queries: object,
) -> None:
    chart_with(ready_patient, physio, ims_service, lot, sessions=sessions)
    with django_assert_num_queries(selectors.CHART_QUERIES):  # type: ignore[operator]
        chart = selectors.chart_for(ready_patient)
        seen = read_everything(chart)
    assert len(chart.sessions) == sessions
    assert len(chart.assessments) == 3  # the one on file before the course, and two more
    assert len(seen) > sessions * 4


def test_the_chart_lists_sessions_newest_visit_first_with_rows_in_order(
    ready_patient: Patient, physio: User, ims_service: Service, lot: NeedleLot
) -> None:
    chart_with(ready_patient, physio, ims_service, lot, sessions=3)
    chart = selectors.chart_for(ready_patient)
    starts = [session.appointment.start for session in chart.sessions]
    assert starts == sorted(starts, reverse=True)
    assert [r.muscle.code for r in chart.sessions[0].rows.all()] == ["deltoid", "rhomboids"]
    assert [s.segment for s in chart.assessments[0].segments.all()] == ["C5", "C6"]


def test_session_rows_last_gives_the_latest_signed_sessions_rows(
    ready_patient: Patient, physio: User, ims_service: Service, lot: NeedleLot
) -> None:
    assert selectors.session_rows_last(ready_patient) == []
    old = ims_visit(
        ready_patient, physio, ims_service, start=timezone.now() - dt.timedelta(days=14)
    )
    signed_session(old, physio, [row("soleus", lot)])
    recent = ims_visit(
        ready_patient, physio, ims_service, start=timezone.now() - dt.timedelta(days=7)
    )
    signed_session(recent, physio, [row("deltoid", lot), row("biceps_brachii", lot)])
    today = ims_visit(ready_patient, physio, ims_service)
    services.session_start(appointment=today, actor=physio)  # a draft does not count
    assert [r.muscle.code for r in selectors.session_rows_last(ready_patient)] == [
        "deltoid",
        "biceps_brachii",
    ]


def test_unsigned_notes_are_the_users_own_drafts_older_than_a_day(
    patient: Patient, physio: User, owner: User
) -> None:
    now = timezone.now()
    mine = services.assessment_save_draft(patient=patient, actor=physio, data={})
    services.assessment_save_draft(patient=patient, actor=owner, data={})
    assert selectors.unsigned_notes_for(physio, now=now) == []
    later = selectors.unsigned_notes_for(physio, now=now + dt.timedelta(hours=25))
    assert [(item.kind, item.note.pk) for item in later] == [("assessment", mine.pk)]
