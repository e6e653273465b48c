"""Ids typed into the waitlist form's address that are not ids are ignored, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from imsclinic.clinic.models import Location, Service
from imsclinic.patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", ["²", "١٢", "99999999999999999999", "-1"])
def test_the_waitlist_form_ignores_a_practitioner_or_location_that_is_not_an_id(
    bad: str, patient: Patient, location: Location, ims_service: Service
) -> None:
    client = Client()
    client.force_login(patient.user)  # type: ignore[arg-type]
    response = client.get(
        reverse("waitlist_join"),
        {"service": ims_service.slug, "practitioner": bad, "location": bad},
    )
    assert response.status_code == 200
