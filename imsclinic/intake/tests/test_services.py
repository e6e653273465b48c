"""Saving, submitting, re-confirming and typing in intakes: always audited, never rewritten."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from imsclinic.accounts.models import User
from imsclinic.core.models import AuditEvent
from imsclinic.intake.models import Intake, IntakeLocked
from imsclinic.intake.selectors import current_intake
from imsclinic.intake.services import (
    IntakeInvalid,
    NothingToConfirm,
    intake_enter_from_paper,
    intake_reconfirm,
    intake_reconfirm_start,
    intake_save_draft,
    intake_submit,
)
from imsclinic.patients.models import Patient
from tests.factories.intake import complete_answers


def audit_rows(patient: Patient) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type="intake", patient_id=patient.pk).order_by("id")
    )


def test_a_draft_keeps_each_sections_answers_when_another_is_saved(
    patient: Patient, patient_user: User
) -> None:
    intake_save_draft(patient=patient, answers={"reason": "sore neck"}, actor=patient_user)
    draft = intake_save_draft(
        patient=patient, answers={"anticoagulants": "unsure"}, actor=patient_user
    )
    assert draft.answers == {"reason": "sore neck", "anticoagulants": "unsure"}
    assert Intake.objects.filter(patient=patient).count() == 1
    assert [row.action for row in audit_rows(patient)] == ["create", "update"]


def test_clearing_an_answer_in_a_draft_forgets_it(patient: Patient, patient_user: User) -> None:
    intake_save_draft(
        patient=patient, answers={"reason": "neck", "history": "x"}, actor=patient_user
    )
    draft = intake_save_draft(patient=patient, answers={"history": ""}, actor=patient_user)
    assert draft.answers == {"reason": "neck"}


def test_an_impossible_draft_answer_is_refused_and_nothing_saved(
    patient: Patient, patient_user: User
) -> None:
    with pytest.raises(IntakeInvalid) as caught:
        intake_save_draft(patient=patient, answers={"pregnant": "sometimes"}, actor=patient_user)
    assert "pregnant" in caught.value.errors
    assert not Intake.objects.exists()
    assert audit_rows(patient) == []


def test_submitting_an_incomplete_draft_says_what_is_missing_and_changes_nothing(
    patient: Patient, patient_user: User
) -> None:
    intake_save_draft(patient=patient, answers={"reason": "neck"}, actor=patient_user)
    with pytest.raises(IntakeInvalid) as caught:
        intake_submit(patient=patient, actor=patient_user)
    assert "anticoagulants" in caught.value.errors
    assert "reason" not in caught.value.errors
    assert current_intake(patient) is None
    assert Intake.objects.get().status == Intake.Status.DRAFT


def test_submitting_a_complete_draft_makes_it_the_current_intake(
    patient: Patient, patient_user: User
) -> None:
    intake_save_draft(
        patient=patient,
        answers=complete_answers(lymphoedema="no", lymphoedema_limbs=["left_arm"]),
        actor=patient_user,
    )
    intake = intake_submit(patient=patient, actor=patient_user)
    assert current_intake(patient) == intake
    assert intake.submitted_by == patient_user
    assert intake.source == Intake.Source.PORTAL
    assert "lymphoedema_limbs" not in intake.answers  # a stale follow-up is dropped
    submitted = audit_rows(patient)[-1]
    assert submitted.action == "create"
    assert submitted.detail["status"] == "submitted"
    assert "lymphoedema" not in str(submitted.detail)  # no answers in the log


def test_a_submitted_intake_is_never_changed(patient: Patient, patient_user: User) -> None:
    intake = intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    # A later draft is a new row; the submitted one keeps its answers.
    intake_save_draft(patient=patient, answers={"reason": "changed"}, actor=patient_user)
    intake.refresh_from_db()
    assert intake.answers["reason"] == complete_answers()["reason"]
    intake.answers["reason"] = "rewritten"
    with pytest.raises(IntakeLocked):
        intake.save()
    with pytest.raises(IntakeLocked):
        intake.delete()
    assert Intake.objects.get(pk=intake.pk).answers["reason"] != "rewritten"


def test_re_confirming_copies_the_last_intake_into_a_new_one(
    patient: Patient, patient_user: User
) -> None:
    first = intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    second = intake_reconfirm(
        patient=patient, changes={"anticoagulants": "yes"}, actor=patient_user
    )
    assert second.pk != first.pk
    assert second.confirms == first
    assert second.answers == {**first.answers, "anticoagulants": "yes"}
    assert current_intake(patient) == second
    first.refresh_from_db()
    assert first.answers["anticoagulants"] == "no"


def test_re_confirming_with_a_change_that_leaves_a_gap_is_refused(
    patient: Patient, patient_user: User
) -> None:
    intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    with pytest.raises(IntakeInvalid) as caught:
        intake_reconfirm(patient=patient, changes={"lymphoedema": "yes"}, actor=patient_user)
    assert set(caught.value.errors) == {"lymphoedema_limbs"}
    assert Intake.objects.count() == 1


def test_there_is_nothing_to_re_confirm_before_a_first_intake(
    patient: Patient, patient_user: User
) -> None:
    with pytest.raises(NothingToConfirm):
        intake_reconfirm(patient=patient, actor=patient_user)
    with pytest.raises(NothingToConfirm):
        intake_reconfirm_start(patient=patient, actor=patient_user)


def test_starting_a_re_confirmation_fills_a_draft_and_keeps_what_was_typed(
    patient: Patient, patient_user: User
) -> None:
    first = intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    intake_save_draft(patient=patient, answers={"reason": "now my neck"}, actor=patient_user)
    draft = intake_reconfirm_start(patient=patient, actor=patient_user)
    assert draft.confirms == first
    assert draft.answers["reason"] == "now my neck"
    assert draft.answers["needle_fear"] == "mild"
    second = intake_submit(patient=patient, actor=patient_user)
    assert second.confirms == first
    assert second.answers["reason"] == "now my neck"


def test_staff_type_in_a_paper_form_marked_as_such(
    patient: Patient, front_desk: User, patient_user: User
) -> None:
    intake_save_draft(patient=patient, answers={"reason": "portal draft"}, actor=patient_user)
    intake = intake_enter_from_paper(
        patient=patient, answers=complete_answers(consent_capacity="guardian"), actor=front_desk
    )
    assert intake.source == Intake.Source.PAPER
    assert intake.entered_by == front_desk
    assert current_intake(patient) == intake
    # The patient's own draft in the portal is left alone.
    assert Intake.objects.get(status=Intake.Status.DRAFT).answers == {"reason": "portal draft"}
    assert audit_rows(patient)[-1].detail["source"] == "paper"


def test_a_paper_form_is_checked_like_any_other(patient: Patient, physio: User) -> None:
    with pytest.raises(IntakeInvalid) as caught:
        intake_enter_from_paper(
            patient=patient, answers=complete_answers(needle_fear=""), actor=physio
        )
    assert set(caught.value.errors) == {"needle_fear"}


def test_only_staff_who_may_open_the_record_type_in_paper_forms(
    patient: Patient, other_physio: User, other_patient_user: User
) -> None:
    for outsider in (other_physio, other_patient_user):
        with pytest.raises(PermissionDenied):
            intake_enter_from_paper(patient=patient, answers=complete_answers(), actor=outsider)
    assert not Intake.objects.exists()
