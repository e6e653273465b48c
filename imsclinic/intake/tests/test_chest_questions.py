"""The chest-and-lung questions (form intake-v2): asked, stored, and asked again of anyone
whose answers came from the earlier form, never taken as "no"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.intake.models import Intake
from imsclinic.intake.questions import FORM_VERSION, QUESTIONS, not_asked, section
from imsclinic.intake.selectors import current_intake, intake_is_current, intake_status
from imsclinic.intake.services import (
    IntakeInvalid,
    intake_enter_from_paper,
    intake_reconfirm,
    intake_reconfirm_start,
    intake_submit,
)
from imsclinic.intake.validation import validate
from imsclinic.patients.models import Patient
from tests.factories.intake import CHEST_KEYS, complete_answers, v1_answers

pytestmark = pytest.mark.django_db

CHEST_ANSWERS = {
    "lung_disease": "yes",
    "lung_disease_kinds": ["copd_emphysema"],
    "lung_disease_details": "Emphysema, mild.",
    "collapsed_lung": "no",
    "chest_surgery": "yes",
    "breast_implants": "no",
    "short_of_breath": "no",
}


def old_intake(patient: Patient, *, at: dt.datetime | None = None) -> Intake:
    """An intake submitted on the first form, before the chest questions existed."""
    at = at or timezone.now() - dt.timedelta(days=20)
    return Intake.objects.create(
        patient=patient,
        answers=v1_answers(),
        form_version="intake-v1",
        status=Intake.Status.SUBMITTED,
        submitted_at=at,
        created_at=at,
    )


def test_the_form_asks_about_lungs_a_collapsed_lung_surgery_implants_and_breathlessness():
    chest = section("chest")
    assert set(CHEST_KEYS) <= set(chest.keys)
    kinds = dict(QUESTIONS["lung_disease_kinds"].choices)
    assert set(kinds) == {"copd_emphysema", "cystic_fibrosis", "other"}
    assert "pneumothorax" in str(QUESTIONS["collapsed_lung"].label)
    # The build is the practitioner's finding at the assessment, never the patient's answer.
    assert not any("slim" in str(q.label).lower() for q in QUESTIONS.values())


def test_every_chest_question_must_be_answered_before_sending():
    errors = validate(v1_answers(), complete=True)
    assert set(CHEST_KEYS) <= set(errors)
    naming = validate(complete_answers(lung_disease="yes"), complete=True)
    assert "lung_disease_kinds" in naming


def test_the_answers_are_stored_with_the_new_form_version(
    patient: Patient, patient_user: User
) -> None:
    intake = intake_submit(
        patient=patient, answers=complete_answers(**CHEST_ANSWERS), actor=patient_user
    )
    assert intake.form_version == FORM_VERSION == "intake-v2"
    assert intake.answers["lung_disease_kinds"] == ["copd_emphysema"]
    assert intake.answers["chest_surgery"] == "yes"
    assert not_asked(intake.form_version) == ()


def test_an_intake_from_the_earlier_form_needs_re_confirming_with_the_new_questions(
    patient: Patient,
) -> None:
    intake = old_intake(patient)
    now = timezone.now()
    status = intake_status(patient, at=now)
    assert status.state == "reconfirm"
    assert set(CHEST_KEYS) <= set(status.not_asked)
    assert not intake_is_current(intake, at=now)


def test_re_confirming_without_the_new_answers_is_refused_and_names_them(
    patient: Patient, patient_user: User
) -> None:
    old_intake(patient)
    with pytest.raises(IntakeInvalid) as refused:
        intake_reconfirm(patient=patient, actor=patient_user)
    assert set(CHEST_KEYS) <= set(refused.value.errors)
    confirmed = intake_reconfirm(
        patient=patient,
        actor=patient_user,
        changes={key: "no" for key in CHEST_KEYS},
    )
    assert confirmed.form_version == "intake-v2"
    assert intake_status(patient, at=timezone.now()).state == "done"


def test_the_front_desk_types_in_the_new_paper_form_for_an_existing_patient(
    patient: Patient, front_desk: User
) -> None:
    old_intake(patient)
    intake = intake_enter_from_paper(
        patient=patient, answers=complete_answers(breast_implants="yes"), actor=front_desk
    )
    assert current_intake(patient) == intake
    assert intake.answers["breast_implants"] == "yes"
    assert intake_status(patient, at=timezone.now()).state == "done"


def test_the_patient_is_asked_the_new_questions_in_the_portal(
    client: Client, patient: Patient, patient_user: User
) -> None:
    Patient.objects.filter(pk=patient.pk).update(
        phone="604-555-0199",
        emergency_contact_name="Robin Ient",
        emergency_contact_phone="604-555-0177",
    )
    old_intake(patient)
    client.force_login(patient_user)
    home = client.get(reverse("portal_home")).content.decode()
    assert "added a few questions about your chest and lungs" in home
    start = client.get(reverse("intake_start")).content.decode()
    assert "added a few questions about your chest and lungs" in start
    client.post(reverse("intake_reconfirm"))
    review = client.get(reverse("intake_review")).content.decode()
    assert "Have you ever had a collapsed lung (pneumothorax)?" in review
    assert reverse("intake_section", args=["chest"]) in review
    chest = reverse("intake_section", args=["chest"])
    client.post(
        chest,
        {
            "lung_disease": "no",
            "collapsed_lung": "yes",
            "chest_surgery": "no",
            "breast_implants": "no",
            "short_of_breath": "no",
            "action": "continue",
        },
    )
    assert client.post(reverse("intake_review"))["Location"] == reverse("intake_done")
    intake = current_intake(patient)
    assert intake is not None and intake.answers["collapsed_lung"] == "yes"
    assert intake.confirms is not None


def test_staff_see_which_questions_the_earlier_form_never_asked(
    client: Client, patient: Patient, physio: User, front_desk: User
) -> None:
    old_intake(patient)
    client.force_login(physio)
    page = client.get(reverse("staff_intake", args=[patient.pk])).content.decode()
    assert "Not asked yet (an earlier form)" in page
    assert "before the questions about the chest and lungs were added" in page
    client.force_login(front_desk)
    desk = client.get(reverse("staff_intake", args=[patient.pk])).content.decode()
    assert "before the questions about the chest and lungs were added" in desk
    assert "Not asked yet" not in desk  # the answers themselves stay clinical


def test_re_confirming_starts_from_the_old_answers_and_leaves_the_new_ones_empty(
    patient: Patient, patient_user: User
) -> None:
    old_intake(patient)
    draft = intake_reconfirm_start(patient=patient, actor=patient_user)
    assert draft.answers["needle_fear"] == "mild"
    assert not set(CHEST_KEYS) & set(draft.answers)
