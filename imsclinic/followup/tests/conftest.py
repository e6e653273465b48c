"""Fixtures for the follow-up tests: a patient ready for needling, frozen at a known moment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from imsclinic.accounts.models import User
from imsclinic.clinic.models import NeedleLot
from imsclinic.patients.models import Patient
from tests.factories.charting import (
    needle_lot,
    signed_assessment,
)
from tests.factories.safety import make_ready_for_needling

# Wednesday 12 March 2031, 11:00 in Vancouver: the visit is under way.
T0 = dt.datetime(2031, 3, 12, 18, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Iterator[Any]:
    """Freeze time at T0; tests move it with clock.move_to(...)."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ready_patient(clock: Any, patient: Patient, physio: User) -> Patient:
    make_ready_for_needling(patient, by=physio)
    signed_assessment(patient, physio)
    return patient


@pytest.fixture
def lot(clock: Any, db: None) -> NeedleLot:
    return needle_lot("LOT-FU-1")
