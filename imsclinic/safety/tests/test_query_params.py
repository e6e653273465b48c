"""Odd ids typed into a query string are ignored, never a server error."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.core.params import id_param
from imsclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

ODD = ["²", "١٢", "99999999999999999999", "-1", "1.0", " 1"]


@pytest.mark.parametrize("value", ODD)
def test_an_odd_id_is_read_as_no_id(value: str) -> None:
    assert id_param(value) is None


def test_a_plain_id_is_read() -> None:
    assert (id_param("42"), id_param(""), id_param(None)) == (42, None, None)


@pytest.mark.parametrize("param", ["draft", "session"])
@pytest.mark.parametrize("value", ODD)
def test_the_adverse_event_form_ignores_an_odd_draft_or_session(
    client: Client, physio: User, patient: Patient, param: str, value: str
) -> None:
    client.force_login(physio)
    response = client.get(reverse("adverse_event_new", args=[patient.pk]), {param: value})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ODD)
def test_the_measure_plan_page_ignores_an_odd_assessment(
    client: Client, physio: User, patient: Patient, value: str
) -> None:
    client.force_login(physio)
    response = client.get(reverse("measures_plan", args=[patient.pk]), {"assessment": value})
    assert response.status_code == 200
