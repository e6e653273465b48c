"""The public team pages show a licence only while it is current."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.clinic.models import Location, Practitioner
from imsclinic.web.tests.helpers import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def carla(location: Location) -> Practitioner:
    practitioner = Practitioner.objects.create(
        first_name="Carla",
        last_name="Current",
        slug="carla-current",
        registration_body="College of Physical Therapists of BC",
        registration_number="PT-4242",
        registration_expires_on=timezone.localdate() + dt.timedelta(days=120),
        ims_certification_issuer="iSTOP",
        ims_certified_on=dt.date(2010, 5, 1),
    )
    practitioner.locations.add(location)
    return practitioner


def detail(client: Client, practitioner: Practitioner) -> str:
    return text_of(client.get(reverse("practitioner_detail", args=[practitioner.slug])).content)


def test_a_current_registration_is_shown_with_its_renewal_date(client: Client, carla):
    text = detail(client, carla)
    assert "Registered with College of Physical Therapists of BC" in text
    assert "Registration number PT-4242" in text
    assert "Registration valid until" in text
    assert "IMS-certified" in text


def test_a_lapsed_registration_is_hidden_and_no_ims_is_offered(client: Client, carla):
    carla.registration_expires_on = timezone.localdate()
    carla.save()
    text = detail(client, carla)
    assert "PT-4242" not in text
    assert "Registered with" not in text
    assert "Registration Not current. Carla does not see patients for IMS at present." in text
    assert "IMS-certified" not in text
    team = text_of(client.get(reverse("practitioners")).content)
    assert "Carla Current" in team and "IMS-certified" not in team


def test_a_suspended_registration_is_hidden_too(client: Client, carla):
    carla.registration_status = "suspended"
    carla.save()
    assert "PT-4242" not in detail(client, carla)


def test_a_current_authorisation_is_shown_and_an_expired_one_is_not(client: Client, carla):
    carla.needling_authorisation_body = "Physiotherapy Alberta"
    carla.needling_authorisation_number = "RA-5150"
    carla.needling_authorised_on = dt.date(2020, 2, 1)
    carla.save()
    text = detail(client, carla)
    assert "Needling authorised by Physiotherapy Alberta (RA-5150)" in text
    assert "Authorised on Feb. 1, 2020" in text

    carla.needling_authorisation_expires_on = timezone.localdate()
    carla.save()
    text = detail(client, carla)
    assert "Physiotherapy Alberta" not in text and "RA-5150" not in text


def test_at_an_alberta_location_without_authorisation_no_ims_is_offered(
    client: Client, carla, location
):
    location.region = "AB"
    location.time_zone = "America/Edmonton"
    location.save()
    text = detail(client, carla)
    assert "Registered with" in text  # the registration is current and shown
    assert "IMS-certified" not in text
