"""GET and POST /api/v1/patients/ID/intake: who may read and send the health questions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from imsclinic.accounts.models import User
from imsclinic.core.models import AuditEvent
from imsclinic.intake.models import Intake
from imsclinic.intake.selectors import current_intake
from imsclinic.intake.services import intake_submit
from imsclinic.patients.models import Patient
from tests.factories.intake import complete_answers

pytestmark = pytest.mark.django_db

ApiClient = Callable[[User | None], Client]


def url(patient: Patient) -> str:
    return f"/api/v1/patients/{patient.pk}/intake"


def test_the_care_team_reads_the_current_intake_and_the_read_is_audited(
    api_client: ApiClient, patient: Patient, patient_user: User, physio: User
) -> None:
    intake = intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    response = api_client(physio).get(url(patient))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == intake.pk
    assert body["form_version"] == "intake-v2"
    assert body["source"] == "portal"
    assert body["current"] is True
    assert body["answers"]["needle_fear"] == "mild"
    assert body["valid_until"] > body["submitted_at"]
    row = AuditEvent.objects.filter(object_type="intake", action="view", actor=physio).get()
    assert row.detail == {"via": "api"}


def test_the_front_desk_may_not_read_the_answers(
    api_client: ApiClient, patient: Patient, patient_user: User, front_desk: User
) -> None:
    intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    assert api_client(front_desk).get(url(patient)).status_code == 403


def test_outsiders_are_told_nothing(
    api_client: ApiClient, patient: Patient, patient_user: User, other_physio: User
) -> None:
    intake_submit(patient=patient, answers=complete_answers(), actor=patient_user)
    response = api_client(other_physio).get(url(patient))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert api_client(None).get(url(patient)).status_code == 401


def test_a_patient_with_no_answers_yet_is_a_404_with_a_reason(
    api_client: ApiClient, patient: Patient, owner: User
) -> None:
    response = api_client(owner).get(url(patient))
    assert response.status_code == 404
    assert "not sent" in response.json()["detail"]


def test_staff_send_a_paper_form_through_the_api(
    api_client: ApiClient, patient: Patient, front_desk: User
) -> None:
    response = api_client(front_desk).post(
        url(patient), {"answers": complete_answers()}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["source"] == "paper"
    assert body["answers"] is None  # the front desk types answers in but does not read them
    intake = current_intake(patient)
    assert intake is not None and intake.entered_by == front_desk


def test_the_owner_gets_the_stored_answers_back(
    api_client: ApiClient, patient: Patient, owner: User
) -> None:
    answers = complete_answers(lymphoedema="no", lymphoedema_limbs=["left_leg"])
    response = api_client(owner).post(
        url(patient), {"answers": answers}, content_type="application/json"
    )
    assert response.status_code == 201
    assert "lymphoedema_limbs" not in response.json()["answers"]


def test_missing_and_wrong_answers_are_a_422_naming_each_one(
    api_client: ApiClient, patient: Patient, physio: User
) -> None:
    answers = complete_answers(anticoagulants="perhaps", lymphoedema="yes")
    del answers["needle_fear"]
    response = api_client(physio).post(
        url(patient), {"answers": answers}, content_type="application/json"
    )
    assert response.status_code == 422
    where = {tuple(item["loc"]) for item in response.json()["detail"]}
    assert where == {
        ("body", "answers", "anticoagulants"),
        ("body", "answers", "lymphoedema_limbs"),
        ("body", "answers", "needle_fear"),
    }
    assert not Intake.objects.exists()


def test_outsiders_cannot_send_answers_for_a_patient(
    api_client: ApiClient, patient: Patient, other_physio: User
) -> None:
    response = api_client(other_physio).post(
        url(patient), {"answers": complete_answers()}, content_type="application/json"
    )
    assert response.status_code == 404
    assert not Intake.objects.exists()


def test_every_answer_of_the_intake_endpoints_is_in_the_schema(db: None) -> None:
    document = Client().get("/api/v1/openapi.json").json()
    path = document["paths"]["/api/v1/patients/{patient_id}/intake"]
    assert {"200", "401", "403", "404", "422"} <= set(path["get"]["responses"])
    assert {"201", "401", "403", "404", "422"} <= set(path["post"]["responses"])
