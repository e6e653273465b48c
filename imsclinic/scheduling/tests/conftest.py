"""Schedules to book into: two physios' weekly shifts (the assessment is in the root conftest)."""

from __future__ import annotations

import datetime as dt

import pytest

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location
from imsclinic.scheduling.models import Shift
from tests.factories.scheduling import weekday_shifts


@pytest.fixture
def shifts(location: Location, physio: User, other_physio: User) -> list[Shift]:
    """Both physios work weekdays 09:00-17:00 with lunch 12:00-13:00, from 2030."""
    return weekday_shifts(location, [physio, other_physio], dt.date(2030, 1, 1))
