"""Needling over the chest wall of a lung-risk patient: the flag is shown, the technique used
is recorded with who and when before the note can be signed, and the signed note shows it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from imsclinic.charting import services
from imsclinic.charting.errors import ChartingError, SignedNoteLocked
from imsclinic.charting.models import (
    ChestWallConfirmation,
    GunnSign,
    NeedlingSession,
    NoteStatus,
)
from imsclinic.charting.pdf import chart_summary_html
from imsclinic.charting.selectors import chart_for, infection_control_protocol, lung_risk
from imsclinic.core.models import AuditEvent
from imsclinic.safety.models import Decision
from tests.factories.charting import (
    confirm_infection_control,
    ensure_catalogue,
    muscle,
    row,
    sharps_container,
)
from tests.factories.clients import signed_in
from tests.factories.safety import PAST_COLLAPSED_LUNG, clearance, submitted_intake

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    ensure_catalogue()


@pytest.fixture
def lung_risk_patient(ready_patient: Any, physio: Any) -> Any:
    """The ready patient, whose latest answers say they once had a collapsed lung (cleared)."""
    intake = submitted_intake(ready_patient, PAST_COLLAPSED_LUNG)
    clearance(ready_patient, intake, by=physio, decision=Decision.CLEARED_WITH_PRECAUTIONS)
    return ready_patient


def draft(visit: Any, physio: Any, rows: list[services.RowInput]) -> NeedlingSession:
    """A draft with pain scores, the rows and the infection control confirmed: all it lacks
    for signing is what the chest wall asks."""
    session = services.session_start(appointment=visit, actor=physio)
    session = services.session_save_draft(
        session=session,
        actor=physio,
        data={"nprs_before": 6, "nprs_after": 3, "aftercare_given": True},
        rows=rows,
    )
    confirm_infection_control(session, physio)
    return session


def test_a_past_collapsed_lung_is_a_lung_risk_and_a_healthy_patient_is_not(ready_patient, physio):
    assert not lung_risk(ready_patient, at=timezone.now()).flagged
    intake = submitted_intake(ready_patient, PAST_COLLAPSED_LUNG)
    clearance(ready_patient, intake, by=physio)
    risk = lung_risk(ready_patient, at=timezone.now())
    assert risk.flagged
    assert "collapsed lung" in risk.reasons[0]


def test_signing_a_chest_wall_muscle_for_a_lung_risk_patient_waits_for_the_technique(
    lung_risk_patient, visit, physio, lot
):
    session = draft(visit, physio, [row("pectoralis_major", lot), row("deltoid", lot)])
    with pytest.raises(ChartingError) as refused:
        services.session_sign(session=session, actor=physio)
    assert "Pectoralis major" in refused.value.errors["chest_wall_technique"]
    assert NeedlingSession.objects.get(pk=session.pk).status == NoteStatus.DRAFT

    confirmed_at = timezone.now()
    confirmation = services.session_confirm_chest_wall_technique(
        session=session, technique="angled_away", note="Depth kept shallow.", actor=physio
    )
    assert confirmation.confirmed_by == physio
    assert confirmation.confirmed_at >= confirmed_at
    assert confirmation.muscle_names == [muscle("pectoralis_major").name]
    assert any("collapsed lung" in reason for reason in confirmation.risks)
    assert AuditEvent.objects.filter(
        object_type="needling_session",
        object_id=str(session.pk),
        detail__chest_wall_technique="angled_away",
    ).exists()

    signed = services.session_sign(session=session, actor=physio)
    assert signed.is_signed


def test_the_signed_note_and_the_summary_pdf_show_the_technique_with_who_and_when(
    lung_risk_patient, visit, physio, lot
):
    session = draft(visit, physio, [row("pectoralis_major", lot)])
    services.session_confirm_chest_wall_technique(
        session=session, technique="onto_rib", actor=physio
    )
    services.session_sign(session=session, actor=physio)

    page = signed_in(physio).get(reverse("session_note", args=[visit.pk])).content.decode()
    assert "Lung-risk flag: technique over the chest wall" in page
    assert "Needle directed onto a rib" in page
    assert physio.get_full_name() in page

    html = chart_summary_html(
        chart_for(lung_risk_patient), author=physio, zone=timezone.get_current_timezone()
    )
    assert "Lung-risk flag: technique over the chest wall: Needle directed onto a rib" in html
    assert f"recorded by {physio.get_full_name()}" in html


def test_a_patient_without_a_lung_risk_is_not_asked_for_a_technique(
    ready_patient, visit, physio, lot
):
    session = draft(visit, physio, [row("pectoralis_major", lot)])
    page = signed_in(physio).get(reverse("session_note", args=[visit.pk])).content.decode()
    assert "Thoracic precaution" in page
    assert "Lung-risk flag" not in page
    assert 'value="chest_wall"' not in page
    assert services.session_sign(session=session, actor=physio).is_signed


def test_a_muscle_away_from_the_chest_wall_needs_no_technique_even_with_the_flag(
    lung_risk_patient, visit, physio, lot
):
    session = draft(visit, physio, [row("gastrocnemius", lot)])
    assert services.session_sign(session=session, actor=physio).is_signed


def test_a_chest_wall_muscle_added_after_the_confirmation_needs_it_again(
    lung_risk_patient, visit, physio, lot
):
    session = draft(visit, physio, [row("pectoralis_major", lot)])
    services.session_confirm_chest_wall_technique(
        session=session, technique="pincer_grasp", actor=physio
    )
    services.session_save_draft(
        session=session,
        actor=physio,
        rows=[row("pectoralis_major", lot), row("serratus_anterior", lot)],
    )
    with pytest.raises(ChartingError) as refused:
        services.session_sign(session=session, actor=physio)
    assert "Serratus anterior" in refused.value.errors["chest_wall_technique"]
    services.session_confirm_chest_wall_technique(session=session, technique="flat", actor=physio)
    assert services.session_sign(session=session, actor=physio).is_signed


def test_another_technique_must_be_described_and_a_choice_is_needed(
    lung_risk_patient, visit, physio, lot
):
    session = draft(visit, physio, [row("pectoralis_major", lot)])
    with pytest.raises(ChartingError) as refused:
        services.session_confirm_chest_wall_technique(
            session=session, technique="other", actor=physio
        )
    assert "note" in refused.value.errors
    with pytest.raises(ChartingError) as refused:
        services.session_confirm_chest_wall_technique(session=session, technique="", actor=physio)
    assert "technique" in refused.value.errors
    assert not ChestWallConfirmation.objects.exists()


def test_only_the_author_records_the_technique_and_never_on_a_signed_note(
    lung_risk_patient, visit, physio, other_physio, lot
):
    session = draft(visit, physio, [row("pectoralis_major", lot)])
    with pytest.raises(PermissionDenied):
        services.session_confirm_chest_wall_technique(
            session=session, technique="flat", actor=other_physio
        )
    services.session_confirm_chest_wall_technique(session=session, technique="flat", actor=physio)
    signed = services.session_sign(session=session, actor=physio)
    with pytest.raises(SignedNoteLocked):
        services.session_confirm_chest_wall_technique(
            session=signed, technique="flat", actor=physio
        )
    with pytest.raises(SignedNoteLocked):
        ChestWallConfirmation.objects.get(session=signed).delete()


def test_a_very_slim_build_found_at_the_assessment_is_a_lung_risk(
    ready_patient, visit, physio, lot
):
    assessment = services.assessment_save_draft(
        patient=ready_patient,
        actor=physio,
        data={"plan_frequency": "weekly", "very_slim_build": True},
        signs=[services.SignInput(sign="tender_motor_points", finding="present", side="left")],
        segments=[("T4", "left")],
    )
    services.assessment_sign(assessment=assessment, actor=physio)
    risk = lung_risk(ready_patient, at=timezone.now())
    assert risk.flagged
    assert any("slim build" in reason for reason in risk.reasons)

    session = draft(visit, physio, [row("rhomboids", lot)])
    with pytest.raises(ChartingError):
        services.session_sign(session=session, actor=physio)


def test_the_assessment_page_records_the_build_as_the_practitioners_finding(ready_patient, physio):
    client = signed_in(physio)
    new = reverse("assessment_new", args=[ready_patient.pk])
    page = client.get(new).content.decode()
    assert "Very slim build: judge needle depth over the chest wall" in page
    data: dict[str, Any] = {
        "action": "save",
        "goals": "",
        "plan_frequency": "weekly",
        "plan_frequency_other": "",
        "plan_expected_sessions": "",
        "notes": "",
        "segment_left": ["T4"],
        "very_slim_build": "on",
    }
    for sign in [*GunnSign.values, "x0", "x1"]:
        data[f"sign-{sign}-finding"] = "not_tested"
    response = client.post(new, data)
    assert response.status_code == 302
    latest = ready_patient.assessments.order_by("-pk").first()
    assert latest is not None and latest.very_slim_build is True


def test_the_note_page_shows_the_flag_beside_the_row_and_records_the_technique(
    lung_risk_patient, visit, physio, lot
):
    client = signed_in(physio)
    url = reverse("session_note", args=[visit.pk])
    services.session_start(appointment=visit, actor=physio)
    pectoral = muscle("pectoralis_major")
    form = {
        "nprs_before": "6",
        "nprs_after": "3",
        "rom_change": "",
        "aftercare_notes": "",
        "notes": "",
        "rows-TOTAL": "1",
        "rows-0-muscle": str(pectoral.pk),
        "rows-0-side": "left",
        "rows-0-segment": "",
        "rows-0-insertions": "3",
        "rows-0-needle_lot": str(lot.pk),
        "rows-0-grasp": "mild",
        "rows-0-tolerance": "good",
        "rows-0-note": "",
    }
    client.post(url, {**form, "action": "save"})
    page = client.get(url).content.decode()
    assert "lung-risk flag: record the technique used" in page
    assert "Has had (or may have had) a collapsed lung" in page

    refused = client.post(url, {**form, "action": "sign"}).content.decode()
    assert "confirm the technique used over the chest wall" in refused
    assert not NeedlingSession.objects.get(appointment=visit).is_signed

    missing = client.post(url, {**form, "action": "chest_wall"}).content.decode()
    assert "Choose the technique you used over the chest wall." in missing

    recorded = client.post(
        url, {**form, "action": "chest_wall", "chest_technique": "angled_away", "chest_note": ""}
    )
    assert recorded.status_code == 302
    page = client.get(url).content.decode()
    assert "Technique recorded" in page

    container = sharps_container(visit.location, physio)
    infection = {
        "infection_shown": "1",
        "infection_control": [str(step.pk) for step in infection_control_protocol()],
        "sharps_container": str(container.pk),
    }
    client.post(url, {**form, **infection, "action": "sign"})
    assert NeedlingSession.objects.get(appointment=visit).is_signed


def test_an_old_intake_without_the_chest_questions_stops_needling_until_re_confirmed(
    patient, physio, ims_service
):
    from imsclinic.safety.errors import NeedlingNotAllowed
    from tests.factories.charting import ims_visit, signed_assessment
    from tests.factories.safety import make_ready_for_needling

    make_ready_for_needling(patient, by=physio, at=timezone.now() - dt.timedelta(days=2))
    old = submitted_intake(patient, form_version="intake-v1")
    clearance(patient, old, by=physio)
    signed_assessment(patient, physio)
    visit = ims_visit(patient, physio, ims_service)
    with pytest.raises(NeedlingNotAllowed) as refused:
        services.session_start(appointment=visit, actor=physio)
    assert any("chest and lungs" in item for item in refused.value.missing)


@pytest.mark.postgres
def test_the_database_refuses_to_add_change_or_remove_the_technique_of_a_signed_note(
    lung_risk_patient, visit, physio, lot
):
    from django.db import IntegrityError, transaction

    session = draft(visit, physio, [row("pectoralis_major", lot)])
    services.session_confirm_chest_wall_technique(session=session, technique="flat", actor=physio)
    signed = services.session_sign(session=session, actor=physio)
    stored = ChestWallConfirmation.objects.filter(session=signed)
    with pytest.raises(IntegrityError, match="charting_signed_note_locked"), transaction.atomic():
        stored.update(technique="onto_rib")
    with pytest.raises(IntegrityError, match="charting_signed_note_locked"), transaction.atomic():
        stored._raw_delete(stored.db)
    with pytest.raises(IntegrityError, match="charting_signed_note_locked"), transaction.atomic():
        ChestWallConfirmation.objects.bulk_create(
            [ChestWallConfirmation(session=signed, technique="flat", confirmed_by=physio)]
        )
    assert stored.get().technique == "flat"
