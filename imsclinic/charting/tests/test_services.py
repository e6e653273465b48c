"""The charting services: drafts, signing and its re-checks, copying rows, addenda."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting import services
from imsclinic.charting.errors import ChartingError, CredentialNotCurrent, SignedNoteLocked
from imsclinic.charting.models import (
    Addendum,
    Assessment,
    AssessmentSign,
    DiagnosedSegment,
    NeedlingRow,
    NeedlingSession,
    NoteStatus,
)
from imsclinic.charting.services import SignInput
from imsclinic.clinic.models import NeedleLot, Service
from imsclinic.consent.models import ConsentSignature
from imsclinic.core.models import AuditEvent, Outcome
from imsclinic.patients.models import Patient
from imsclinic.safety.errors import NeedlingNotAllowed
from imsclinic.scheduling.models import Appointment
from tests.factories.charting import (
    confirm_infection_control,
    ims_visit,
    muscle,
    needle_lot,
    row,
    signed_session,
)

SIGNS: list[SignInput] = [
    SignInput(sign="tender_motor_points", finding="present", side="left", segment="C6"),
    SignInput(sign="trophedema_matchstick", finding="absent"),
    SignInput(sign="shortened_bands", finding="present", side="left", muscle_id=None),
]


def full_assessment(patient: Patient, author: User) -> Assessment:
    return services.assessment_save_draft(
        patient=patient,
        actor=author,
        data={"goals": "Turn the head to reverse the car.", "plan_frequency": "weekly"},
        signs=SIGNS,
        segments=[("C6", "left"), ("C5", "left")],
    )


# --- assessments -------------------------------------------------------------------------


def test_a_practitioner_on_the_care_team_saves_a_draft_assessment(
    patient: Patient, physio: User
) -> None:
    assessment = full_assessment(patient, physio)
    assert assessment.status == NoteStatus.DRAFT
    assert assessment.author == physio
    assert assessment.signs.count() == 3
    assert [(s.segment, s.side) for s in assessment.segments.all()] == [
        ("C5", "left"),
        ("C6", "left"),
    ]
    assert AuditEvent.objects.filter(object_type="assessment", patient_id=patient.pk).exists()


def test_saving_again_replaces_signs_and_segments_and_keeps_history(
    patient: Patient, physio: User
) -> None:
    assessment = full_assessment(patient, physio)
    services.assessment_save_draft(
        patient=patient,
        actor=physio,
        assessment=assessment,
        data={"goals": "Sleep on the left side."},
        signs=[SignInput(sign="vasomotor", finding="present", side="right")],
        segments=[("L5", "right")],
    )
    assessment.refresh_from_db()
    assert assessment.goals == "Sleep on the left side."
    assert assessment.plan_frequency == "weekly"  # keys not sent stay as they were
    assert list(assessment.signs.values_list("sign", flat=True)) == ["vasomotor"]
    assert list(assessment.segments.values_list("segment", flat=True)) == ["L5"]
    assert assessment.history.count() == 2
    assert AssessmentSign.history.filter(history_type="-").count() == 3


def test_it_refuses_bad_assessment_input_and_saves_nothing(patient: Patient, physio: User) -> None:
    with pytest.raises(ChartingError) as refusal:
        services.assessment_save_draft(
            patient=patient,
            actor=physio,
            data={"plan_expected_sessions": "many", "plan_frequency": "daily"},
            signs=[SignInput(sign="telepathy", finding="present"), SignInput(sign="vasomotor")],
            segments=[("C9", "left")],
        )
    errors = refusal.value.errors
    assert {k for k in errors if "." not in k} == {
        "plan_expected_sessions",
        "plan_frequency",
        "segments",
    }
    assert {k: v for k, v in errors.items() if "." in k} == {
        "signs.0.sign": "Choose one of Gunn's signs."
    }
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("who", ["front_desk", "other_physio", "patient_user"])
def test_only_the_care_team_and_the_owner_write_assessments(
    request: pytest.FixtureRequest, patient: Patient, who: str
) -> None:
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.assessment_save_draft(patient=patient, actor=user, data={"goals": "x"})
    assert not Assessment.objects.exists()
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED, object_type="assessment").exists()


def test_the_owner_may_write_an_assessment(patient: Patient, owner: User) -> None:
    assert full_assessment(patient, owner).author == owner


def test_only_the_author_changes_a_draft(patient: Patient, physio: User, owner: User) -> None:
    assessment = full_assessment(patient, physio)
    with pytest.raises(PermissionDenied):
        services.assessment_save_draft(
            patient=patient, actor=owner, assessment=assessment, data={"goals": "mine"}
        )
    with pytest.raises(PermissionDenied):
        services.assessment_sign(assessment=assessment, actor=owner)


def test_signing_needs_an_examined_sign_segments_and_a_plan(patient: Patient, physio: User) -> None:
    empty = services.assessment_save_draft(patient=patient, actor=physio, data={})
    with pytest.raises(ChartingError) as refusal:
        services.assessment_sign(assessment=empty, actor=physio)
    assert set(refusal.value.errors) == {"signs", "segments", "plan_frequency"}
    empty.refresh_from_db()
    assert empty.status == NoteStatus.DRAFT


def test_signing_an_assessment_locks_it(patient: Patient, physio: User) -> None:
    assessment = full_assessment(patient, physio)
    signed = services.assessment_sign(assessment=assessment, actor=physio)
    assert signed.status == NoteStatus.SIGNED
    assert signed.signed_by == physio
    assert signed.signed_at is not None
    with pytest.raises(SignedNoteLocked):
        services.assessment_save_draft(
            patient=patient, actor=physio, assessment=signed, data={"goals": "changed"}
        )
    with pytest.raises(SignedNoteLocked):
        services.assessment_sign(assessment=signed, actor=physio)
    signed.refresh_from_db()
    assert signed.goals == "Turn the head to reverse the car."


def test_the_models_refuse_to_change_or_delete_a_signed_assessment_or_its_parts(
    patient: Patient, physio: User
) -> None:
    signed = services.assessment_sign(assessment=full_assessment(patient, physio), actor=physio)
    fresh = Assessment.objects.get(pk=signed.pk)
    fresh.goals = "rewritten"
    with pytest.raises(SignedNoteLocked):
        fresh.save()
    with pytest.raises(SignedNoteLocked):
        fresh.delete()
    sign = AssessmentSign.objects.filter(assessment=signed).first()
    assert sign is not None
    sign.finding = "absent"
    with pytest.raises(SignedNoteLocked):
        sign.save()
    with pytest.raises(SignedNoteLocked):
        DiagnosedSegment.objects.filter(assessment=signed).first().delete()  # type: ignore[union-attr]
    with pytest.raises(SignedNoteLocked):
        DiagnosedSegment(assessment=signed, segment="T4", side="both").save()
    assert Assessment.objects.get(pk=signed.pk).goals == "Turn the head to reverse the car."


# --- needling sessions -------------------------------------------------------------------


def test_the_visits_practitioner_starts_a_session_once(visit: Appointment, physio: User) -> None:
    session = services.session_start(appointment=visit, actor=physio)
    again = services.session_start(appointment=visit, actor=physio)
    assert session.pk == again.pk
    assert session.status == NoteStatus.DRAFT
    assert session.patient_id == visit.patient_id
    assert NeedlingSession.objects.count() == 1


def test_it_refuses_to_start_a_session_without_readiness(
    patient: Patient, physio: User, ims_service: Service
) -> None:
    appointment = ims_visit(patient, physio, ims_service)
    with pytest.raises(NeedlingNotAllowed) as refusal:
        services.session_start(appointment=appointment, actor=physio)
    assert any("health questions" in item for item in refusal.value.missing)
    assert not NeedlingSession.objects.exists()


def test_it_refuses_to_start_a_session_without_a_current_ims_credential(
    visit: Appointment, physio: User
) -> None:
    practitioner = physio.practitioner
    practitioner.ims_certification_expires_on = timezone.localdate() - dt.timedelta(days=3)
    practitioner.save()
    with pytest.raises(CredentialNotCurrent):
        services.session_start(appointment=visit, actor=physio)
    assert not NeedlingSession.objects.exists()


def test_it_refuses_a_session_for_a_visit_that_is_not_ims(
    ready_patient: Patient, physio: User, ims_service: Service
) -> None:
    ims_service.requires_ims_credential = False
    ims_service.save()
    appointment = ims_visit(ready_patient, physio, ims_service)
    with pytest.raises(ChartingError):
        services.session_start(appointment=appointment, actor=physio)


@pytest.mark.parametrize("who", ["owner", "front_desk", "other_physio"])
def test_only_the_visits_practitioner_starts_its_session(
    request: pytest.FixtureRequest, visit: Appointment, who: str
) -> None:
    with pytest.raises(PermissionDenied):
        services.session_start(appointment=visit, actor=request.getfixturevalue(who))
    assert not NeedlingSession.objects.exists()


def test_a_draft_saves_rows_in_order_and_marks_the_thoracic_precaution(
    visit: Appointment, physio: User, lot: NeedleLot
) -> None:
    session = services.session_start(appointment=visit, actor=physio)
    saved = services.session_save_draft(
        session=session,
        actor=physio,
        data={"nprs_before": "7", "rom_change": "Rotation 40 to 60 degrees"},
        rows=[row("infraspinatus", lot), row("rhomboids", lot, side="right")],
    )
    assert saved.nprs_before == 7
    assert saved.thoracic_precaution is True
    assert [(r.position, r.muscle.code, r.side) for r in saved.rows.order_by("position")] == [
        (1, "infraspinatus", "left"),
        (2, "rhomboids", "right"),
    ]
    services.session_save_draft(session=saved, actor=physio, rows=[row("infraspinatus", lot)])
    saved.refresh_from_db()
    assert saved.thoracic_precaution is False
    assert saved.rows.count() == 1
    assert NeedlingRow.history.filter(history_type="-").count() == 2


@pytest.mark.parametrize("which", ["expired_lot", "recalled_lot"])
def test_a_draft_refuses_an_expired_or_recalled_lot_and_keeps_the_old_rows(
    request: pytest.FixtureRequest, visit: Appointment, physio: User, lot: NeedleLot, which: str
) -> None:
    bad = request.getfixturevalue(which)
    session = services.session_start(appointment=visit, actor=physio)
    services.session_save_draft(session=session, actor=physio, rows=[row("deltoid", lot)])
    with pytest.raises(ChartingError) as refusal:
        services.session_save_draft(
            session=session,
            actor=physio,
            data={"nprs_before": 5},
            rows=[row("deltoid", lot), row("supraspinatus", bad)],
        )
    assert {k.split(".")[1] for k in refusal.value.errors if k.startswith("rows.")} == {"1"}
    assert bad.lot_number in refusal.value.errors["rows.1.needle_lot"]
    session.refresh_from_db()
    assert session.nprs_before is None
    assert [r.muscle.code for r in session.rows.all()] == ["deltoid"]


def test_a_draft_refuses_out_of_range_values(
    visit: Appointment, physio: User, lot: NeedleLot
) -> None:
    session = services.session_start(appointment=visit, actor=physio)
    bad_row = services.RowInput(
        muscle_id=muscle("deltoid").pk,
        side="both",
        segment="C42",
        insertions=51,
        needle_lot_id=lot.pk,
        grasp="huge",
    )
    with pytest.raises(ChartingError) as refusal:
        services.session_save_draft(
            session=session, actor=physio, data={"nprs_after": 11}, rows=[bad_row]
        )
    assert {k for k in refusal.value.errors if "." not in k} == {"nprs_after"}
    assert {k.removeprefix("rows.0.") for k in refusal.value.errors if "." in k} == {
        "side",
        "segment",
        "insertions",
        "grasp",
    }


def test_signing_a_session_locks_it_and_sets_the_precaution(
    visit: Appointment, physio: User, lot: NeedleLot
) -> None:
    signed = signed_session(visit, physio, [row("pectoralis_minor", lot), row("deltoid", lot)])
    assert signed.status == NoteStatus.SIGNED
    assert signed.thoracic_precaution is True
    with pytest.raises(SignedNoteLocked):
        services.session_save_draft(session=signed, actor=physio, data={"notes": "later"})
    with pytest.raises(SignedNoteLocked):
        services.session_sign(session=signed, actor=physio)
    with pytest.raises(SignedNoteLocked):
        services.session_copy_last_rows(session=signed, actor=physio)


def test_the_models_refuse_to_change_or_delete_a_signed_session_or_its_rows(
    visit: Appointment, physio: User, lot: NeedleLot
) -> None:
    signed = signed_session(visit, physio, [row("deltoid", lot)])
    fresh = NeedlingSession.objects.get(pk=signed.pk)
    fresh.nprs_after = 0
    with pytest.raises(SignedNoteLocked):
        fresh.save()
    with pytest.raises(SignedNoteLocked):
        fresh.delete()
    needling_row = NeedlingRow.objects.get(session=signed)
    needling_row.insertions = 9
    with pytest.raises(SignedNoteLocked):
        needling_row.save()
    with pytest.raises(SignedNoteLocked):
        needling_row.delete()
    assert NeedlingRow.objects.get(session=signed).insertions == 3


def test_a_stale_copy_of_a_draft_cannot_overwrite_the_note_once_signed(
    visit: Appointment, physio: User, lot: NeedleLot
) -> None:
    stale = services.session_start(appointment=visit, actor=physio)
    services.session_save_draft(
        session=stale,
        actor=physio,
        data={"nprs_before": 5, "nprs_after": 2},
        rows=[row("deltoid", lot)],
    )
    confirm_infection_control(stale, physio)
    services.session_sign(session=NeedlingSession.objects.get(pk=stale.pk), actor=physio)
    stale.notes = "written on another tablet"
    with pytest.raises(SignedNoteLocked):
        stale.save()
    assert NeedlingSession.objects.get(pk=stale.pk).notes == ""


def test_signing_needs_pain_scores_and_a_row(visit: Appointment, physio: User) -> None:
    session = services.session_start(appointment=visit, actor=physio)
    with pytest.raises(ChartingError) as refusal:
        services.session_sign(session=session, actor=physio)
    assert set(refusal.value.errors) == {
        "nprs_before",
        "nprs_after",
        "rows",
        "infection_control",
        "sharps_container",
    }
    session.refresh_from_db()
    assert session.status == NoteStatus.DRAFT


def draft_ready_to_sign(visit: Appointment, physio: User, lot: NeedleLot) -> NeedlingSession:
    session = services.session_start(appointment=visit, actor=physio)
    draft = services.session_save_draft(
        session=session,
        actor=physio,
        data={"nprs_before": 6, "nprs_after": 2},
        rows=[row("deltoid", lot)],
    )
    confirm_infection_control(draft, physio)
    return draft


def test_it_refuses_to_sign_when_the_patient_withdrew_consent(
    visit: Appointment, physio: User, lot: NeedleLot
) -> None:
    session = draft_ready_to_sign(visit, physio, lot)
    ConsentSignature.objects.filter(patient=visit.patient).update(
        withdrawn_at=timezone.now(), withdrawal_reason="Changed my mind."
    )
    with pytest.raises(NeedlingNotAllowed):
        services.session_sign(session=session, actor=physio)
    session.refresh_from_db()
    assert session.status == NoteStatus.DRAFT


def test_it_refuses_to_sign_without_a_current_ims_credential_on_the_visit_day(
    visit: Appointment, physio: User, lot: NeedleLot
) -> None:
    session = draft_ready_to_sign(visit, physio, lot)
    practitioner = physio.practitioner
    practitioner.ims_certification_expires_on = timezone.localdate() - dt.timedelta(days=1)
    practitioner.save()
    with pytest.raises(CredentialNotCurrent):
        services.session_sign(session=session, actor=physio)
    assert NeedlingSession.objects.get(pk=session.pk).status == NoteStatus.DRAFT


def test_it_refuses_to_sign_when_a_lot_was_recalled_after_the_draft(
    visit: Appointment, physio: User, lot: NeedleLot
) -> None:
    session = draft_ready_to_sign(visit, physio, lot)
    NeedleLot.objects.filter(pk=lot.pk).update(
        recalled_at=timezone.now(), recall_reason="Packaging fault."
    )
    with pytest.raises(ChartingError) as refusal:
        services.session_sign(session=session, actor=physio)
    assert "recalled" in refusal.value.errors["rows.0.needle_lot"]
    assert NeedlingSession.objects.get(pk=session.pk).status == NoteStatus.DRAFT


def test_it_refuses_to_sign_with_a_lot_expired_on_the_visit_day(
    ready_patient: Patient, physio: User, ims_service: Service, lot: NeedleLot
) -> None:
    appointment = ims_visit(ready_patient, physio, ims_service)
    session = draft_ready_to_sign(appointment, physio, lot)
    NeedleLot.objects.filter(pk=lot.pk).update(
        expires_on=timezone.localdate() - dt.timedelta(days=2)
    )
    with pytest.raises(ChartingError) as refusal:
        services.session_sign(session=session, actor=physio)
    assert "expired" in refusal.value.errors["rows.0.needle_lot"]


def test_only_the_author_signs_a_session(
    visit: Appointment, physio: User, owner: User, lot: NeedleLot
) -> None:
    session = draft_ready_to_sign(visit, physio, lot)
    with pytest.raises(PermissionDenied):
        services.session_sign(session=session, actor=owner)
    with pytest.raises(PermissionDenied):
        services.session_save_draft(session=session, actor=owner, data={"notes": "x"})


# --- copying the last session's rows -------------------------------------------------------


def test_copying_brings_the_last_signed_sessions_rows_after_the_current_ones(
    ready_patient: Patient, physio: User, ims_service: Service, lot: NeedleLot
) -> None:
    last_week = ims_visit(
        ready_patient, physio, ims_service, start=timezone.now() - dt.timedelta(days=7)
    )
    signed_session(last_week, physio, [row("deltoid", lot), row("rhomboids", lot, side="right")])
    today = ims_visit(ready_patient, physio, ims_service)
    session = services.session_start(appointment=today, actor=physio)
    services.session_save_draft(session=session, actor=physio, rows=[row("soleus", lot)])
    result = services.session_copy_last_rows(session=session, actor=physio)
    assert result.notes == []
    assert [r.muscle.code for r in result.rows] == ["deltoid", "rhomboids"]
    session.refresh_from_db()
    assert [(r.position, r.muscle.code) for r in session.rows.order_by("position")] == [
        (1, "soleus"),
        (2, "deltoid"),
        (3, "rhomboids"),
    ]
    assert session.thoracic_precaution is True


def test_copying_swaps_a_recalled_lot_for_a_usable_lot_of_the_same_size(
    ready_patient: Patient, physio: User, ims_service: Service, lot: NeedleLot
) -> None:
    last_week = ims_visit(
        ready_patient, physio, ims_service, start=timezone.now() - dt.timedelta(days=7)
    )
    thin = needle_lot("LOT-THIN", diameter="0.25", length=25)
    signed_session(last_week, physio, [row("deltoid", lot), row("biceps_brachii", thin)])
    NeedleLot.objects.filter(pk__in=[lot.pk, thin.pk]).update(
        recalled_at=timezone.now(), recall_reason="Maker's recall."
    )
    fresh = needle_lot("LOT-OK-2")
    session = services.session_start(
        appointment=ims_visit(ready_patient, physio, ims_service), actor=physio
    )
    result = services.session_copy_last_rows(session=session, actor=physio)
    assert [(r.muscle.code, r.needle_lot_id) for r in result.rows] == [("deltoid", fresh.pk)]
    assert len(result.notes) == 2
    assert "LOT-OK-2" in result.notes[0]
    assert "Biceps brachii" in result.notes[1]


def test_copying_without_a_signed_session_says_so(visit: Appointment, physio: User) -> None:
    session = services.session_start(appointment=visit, actor=physio)
    with pytest.raises(ChartingError):
        services.session_copy_last_rows(session=session, actor=physio)


# --- addenda -----------------------------------------------------------------------------


def test_addenda_go_under_a_signed_note_in_order_with_author_and_reason(
    visit: Appointment, physio: User, owner: User, lot: NeedleLot
) -> None:
    signed = signed_session(visit, physio, [row("deltoid", lot)])
    now = timezone.now()
    first = services.addendum_add(
        note=signed, reason="Wrong side", text="Deltoid was right, not left.", actor=physio, now=now
    )
    second = services.addendum_add(
        note=signed,
        reason="Late report",
        text="Patient phoned: bruise.",
        actor=owner,
        now=now + dt.timedelta(minutes=5),
    )
    assert list(signed.addenda.all()) == [first, second]
    assert (first.author, first.reason) == (physio, "Wrong side")
    assert second.author == owner
    assert NeedlingRow.objects.get(session=signed).side == "left"


def test_an_addendum_needs_a_reason_and_text_and_a_signed_note(
    patient: Patient, physio: User
) -> None:
    draft = full_assessment(patient, physio)
    with pytest.raises(ChartingError):
        services.addendum_add(note=draft, reason="r", text="t", actor=physio)
    signed = services.assessment_sign(assessment=draft, actor=physio)
    with pytest.raises(ChartingError) as refusal:
        services.addendum_add(note=signed, reason=" ", text="", actor=physio)
    assert set(refusal.value.errors) == {"reason", "text"}
    assert not Addendum.objects.exists()


@pytest.mark.parametrize("who", ["front_desk", "other_physio", "patient_user"])
def test_only_the_care_team_and_the_owner_add_addenda(
    request: pytest.FixtureRequest, patient: Patient, physio: User, who: str
) -> None:
    signed = services.assessment_sign(assessment=full_assessment(patient, physio), actor=physio)
    with pytest.raises(PermissionDenied):
        services.addendum_add(note=signed, reason="r", text="t", actor=request.getfixturevalue(who))


def test_an_addendum_is_never_changed_or_deleted(patient: Patient, physio: User) -> None:
    signed = services.assessment_sign(assessment=full_assessment(patient, physio), actor=physio)
    addendum = services.addendum_add(note=signed, reason="Typo", text="C6 not C7.", actor=physio)
    addendum.text = "something else"
    with pytest.raises(SignedNoteLocked):
        addendum.save()
    with pytest.raises(SignedNoteLocked):
        addendum.delete()
    assert Addendum.objects.get(pk=addendum.pk).text == "C6 not C7."


def test_a_note_cannot_be_signed_before_its_visit_has_started(
    ready_patient: Patient, physio: User, ims_service: Service, lot: NeedleLot
) -> None:
    tomorrow = ims_visit(
        ready_patient, physio, ims_service, start=timezone.now() + dt.timedelta(days=1)
    )
    session = draft_ready_to_sign(tomorrow, physio, lot)

    with pytest.raises(ChartingError, match="once the visit has started"):
        services.session_sign(session=session, actor=physio)

    session.refresh_from_db()
    assert session.status == NoteStatus.DRAFT
    assert (
        services.session_sign(
            session=session, actor=physio, now=tomorrow.start + dt.timedelta(minutes=5)
        ).status
        == NoteStatus.SIGNED
    )
