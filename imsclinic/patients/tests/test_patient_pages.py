"""Who may open, search and edit a patient record."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from imsclinic.core.models import AuditEvent, Outcome

pytestmark = pytest.mark.django_db

# Who sees what: the patient summary page, by member of the standard cast.
SUMMARY = {
    "anonymous": 302,
    "patient": 404,  # a patient sees their record in the portal; staff pages do not exist for them
    "other_patient": 404,
    "front_desk": 200,
    "physio": 200,
    "other_physio": 404,
    "owner": 200,
}
EDIT = {**SUMMARY, "physio": 403}
LIST = {
    "anonymous": 302,
    "patient": 403,
    "other_patient": 403,
    "front_desk": 200,
    "physio": 200,
    "other_physio": 200,
    "owner": 200,
}


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("who", SUMMARY)
def test_the_patient_summary_opens_only_for_those_who_may_see_it(cast, patient, who):
    response = client_for(cast[who]).get(reverse("patient_detail", args=[patient.pk]))
    assert response.status_code == SUMMARY[who]
    if response.status_code == 200:
        assert b"Ient" in response.content
        assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("who", EDIT)
def test_only_front_desk_and_owner_may_edit_demographics(cast, patient, who):
    response = client_for(cast[who]).get(reverse("patient_edit", args=[patient.pk]))
    assert response.status_code == EDIT[who]


@pytest.mark.parametrize("who", LIST)
def test_the_patient_list_is_for_staff_only(cast, who):
    response = client_for(cast[who]).get(reverse("patient_list"))
    assert response.status_code == LIST[who]


def test_an_outsider_gets_the_same_404_as_for_a_record_that_does_not_exist(cast, patient):
    client = client_for(cast["other_physio"])
    hidden = client.get(reverse("patient_detail", args=[patient.pk]))
    missing = client.get(reverse("patient_detail", args=[999_999]))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_a_refused_look_is_written_to_the_audit_log_as_denied(cast, patient):
    client_for(cast["other_physio"]).get(reverse("patient_detail", args=[patient.pk]))
    event = AuditEvent.objects.get(patient=patient)
    assert event.outcome == Outcome.DENIED
    assert event.actor == cast["other_physio"]
    assert event.role == "practitioner"


def test_a_practitioner_finds_only_patients_on_their_care_team(cast, patient, other_patient):
    response = client_for(cast["physio"]).get(reverse("patient_list"))
    assert b"Ient" in response.content
    assert b"Otto" not in response.content


@pytest.mark.parametrize(
    ("query", "found", "not_found"),
    [
        ("ient", b"Ient", b"Otto"),
        ("Pat Ient", b"Ient", b"Otto"),
        ("1980-04-02", b"Ient", b"Otto"),
        ("604 555 0199", b"Ient", b"Otto"),
        ("555-0123", b"Otto", b"Ient"),
    ],
)
def test_front_desk_finds_a_patient_by_name_birth_date_or_phone(
    cast, patient, other_patient, query, found, not_found
):
    response = client_for(cast["front_desk"]).get(reverse("patient_list"), {"q": query})
    assert found in response.content
    assert not_found not in response.content


def test_front_desk_edits_demographics_and_the_change_is_audited(cast, patient):
    client = client_for(cast["front_desk"])
    url = reverse("patient_edit", args=[patient.pk])
    data = {
        "given_name": "Pat",
        "family_name": "Ient",
        "date_of_birth": "1980-04-02",
        "phone": "604-555-0000",
        "email": "pat@patients.example",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "604-555-0000"
    event = AuditEvent.objects.filter(patient=patient, action="update").get()
    assert event.detail == {"fields": ["phone"]}
    assert event.actor == cast["front_desk"]


def test_opening_the_edit_form_is_audited_as_a_look_at_the_record(cast, patient):
    response = client_for(cast["front_desk"]).get(reverse("patient_edit", args=[patient.pk]))
    assert response.status_code == 200
    assert b'value="Ient"' in response.content
    event = AuditEvent.objects.get(patient=patient, action="view")
    assert (event.actor, event.object_type, event.object_id) == (
        cast["front_desk"],
        "patient",
        str(patient.pk),
    )
    assert event.detail == {"page": "edit"}


def test_a_bad_date_of_birth_is_explained_and_nothing_changes(cast, patient):
    client = client_for(cast["front_desk"])
    response = client.post(
        reverse("patient_edit", args=[patient.pk]),
        {"given_name": "Changed", "family_name": "Ient", "date_of_birth": "2999-01-01"},
    )
    assert response.status_code == 200
    assert b"cannot be in the future" in response.content
    assert b'value="Changed"' in response.content  # what was typed is kept
    patient.refresh_from_db()
    assert patient.given_name == "Pat"


def test_the_patient_list_needs_a_fixed_number_of_queries(cast, django_assert_max_num_queries, db):
    import datetime as dt

    from imsclinic.patients.models import Patient

    for i in range(30):
        Patient.objects.create(
            given_name=f"P{i}", family_name="Many", date_of_birth=dt.date(1990, 1, 1)
        )
    client = client_for(cast["front_desk"])
    with django_assert_max_num_queries(16):
        client.get(reverse("patient_list"))


def test_the_summary_lists_upcoming_visits_in_each_locations_own_time(
    cast, patient, location, ims_service
):
    import datetime as dt

    from django.utils import timezone as tz

    from imsclinic.clinic.models import Location
    from imsclinic.scheduling.models import Appointment

    toronto = Location.objects.create(
        clinic=location.clinic,
        name="Annex",
        slug="annex",
        address_line1="1 Example St",
        city="Toronto",
        region="ON",
        postal_code="M5R 1A1",
        phone="416-555-0102",
        time_zone="America/Toronto",
    )
    start = dt.datetime(2031, 1, 15, 17, 0, tzinfo=dt.UTC)  # 09:00 in Vancouver
    # Another day in Toronto at the same UTC time: 12:00 there (a patient is in one place
    # at a time, and so is a practitioner).
    for place, who, day in ((location, "physio", 0), (toronto, "other_physio", 7)):
        Appointment.objects.create(
            patient=patient,
            practitioner=cast[who].practitioner,
            location=place,
            service=ims_service,
            start=start + dt.timedelta(days=day),
            end=start + dt.timedelta(days=day, minutes=30),
        )
    assert start > tz.now()
    response = client_for(cast["front_desk"]).get(reverse("patient_detail", args=[patient.pk]))
    text = response.content.decode()
    assert "09:00 PST" in text
    assert "12:00 EST" in text


NEW = {
    "anonymous": 302,
    "patient": 403,
    "other_patient": 403,
    "front_desk": 200,
    "physio": 403,
    "other_physio": 403,
    "owner": 200,
}


@pytest.mark.parametrize("who", NEW)
def test_only_front_desk_and_owner_may_add_a_patient(cast, who):
    response = client_for(cast[who]).get(reverse("patient_new"))
    assert response.status_code == NEW[who]


def test_front_desk_adds_a_patient_taking_a_phone_call_and_it_is_audited(cast):
    from imsclinic.patients.models import Patient

    response = client_for(cast["front_desk"]).post(
        reverse("patient_new"),
        {
            "given_name": "Rowan",
            "family_name": "Quill",
            "date_of_birth": "1991-07-30",
            "phone": "778-555-0142",
        },
    )
    patient = Patient.objects.get(family_name="Quill")
    assert response["Location"] == reverse("patient_detail", args=[patient.pk])
    assert patient.phone_digits == "7785550142"
    assert AuditEvent.objects.filter(
        patient=patient, action="create", actor=cast["front_desk"]
    ).exists()


def test_a_new_patient_without_a_birth_date_is_refused_and_the_typing_kept(cast):
    from imsclinic.patients.models import Patient

    response = client_for(cast["front_desk"]).post(
        reverse("patient_new"), {"given_name": "Rowan", "family_name": "Quill", "date_of_birth": ""}
    )
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert b'value="Quill"' in response.content
    assert not Patient.objects.filter(family_name="Quill").exists()
