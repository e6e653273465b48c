"""Fixtures for the safety tests: a working week to book into, visits, signed-in clients."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from conftest import weekday_shifts
from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus, Shift

SEVERE_PHOBIA = {"needle_fear": "severe"}
ON_ANTICOAGULANTS = {"anticoagulants": "yes"}


@pytest.fixture
def shifts(location: Location, physio: User, other_physio: User) -> list[Shift]:
    """Both physios work weekdays 09:00-17:00 (lunch 12-13), from long before today."""
    return weekday_shifts(location, [physio, other_physio], dt.date(2020, 1, 1))


@pytest.fixture
def massage(db: None) -> Service:
    """A service that involves no needle."""
    return Service.objects.create(
        name="Massage", slug="massage", duration_minutes=30, price=Decimal("80.00")
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_visit(
    patient: Patient,
    user: User,
    service: Service,
    *,
    start: dt.datetime | None = None,
    status: str = AppointmentStatus.BOOKED,
) -> Appointment:
    """Put a visit straight into the book (test data; booking itself is tested elsewhere)."""
    start = start or timezone.now() - dt.timedelta(minutes=5)
    end = start + dt.timedelta(minutes=service.duration_minutes)
    return Appointment.objects.create(
        patient=patient,
        practitioner=user.practitioner,
        location=user.practitioner.locations.get(),
        service=service,
        start=start,
        end=end,
        busy_until=end,
        status=status,
    )
