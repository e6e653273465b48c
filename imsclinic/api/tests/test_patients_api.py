"""Reading patient records through the API: who may, what they see, and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from imsclinic.accounts.tokens import api_token_issue, api_token_revoke
from imsclinic.core.models import AuditEvent, Outcome
from imsclinic.core.roles import Role
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from tests.factories.people import make_user

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/patients"


def detail_url(patient_id: int) -> str:
    return f"/api/v1/patients/{patient_id}"


LIST = {
    "anonymous": 401,
    "patient": 403,
    "other_patient": 403,
    "front_desk": 200,
    "physio": 200,
    "other_physio": 200,
    "owner": 200,
}
DETAIL = {**LIST, "other_physio": 404}


@pytest.mark.parametrize("who", LIST)
def test_the_patient_search_is_for_staff_tokens_only(cast, api_client, who):
    response = api_client(cast[who]).get(LIST_URL)
    assert response.status_code == LIST[who]
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json() or "items" in response.json()


@pytest.mark.parametrize("who", DETAIL)
def test_a_patient_record_opens_only_for_those_who_may_see_it(cast, patient, api_client, who):
    response = api_client(cast[who]).get(detail_url(patient.pk))
    assert response.status_code == DETAIL[who]
    if response.status_code == 200:
        assert response.json()["family_name"] == "Ient"
    else:
        assert "Ient" not in response.content.decode()


def test_api_responses_are_never_cached(cast, patient, api_client):
    ok = api_client(cast["front_desk"]).get(detail_url(patient.pk))
    refused = Client().get(detail_url(patient.pk))
    for response in (ok, refused):
        assert "no-store" in response["Cache-Control"]


def test_a_refused_call_names_the_bearer_scheme(db):
    response = Client().get(LIST_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ims_this-token-was-never-issued",
        "Bearer not-even-our-format",
        "Bearer",
        "Basic ZGVzazpwYXNzd29yZA==",
        "ims_missing-the-scheme",
    ],
)
def test_it_refuses_a_token_it_did_not_issue(cast, header):
    response = Client(headers={"Authorization": header}).get(LIST_URL)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_a_revoked_token_stops_working_at_once(cast):
    token, raw = api_token_issue(user=cast["front_desk"], name="script", actor=None)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get(LIST_URL).status_code == 200
    api_token_revoke(token=token, actor=cast["front_desk"])
    assert client.get(LIST_URL).status_code == 401


def test_a_deactivated_account_cannot_use_its_token(cast):
    _token, raw = api_token_issue(user=cast["front_desk"], name="script", actor=None)
    cast["front_desk"].is_active = False
    cast["front_desk"].save(update_fields=["is_active"])
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(LIST_URL)
    assert response.status_code == 401


def test_a_session_sign_in_is_not_an_api_credential(cast, patient):
    client = Client()
    client.force_login(cast["front_desk"])
    assert client.get(detail_url(patient.pk)).status_code == 401


def test_a_staff_token_works_without_a_second_factor_at_each_call(cast, patient, api_client):
    # The session's MFA proof guards sign-ins; a token is issued only to staff who have an
    # authenticator, and bearer requests are anonymous when the middleware runs.
    desk = make_user("new.desk@cedar.example", Role.FRONT_DESK)
    response = api_client(desk).get(detail_url(patient.pk))
    assert response.status_code == 200


def test_a_practitioner_finds_only_patients_on_their_care_team(
    cast, patient, other_patient, api_client
):
    response = api_client(cast["physio"]).get(LIST_URL)
    assert [p["id"] for p in response.json()["items"]] == [patient.pk]
    assert response.json()["count"] == 1


def test_an_outsider_gets_the_same_404_as_for_a_record_that_does_not_exist(
    cast, patient, api_client
):
    client = api_client(cast["other_physio"])
    hidden = client.get(detail_url(patient.pk))
    missing = client.get(detail_url(999_999))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


@pytest.mark.parametrize(
    ("query", "found", "not_found"),
    [
        ("ient", "Ient", "Osborne"),
        ("Pat Ient", "Ient", "Osborne"),
        ("1980-04-02", "Ient", "Osborne"),
        ("604 555 0199", "Ient", "Osborne"),
        ("555-0123", "Osborne", "Ient"),
    ],
)
def test_front_desk_finds_a_patient_by_name_birth_date_or_phone(
    cast, patient, other_patient, api_client, query, found, not_found
):
    response = api_client(cast["front_desk"]).get(LIST_URL, {"search": query})
    names = [p["family_name"] for p in response.json()["items"]]
    assert found in names
    assert not_found not in names


def test_the_list_gives_the_agreed_fields_for_each_patient(cast, patient, api_client):
    response = api_client(cast["front_desk"]).get(LIST_URL, {"search": "Ient"})
    assert response.json()["items"] == [
        {
            "id": patient.pk,
            "given_name": "Pat",
            "family_name": "Ient",
            "preferred_name": "",
            "date_of_birth": "1980-04-02",
            "phone": "(604) 555-0199",
            "email": "pat@patients.example",
        }
    ]


def test_the_list_is_paged(cast, patient, other_patient, api_client):
    client = api_client(cast["front_desk"])
    first = client.get(LIST_URL, {"page_size": 1}).json()
    second = client.get(LIST_URL, {"page_size": 1, "page": 2}).json()
    beyond = client.get(LIST_URL, {"page_size": 1, "page": 3}).json()
    assert first["count"] == second["count"] == 2
    # Ordered by family name: Ient before Osborne.
    assert [p["family_name"] for p in first["items"]] == ["Ient"]
    assert [p["family_name"] for p in second["items"]] == ["Osborne"]
    assert beyond["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": 1000}, "page_size"),
        ({"search": "x" * 101}, "search"),
        ({"search": "Pat\x00"}, "search"),
    ],
)
def test_bad_input_gets_a_422_naming_the_field(cast, api_client, params, field):
    response = api_client(cast["front_desk"]).get(LIST_URL, params)
    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]


def test_a_search_is_written_to_the_audit_log_with_the_patients_shown(
    cast, patient, other_patient, api_client
):
    api_client(cast["front_desk"]).get(LIST_URL, {"search": "Ient"})
    event = AuditEvent.objects.get(object_type="patient_list")
    assert event.actor == cast["front_desk"]
    assert event.action == "search"
    assert event.outcome == Outcome.ALLOWED
    assert event.detail["query"] == "Ient"
    assert event.detail["shown"] == [patient.pk]


def test_reading_a_record_is_written_to_the_audit_log(cast, patient, api_client):
    api_client(cast["physio"]).get(detail_url(patient.pk))
    event = AuditEvent.objects.get(object_type="patient")
    assert (event.actor, event.patient_id, event.action, event.outcome) == (
        cast["physio"],
        patient.pk,
        "view",
        Outcome.ALLOWED,
    )


def test_a_refused_look_is_written_to_the_audit_log_as_denied(cast, patient, api_client):
    api_client(cast["other_physio"]).get(detail_url(patient.pk))
    event = AuditEvent.objects.get(object_type="patient")
    assert event.outcome == Outcome.DENIED
    assert event.actor == cast["other_physio"]
    assert event.patient_id == patient.pk


def visit(patient, practitioner, location, service, start, status=AppointmentStatus.BOOKED):
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        location=location,
        room=location.rooms.first(),
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=30),
        status=status,
    )


def test_the_record_shows_upcoming_visits_in_the_locations_time_zone(
    cast, patient, location, ims_service, api_client
):
    practitioner = cast["physio"].practitioner
    # 18:00 UTC is 10:00 in Vancouver in winter (PST) and 11:00 in summer (PDT).
    winter = dt.datetime(2099, 1, 15, 18, 0, tzinfo=dt.UTC)
    summer = dt.datetime(2099, 7, 15, 18, 0, tzinfo=dt.UTC)
    visit(patient, practitioner, location, ims_service, summer)
    visit(patient, practitioner, location, ims_service, winter)
    visit(
        patient,
        practitioner,
        location,
        ims_service,
        winter + dt.timedelta(days=1),
        status=AppointmentStatus.CANCELLED,
    )
    visit(patient, practitioner, location, ims_service, timezone.now() - dt.timedelta(days=3))

    record = api_client(cast["front_desk"]).get(detail_url(patient.pk)).json()

    assert [(v["start"], v["end"]) for v in record["upcoming_visits"]] == [
        ("2099-01-15T10:00:00-08:00", "2099-01-15T10:30:00-08:00"),
        ("2099-07-15T11:00:00-07:00", "2099-07-15T11:30:00-07:00"),
    ]
    first = record["upcoming_visits"][0]
    assert first["time_zone"] == "America/Vancouver"
    assert (first["service"], first["location"], first["room"], first["status"]) == (
        "IMS follow-up",
        "Kitsilano",
        "Bed 1",
        "booked",
    )
    assert first["practitioner"] == "Tara Treating"


def test_the_record_lists_the_active_care_team(cast, patient, api_client):
    record = api_client(cast["owner"]).get(detail_url(patient.pk)).json()
    assert record["care_team"] == [
        {"id": cast["physio"].practitioner.pk, "name": "Tara Treating", "slug": "tara-treating"}
    ]
    assert record["date_of_birth"] == "1980-04-02"
    assert record["phone"] == "(604) 555-0199"


def test_the_search_makes_the_same_number_of_queries_however_many_patients_match(
    cast, patient, api_client, django_assert_max_num_queries
):
    client = api_client(cast["front_desk"])
    client.get(LIST_URL)  # the first call stamps the token's last use; later ones do not

    def run() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST_URL).status_code == 200
        return len(captured)

    few = run()
    Patient.objects.bulk_create(
        Patient(given_name=f"Test{n}", family_name="Many", date_of_birth=dt.date(1990, 1, 1))
        for n in range(30)
    )
    many = run()
    assert few == many
    # Token lookup, one page of patients, count, and the audit row (savepoint, insert).
    with django_assert_max_num_queries(6):
        client.get(LIST_URL)
