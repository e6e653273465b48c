"""Ids typed into a booking or feed address that are not ids get a calm answer, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Service
from imsclinic.patients.models import Patient
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

BAD_IDS = ["²", "١٢", "99999999999999999999", "-1", "1e3", " 7"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_the_patient_booking_page_ignores_a_location_that_is_not_an_id(
    bad: str, patient: Patient, location: Location, ims_service: Service
) -> None:
    response = signed_in(patient.user).get(  # type: ignore[arg-type]
        reverse("portal_book"),
        {"service": ims_service.slug, "location": bad, "practitioner": bad, "sessions": bad},
    )
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("bad", BAD_IDS)
def test_the_staff_booking_page_ignores_a_location_that_is_not_an_id(
    bad: str, patient: Patient, front_desk: User, location: Location, ims_service: Service
) -> None:
    response = signed_in(front_desk).get(
        reverse("staff_book", args=[patient.pk]),
        {"service": ims_service.slug, "location": bad, "practitioner": bad},
    )
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("bad", BAD_IDS)
def test_revoking_the_feed_of_a_practitioner_that_is_not_an_id_is_a_404(
    bad: str, owner: User
) -> None:
    response = signed_in(owner).post(reverse("calendar_feed_revoke"), {"practitioner": bad})
    assert response.status_code == 404
