"""The search reads busy times as numbers straight from SQL: they must come back exact."""

from __future__ import annotations

import datetime as dt

import pytest

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Room, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling import selectors
from imsclinic.scheduling.models import Appointment, AppointmentStatus, TimeOff
from imsclinic.scheduling.selectors import availability_query
from tests.factories.scheduling import weekday_shifts

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

    # And one on whole seconds, the usual case, which SQL hands over as a plain number.
    later = dt.datetime(2030, 1, 7, 11, 0, tzinfo=vancouver)
    Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        room=bed,
        service=ims_service,
        start=later,
        end=later + dt.timedelta(minutes=30),
        busy_until=later + dt.timedelta(minutes=45),
        status=AppointmentStatus.BOOKED,
    )
    off = dt.datetime(2030, 1, 7, 14, 30, 0, 999999, tzinfo=vancouver)
    TimeOff.objects.create(practitioner=physio.practitioner, start=off, end=off.replace(hour=16))

    query = availability_query(service=ims_service, start_date=MONDAY, days=1, now=NOW)

    # Exactly what datetime.timestamp() gives, which is how the engine reads every other time.
    visits = {
        (start.timestamp(), busy_until.timestamp()),
        (later.timestamp(), (later + dt.timedelta(minutes=45)).timestamp()),
    }
    assert set(query.practitioner_busy[physio.practitioner.pk]) == visits
    assert set(query.room_busy[bed.pk]) == visits
    assert query.practitioner_time_off == {
        physio.practitioner.pk: ((off.timestamp(), off.replace(hour=16).timestamp()),)
    }
    assert dt.datetime.fromtimestamp(min(visits)[0], dt.UTC) == dt.datetime(
        2030, 1, 7, 17, 0, 0, 123456, tzinfo=dt.UTC
    )


@pytest.mark.django_db
@pytest.mark.parametrize("numbers_in_sql", [True, False])
def test_a_database_without_unixepoch_gives_the_same_instants(
    ims_service: Service,
    physio: User,
    patient: Patient,
    location: Location,
    monkeypatch: pytest.MonkeyPatch,
    numbers_in_sql: bool,
) -> None:
    if not numbers_in_sql:
        # An older SQLite: the columns' own values, read as datetimes or text.
        monkeypatch.setattr(selectors, "_sqlite_epoch", lambda: False)
    weekday_shifts(location, [physio], MONDAY)
    start = dt.datetime(2030, 1, 7, 9, 0, 0, 250000, tzinfo=location.zone)
    later = dt.datetime(2030, 1, 7, 11, 0, tzinfo=location.zone)
    for begins in (start, later):
        Appointment.objects.create(
            patient=patient,
            practitioner=physio.practitioner,
            location=location,
            service=ims_service,
            start=begins,
            end=begins + dt.timedelta(minutes=30),
            busy_until=begins + dt.timedelta(minutes=45),
            status=AppointmentStatus.BOOKED,
        )
    expected = {
        (begins.timestamp(), (begins + dt.timedelta(minutes=45)).timestamp())
        for begins in (start, later)
    }

    query = availability_query(service=ims_service, start_date=MONDAY, days=1, now=NOW)
    check = selectors.booking_check_query(
        service=ims_service,
        practitioner=physio.practitioner,
        location=location,
        start=later,
        now=NOW,
    )

    assert set(query.practitioner_busy[physio.practitioner.pk]) == expected
    assert set(check.practitioner_busy[physio.practitioner.pk]) == expected
