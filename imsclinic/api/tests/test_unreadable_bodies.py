"""A body too large or not JSON gets the API's JSON error, never a server error or HTML."""

from __future__ import annotations

import pytest

from imsclinic.outcomes.models import OutcomeResult
from imsclinic.scheduling.models import Appointment

pytestmark = pytest.mark.django_db

TOO_LARGE = "The request body is too large: send at most 2.5 MB."


def over_the_limit() -> str:
    return '{"instrument": "NPRS", "answers": [3], "note": "' + "a" * 2_700_000 + '"}'


@pytest.mark.parametrize("debug", [False, True])
def test_a_body_over_the_upload_limit_answers_413_as_json(
    patient, physio, api_client, settings, debug
):
    settings.DEBUG = debug
    response = api_client(physio).post(
        f"/api/v1/patients/{patient.pk}/outcomes", over_the_limit(), content_type="application/json"
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"detail": TOO_LARGE}
    assert not OutcomeResult.objects.exists()


def test_a_booking_over_the_upload_limit_answers_413_and_books_nothing(
    patient, patient_user, api_client
):
    body = '{"service": "ims", "start": "2031-03-03T10:00:00-08:00", "x": "' + "a" * 2_700_000
    response = api_client(patient_user).post(
        "/api/v1/appointments", body + '"}', content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json() == {"detail": TOO_LARGE}
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "body",
    [
        '{"instrument": "NPRS", "answers": [3',
        "not json at all",
        '{"instrument": "NPRS",}',
        "\ufeff{",
    ],
)
def test_a_malformed_json_body_answers_400_as_json(
    patient, physio, api_client, settings, body, debug
):
    settings.DEBUG = debug
    response = api_client(physio).post(
        f"/api/v1/patients/{patient.pk}/outcomes", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["detail"].startswith("Cannot parse request body")
    assert not OutcomeResult.objects.exists()


def test_json_of_the_wrong_shape_answers_422_with_the_field(patient, physio, api_client):
    response = api_client(physio).post(
        f"/api/v1/patients/{patient.pk}/outcomes", "[1, 2, 3]", content_type="application/json"
    )

    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
