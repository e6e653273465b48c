"""The staff's patient pages read the same number of queries however many rows they show."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment
from tests.factories.clients import signed_in
from tests.factories.people import many_patients

pytestmark = pytest.mark.django_db

SIZES = [10, 100]


# Session, user, MFA, the clinic for the header, the permission's role check, one page of
# patients and its count, the search's audit row: a page shows at most 25 patients.
@pytest.mark.parametrize("count", SIZES)
def test_the_patient_list_reads_the_same_number_of_queries_for_10_patients_as_for_100(
    count: int, front_desk: User, django_assert_num_queries
) -> None:
    many_patients(count, "Many")
    client = signed_in(front_desk)
    with django_assert_num_queries(7):
        response = client.get(reverse("patient_list"))
    assert response.status_code == 200
    assert response.content.decode().count("Many, Given") == min(count, 25)


@pytest.mark.parametrize("count", SIZES)
def test_a_patient_search_reads_the_same_number_of_queries_for_10_matches_as_for_100(
    count: int, front_desk: User, django_assert_num_queries
) -> None:
    many_patients(count, "Many")
    client = signed_in(front_desk)
    with django_assert_num_queries(7):
        response = client.get(reverse("patient_list"), {"q": "many giv"})
    assert response.status_code == 200
    assert response.content.decode().count("Many, Given") == min(count, 25)


@pytest.mark.parametrize("count", SIZES)
def test_a_patients_page_reads_the_same_number_of_queries_for_10_booked_visits_as_for_100(
    count: int, patient: Patient, physio: User, ims_service: Service, django_assert_num_queries
) -> None:
    practitioner = physio.practitioner  # type: ignore[attr-defined]
    location = practitioner.locations.get()
    first = timezone.now() + dt.timedelta(days=1)
    Appointment.objects.bulk_create(
        Appointment(
            patient=patient,
            practitioner=practitioner,
            location=location,
            service=ims_service,
            start=first + dt.timedelta(hours=n),
            end=first + dt.timedelta(hours=n, minutes=30),
            busy_until=first + dt.timedelta(hours=n, minutes=30),
        )
        for n in range(count)
    )
    client = signed_in(physio)
    with django_assert_num_queries(24):
        response = client.get(reverse("patient_detail", args=[patient.pk]))
    assert response.status_code == 200
    assert response.content.decode().count("Needling note") == 10  # the next ten visits
