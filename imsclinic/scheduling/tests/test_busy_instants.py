"""The search reads busy times as text and parses them itself: they must come back exact."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import weekday_shifts
from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Room, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.availability import Busy
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.selectors import availability_query

MONDAY = dt.date(2030, 1, 7)
NOW = dt.datetime(2030, 1, 2, 12, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_busy_times_come_back_as_the_same_instants_to_the_microsecond(
    ims_service: Service, physio: User, patient: Patient, location: Location
) -> None:
    weekday_shifts(location, [physio], MONDAY)
    bed = Room.objects.filter(location=location).order_by("name", "pk").first()
    assert bed is not None
    # Placed by hand at odd instants, written in another zone: only the instant is stored.
    vancouver = location.zone
    start = dt.datetime(2030, 1, 7, 9, 0, 0, 123456, tzinfo=vancouver)
    busy_until = start + dt.timedelta(minutes=45, microseconds=7)
    Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        room=bed,
        service=ims_service,
        start=start,
        end=start + dt.timedelta(minutes=30),
        busy_until=busy_until,
        status=AppointmentStatus.BOOKED,
    )

    query = availability_query(service=ims_service, start_date=MONDAY, days=1, now=NOW)

    assert query.practitioner_busy == {physio.practitioner.pk: (Busy(start, busy_until),)}
    assert query.room_busy == {bed.pk: (Busy(start, busy_until),)}
    (busy,) = query.practitioner_busy[physio.practitioner.pk]
    assert busy.start.utcoffset() == dt.timedelta(0)
    assert busy.start.astimezone(dt.UTC) == dt.datetime(2030, 1, 7, 17, 0, 0, 123456, tzinfo=dt.UTC)
    assert busy.end.microsecond == 123463
