"""Searches at the very ends of the calendar find nothing instead of overflowing."""

from __future__ import annotations

import datetime as dt

import pytest

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.selectors import (
    LONGEST_VISIT,
    _earliest_overlapping_start,
    _searchable,
    _window,
    availability_query,
    available_slots,
)
from tests.factories.scheduling import weekday_shifts

NOW = dt.datetime(2030, 1, 2, 12, tzinfo=dt.UTC)
FIRST_DAY = dt.date.min  # 0001-01-01, a Monday
LAST_DAY = dt.date.max  # 9999-12-31, a Friday


@pytest.fixture
def everlasting_shifts(location: Location, physio: User) -> None:
    """The physio works weekdays from the first day the calendar knows."""
    weekday_shifts(location, [physio], FIRST_DAY)


def test_the_window_holds_every_local_day_searched_with_a_day_to_spare() -> None:
    first, last = _window(dt.date(2030, 1, 7), 14)
    assert first == dt.datetime(2030, 1, 6, tzinfo=dt.UTC)
    assert last == dt.datetime(2030, 1, 22, tzinfo=dt.UTC)


def test_the_window_stops_at_the_first_day_of_the_calendar() -> None:
    first, last = _window(FIRST_DAY, 1)
    assert first == dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    assert last == dt.datetime(1, 1, 3, tzinfo=dt.UTC)


@pytest.mark.parametrize("days", [1, 14])
def test_the_window_stops_at_the_last_moment_of_the_calendar(days: int) -> None:
    first, last = _window(LAST_DAY, days)
    assert first == dt.datetime(9999, 12, 30, tzinfo=dt.UTC)
    assert last == dt.datetime.max.replace(tzinfo=dt.UTC)


def test_an_ordinary_search_keeps_its_days() -> None:
    assert _searchable(dt.date(2030, 1, 7), 14) == (dt.date(2030, 1, 7), 14)


def test_a_search_skips_the_first_and_last_days_of_the_calendar() -> None:
    assert _searchable(FIRST_DAY, 14) == (dt.date(1, 1, 2), 13)
    assert _searchable(dt.date(9999, 12, 20), 14) == (dt.date(9999, 12, 20), 11)
    assert _searchable(LAST_DAY, 14) == (LAST_DAY, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("day", [FIRST_DAY, dt.date(1, 1, 2), dt.date(9999, 12, 30), LAST_DAY])
@pytest.mark.parametrize("days", [1, 14])
def test_it_offers_no_slots_at_the_ends_of_the_calendar_without_overflowing(
    everlasting_shifts: None, ims_service: Service, day: dt.date, days: int
) -> None:
    assert available_slots(service=ims_service, start_date=day, days=days, now=NOW) == []


@pytest.mark.django_db
@pytest.mark.parametrize("day", [FIRST_DAY, LAST_DAY])
def test_the_query_at_the_ends_of_the_calendar_still_loads_the_schedule(
    everlasting_shifts: None, ims_service: Service, physio: User, day: dt.date
) -> None:
    query = availability_query(service=ims_service, start_date=day, days=1, now=NOW)
    assert [p.practitioner_id for p in query.practitioners] == [physio.practitioner.pk]
    assert query.practitioner_busy == {}


@pytest.mark.django_db
def test_a_visit_near_the_end_of_the_calendar_counts_as_busy_in_the_last_window(
    everlasting_shifts: None,
    ims_service: Service,
    physio: User,
    patient: Patient,
    location: Location,
) -> None:
    start = dt.datetime(9999, 12, 31, 17, tzinfo=dt.UTC)
    Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=ims_service,
        start=start,
        end=start + dt.timedelta(minutes=30),
        busy_until=start + dt.timedelta(minutes=30),
        status=AppointmentStatus.BOOKED,
    )
    query = availability_query(service=ims_service, start_date=LAST_DAY, days=14, now=NOW)
    assert query.practitioner_busy[physio.practitioner.pk] == (
        (start.timestamp(), (start + dt.timedelta(minutes=30)).timestamp()),
    )


def test_the_earliest_start_that_can_reach_a_window_stops_at_the_first_moment() -> None:
    first_moment = dt.datetime.min.replace(tzinfo=dt.UTC)
    assert _earliest_overlapping_start(first_moment + dt.timedelta(hours=1)) == first_moment
    window_start = dt.datetime(2030, 1, 7, tzinfo=dt.UTC)
    assert _earliest_overlapping_start(window_start) == window_start - LONGEST_VISIT


@pytest.mark.django_db
def test_a_long_visit_that_began_before_the_window_still_blocks_it(
    everlasting_shifts: None,
    ims_service: Service,
    physio: User,
    patient: Patient,
    location: Location,
) -> None:
    # Placed by staff: from 20:00 UTC the day before until 20:00 UTC on Monday 7 January.
    start = dt.datetime(2030, 1, 6, 20, tzinfo=dt.UTC)
    Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=ims_service,
        start=start,
        end=start + dt.timedelta(hours=24),
        busy_until=start + dt.timedelta(hours=24),
        status=AppointmentStatus.BOOKED,
    )
    monday = dt.date(2030, 1, 7)
    slots = available_slots(service=ims_service, start_date=monday, days=1, now=NOW)
    assert slots
    assert min(slot.start for slot in slots) >= start + dt.timedelta(hours=24)
