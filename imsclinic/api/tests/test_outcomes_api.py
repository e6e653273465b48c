"""GET and POST /api/v1/patients/ID/outcomes: results by instrument, the plan, new answers."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.models import AuditEvent, Outcome
from imsclinic.outcomes import services
from imsclinic.outcomes.models import OutcomeResult
from tests.factories import VANCOUVER
from tests.factories.api import CHECKS, FUZZ, OPENAPI_URL
from tests.factories.charting import ims_visit
from tests.factories.outcomes import ready_with_lot, signed_visit

pytestmark = pytest.mark.django_db

ACTIVITIES = ["Lift my toddler", "Run 5 km", "Sit through a film"]


def url(patient_id: int) -> str:
    return f"/api/v1/patients/{patient_id}/outcomes"


@pytest.fixture
def course(patient, physio, ims_service):
    """A plan (PSFS + ODI), two signed sessions and ODI at baseline and after three visits."""
    lot = ready_with_lot(patient, physio)
    services.plan_set(
        patient=patient,
        region_instrument="ODI",
        psfs_activities=ACTIVITIES,
        every_visits=3,
        actor=physio,
    )
    first = signed_visit(patient, physio, ims_service, lot, days_ago=21, before=7, after=4)
    signed_visit(patient, physio, ims_service, lot, days_ago=14, before=4, after=2)
    services.result_record(
        patient=patient,
        instrument="ODI",
        answers=[3, 3, 2, 3, 3, 2, 3, 3, 2, 3],  # 27/50 -> 54
        actor=physio,
        source="paper",
        appointment=first.appointment,
        taken_at=first.appointment.start,
    )
    services.result_record(
        patient=patient,
        instrument="ODI",
        answers=[2, 2, 1, 2, 2, 1, 2, 2, 1, 2],  # 17/50 -> 34
        actor=patient.user,
        source="portal",
    )
    return first


def test_it_groups_results_by_instrument_with_the_change_and_the_plan(
    patient, physio, api_client, course
):
    response = api_client(physio).get(url(patient.pk))
    assert response.status_code == 200
    body = response.json()
    by_code = {item["code"]: item for item in body["instruments"]}
    assert list(by_code) == ["NPRS", "PSFS", "ODI"]
    odi = by_code["ODI"]
    assert (odi["baseline"], odi["latest"], odi["change"], odi["meets_mcid"]) == (
        54.0,
        34.0,
        20.0,
        True,
    )
    assert odi["results"][0]["session_number"] == 1
    # Answered before needling at the first visit: the baseline, after 0 sessions; the
    # portal answer today comes after both signed sessions.
    assert [r["sessions_done"] for r in odi["results"]] == [0, 2]
    assert odi["results"][0]["source"] == "paper"
    nprs = by_code["NPRS"]
    # Pain is tracked by the rating before needling: 7 at the first visit, 4 at the second.
    assert (nprs["baseline"], nprs["latest"], nprs["meets_mcid"]) == (7.0, 4.0, True)
    assert [r["timing"] for r in nprs["results"]] == ["before", "after", "before", "after"]
    assert [r["session_number"] for r in nprs["results"]] == [1, 1, 2, 2]
    assert [r["sessions_done"] for r in nprs["results"]] == [0, 1, 1, 2]
    assert by_code["PSFS"]["results"] == []
    assert body["plan"]["psfs_activities"] == ACTIVITIES
    assert body["plan"]["instruments"] == ["PSFS", "ODI"]


def test_each_read_is_audited(patient, physio, api_client, course):
    api_client(physio).get(url(patient.pk))
    assert AuditEvent.objects.filter(object_type="outcome_results", actor=physio).exists()


def test_it_leaves_out_a_struck_out_result(patient, physio, api_client, course):
    wrong = OutcomeResult.objects.filter(instrument="ODI").last()
    assert wrong is not None
    services.result_void(result=wrong, reason="Wrong form.", actor=physio)
    odi = next(
        item
        for item in api_client(physio).get(url(patient.pk)).json()["instruments"]
        if item["code"] == "ODI"
    )
    assert len(odi["results"]) == 1 and odi["change"] is None


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("front_desk", 403),
        ("other_physio", 404),
        ("other_patient", 404),
        ("owner", 200),
        ("patient", 200),
    ],
)
def test_only_the_patient_the_care_team_and_the_owner_read_outcomes(
    patient, cast, api_client, who, status
):
    assert api_client(cast[who]).get(url(patient.pk)).status_code == status


def test_an_outsider_is_told_nothing_and_the_refusal_is_audited(patient, other_physio, api_client):
    response = api_client(other_physio).get(url(patient.pk))
    assert response.json() == {"detail": "Not found."}
    assert AuditEvent.objects.filter(actor=other_physio, outcome=Outcome.DENIED).exists()


def test_without_a_token_it_answers_401(patient, api_client):
    assert api_client(None).get(url(patient.pk)).status_code == 401


def test_it_records_an_answered_questionnaire(patient, physio, api_client):
    response = api_client(physio).post(
        url(patient.pk),
        {"instrument": "NDI", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 1, None]},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["score"] == 20.0 and body["answered"] == 9 and body["source"] == "api"
    assert AuditEvent.objects.filter(object_type="outcome_result", action="create").exists()


def test_it_names_the_bad_item_in_a_422(patient, physio, api_client):
    response = api_client(physio).post(
        url(patient.pk),
        {"instrument": "QuickDASH", "answers": [1, 2, 3, 9, 1, 1, 1, 1, 1, 1, 1]},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "answers", 3]
    assert not OutcomeResult.objects.exists()


def test_it_refuses_a_visit_of_another_patient(patient, other_patient, physio, api_client, course):
    response = api_client(physio).post(
        url(other_patient.pk),
        {"instrument": "NPRS", "answers": [3], "appointment_id": course.appointment_id},
        content_type="application/json",
    )
    # The physio is not on the other patient's care team: nothing is told.
    assert response.status_code == 404
    response = api_client(physio).post(
        url(patient.pk),
        {"instrument": "NPRS", "answers": [3], "appointment_id": 10**9},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "appointment_id"]


def test_a_second_result_for_the_same_visit_is_refused_with_409(
    patient, physio, api_client, course
):
    body = {"instrument": "NDI", "answers": [1] * 10, "appointment_id": course.appointment_id}
    first = api_client(physio).post(url(patient.pk), body, content_type="application/json")
    again = api_client(patient.user).post(url(patient.pk), body, content_type="application/json")

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json() == {
        "detail": (
            "The Neck Disability Index is already recorded for this visit (API, "
            f"{timezone.now().astimezone(VANCOUVER):%-d %b %Y}). If it was wrong, "
            "strike it out on the patient's progress page, then enter this one."
        )
    }
    assert OutcomeResult.objects.filter(instrument="NDI").count() == 1


def test_pain_before_and_after_needling_may_stand_side_by_side_but_not_twice(
    patient, physio, api_client, ims_service
):
    visit = ims_visit(patient, physio, ims_service, start=timezone.now() - dt.timedelta(days=2))
    client = api_client(physio)

    def pain(timing: str) -> int:
        body = {"instrument": "NPRS", "answers": [5], "appointment_id": visit.pk, "timing": timing}
        return client.post(url(patient.pk), body, content_type="application/json").status_code

    assert (pain("before"), pain("after"), pain("before"), pain("")) == (201, 201, 409, 409)


@pytest.mark.parametrize(
    ("taken_at", "message"),
    [
        ("1979-06-01T10:00:00-07:00", "The date is before the patient's date of birth"),
        ("2001-06-01T10:00:00-07:00", "The date is before the patient's first visit or reg"),
        ("2999-06-01T10:00:00-07:00", "The date cannot be in the future."),
    ],
)
def test_a_result_dated_before_birth_or_first_visit_or_in_the_future_is_refused(
    patient, physio, api_client, taken_at, message
):
    response = api_client(physio).post(
        url(patient.pk),
        {"instrument": "NPRS", "answers": [3], "taken_at": taken_at},
        content_type="application/json",
    )

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "taken_at"]
    assert error["msg"].startswith(message)
    assert not OutcomeResult.objects.exists()


def test_a_result_on_the_day_of_the_first_visit_is_accepted(
    patient, physio, api_client, ims_service
):
    # A morning visit in the clinic's zone, so "earlier that day" is that day at any hour.
    day = (timezone.now() - dt.timedelta(days=40)).astimezone(clinic_zone()).date()
    start = dt.datetime.combine(day, dt.time(10), tzinfo=clinic_zone())
    visit = ims_visit(patient, physio, ims_service, start=start)
    earlier_that_day = visit.start - dt.timedelta(minutes=30)

    response = api_client(physio).post(
        url(patient.pk),
        {"instrument": "NPRS", "answers": [3], "taken_at": earlier_that_day.isoformat()},
        content_type="application/json",
    )

    assert response.status_code == 201


@pytest.mark.parametrize(("who", "status"), [("front_desk", 403), ("other_physio", 404)])
def test_only_clinicians_and_the_patient_record_through_the_api(
    patient, cast, api_client, who, status
):
    response = api_client(cast[who]).post(
        url(patient.pk),
        {"instrument": "NPRS", "answers": [3]},
        content_type="application/json",
    )
    assert response.status_code == status
    assert not OutcomeResult.objects.exists()


@pytest.mark.parametrize("who", ["front_desk", "physio"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_outcomes_endpoints_keep_to_their_schema(
    request, cast, patient, course, token_for, who, mode
):
    api_schema = schemathesis.openapi.from_wsgi(OPENAPI_URL, request.getfixturevalue("wsgi_app"))
    headers = {"Authorization": f"Bearer {token_for(cast[who])}"}
    path = "/api/v1/patients/{patient_id}/outcomes"
    strategy = st.one_of(
        api_schema[path]["GET"].as_strategy(generation_mode=mode),
        api_schema[path]["GET"].as_strategy(
            generation_mode=mode, path_parameters={"patient_id": patient.pk}
        ),
        api_schema[path]["POST"].as_strategy(
            generation_mode=mode, path_parameters={"patient_id": patient.pk}
        ),
    )

    @FUZZ
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
