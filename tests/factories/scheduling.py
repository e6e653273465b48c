"""Working weeks to book into, and the booking tests' week: a Monday in March 2031 and booking."""

from __future__ import annotations

import datetime as dt

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Shift, ShiftBreak
from imsclinic.scheduling.services.booking import appointment_book
from tests.factories import VANCOUVER

MONDAY = dt.date(2031, 3, 3)
NOW = dt.datetime(2031, 2, 24, 12, 0, tzinfo=dt.UTC)


def at(hour: int, minute: int = 0, day: dt.date = MONDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=VANCOUVER)


def book(patient: Patient, user: User, service: Service, start: dt.datetime, actor: User):
    return appointment_book(
        patient=patient,
        practitioner=user.practitioner,
        service=service,
        location=user.practitioner.locations.get(),
        start=start,
        actor=actor,
        now=NOW,
    )


def weekday_shifts(location: Location, users: list[User], valid_from: dt.date) -> list[Shift]:
    """Give each user's practitioner weekdays 09:00-17:00 with lunch 12:00-13:00."""
    made = []
    for user in users:
        for weekday in range(5):
            shift = Shift.objects.create(
                practitioner=user.practitioner,
                location=location,
                weekday=weekday,
                start_time=dt.time(9),
                end_time=dt.time(17),
                valid_from=valid_from,
            )
            ShiftBreak.objects.create(shift=shift, start_time=dt.time(12), end_time=dt.time(13))
            made.append(shift)
    return made
