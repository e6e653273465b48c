"""Fixtures for the charting tests: a ready patient, an IMS visit, needle lots."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.models import NeedleLot, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment
from tests.factories.charting import ims_visit, needle_lot, signed_assessment
from tests.factories.safety import make_ready_for_needling


@pytest.fixture
def unassessed_patient(patient: Patient, physio: User) -> Patient:
    """The patient with a current intake, a clearance and a signed consent, never assessed."""
    make_ready_for_needling(patient, by=physio)
    return patient


@pytest.fixture
def ready_patient(unassessed_patient: Patient, physio: User) -> Patient:
    """The patient ready for needling, with a signed Gunn assessment on file."""
    signed_assessment(unassessed_patient, physio)
    return unassessed_patient


@pytest.fixture
def lot(db: None) -> NeedleLot:
    return needle_lot("LOT-OK-1")


@pytest.fixture
def expired_lot(db: None) -> NeedleLot:
    return needle_lot("LOT-OLD-1", expires_on=timezone.localdate() - dt.timedelta(days=3))


@pytest.fixture
def recalled_lot(db: None) -> NeedleLot:
    return needle_lot("LOT-BAD-1", recalled=True)


@pytest.fixture
def visit(ready_patient: Patient, physio: User, ims_service: Service) -> Appointment:
    """An IMS visit of the ready patient with the treating physio, under way now."""
    return ims_visit(ready_patient, physio, ims_service)
