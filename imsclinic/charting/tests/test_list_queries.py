"""The to-do list of unsigned notes reads the same number of queries however many it lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting import services
from imsclinic.charting.models import Assessment
from imsclinic.patients.models import Patient
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db


# Session, user, MFA, the clinic for the header, the role check, one query per kind of
# note (assessments, needling sessions, physiotherapy notes) and the page's audit row.
@pytest.mark.parametrize("count", [10, 100])
def test_the_to_do_list_reads_the_same_number_of_queries_for_10_drafts_as_for_100(
    count: int, patient: Patient, physio: User, django_assert_num_queries
) -> None:
    for n in range(count):
        services.assessment_save_draft(patient=patient, actor=physio, data={"goals": f"Goal {n}"})
    Assessment.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    client = signed_in(physio)
    with django_assert_num_queries(10):
        response = client.get(reverse("charting_todo"))
    assert response.status_code == 200
    assert response.content.decode().count("Open the draft") == count
