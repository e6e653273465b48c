"""The first needling of a course rests on a current signed Gunn assessment, or a reason why not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.charting import services
from imsclinic.charting.errors import AssessmentNotOnFile, ChartingError
from imsclinic.charting.models import NeedlingSession, NoteStatus
from imsclinic.clinic.models import Clinic
from imsclinic.core.models import AuditEvent
from imsclinic.scheduling.models import Course
from tests.factories.charting import (
    confirm_infection_control,
    ensure_catalogue,
    ims_visit,
    row,
    signed_assessment,
    signed_session,
)
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

WARNING = (
    "No signed assessment in the last 12 months: sign one before the first needling, or record why."
)
REASON = "Referred by Dr Lee with a full Gunn assessment from last month; copy on file."


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    ensure_catalogue()


@pytest.fixture
def first_visit(unassessed_patient: Any, physio: Any, ims_service: Any) -> Any:
    """The never-assessed patient's first IMS visit, under way now."""
    return ims_visit(unassessed_patient, physio, ims_service)


def note_url(visit: Any) -> str:
    return reverse("session_note", args=[visit.pk])


def fill(session: NeedlingSession, physio: Any, lot: Any, **data: Any) -> NeedlingSession:
    filled = services.session_save_draft(
        session=session,
        actor=physio,
        data={"nprs_before": 6, "nprs_after": 3, **data},
        rows=[row("deltoid", lot)],
    )
    confirm_infection_control(filled, physio)
    return filled


# --- the services ------------------------------------------------------------------------


def test_the_first_needling_without_an_assessment_or_a_reason_is_refused_and_nothing_is_written(
    first_visit: Any, physio: Any
) -> None:
    audit_rows = AuditEvent.objects.count()
    with pytest.raises(AssessmentNotOnFile) as refusal:
        services.session_start(appointment=first_visit, actor=physio)
    assert str(refusal.value) == WARNING
    assert "reason_no_assessment" in refusal.value.errors
    assert not NeedlingSession.objects.exists()
    assert AuditEvent.objects.count() == audit_rows


def test_a_recorded_reason_lets_the_first_needling_go_ahead_and_stays_on_the_signed_note(
    first_visit: Any, physio: Any, lot: Any
) -> None:
    session = services.session_start(
        appointment=first_visit, actor=physio, reason_no_assessment=f"  {REASON}  "
    )
    assert session.reason_no_assessment == REASON
    signed = services.session_sign(session=fill(session, physio, lot), actor=physio)
    signed.refresh_from_db()
    assert (signed.status, signed.assessment, signed.reason_no_assessment) == (
        NoteStatus.SIGNED,
        None,
        REASON,
    )
    created = AuditEvent.objects.get(object_type="needling_session", action="create")
    assert created.detail["reason_no_assessment"] is True
    assert REASON not in str(created.detail)  # the words stay in the chart, not the log


def test_signing_refuses_once_the_reason_is_cleared_and_the_draft_stays_a_draft(
    first_visit: Any, physio: Any, lot: Any
) -> None:
    session = services.session_start(
        appointment=first_visit, actor=physio, reason_no_assessment=REASON
    )
    session = fill(session, physio, lot, reason_no_assessment="   ")
    with pytest.raises(ChartingError) as refusal:
        services.session_sign(session=session, actor=physio)
    assert refusal.value.errors["reason_no_assessment"] == WARNING
    session.refresh_from_db()
    assert (session.status, session.signed_at) == (NoteStatus.DRAFT, None)


def test_a_reason_longer_than_240_characters_is_refused(first_visit: Any, physio: Any) -> None:
    with pytest.raises(ChartingError) as refusal:
        services.session_start(
            appointment=first_visit, actor=physio, reason_no_assessment="x" * 241
        )
    assert "reason_no_assessment" in refusal.value.errors
    assert not NeedlingSession.objects.exists()


def test_an_assessment_signed_at_the_same_visit_lets_the_needling_go_ahead_and_is_stored(
    first_visit: Any, unassessed_patient: Any, physio: Any, lot: Any
) -> None:
    assessment = signed_assessment(unassessed_patient, physio, appointment=first_visit)
    session = signed_session(first_visit, physio, [row("deltoid", lot)])
    session.refresh_from_db()
    assert session.assessment == assessment
    assert session.reason_no_assessment == ""


def test_an_assessment_older_than_the_clinics_setting_does_not_count(
    first_visit: Any, unassessed_patient: Any, physio: Any
) -> None:
    signed_assessment(unassessed_patient, physio, at=timezone.now() - dt.timedelta(days=400))
    with pytest.raises(AssessmentNotOnFile):
        services.session_start(appointment=first_visit, actor=physio)
    clinic = Clinic.objects.get()
    clinic.assessment_valid_months = 24
    clinic.save(update_fields=["assessment_valid_months"])
    assert services.session_start(appointment=first_visit, actor=physio).pk is not None


def test_later_visits_of_a_course_need_no_new_assessment(
    first_visit: Any, unassessed_patient: Any, physio: Any, ims_service: Any, lot: Any
) -> None:
    """A course opened with a reason goes on: only its first needling asks."""
    last_week = ims_visit(
        unassessed_patient, physio, ims_service, start=first_visit.start - dt.timedelta(days=7)
    )
    session = services.session_start(
        appointment=last_week, actor=physio, reason_no_assessment=REASON
    )
    services.session_sign(session=fill(session, physio, lot), actor=physio)
    later = signed_session(first_visit, physio, [row("deltoid", lot)])
    assert later.is_signed and later.reason_no_assessment == ""


def test_a_long_gap_since_the_last_needling_starts_a_new_course(
    unassessed_patient: Any, physio: Any, ims_service: Any, lot: Any
) -> None:
    long_ago = ims_visit(
        unassessed_patient,
        physio,
        ims_service,
        start=timezone.now() - dt.timedelta(days=420),
    )
    signed_assessment(unassessed_patient, physio, at=long_ago.start - dt.timedelta(minutes=5))
    signed_session(long_ago, physio, [row("deltoid", lot)])
    today = ims_visit(unassessed_patient, physio, ims_service)
    with pytest.raises(AssessmentNotOnFile):
        services.session_start(appointment=today, actor=physio)


def test_the_first_visit_of_a_booked_course_opens_a_new_course(
    first_visit: Any, unassessed_patient: Any, physio: Any, ims_service: Any, lot: Any
) -> None:
    last_week = ims_visit(
        unassessed_patient, physio, ims_service, start=first_visit.start - dt.timedelta(days=7)
    )
    opened = services.session_start(
        appointment=last_week, actor=physio, reason_no_assessment=REASON
    )
    services.session_sign(session=fill(opened, physio, lot), actor=physio)
    course = Course.objects.create(
        patient=unassessed_patient,
        practitioner=physio.practitioner,
        location=first_visit.location,
        service=ims_service,
        sessions_planned=6,
    )
    first_visit.course = course
    first_visit.save(update_fields=["course"])
    with pytest.raises(AssessmentNotOnFile):
        services.session_start(appointment=first_visit, actor=physio)


# --- the pages ---------------------------------------------------------------------------


def test_the_chart_warns_before_any_needling_without_a_current_assessment(
    unassessed_patient: Any, physio: Any
) -> None:
    page = signed_in(physio).get(reverse("patient_chart", args=[unassessed_patient.pk]))
    assert page.status_code == 200
    assert WARNING in page.content.decode()


def test_the_chart_and_the_note_say_which_assessment_the_needling_rests_on(
    ready_patient: Any, visit: Any, physio: Any, lot: Any
) -> None:
    signed_session(visit, physio, [row("deltoid", lot)])
    assessment = ready_patient.assessments.get()
    day = assessment.signed_at.astimezone(visit.location.zone)
    line = f"Assessment signed {day.day} {day:%b %Y}"
    chart = signed_in(physio).get(reverse("patient_chart", args=[ready_patient.pk])).content
    assert line in chart.decode()
    assert WARNING not in chart.decode()
    assert line in signed_in(physio).get(note_url(visit)).content.decode()


def test_the_chart_and_the_signed_note_show_the_reason_for_needling_without_an_assessment(
    first_visit: Any, unassessed_patient: Any, physio: Any, lot: Any
) -> None:
    session = services.session_start(
        appointment=first_visit, actor=physio, reason_no_assessment=REASON
    )
    services.session_sign(session=fill(session, physio, lot), actor=physio)
    client = signed_in(physio)
    chart = client.get(reverse("patient_chart", args=[unassessed_patient.pk])).content.decode()
    assert f"Needled without a current assessment: {REASON}" in chart
    note = client.get(note_url(first_visit)).content.decode()
    assert f"Needled without a current assessment: {REASON}" in note


def test_the_start_page_refuses_without_a_reason_and_starts_with_one(
    first_visit: Any, physio: Any
) -> None:
    client = signed_in(physio)
    offered = client.get(note_url(first_visit)).content.decode()
    assert WARNING in offered and 'name="reason_no_assessment"' in offered
    refused = client.post(note_url(first_visit), {"action": "start"})
    assert refused.status_code == 200
    assert WARNING in refused.content.decode()
    assert not NeedlingSession.objects.exists()
    started = client.post(
        note_url(first_visit), {"action": "start", "reason_no_assessment": REASON}
    )
    assert started.status_code == 302
    assert NeedlingSession.objects.get().reason_no_assessment == REASON


def test_the_draft_page_refuses_to_sign_without_the_reason_and_says_why(
    first_visit: Any, physio: Any, lot: Any
) -> None:
    session = services.session_start(
        appointment=first_visit, actor=physio, reason_no_assessment=REASON
    )
    confirm_infection_control(session, physio)
    client = signed_in(physio)
    draft = client.get(note_url(first_visit)).content.decode()
    assert REASON in draft  # kept in the field, so saving the form keeps it
    form = {
        "nprs_before": "6",
        "nprs_after": "3",
        "rom_change": "",
        "aftercare_notes": "",
        "notes": "",
        "reason_no_assessment": "",
        "rows-TOTAL": "1",
        "rows-0-muscle": str(row("deltoid", lot).muscle_id),
        "rows-0-side": "left",
        "rows-0-segment": "C5",
        "rows-0-insertions": "3",
        "rows-0-needle_lot": str(lot.pk),
        "rows-0-grasp": "mild",
        "rows-0-tolerance": "good",
        "rows-0-note": "",
        "action": "sign",
    }
    refused = client.post(note_url(first_visit), form)
    assert refused.status_code == 200
    assert WARNING in refused.content.decode()
    session.refresh_from_db()
    assert session.status == NoteStatus.DRAFT
    signed = client.post(note_url(first_visit), {**form, "reason_no_assessment": REASON})
    assert signed.status_code == 302
    session.refresh_from_db()
    assert (session.status, session.reason_no_assessment) == (NoteStatus.SIGNED, REASON)


def test_saving_the_draft_without_the_reason_field_keeps_the_stored_reason(
    ready_patient: Any, visit: Any, physio: Any, lot: Any
) -> None:
    """With an assessment on file the page shows no reason field; saving leaves it alone."""
    session = services.session_start(appointment=visit, actor=physio, reason_no_assessment=REASON)
    form = {"nprs_before": "5", "nprs_after": "", "rows-TOTAL": "0", "action": "save"}
    signed_in(physio).post(note_url(visit), form)
    session.refresh_from_db()
    assert (session.nprs_before, session.reason_no_assessment) == (5, REASON)


def test_the_owner_sets_how_long_an_assessment_stays_current(owner: Any, clinic: Any) -> None:
    client = signed_in(owner)
    page = client.get(f"/manage/clinic/clinic/{clinic.pk}/change/").content.decode()
    assert 'name="assessment_valid_months"' in page
    assert 'value="12"' in page
