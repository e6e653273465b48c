"""The booking tests' week: a Monday in March 2031 seen from a week before, and booking then."""

from __future__ import annotations

import datetime as dt

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.services import appointment_book
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
