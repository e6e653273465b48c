"""GET /api/v1/patients/ID/screening: flags, decision, consent, readiness; clinicians only."""

from __future__ import annotations

import datetime as dt

import pytest

from imsclinic.core.models import AuditEvent, Outcome
from imsclinic.safety.models import Decision
from tests.factories.safety import (
    ON_ANTICOAGULANTS,
    SEVERE_PHOBIA,
    clearance,
    published_consent,
    signature,
    submitted_intake,
)

pytestmark = pytest.mark.django_db


def url(patient_id: int) -> str:
    return f"/api/v1/patients/{patient_id}/screening"


def test_it_answers_the_flags_the_decision_and_the_consent(patient, physio, api_client):
    intake = submitted_intake(patient, {**SEVERE_PHOBIA, **ON_ANTICOAGULANTS})
    clearance(patient, intake, by=physio, decision=Decision.NOT_SUITABLE)
    signed = signature(patient, published_consent())
    response = api_client(physio).get(url(patient.pk))
    assert response.status_code == 200
    body = response.json()
    assert [(f["code"], f["kind"]) for f in body["flags"]] == [
        ("needle_phobia_severe", "absolute"),
        ("anticoagulants", "relative"),
    ]
    assert body["flags"][0]["reason"] == "Severe fear of needles: needling should not go ahead."
    assert body["clearance"]["decision"] == "not_suitable"
    assert body["clearance"]["decided_by"] == "Tara Treating"
    assert body["consent"]["version"] == 1
    sent = dt.datetime.fromisoformat(body["consent"]["signed_at"])
    assert abs(sent - signed.signed_at) < dt.timedelta(milliseconds=1)  # JSON keeps ms
    assert body["ready"] is False
    assert any("not suitable" in item for item in body["missing"])


def test_a_patient_with_nothing_yet_gets_nulls_and_what_is_missing(patient, owner, api_client):
    body = api_client(owner).get(url(patient.pk)).json()
    assert body["flags"] == []
    assert body["intake"] is None
    assert body["clearance"] is None
    assert body["consent"] is None
    assert body["ready"] is False
    assert len(body["missing"]) == 2


def test_each_read_is_audited(patient, physio, api_client):
    submitted_intake(patient)
    api_client(physio).get(url(patient.pk))
    event = AuditEvent.objects.get(object_type="screening")
    assert (event.actor, event.patient_id, event.detail) == (physio, patient.pk, {"via": "api"})


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("physio", 200),
        ("owner", 200),
        ("front_desk", 403),
        ("other_physio", 404),
        ("patient", 403),
        ("anonymous", 401),
    ],
)
def test_only_clinicians_on_the_care_team_may_read_it(cast, patient, api_client, who, status):
    response = api_client(cast[who]).get(url(patient.pk))
    assert response.status_code == status
    if status != 200:
        assert response.json()["detail"]


def test_the_front_desk_refusal_is_audited_and_says_why(patient, front_desk, api_client):
    response = api_client(front_desk).get(url(patient.pk))
    assert "clinical" in response.json()["detail"]
    row = AuditEvent.objects.get(outcome=Outcome.DENIED)
    assert (row.action, row.object_type, row.patient_id) == ("view", "screening", patient.pk)


def test_a_missing_patient_looks_like_a_hidden_one(owner, other_physio, patient, api_client):
    missing = api_client(owner).get(url(999999))
    hidden = api_client(other_physio).get(url(patient.pk))
    assert missing.status_code == hidden.status_code == 404
    assert missing.json() == hidden.json()


def test_the_schema_documents_the_endpoint_and_its_errors(api_client, owner):
    schema = api_client(owner).get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/patients/{patient_id}/screening"]["get"]
    assert {"200", "401", "403", "404", "422"} <= set(operation["responses"])


def test_a_patient_booking_ims_through_the_api_is_refused_with_the_kind_message(
    clinic, patient, patient_user, physio, assessment, api_client
):
    submitted_intake(patient, SEVERE_PHOBIA)
    response = api_client(patient_user).post(
        "/api/v1/appointments",
        {
            "service": assessment.slug,
            "practitioner": physio.practitioner.pk,
            "start": "2031-03-03T10:00:00-08:00",
        },
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "604-555-0100" in response.json()["detail"]
