"""Names, phones and addresses refuse line breaks, tabs and other hidden characters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from imsclinic.accounts.models import StaffInvitation, User
from imsclinic.clinic.models import Practitioner
from imsclinic.core.validators import validate_single_line
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment

MESSAGE = (
    "Use letters, numbers, spaces and punctuation only: no line breaks, tabs or other "
    "control characters."
)
HIDDEN = {
    "carriage return": "Pat\rrick",
    "line feed": "Pat\nrick",
    "tab": "Pat\trick",
    "NUL": "Pat\x00rick",
    "escape": "Pat\x1b[2Jrick",
    "delete": "Pat\x7frick",
    "next line": "Pat\x85rick",
    "zero-width space": "Pat\u200brick",
    "right-to-left override": "Pat\u202erick",
    "byte order mark": "\ufeffPatrick",
}
FINE = [
    "Zoë O'Brien-Núñez",
    "Jean Luc",
    "Nguyễn Thị",
    "\u0645\u0631\u06cc\u0645\u200c\u0633\u0627\u062f\u0627\u062a",  # Persian, with a ZWNJ
    "604-555-0100 ext. 2",
]


@pytest.mark.parametrize("value", HIDDEN.values(), ids=HIDDEN.keys())
def test_the_validator_refuses_control_and_format_characters(value):
    with pytest.raises(ValidationError) as refused:
        validate_single_line(value)
    assert refused.value.messages == [MESSAGE]


@pytest.mark.parametrize("value", FINE)
def test_the_validator_accepts_names_in_any_script_with_plain_spaces(value):
    validate_single_line(value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field", ["given_name", "family_name", "preferred_name", "phone", "address_line1", "city"]
)
def test_staff_editing_a_patient_are_told_and_nothing_changes(cast, patient, field):
    client = Client()
    client.force_login(cast["front_desk"])
    data = {
        "given_name": "Pat",
        "family_name": "Ient",
        "date_of_birth": "1980-04-02",
        field: "Line one\nLine two",
    }

    response = client.post(reverse("patient_edit", args=[patient.pk]), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [MESSAGE]
    assert MESSAGE in response.content.decode()
    assert getattr(Patient.objects.get(pk=patient.pk), field) == getattr(patient, field)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["first_name", "last_name", "phone"])
def test_sign_up_refuses_a_hidden_character_next_to_the_field(client, clinic, field):
    data = {
        "first_name": "Nora",
        "last_name": "Newcomb",
        "email": "nora@patients.example",
        "date_of_birth": "1988-07-14",
        "phone": "604-555-0142",
        "password1": "a-long-walk-by-the-inlet",
        "password2": "a-long-walk-by-the-inlet",
        field: "Nora\tNewcomb",
    }

    response = client.post(reverse("account_signup"), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [MESSAGE]
    assert not User.objects.filter(email="nora@patients.example").exists()


@pytest.mark.django_db
def test_a_staff_invitation_refuses_a_name_with_a_line_break(cast):
    client = Client()
    client.force_login(cast["owner"])

    response = client.post(
        reverse("invite_staff"),
        {"email": "new@cedar.example", "role": "front_desk", "first_name": "Ann\r\nBcc: x"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["first_name"] == [MESSAGE]
    assert not StaffInvitation.objects.exists()


@pytest.mark.django_db
def test_a_staff_members_own_name_is_held_to_the_rule(front_desk):
    front_desk.last_name = "Desk\x00"
    with pytest.raises(ValidationError) as refused:
        front_desk.full_clean()
    assert refused.value.message_dict["last_name"] == [MESSAGE]


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["first_name", "last_name", "title"])
def test_a_practitioners_display_name_is_one_line(physio, field):
    practitioner = Practitioner.objects.get(user=physio)
    setattr(practitioner, field, "Sam\nMPT")
    with pytest.raises(ValidationError) as refused:
        practitioner.full_clean()
    assert refused.value.message_dict[field] == [MESSAGE]


@pytest.mark.django_db
def test_the_api_refuses_a_booking_with_a_hidden_character(patient, patient_user, physio):
    from imsclinic.accounts.tokens import api_token_issue

    _token, raw = api_token_issue(user=patient_user, name="tests", actor=None)
    start = dt.datetime(2031, 3, 3, 10, tzinfo=dt.UTC).isoformat()

    response = Client(headers={"Authorization": f"Bearer {raw}"}).post(
        "/api/v1/appointments",
        {"service": "ims\r\n", "practitioner": physio.practitioner.pk, "start": start},
        content_type="application/json",
    )

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"][-1] == "service"
    assert error["msg"] == MESSAGE
    assert not Appointment.objects.exists()
