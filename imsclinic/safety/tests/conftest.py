"""Fixtures for the safety tests: a working week to book into, a service without needles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Service
from imsclinic.scheduling.models import Shift
from tests.factories.scheduling import weekday_shifts


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
