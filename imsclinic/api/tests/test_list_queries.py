"""The API's staff lists make the same number of queries however many rows they return.

Each client makes one call before the counted one: the first use of a token stamps it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Service
from imsclinic.clinic.tests.needling import make_lot, needling_session
from imsclinic.outcomes.models import ResultSource
from imsclinic.outcomes.services import result_record
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment
from tests.factories.billing import issued_invoice, patient_pays
from tests.factories.outcomes import ODI
from tests.factories.people import many_patients

pytestmark = pytest.mark.django_db

SIZES = [10, 100]
Maker = Callable[[User | None], Client]


def warmed(api_client: Maker, user: User) -> Client:
    client = api_client(user)
    client.get("/api/v1/services")
    return client


# Token, one page of patients, their count, the search's audit row.
@pytest.mark.parametrize("count", SIZES)
def test_the_patient_search_makes_the_same_number_of_queries_for_10_patients_as_for_100(
    count: int, front_desk: User, api_client: Maker, django_assert_num_queries
) -> None:
    many_patients(count, "Listed")
    client = warmed(api_client, front_desk)
    with django_assert_num_queries(4):
        response = client.get("/api/v1/patients", {"search": "listed"})
    assert response.status_code == 200
    assert response.json()["count"] == count


# Token, the upcoming visits, the audit rows (one INSERT for every patient listed).
@pytest.mark.parametrize("count", SIZES)
def test_the_visit_list_makes_the_same_number_of_queries_for_10_visits_as_for_100(
    count: int,
    physio: User,
    ims_service: Service,
    location: Location,
    api_client: Maker,
    django_assert_num_queries,
) -> None:
    patients = many_patients(count, "Booked")
    first = timezone.now() + dt.timedelta(days=1)
    Appointment.objects.bulk_create(
        Appointment(
            patient=patient,
            practitioner=physio.practitioner,  # type: ignore[attr-defined]
            location=location,
            service=ims_service,
            start=first + dt.timedelta(hours=n),
            end=first + dt.timedelta(hours=n, minutes=30),
            busy_until=first + dt.timedelta(hours=n, minutes=30),
        )
        for n, patient in enumerate(patients)
    )
    client = warmed(api_client, physio)
    with django_assert_num_queries(3):
        response = client.get("/api/v1/appointments")
    assert response.status_code == 200
    assert len(response.json()["items"]) == min(count, 50)  # the list stops at fifty


# Token, the patient, the invoices with their lines, credit notes and payments, the audit row.
@pytest.mark.parametrize("count", SIZES)
def test_a_patients_invoices_make_the_same_number_of_queries_for_10_as_for_100(
    count: int,
    patient: Patient,
    location: Location,
    front_desk: User,
    api_client: Maker,
    django_assert_num_queries,
) -> None:
    for n in range(count):
        invoice = issued_invoice(patient, location, front_desk, prices=("60.00", "35.00"))
        if n % 2:
            patient_pays(patient, front_desk, (invoice, "50.00"))
    client = warmed(api_client, front_desk)
    with django_assert_num_queries(8):
        response = client.get(f"/api/v1/patients/{patient.pk}/invoices")
    assert response.status_code == 200
    assert len(response.json()) == count


# Token, the patient, the payments with their allocations and refunds, the audit row.
@pytest.mark.parametrize("count", SIZES)
def test_a_patients_payments_make_the_same_number_of_queries_for_10_as_for_100(
    count: int,
    patient: Patient,
    location: Location,
    front_desk: User,
    api_client: Maker,
    django_assert_num_queries,
) -> None:
    for _n in range(count):
        invoice = issued_invoice(patient, location, front_desk)
        patient_pays(patient, front_desk, (invoice, "50.00"), amount="60.00")
    client = warmed(api_client, front_desk)
    with django_assert_num_queries(7):
        response = client.get(f"/api/v1/patients/{patient.pk}/payments")
    assert response.status_code == 200
    assert {p["unallocated"] for p in response.json()} == {str(Decimal("10.00"))}


# Token, the patient, the chart's reads, the audit row.
@pytest.mark.parametrize("count", SIZES)
def test_a_patients_sessions_make_the_same_number_of_queries_for_10_as_for_100(
    count: int, patient: Patient, physio: User, api_client: Maker, django_assert_num_queries
) -> None:
    lot = make_lot("API-1")
    now = timezone.now()
    for n in range(count):
        needling_session(patient, physio, lots=[lot], start=now - dt.timedelta(days=1, hours=n))
    client = warmed(api_client, physio)
    with django_assert_num_queries(10):
        response = client.get(f"/api/v1/patients/{patient.pk}/sessions")
    assert response.status_code == 200
    assert len(response.json()) == count


# Token, the patient, the results, the signed sessions, the plan, the clinic's zone, the
# audit row. Each paper result used to read the clinic's zone twice of its own.
@pytest.mark.parametrize("count", SIZES)
def test_a_patients_outcomes_make_the_same_number_of_queries_for_10_results_as_for_100(
    count: int, patient: Patient, physio: User, api_client: Maker, django_assert_num_queries
) -> None:
    Patient.objects.filter(pk=patient.pk).update(
        created_at=timezone.now() - dt.timedelta(days=count + 1)
    )
    patient.refresh_from_db()
    for n in range(count):
        taken = timezone.now() - dt.timedelta(days=n)
        result_record(
            patient=patient,
            instrument="ODI",
            answers=ODI[1],
            actor=physio,
            source=ResultSource.PAPER,
            taken_at=taken,
            now=taken,
        )
    client = warmed(api_client, physio)
    with django_assert_num_queries(9):
        response = client.get(f"/api/v1/patients/{patient.pk}/outcomes")
    assert response.status_code == 200
    (odi,) = response.json()["instruments"]
    assert len(odi["results"]) == count
