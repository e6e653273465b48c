"""A visit id typed into the new-assessment address that is not an id is ignored, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", ["²", "99999999999999999999", "-3", "abc"])
def test_a_new_assessment_ignores_a_visit_that_is_not_an_id(
    bad: str, patient: Patient, physio: User
) -> None:
    client = Client()
    client.force_login(physio)
    url = reverse("assessment_new", kwargs={"patient_id": patient.pk})
    response = client.get(url, {"appointment": bad})
    assert response.status_code == 200
