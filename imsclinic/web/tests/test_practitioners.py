"""The team pages show real, current credentials and nobody who has left."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.clinic.models import Location, Practitioner, Profession
from imsclinic.web.tests.helpers import element_by_id, text_of

pytestmark = pytest.mark.django_db


def make_practitioner(location: Location, slug: str, **fields) -> Practitioner:
    first, last = slug.split("-")
    defaults = {
        "first_name": first.title(),
        "last_name": last.title(),
        "registration_body": "College of Physical Therapists of BC",
        "registration_number": f"PT-{slug}",
        "ims_certification_issuer": "iSTOP",
        "ims_certified_on": dt.date(2010, 5, 1),
        "ims_practice_since": 2010,
    }
    practitioner = Practitioner.objects.create(slug=slug, **(defaults | fields))
    practitioner.locations.add(location)
    return practitioner


@pytest.fixture
def current(location) -> Practitioner:
    return make_practitioner(location, "carla-current", title="MPT", bio="Runner and climber.")


@pytest.fixture
def lapsed(location) -> Practitioner:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    return make_practitioner(location, "eli-expired", ims_certification_expires_on=yesterday)


def test_the_team_page_shows_a_current_credential_and_years_of_practice(client: Client, current):
    response = client.get(reverse("practitioners"))
    card = element_by_id(response.content, "article", "practitioner-carla-current")
    years = timezone.localdate().year - 2010
    assert "Carla Current, MPT" in card
    assert "Physiotherapist · IMS-certified" in card
    assert f"{years} years of IMS practice" in card
    assert "Kitsilano" in card


def test_the_team_page_does_not_call_someone_with_an_expired_credential_ims_certified(
    client: Client, current, lapsed
):
    response = client.get(reverse("practitioners"))
    card = element_by_id(response.content, "article", "practitioner-eli-expired")
    assert "Eli Expired" in card and "Physiotherapist" in card
    assert "IMS-certified" not in card
    assert "years of IMS practice" not in card


def test_a_credential_that_expires_today_is_no_longer_current(client: Client, location):
    make_practitioner(location, "tess-today", ims_certification_expires_on=timezone.localdate())
    card = element_by_id(
        client.get(reverse("practitioners")).content, "article", "practitioner-tess-today"
    )
    assert "IMS-certified" not in card


def test_someone_without_ims_training_is_shown_by_profession_only(client: Client, location):
    make_practitioner(
        location,
        "nora-noims",
        ims_certification_issuer="",
        ims_certified_on=None,
        ims_practice_since=None,
    )
    card = element_by_id(
        client.get(reverse("practitioners")).content, "article", "practitioner-nora-noims"
    )
    assert "Physiotherapist" in card and "IMS" not in card


def test_inactive_practitioners_are_hidden_everywhere(client: Client, current, location):
    gone = make_practitioner(location, "gina-gone", is_active=False)
    assert "Gina Gone" not in text_of(client.get(reverse("practitioners")).content)
    assert client.get(reverse("practitioner_detail", args=[gone.slug])).status_code == 404


def test_the_detail_page_shows_registration_and_the_current_credential(client: Client, current):
    response = client.get(reverse("practitioner_detail", args=[current.slug]))
    text = text_of(response.content)
    assert response.status_code == 200
    assert "Registered with College of Physical Therapists of BC" in text
    assert "Registration number PT-carla-current" in text
    assert "IMS certification Current Issued by iSTOP Certified on May 1, 2010" in text
    assert "Valid until Does not expire" in text
    assert f"IMS practice {timezone.localdate().year - 2010} years" in text
    assert "Runner and climber." in text
    assert "IMS-certified" in text
    assert "<title>Carla Current, MPT" in response.content.decode()


def test_the_detail_page_says_plainly_when_a_credential_is_not_current(client: Client, lapsed):
    text = text_of(client.get(reverse("practitioner_detail", args=[lapsed.slug])).content)
    assert "IMS certification Not current. Eli does not give IMS treatments at present." in text
    assert "IMS-certified" not in text
    assert "with current Gunn IMS certification" not in text


def test_the_detail_page_shows_a_physician_as_a_physician(client: Client, location):
    doctor = make_practitioner(location, "pat-physician", profession=Profession.PHYSICIAN)
    text = text_of(client.get(reverse("practitioner_detail", args=[doctor.slug])).content)
    assert "Profession Physician" in text


def test_closed_locations_are_not_listed_for_a_practitioner(client: Client, current, clinic):
    closed = Location.objects.create(
        clinic=clinic,
        name="Old Town",
        slug="old-town",
        address_line1="1 Gone St",
        city="Vancouver",
        region="BC",
        postal_code="V5K 0A1",
        phone="604-555-0199",
        time_zone="America/Vancouver",
        is_active=False,
    )
    current.locations.add(closed)
    assert "Old Town" not in text_of(
        client.get(reverse("practitioner_detail", args=[current.slug])).content
    )
    assert "Old Town" not in text_of(client.get(reverse("practitioners")).content)


def test_the_team_page_reads_the_database_a_fixed_number_of_times(
    client: Client, location, django_assert_max_num_queries
):
    for n in range(8):
        make_practitioner(location, f"member-n{n}")
    # The clinic, the practitioners, and their locations: not one query per person.
    with django_assert_max_num_queries(3):
        response = client.get(reverse("practitioners"))
    assert text_of(response.content).count("IMS-certified") == 8
