"""Patients register themselves, verify their email and get their own record."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.core.models import Action, AuditEvent
from imsclinic.core.roles import Role
from imsclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-long-walk-by-the-inlet"


def signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Nora",
        "last_name": "Newcomb",
        "email": "Nora.Newcomb@patients.example",
        "date_of_birth": "1988-07-14",
        "phone": "604-555-0142",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    data.update(overrides)
    return data


def confirmation_link(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", str(message.body))
    assert match, message.body
    return match.group(1)


def test_a_new_patient_signs_up_confirms_their_email_and_lands_in_their_portal(client):
    response = client.post(reverse("account_signup"), signup_data())

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="nora.newcomb@patients.example")
    assert user.role == Role.PATIENT
    assert (user.first_name, user.last_name) == ("Nora", "Newcomb")
    assert not EmailAddress.objects.get(user=user).verified
    # Not signed in until the address is confirmed.
    assert client.get(reverse("portal_home")).status_code == 302

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nora.newcomb@patients.example"]
    link = confirmation_link(mail.outbox[0])
    assert client.get(link).status_code == 200
    confirmed = client.post(link, follow=True)

    assert EmailAddress.objects.get(user=user).verified
    assert confirmed.redirect_chain[-1][0] == reverse("portal_home")
    assert "Hello, Nora" in confirmed.content.decode()


def test_signing_up_creates_the_patients_own_record_audited_as_their_doing(client):
    client.post(reverse("account_signup"), signup_data())

    user = User.objects.get(email="nora.newcomb@patients.example")
    record = Patient.objects.get(user=user)
    assert record.given_name == "Nora"
    assert record.family_name == "Newcomb"
    assert record.date_of_birth == dt.date(1988, 7, 14)
    assert record.phone == "604-555-0142"
    assert record.email == "nora.newcomb@patients.example"
    event = AuditEvent.objects.get(action=Action.CREATE, object_type="patient")
    assert event.patient_id == record.pk
    assert event.actor_id == user.pk
    assert event.role == Role.PATIENT


def test_the_phone_number_is_optional(client):
    client.post(reverse("account_signup"), signup_data(phone=""))

    assert Patient.objects.get(user__email="nora.newcomb@patients.example").phone == ""


@pytest.mark.parametrize(
    ("born", "problem"),
    [
        ("", "This field is required."),
        ("1850-01-01", "Check the year of birth."),
        ("tomorrow", "The date of birth cannot be in the future."),
    ],
)
def test_it_refuses_a_missing_or_unbelievable_date_of_birth_and_creates_nothing(
    client, born, problem
):
    if born == "tomorrow":
        born = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    response = client.post(reverse("account_signup"), signup_data(date_of_birth=born))

    assert response.status_code == 200
    assert problem in response.context["form"].errors["date_of_birth"]
    assert problem in response.content.decode()
    assert not User.objects.exists()
    assert not Patient.objects.exists()
    assert mail.outbox == []


def test_the_signup_form_keeps_what_was_typed_when_something_is_wrong(client):
    response = client.post(reverse("account_signup"), signup_data(password2="something else"))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="Newcomb"' in page
    assert 'value="1988-07-14"' in page
    assert not User.objects.exists()


def test_public_signup_cannot_make_staff_whatever_the_post_data_says(client):
    data = signup_data(role=Role.OWNER, is_staff="on", is_superuser="on", is_active="on")

    client.post(reverse("account_signup"), data)

    user = User.objects.get(email="nora.newcomb@patients.example")
    assert user.role == Role.PATIENT
    assert not user.is_staff
    assert not user.is_superuser
    assert not user.is_clinic_staff


def test_a_patient_who_has_not_confirmed_their_email_cannot_sign_in_yet(client):
    client.post(reverse("account_signup"), signup_data())
    client.logout()

    response = client.post(
        reverse("account_login"),
        {"login": "nora.newcomb@patients.example", "password": GOOD_PASSWORD},
    )

    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("portal_home")).status_code == 302


def test_signing_up_with_an_address_already_in_use_creates_no_second_account(client, patient):
    response = client.post(reverse("account_signup"), signup_data(email="PAT@patients.example"))

    # Prevent enumeration: the page looks the same, the owner of the address gets an email.
    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.filter(email__iexact="pat@patients.example").count() == 1
    assert Patient.objects.count() == 1
    assert mail.outbox[0].to == ["pat@patients.example"]
