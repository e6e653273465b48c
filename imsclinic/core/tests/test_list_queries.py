"""The audit log and its export read the same number of queries however many rows they show."""

from __future__ import annotations

import pytest
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.core.audit import audit_record_per_patient
from imsclinic.core.models import Action, ObjectType
from tests.factories.clients import signed_in
from tests.factories.people import many_patients

pytestmark = pytest.mark.django_db

SIZES = [10, 100]


def rows_about_many_patients(count: int, actor: User) -> None:
    """One row about each of `count` patients, the last of whom is no longer on file."""
    patients = many_patients(count - 1, "Logged")
    shown = {patient.pk: {"page": "summary"} for patient in patients}
    shown[patients[-1].pk + 1000] = {"page": "summary"}
    audit_record_per_patient(
        actor=actor, action=Action.VIEW, object_type=ObjectType.PATIENT, shown=shown
    )


# Session, user, MFA, the clinic for the header, the staff for the filter's choices, one
# page of rows and its count, the patients they name, the look's own audit row.
@pytest.mark.parametrize("count", SIZES)
def test_the_audit_log_reads_the_same_number_of_queries_for_10_rows_as_for_100(
    count: int, owner: User, front_desk: User, django_assert_num_queries
) -> None:
    rows_about_many_patients(count, front_desk)
    client = signed_in(owner)
    with django_assert_num_queries(11):
        response = client.get(reverse("audit_log"), {"user": front_desk.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Logged</a>") == min(count, 50) - 1  # fifty to a page
    assert "(no longer on file)" in html


@pytest.mark.parametrize("count", SIZES)
def test_the_audit_log_export_reads_the_same_number_of_queries_for_10_rows_as_for_100(
    count: int, owner: User, front_desk: User, django_assert_num_queries
) -> None:
    rows_about_many_patients(count, front_desk)
    client = signed_in(owner)
    with django_assert_num_queries(7):
        response = client.get(reverse("audit_log_csv"), {"user": front_desk.pk})
        text = response.getvalue().decode()  # the rows stream: read them while counting
    assert response.status_code == 200
    assert text.count("Logged") == count - 1
