"""The API says whether a practitioner may give IMS today by the same licence rule as the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def tara_of(api_client, user, physio) -> dict:
    response = api_client(user).get("/api/v1/practitioners")
    assert response.status_code == 200
    return next(p for p in response.json() if p["id"] == physio.practitioner.pk)


def test_a_lapsed_registration_makes_the_practitioner_not_current_for_ims(api_client, cast, physio):
    assert tara_of(api_client, cast["front_desk"], physio)["ims_credential_current"] is True
    practitioner = physio.practitioner
    practitioner.registration_expires_on = timezone.localdate()
    practitioner.save()
    assert tara_of(api_client, cast["front_desk"], physio)["ims_credential_current"] is False


def test_at_an_alberta_location_the_authorisation_is_needed_too(api_client, cast, physio, location):
    location.region = "AB"
    location.save()
    assert tara_of(api_client, cast["front_desk"], physio)["ims_credential_current"] is False
    practitioner = physio.practitioner
    practitioner.needling_authorisation_body = "Physiotherapy Alberta"
    practitioner.needling_authorisation_number = "RA-77"
    practitioner.needling_authorised_on = timezone.localdate() - dt.timedelta(days=30)
    practitioner.save()
    assert tara_of(api_client, cast["front_desk"], physio)["ims_credential_current"] is True
