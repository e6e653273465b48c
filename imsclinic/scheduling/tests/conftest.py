"""Schedules to book into: an assessment service and two physios' weekly shifts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Service
from imsclinic.scheduling.models import Shift, ShiftBreak


@pytest.fixture
def assessment(db: None) -> Service:
    return Service.objects.create(
        name="IMS initial assessment",
        slug="ims-initial-assessment",
        duration_minutes=60,
        buffer_minutes=10,
        price=Decimal("150.00"),
        requires_ims_credential=True,
        for_new_patients=True,
    )


@pytest.fixture
def shifts(location: Location, physio: User, other_physio: User) -> list[Shift]:
    """Both physios work weekdays 09:00-17:00 with lunch 12:00-13:00."""
    made = []
    for user in (physio, other_physio):
        for weekday in range(5):
            shift = Shift.objects.create(
                practitioner=user.practitioner,
                location=location,
                weekday=weekday,
                start_time=dt.time(9),
                end_time=dt.time(17),
                valid_from=dt.date(2030, 1, 1),
            )
            ShiftBreak.objects.create(shift=shift, start_time=dt.time(12), end_time=dt.time(13))
            made.append(shift)
    return made
