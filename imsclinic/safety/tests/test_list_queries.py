"""Safety's staff lists read the same number of queries however many rows they show."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.tests.needling import make_lot, needling_session
from imsclinic.patients.models import Patient
from imsclinic.safety.services import adverse_event_record, adverse_event_update_add
from tests.factories.clients import signed_in
from tests.factories.safety import clearance, submitted_intake

pytestmark = pytest.mark.django_db

SIZES = [10, 100]
KINDS = [("bruising", "mild"), ("pain_after", "mild"), ("fainting", "significant")]


def events_after_sessions(count: int, patient: Patient, physio: User) -> None:
    """Sign `count` needling sessions of the patient, each followed by an adverse event."""
    lot = make_lot("AE-1")
    now = timezone.now()
    for n in range(count):
        session = needling_session(
            patient, physio, lots=[lot], start=now - dt.timedelta(days=1, hours=n)
        )
        kind, severity = KINDS[n % len(KINDS)]
        event = adverse_event_record(
            patient=patient,
            event_type=kind,
            severity=severity,
            onset=session.appointment.start + dt.timedelta(hours=1),
            action_taken="Advice.",
            session=session,
            actor=physio,
        )
        adverse_event_update_add(event=event, outcome="Settled by the next day.", actor=physio)


# Session, user, MFA, the clinic for the header, the role check, the five counts, the audit row.
@pytest.mark.parametrize("count", SIZES)
def test_the_adverse_event_report_reads_the_same_number_of_queries_for_10_events_as_for_100(
    count: int, patient: Patient, physio: User, owner: User, django_assert_num_queries
) -> None:
    events_after_sessions(count, patient, physio)
    client = signed_in(owner)
    with django_assert_num_queries(12):
        response = client.get(reverse("adverse_event_report"))
    assert response.status_code == 200
    assert response.context["report"].sessions == count


# Session, user, MFA, the clinic for the header, the patient and the permission's care
# team, the events with their updates, the audit row.
@pytest.mark.parametrize("count", SIZES)
def test_a_patients_adverse_events_read_the_same_number_of_queries_for_10_as_for_100(
    count: int, patient: Patient, physio: User, django_assert_num_queries
) -> None:
    events_after_sessions(count, patient, physio)
    client = signed_in(physio)
    with django_assert_num_queries(17):
        response = client.get(reverse("patient_adverse_events", args=[patient.pk]))
    assert response.status_code == 200
    assert response.content.decode().count("Settled by the next day.") == count


# The rules come from the screening rules file, not the database: the count is that of any
# signed-in staff page, whatever the patients' data.
def test_the_screening_rules_page_reads_a_fixed_number_of_queries(
    physio: User, django_assert_num_queries
) -> None:
    client = signed_in(physio)
    with django_assert_num_queries(5):
        response = client.get(reverse("screening_rules"))
    assert response.status_code == 200


# Session, user, MFA, the clinic for the header, the patient and the permission's care
# team, the screening's reads, the decisions with who made them, readiness, the audit row.
@pytest.mark.parametrize("count", SIZES)
def test_a_patients_screening_reads_the_same_number_of_queries_for_10_decisions_as_for_100(
    count: int, patient: Patient, physio: User, other_physio: User, django_assert_num_queries
) -> None:
    now = timezone.now()
    intake = submitted_intake(patient, at=now - dt.timedelta(days=count + 1))
    for n in range(count):
        clearance(
            patient, intake, by=physio if n % 2 else other_physio, at=now - dt.timedelta(days=n)
        )
    client = signed_in(physio)
    with django_assert_num_queries(25):
        response = client.get(reverse("patient_screening", args=[patient.pk]))
    assert response.status_code == 200
    assert len(response.context["history"]) == count
