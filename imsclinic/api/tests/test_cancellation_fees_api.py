"""The API states the fee policy, and a staff cancellation says who called the visit off."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from imsclinic.billing.models import FeeEvent, Invoice, InvoicePurpose
from imsclinic.scheduling.models import Appointment
from tests.factories.billing import fee_policy

pytestmark = pytest.mark.django_db

FORTY = "Cancelling less than 24 hours before, or missing the visit, costs $40."


def visit_in(patient, physio, location, service, ahead: dt.timedelta) -> Appointment:
    start = timezone.now() + ahead
    return Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=service.duration_minutes),
    )


def cancel(client, visit: Appointment, **body: str):
    return client.post(
        f"/api/v1/appointments/{visit.pk}/cancel", body, content_type="application/json"
    )


@pytest.fixture
def late_visit(patient, physio, location, assessment) -> Appointment:
    fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
    return visit_in(patient, physio, location, assessment, dt.timedelta(hours=3))


def test_services_state_each_ones_fee_policy_and_the_late_window(
    api_client, patient, clinic, assessment, ims_service
):
    fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
    fee_policy(assessment, FeeEvent.NO_SHOW, amount="40")
    listed = {s["slug"]: s for s in api_client(patient.user).get("/api/v1/services").json()}
    assert listed[assessment.slug]["cancellation_policy"] == FORTY
    assert listed[ims_service.slug]["cancellation_policy"] == ""
    assert listed[assessment.slug]["late_cancellation_hours"] == clinic.late_cancellation_hours


def test_a_staff_late_cancellation_must_say_who_cancelled(api_client, front_desk, late_visit):
    response = cancel(api_client(front_desk), late_visit, reason="Practitioner ill")
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"][-1] == "cancelled_by"
    assert "Say who cancelled" in problem["msg"]
    late_visit.refresh_from_db()
    assert late_visit.status == "booked"
    assert not Invoice.objects.filter(appointment=late_visit).exists()


def test_a_late_cancellation_by_the_clinic_charges_no_fee(api_client, front_desk, late_visit):
    response = cancel(
        api_client(front_desk), late_visit, reason="Practitioner ill", cancelled_by="clinic"
    )
    assert response.status_code == 200
    late_visit.refresh_from_db()
    assert (late_visit.cancelled_late, late_visit.cancelled_by) == (True, "clinic")
    assert not Invoice.objects.filter(appointment=late_visit).exists()


def test_a_late_cancellation_by_the_patient_charges_the_fee(api_client, front_desk, late_visit):
    response = cancel(
        api_client(front_desk), late_visit, reason="Phoned: unwell", cancelled_by="patient"
    )
    assert response.status_code == 200
    fee = Invoice.objects.get(appointment=late_visit, purpose=InvoicePurpose.FEE)
    assert (fee.status, fee.total) == ("issued", Decimal("40.00"))


def test_a_patient_cannot_record_their_cancellation_as_the_clinics(
    api_client, patient, physio, location, assessment
):
    visit = visit_in(patient, physio, location, assessment, dt.timedelta(days=3))
    response = cancel(api_client(patient.user), visit, cancelled_by="clinic")
    assert response.status_code == 422
    visit.refresh_from_db()
    assert visit.status == "booked"
    response = cancel(api_client(patient.user), visit)
    assert response.status_code == 200
    visit.refresh_from_db()
    assert visit.cancelled_by == "patient"
