"""The clinic outcomes report reads the same number of queries however many patients it sums."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.tests.needling import make_lot, needling_session
from imsclinic.outcomes.models import ResultSource
from imsclinic.outcomes.services import result_record
from imsclinic.patients.models import Patient
from tests.factories.clients import signed_in
from tests.factories.outcomes import ODI
from tests.factories.people import many_patients

pytestmark = pytest.mark.django_db


def courses_of_many_patients(count: int, physio: User, owner: User) -> None:
    """Give each of `count` patients two signed sessions and an ODI before and after them."""
    lot = make_lot("OUT-1")
    now = timezone.now()
    patients = many_patients(count, "Measured")
    for n, patient in enumerate(patients):
        first = now - dt.timedelta(days=30, hours=n)
        for week in range(2):
            needling_session(patient, physio, lots=[lot], start=first + dt.timedelta(weeks=week))
        for week, number in ((0, 1), (4, 6)):
            taken = first + dt.timedelta(weeks=week, minutes=10)
            result_record(
                patient=patient,
                instrument="ODI",
                answers=ODI[number],
                actor=owner,
                source=ResultSource.PAPER,
                taken_at=taken,
                now=taken,
            )


# Session, user, MFA, the clinic for the header, the role check, the signed sessions and the
# results, the follow-up figures, the adverse event counts, the audit row, and the clinic's
# zone once for each of them. Each paper result used to read the zone twice of its own.
@pytest.mark.parametrize("count", [10, 100])
def test_the_outcomes_report_reads_the_same_number_of_queries_for_10_patients_as_for_100(
    count: int, physio: User, owner: User, django_assert_num_queries
) -> None:
    courses_of_many_patients(count, physio, owner)
    client = signed_in(owner)
    with django_assert_num_queries(20):
        response = client.get(reverse("outcomes_report"))
    assert response.status_code == 200


# Session, user, MFA, the clinic for the header, the patient and the permission's care
# team, the signed sessions, the results, the clinic's zone, the audit row.
@pytest.mark.parametrize("count", [10, 100])
def test_a_patients_progress_reads_the_same_number_of_queries_for_10_results_as_for_100(
    count: int, patient: Patient, physio: User, django_assert_num_queries
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
    client = signed_in(physio)
    with django_assert_num_queries(18):
        response = client.get(reverse("patient_progress", args=[patient.pk]))
    assert response.status_code == 200
