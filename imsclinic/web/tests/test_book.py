"""The book page lists what can be booked online and says truthfully what happens next."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from imsclinic.clinic.models import Service
from imsclinic.web.tests.helpers import element_by_id, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def first_visit(db) -> Service:
    return Service.objects.create(
        name="IMS first visit",
        slug="ims-first-visit",
        duration_minutes=60,
        price=Decimal("140.00"),
        requires_ims_credential=True,
        for_new_patients=True,
        description="Assessment and first treatment.",
    )


def test_it_lists_bookable_services_with_length_price_and_who_they_are_for(
    client: Client, clinic, location, ims_service, first_visit
):
    response = client.get(reverse("book"))
    first = element_by_id(response.content, "article", "service-ims-first-visit")
    follow_up = element_by_id(response.content, "article", "service-ims-follow-up")
    assert "60 minutes" in first and "140.00 CAD" in first and "For new patients" in first
    assert "Assessment and first treatment." in first
    assert (
        "30 minutes" in follow_up
        and "95.00 CAD" in follow_up
        and "For new patients" not in follow_up
    )


def test_it_leaves_out_services_that_are_not_offered_or_not_bookable_online(
    client: Client, clinic, ims_service
):
    Service.objects.create(
        name="Phone-only review", slug="phone", duration_minutes=15, price=0, bookable_online=False
    )
    Service.objects.create(
        name="Retired service", slug="retired", duration_minutes=30, price=50, is_active=False
    )
    text = text_of(client.get(reverse("book")).content)
    assert "IMS follow-up" in text
    assert "Phone-only review" not in text and "Retired service" not in text


def test_prices_use_the_clinics_currency(client: Client, clinic, ims_service):
    clinic.currency = "USD"
    clinic.save(update_fields=["currency"])
    assert "95.00 USD" in element_by_id(
        client.get(reverse("book")).content, "article", "service-ims-follow-up"
    )


def test_a_visitor_is_offered_sign_up_sign_in_and_each_locations_phone(
    client: Client, clinic, location
):
    page = client.get(reverse("book")).content.decode()
    assert f'href="{reverse("account_signup")}"' in page
    assert f'href="{reverse("account_login")}?next={reverse("portal_book")}"' in page
    assert 'href="tel:604-555-0101"' in page


def test_it_sends_a_visitor_to_sign_in_and_then_to_the_time_picker(
    client: Client, clinic, location
):
    response = client.get(reverse("book"))
    assert "Choosing a time online is not open yet" not in text_of(response.content)
    assert "Sign in and choose a time" in text_of(response.content)


def test_a_signed_in_patient_goes_straight_to_the_time_picker(
    client: Client, clinic, location, patient_user
):
    client.force_login(patient_user)
    page = client.get(reverse("book")).content.decode()
    assert f'href="{reverse("portal_book")}"' in page


def test_a_signed_in_patient_is_not_asked_to_sign_up_again(
    client: Client, clinic, location, patient_user
):
    client.force_login(patient_user)
    page = client.get(reverse("book")).content.decode()
    assert "You are signed in as pat@patients.example" in page
    assert f'href="{reverse("account_signup")}"' not in page
