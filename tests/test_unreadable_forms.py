"""A form too large to read gets a calm page (413), never a server error."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

HUGE = "a" * 2_700_000


def browser(page: str, user: User | None = None) -> Client:
    """Return a client that checks CSRF and has opened the form's page, as a browser has."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    assert client.get(page).status_code == 200
    return client


def test_an_oversized_sign_up_form_gets_a_calm_413_page(clinic):
    client = browser(reverse("account_signup"))

    response = client.post(reverse("account_signup"), {"first_name": HUGE, "email": "x@y.example"})

    assert response.status_code == 413
    page = response.content.decode()
    assert "That was too much to send at once" in page
    assert "larger than the 2.5\xa0MB a form may hold, so nothing was saved" in page
    assert "Cedar IMS Physiotherapy" in page
    assert not User.objects.filter(email="x@y.example").exists()


def test_an_oversized_staff_form_gets_the_413_page_and_changes_nothing(
    front_desk, patient, settings
):
    assert settings.DEBUG is False  # as in production
    client = browser(reverse("patient_edit", args=[patient.pk]), front_desk)

    response = client.post(
        reverse("patient_edit", args=[patient.pk]), {"given_name": "Pat", "address_line1": HUGE}
    )

    assert response.status_code == 413
    assert "That was too much to send at once" in response.content.decode()
    assert Patient.objects.get(pk=patient.pk).address_line1 == patient.address_line1


def test_other_unreadable_requests_get_a_calm_400_page(clinic, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    client = browser(reverse("account_login"))

    response = client.post(reverse("account_login"), {f"f{n}": "x" for n in range(10)})

    assert response.status_code == 400
    assert "We could not read what was sent" in response.content.decode()
