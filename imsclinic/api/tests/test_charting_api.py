"""GET /api/v1/patients/ID/sessions (signed notes with rows) and GET /api/v1/muscles."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from imsclinic.charting.services import (
    addendum_add,
    physio_note_start,
    session_save_draft,
    session_sign,
    session_start,
)
from imsclinic.core.models import AuditEvent, Outcome
from tests.factories.api import CHECKS, FUZZ, OPENAPI_URL
from tests.factories.charting import (
    confirm_infection_control,
    ensure_catalogue,
    ims_visit,
    needle_lot,
    physio_service,
    row,
    signed_assessment,
    signed_physio_note,
    signed_session,
)
from tests.factories.safety import make_ready_for_needling

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    """A browser test that ran earlier in this process may have emptied the catalogue."""
    ensure_catalogue()


def url(patient_id: int) -> str:
    return f"/api/v1/patients/{patient_id}/sessions"


@pytest.fixture
def signed(patient, physio, ims_service):
    """One signed session (a pectoral and a calf) and one draft, for the treating physio."""
    make_ready_for_needling(patient, by=physio)
    signed_assessment(patient, physio)
    lot = needle_lot("LOT-API-7", diameter="0.25", length=30)
    earlier = ims_visit(patient, physio, ims_service, start=timezone.now() - dt.timedelta(days=7))
    session = signed_session(
        earlier,
        physio,
        [
            row("pectoralis_major", lot, insertions=4, needles=2),
            row("soleus", lot, side="right"),
        ],
    )
    addendum_add(note=session, reason="Clarify", text="Patient felt fine.", actor=physio)
    session_start(appointment=ims_visit(patient, physio, ims_service), actor=physio)
    return session


def test_it_lists_signed_sessions_with_every_needling_row(patient, physio, api_client, signed):
    response = api_client(physio).get(url(patient.pk))
    assert response.status_code == 200
    body = response.json()
    assert [s["id"] for s in body] == [signed.pk]  # the draft is left out
    session = body[0]
    assert (session["nprs_before"], session["nprs_after"]) == (6, 3)
    assert session["thoracic_precaution"] is True
    assert session["signed_by"] == "Tara Treating"
    assert session["addenda"][0]["text"] == "Patient felt fine."
    first = session["rows"][0]
    assert first["muscle"] == {"code": "pectoralis_major", "name": "Pectoralis major"}
    assert (first["side"], first["segment"], first["insertions"]) == ("left", "C5", 4)
    assert (first["needles_used"], session["rows"][1]["needles_used"]) == (2, 1)
    assert first["needle"]["lot_number"] == "LOT-API-7"
    assert first["needle"]["size"] == "0.25 x 30 mm"
    assert (first["grasp"], first["release"], first["twitch"], first["tolerance"]) == (
        "moderate",
        True,
        False,
        "good",
    )
    assert session["rows"][1]["side"] == "right"
    assert session["assessment_id"] == patient.assessments.get().pk
    assert session["reason_no_assessment"] == ""


def test_it_gives_the_reason_a_course_was_needled_without_an_assessment(
    patient, physio, api_client, ims_service
):
    make_ready_for_needling(patient, by=physio)
    lot = needle_lot("LOT-API-8")
    visit = ims_visit(patient, physio, ims_service)
    draft = session_start(
        appointment=visit, actor=physio, reason_no_assessment="Assessed at the hospital clinic."
    )
    draft = session_save_draft(
        session=draft,
        actor=physio,
        data={"nprs_before": 5, "nprs_after": 2},
        rows=[row("soleus", lot)],
    )
    confirm_infection_control(draft, physio)
    session_sign(session=draft, actor=physio)
    session = api_client(physio).get(url(patient.pk)).json()[0]
    assert session["assessment_id"] is None
    assert session["reason_no_assessment"] == "Assessed at the hospital clinic."


def test_each_read_of_sessions_is_audited(patient, physio, api_client, signed):
    api_client(physio).get(url(patient.pk))
    event = AuditEvent.objects.filter(object_type="chart").get()
    assert (event.actor, event.patient_id) == (physio, patient.pk)
    assert event.detail == {"via": "api", "sessions": 1}


@pytest.mark.parametrize(
    ("who", "status"),
    [("front_desk", 403), ("other_physio", 404), ("patient", 403), ("owner", 200)],
)
def test_only_the_care_team_and_the_owner_read_sessions(patient, cast, api_client, who, status):
    assert api_client(cast[who]).get(url(patient.pk)).status_code == status


def test_an_outsider_is_told_nothing_and_the_refusal_is_audited(patient, other_physio, api_client):
    response = api_client(other_physio).get(url(patient.pk))
    assert response.json() == {"detail": "Not found."}
    assert AuditEvent.objects.filter(actor=other_physio, outcome=Outcome.DENIED).exists()


def test_without_a_token_it_answers_401(patient, api_client):
    assert api_client(None).get(url(patient.pk)).status_code == 401


def test_the_catalogue_lists_every_muscle_with_its_roots_and_precaution(physio, api_client):
    response = api_client(physio).get("/api/v1/muscles")
    assert response.status_code == 200
    muscles = {m["code"]: m for m in response.json()}
    assert muscles["scalene_anterior"]["thoracic_precaution"] is True
    assert (muscles["gastrocnemius"]["root_from"], muscles["gastrocnemius"]["root_to"]) == (
        "S1",
        "S2",
    )
    assert muscles["paraspinal_t4"]["is_paraspinal"] is True
    assert muscles["paraspinal_t4"]["level"] == "T4"
    assert AuditEvent.objects.filter(object_type="muscle_catalogue", actor=physio).exists()


def test_the_catalogue_comes_in_body_order_c2_before_t1_before_t10(physio, api_client):
    codes = [m["code"] for m in api_client(physio).get("/api/v1/muscles").json()]
    wanted = ["paraspinal_c2", "paraspinal_t1", "paraspinal_t2", "paraspinal_t10"]
    assert [codes.index(code) for code in wanted] == sorted(codes.index(code) for code in wanted)
    assert codes.index("upper_trapezius") < codes.index("gastrocnemius")


@pytest.mark.parametrize(("who", "status"), [("front_desk", 403), ("patient", 403)])
def test_the_catalogue_is_for_clinicians(cast, api_client, who, status):
    assert api_client(cast[who]).get("/api/v1/muscles").status_code == status


@pytest.mark.parametrize("who", ["front_desk", "physio", "owner"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_charting_endpoints_keep_to_their_schema(
    request, cast, patient, signed, token_for, who, mode
):
    api_schema = schemathesis.openapi.from_wsgi(OPENAPI_URL, request.getfixturevalue("wsgi_app"))
    headers = {"Authorization": f"Bearer {token_for(cast[who])}"}
    sessions = api_schema["/api/v1/patients/{patient_id}/sessions"]["GET"]
    strategy = st.one_of(
        sessions.as_strategy(generation_mode=mode),
        # The real patient too, so the 200 shape of signed sessions is checked, not only 404.
        sessions.as_strategy(generation_mode=mode, path_parameters={"patient_id": patient.pk}),
        api_schema["/api/v1/muscles"]["GET"].as_strategy(generation_mode=mode),
    )

    @FUZZ
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


def test_it_lists_signed_physiotherapy_notes_with_their_addenda(patient, physio, api_client):
    earlier = ims_visit(
        patient, physio, physio_service(), start=timezone.now() - dt.timedelta(days=7)
    )
    note = signed_physio_note(earlier, physio)
    addendum_add(note=note, reason="Clarify", text="Right knee.", actor=physio)
    physio_note_start(appointment=ims_visit(patient, physio, physio_service()), actor=physio)
    response = api_client(physio).get(f"/api/v1/patients/{patient.pk}/physio-notes")
    assert response.status_code == 200
    body = response.json()
    assert [n["id"] for n in body] == [note.pk]  # the draft is left out
    assert body[0]["service"] == "Physiotherapy assessment"
    assert body[0]["treatment_given"] == note.treatment_given
    assert body[0]["measures_due"] == []
    assert body[0]["addenda"][0]["text"] == "Right knee."
    event = AuditEvent.objects.filter(object_type="chart").get()
    assert event.detail == {"via": "api", "physio_notes": 1}


@pytest.mark.parametrize(
    ("who", "status"),
    [("front_desk", 403), ("other_physio", 404), ("patient", 403), ("owner", 200)],
)
def test_only_the_care_team_and_the_owner_read_physiotherapy_notes(
    patient, cast, api_client, who, status
):
    response = api_client(cast[who]).get(f"/api/v1/patients/{patient.pk}/physio-notes")
    assert response.status_code == status
