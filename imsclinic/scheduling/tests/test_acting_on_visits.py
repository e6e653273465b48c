"""Who may act on a visit: the rule holds in the services, whatever page or endpoint calls them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.clinic.models import Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.access import visits_actionable_by
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.services.booking import (
    StatusChangeNotAllowed,
    allowed_status_changes,
    appointment_cancel,
    appointment_set_status,
)

pytestmark = pytest.mark.django_db


def visit_with(physio: Any, patient: Patient, *, days: int = 2) -> Appointment:
    service, _ = Service.objects.get_or_create(
        slug="acting-visit",
        defaults={"name": "Acting visit", "duration_minutes": 30, "price": Decimal("0")},
    )
    start = timezone.now() + dt.timedelta(days=days)
    return Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=physio.practitioner.locations.get(),
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=30),
        busy_until=start + dt.timedelta(minutes=30),
    )


def test_a_practitioner_on_the_care_team_may_check_in_a_colleagues_visit(
    physio: Any, other_physio: Any, patient: Patient
) -> None:
    patient.care_team.add(other_physio.practitioner)
    visit = visit_with(physio, patient)
    # Check-in opens on the visit's day: this one began a few minutes ago.
    started = timezone.now() - dt.timedelta(minutes=5)
    Appointment.objects.filter(pk=visit.pk).update(
        start=started,
        end=started + dt.timedelta(minutes=30),
        busy_until=started + dt.timedelta(minutes=30),
    )
    client = Client()
    client.force_login(other_physio)

    client.post(
        reverse("appointment_status", kwargs={"appointment_id": visit.pk}), {"status": "arrived"}
    )

    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.ARRIVED


def test_the_cancel_service_refuses_a_practitioner_outside_the_care_team(
    physio: Any, other_physio: Any, patient: Patient
) -> None:
    visit = visit_with(physio, patient)

    with pytest.raises(PermissionDenied):
        appointment_cancel(appointment=visit, actor=other_physio, reason="Not mine")

    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_the_status_service_offers_and_allows_nothing_to_a_practitioner_outside_the_care_team(
    physio: Any, other_physio: Any, patient: Patient
) -> None:
    visit = visit_with(physio, patient)

    assert allowed_status_changes(visit, other_physio) == []
    with pytest.raises(StatusChangeNotAllowed, match="patients in your care"):
        appointment_set_status(appointment=visit, status="arrived", actor=other_physio)

    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_a_practitioner_acts_on_their_own_and_their_care_teams_visits_only(
    physio: Any, other_physio: Any, patient: Patient, other_patient: Patient, front_desk: Any
) -> None:
    own = visit_with(other_physio, other_patient)
    colleagues_of_my_patient = visit_with(physio, patient, days=3)
    someone_elses = visit_with(physio, other_patient, days=4)
    patient.care_team.add(other_physio.practitioner)

    mine = set(visits_actionable_by(other_physio))

    assert mine == {own, colleagues_of_my_patient}
    assert someone_elses not in mine
    assert set(visits_actionable_by(front_desk)) == {own, colleagues_of_my_patient, someone_elses}
