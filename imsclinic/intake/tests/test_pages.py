"""The questionnaire in the portal, section by section, and the staff's intake pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.core.models import AuditEvent
from imsclinic.intake.models import Intake
from imsclinic.intake.questions import SECTIONS
from imsclinic.intake.selectors import current_intake
from imsclinic.intake.services import intake_submit
from imsclinic.patients.models import Patient
from tests.factories.intake import complete_answers

DETAILS = {
    "preferred_name": "",
    "date_of_birth": "1980-04-02",
    "phone": "604-555-0199",
    "email": "pat@patients.example",
    "address_line1": "",
    "address_line2": "",
    "city": "",
    "region": "",
    "postal_code": "",
    "emergency_contact_name": "Robin Ient",
    "emergency_contact_phone": "604-555-0177",
}


def section_data(slug: str, answers: dict[str, Any]) -> dict[str, Any]:
    part = next(p for p in SECTIONS if p.slug == slug)
    data: dict[str, Any] = {key: answers.get(key, "") for key in part.keys}
    data = {k: v for k, v in data.items() if v != ""}
    if slug == "about":
        data.update(DETAILS)
    return data


@pytest.fixture
def signed_in(client: Client, patient_user: User) -> Client:
    client.force_login(patient_user)
    return client


def test_a_patient_fills_in_the_questions_section_by_section_and_sends_them(
    signed_in: Client, patient: Patient
) -> None:
    answers = complete_answers(lymphoedema="yes", lymphoedema_limbs=["right_arm"])
    url = reverse("intake_section", args=["about"])
    for index, part in enumerate(SECTIONS):
        url = reverse("intake_section", args=[part.slug])
        assert signed_in.get(url).status_code == 200
        response = signed_in.post(url, {**section_data(part.slug, answers), "action": "continue"})
        following = (
            reverse("intake_section", args=[SECTIONS[index + 1].slug])
            if index + 1 < len(SECTIONS)
            else reverse("intake_review")
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"] == following
    review = signed_in.get(reverse("intake_review"))
    assert "Right arm" in review.content.decode()
    response = signed_in.post(reverse("intake_review"))
    assert response["Location"] == reverse("intake_done")
    intake = current_intake(patient)
    assert intake is not None
    assert intake.answers["lymphoedema_limbs"] == ["right_arm"]
    assert intake.answers["pain_areas"] == ["left_buttock", "lower_back"] or intake.answers[
        "pain_areas"
    ] == ["lower_back", "left_buttock"]
    patient.refresh_from_db()
    assert patient.emergency_contact_name == "Robin Ient"
    done = signed_in.get(reverse("intake_done")).content.decode()
    assert "physiotherapist reads your answers before any needling" in done
    assert "consent form" in done


def test_a_missing_answer_is_explained_next_to_it_and_what_was_typed_stays(
    signed_in: Client, patient: Patient
) -> None:
    url = reverse("intake_section", args=["medicines"])
    response = signed_in.post(
        url,
        {"medications": "Ramipril 5 mg daily", "antiplatelets": "no", "action": "continue"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ramipril 5 mg daily" in page
    assert 'id="error-summary"' in page
    assert 'href="#id_anticoagulants_0"' in page
    assert 'aria-describedby="id_anticoagulants_helptext id_anticoagulants_error"' in page
    assert 'id="id_anticoagulants_error"' in page
    assert 'value="no" id="id_antiplatelets_1" checked' in page or (
        'id="id_antiplatelets_1"' in page and "checked" in page
    )
    # The typed answers are saved in the draft even though the section is not finished.
    draft = Intake.objects.get(patient=patient, status=Intake.Status.DRAFT)
    assert draft.answers == {"medications": "Ramipril 5 mg daily", "antiplatelets": "no"}


def test_a_required_text_answer_left_empty_is_linked_from_the_summary(
    signed_in: Client, patient: Patient
) -> None:
    url = reverse("intake_section", args=["reason"])
    response = signed_in.post(url, {"reason": "", "action": "continue"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="#id_reason"' in page
    assert 'id="id_reason"' in page


def test_going_back_to_a_section_shows_the_answers_saved_there(
    signed_in: Client, patient: Patient
) -> None:
    url = reverse("intake_section", args=["needles"])
    signed_in.post(url, {"needle_fear": "severe", "action": "later"})
    page = signed_in.get(url).content.decode()
    assert 'value="severe" id="id_needle_fear_3" checked' in page


def test_save_and_finish_later_keeps_an_unfinished_section(
    signed_in: Client, patient: Patient
) -> None:
    url = reverse("intake_section", args=["reason"])
    response = signed_in.post(url, {"reason": "Sore heel", "action": "later"})
    assert response["Location"] == reverse("intake_start")
    start = signed_in.get(reverse("intake_start")).content.decode()
    assert "Continue where you left off" in start
    assert Intake.objects.get().answers == {"reason": "Sore heel"}


def test_a_follow_up_is_required_when_its_question_is_answered_yes(
    signed_in: Client, patient: Patient
) -> None:
    url = reverse("intake_section", args=["body"])
    data = section_data("body", complete_answers(lymphoedema="yes"))
    response = signed_in.post(url, {**data, "action": "continue"})
    assert response.status_code == 200
    assert "Choose at least one." in response.content.decode()


def test_the_review_lists_what_is_still_missing_and_will_not_send(
    signed_in: Client, patient: Patient
) -> None:
    signed_in.post(reverse("intake_section", args=["reason"]), {"reason": "x", "action": "later"})
    response = signed_in.post(reverse("intake_review"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "A few answers are still needed" in page
    assert reverse("intake_section", args=["medicines"]) + "#id_anticoagulants" in page
    assert current_intake(patient) is None


def test_the_body_map_is_a_list_of_checkboxes_with_a_figure_beside_it(
    signed_in: Client, patient: Patient
) -> None:
    page = signed_in.get(reverse("intake_section", args=["reason"])).content.decode()
    assert page.count('name="pain_areas"') == 38
    assert 'aria-hidden="true" data-body-map' in page
    assert "<legend>Front of the body</legend>" in page
    assert "js/intake.js" in page
    assert "<script>" not in page  # nothing inline: the CSP forbids it


def test_an_old_intake_asks_to_be_checked_and_confirmed(
    signed_in: Client, patient: Patient, patient_user: User, clinic: Any
) -> None:
    patient.emergency_contact_name = "Robin Ient"
    patient.emergency_contact_phone = "604-555-0177"
    patient.save()
    old = intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    Intake.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - dt.timedelta(days=200))
    home = signed_in.get(reverse("portal_home")).content.decode()
    assert "Please re-confirm" in home
    start = signed_in.get(reverse("intake_start")).content.decode()
    assert "Check and confirm your answers" in start
    response = signed_in.post(reverse("intake_reconfirm"))
    assert response["Location"] == reverse("intake_review")
    review = signed_in.get(reverse("intake_review")).content.decode()
    assert "Aching in my lower back" in review
    assert "A few answers are still needed" not in review
    assert signed_in.post(reverse("intake_review"))["Location"] == reverse("intake_done")
    new = current_intake(patient)
    assert new is not None and new.pk != old.pk and new.confirms_id == old.pk
    assert "Done" in signed_in.get(reverse("portal_home")).content.decode()


def test_the_portal_home_says_where_the_patient_stands(signed_in: Client, patient: Patient) -> None:
    assert "Not started" in signed_in.get(reverse("portal_home")).content.decode()
    signed_in.post(reverse("intake_section", args=["reason"]), {"reason": "x", "action": "later"})
    assert "In progress" in signed_in.get(reverse("portal_home")).content.decode()


def test_the_care_team_reads_the_answers_and_the_look_is_audited(
    client: Client, patient: Patient, physio: User, patient_user: User
) -> None:
    intake = intake_submit(
        patient=patient, answers=complete_answers(anticoagulants="yes"), actor=patient_user
    )
    client.force_login(physio)
    page = client.get(reverse("staff_intake", args=[patient.pk])).content.decode()
    assert "Do you take a blood thinner?" in page
    assert "Aching in my lower back" in page
    assert AuditEvent.objects.filter(
        object_type="intake", object_id=str(intake.pk), action="view", actor=physio
    ).exists()


def test_a_patient_reading_back_their_own_answers_is_audited_too(
    signed_in: Client, patient: Patient, patient_user: User
) -> None:
    signed_in.post(
        reverse("intake_section", args=["reason"]),
        {"reason": "Aching in my lower back", "action": "later"},
    )
    assert not AuditEvent.objects.filter(object_type="intake", action="view").exists()
    assert "Aching in my lower back" in signed_in.get(reverse("intake_review")).content.decode()
    signed_in.get(reverse("intake_section", args=["reason"]))
    views = AuditEvent.objects.filter(
        object_type="intake", action="view", actor=patient_user, patient_id=patient.pk
    )
    assert views.count() == 2


def test_the_front_desk_sees_that_an_intake_arrived_but_not_the_answers(
    client: Client, patient: Patient, front_desk: User, patient_user: User
) -> None:
    intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    client.force_login(front_desk)
    page = client.get(reverse("staff_intake", args=[patient.pk])).content.decode()
    assert "Received" in page
    assert "Aching in my lower back" not in page
    assert "blood thinner" not in page
    assert not AuditEvent.objects.filter(object_type="intake", action="view").exists()


def test_the_patient_page_links_to_the_intake(
    client: Client, patient: Patient, front_desk: User, patient_user: User
) -> None:
    intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    client.force_login(front_desk)
    page = client.get(reverse("patient_detail", args=[patient.pk])).content.decode()
    assert reverse("staff_intake", args=[patient.pk]) in page
    assert reverse("staff_intake_paper", args=[patient.pk]) in page


def test_the_front_desk_types_in_a_paper_form(
    client: Client, patient: Patient, front_desk: User
) -> None:
    client.force_login(front_desk)
    url = reverse("staff_intake_paper", args=[patient.pk])
    assert client.get(url).status_code == 200
    data = {k: v for k, v in complete_answers(consent_capacity="guardian").items() if v != ""}
    response = client.post(url, data)
    assert response["Location"] == reverse("staff_intake", args=[patient.pk])
    intake = current_intake(patient)
    assert intake is not None
    assert intake.source == Intake.Source.PAPER
    assert intake.entered_by == front_desk
    assert intake.answers["consent_capacity"] == "guardian"


def test_a_paper_form_with_gaps_keeps_what_was_typed(
    client: Client, patient: Patient, physio: User
) -> None:
    client.force_login(physio)
    url = reverse("staff_intake_paper", args=[patient.pk])
    response = client.post(url, {"reason": "Hip pain on stairs", "lymphoedema": "yes"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hip pain on stairs" in page
    assert 'href="#id_lymphoedema_limbs_0"' in page
    assert current_intake(patient) is None


def test_intake_pages_send_staff_to_their_own_pages(client: Client, physio: User) -> None:
    client.force_login(physio)
    assert client.get(reverse("intake_start"))["Location"] == reverse("patient_list")


def test_an_unknown_section_is_not_found(signed_in: Client, patient: Patient) -> None:
    assert signed_in.get("/portal/intake/nonsense/").status_code == 404


def test_after_sending_a_section_opened_again_leads_to_re_confirming(
    signed_in: Client, patient: Patient, patient_user: User
) -> None:
    intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    response = signed_in.get(reverse("intake_section", args=["reason"]))
    assert response["Location"] == reverse("intake_start")
    assert "Update your answers" in signed_in.get(reverse("intake_start")).content.decode()


def test_sending_is_refused_while_the_emergency_contact_is_missing(
    signed_in: Client, patient: Patient, patient_user: User
) -> None:
    from imsclinic.intake.services import intake_save_draft

    intake_save_draft(patient=patient, answers=complete_answers(), actor=patient_user)
    response = signed_in.post(reverse("intake_review"))
    assert response.status_code == 200
    assert "Emergency contact" in response.content.decode()
    assert current_intake(patient) is None


def test_changing_a_section_after_sending_starts_from_the_last_answers(
    signed_in: Client, patient: Patient, patient_user: User
) -> None:
    first = intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    url = reverse("intake_section", args=["medicines"])
    data = section_data("medicines", complete_answers(anticoagulants="yes"))
    signed_in.post(url, {**data, "action": "continue"})
    draft = Intake.objects.get(patient=patient, status=Intake.Status.DRAFT)
    assert draft.confirms == first
    assert draft.answers["anticoagulants"] == "yes"
    assert draft.answers["reason"] == first.answers["reason"]


def test_the_owner_sets_how_long_answers_stay_current(
    client: Client, owner: User, clinic: Any
) -> None:
    client.force_login(owner)
    page = client.get(f"/manage/clinic/clinic/{clinic.pk}/change/").content.decode()
    assert 'name="intake_valid_months"' in page
