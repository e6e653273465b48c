"""The booking's one-statement re-check decides exactly as the full search does."""

from __future__ import annotations

import datetime as dt

import pytest

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Practitioner, Room, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.availability import slot_is_offered
from imsclinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClinicClosure,
    Shift,
    ShiftBreak,
    TimeOff,
)
from imsclinic.scheduling.selectors import availability_query, booking_check_query
from tests.factories.scheduling import weekday_shifts

MONDAY = dt.date(2030, 1, 7)
NOW = dt.datetime(2030, 1, 2, 12, tzinfo=dt.UTC)


def starts_of(day: dt.date, location: Location) -> list[dt.datetime]:
    """Every 5 minutes of the local day, so off-grid starts are asked about too."""
    first = dt.datetime.combine(day, dt.time(7), tzinfo=location.zone)
    return [first + dt.timedelta(minutes=5 * n) for n in range(12 * 12)]


def decisions(
    service: Service, practitioner: Practitioner, location: Location, day: dt.date
) -> list[tuple[dt.datetime, int | None, int | None]]:
    """Return (start, room by the search, room by the re-check) for every start of the day."""
    full = availability_query(
        service=service,
        start_date=day,
        days=1,
        practitioner=practitioner,
        location=location,
        now=NOW,
    )
    answers = []
    for start in starts_of(day, location):
        narrow = booking_check_query(
            service=service, practitioner=practitioner, location=location, start=start, now=NOW
        )
        by_search = slot_is_offered(full, practitioner.pk, location.pk, start)
        by_check = slot_is_offered(narrow, practitioner.pk, location.pk, start)
        answers.append(
            (
                start,
                by_search.room_id if by_search else None,
                by_check.room_id if by_check else None,
            )
        )
    return answers


@pytest.mark.django_db
def test_the_re_check_offers_the_same_starts_and_beds_as_the_search_on_a_busy_day(
    ims_service: Service,
    physio: User,
    other_physio: User,
    patient: Patient,
    location: Location,
) -> None:
    weekday_shifts(location, [physio, other_physio], MONDAY)
    practitioner = physio.practitioner
    bed_1 = Room.objects.get(location=location, name="Bed 1")
    bed_2 = Room.objects.create(location=location, name="Bed 2")
    Room.objects.create(location=location, name="Bed 0", is_active=False)  # never used
    Room.objects.create(location=location, name="Consult", kind=Room.Kind.ROOM)  # not a bed

    def visit(who: Practitioner, bed: Room, hour: int, minute: int = 0, **extra: object) -> None:
        start = dt.datetime.combine(MONDAY, dt.time(hour, minute), tzinfo=location.zone)
        Appointment.objects.create(
            patient=patient,
            practitioner=who,
            location=location,
            room=bed,
            service=ims_service,
            start=start,
            end=start + dt.timedelta(minutes=30),
            busy_until=start + dt.timedelta(minutes=45),
            **extra,
        )

    visit(practitioner, bed_1, 9)
    visit(other_physio.practitioner, bed_1, 10)  # bed 1 taken by someone else: bed 2 is used
    visit(other_physio.practitioner, bed_2, 11)  # and the other way round
    visit(practitioner, bed_2, 14, status=AppointmentStatus.CANCELLED)  # frees its time
    off = dt.datetime.combine(MONDAY, dt.time(15), tzinfo=location.zone)
    TimeOff.objects.create(practitioner=practitioner, start=off, end=off + dt.timedelta(hours=1))
    # A second shift the same day, with a break of its own.
    evening = Shift.objects.create(
        practitioner=practitioner,
        location=location,
        weekday=MONDAY.weekday(),
        start_time=dt.time(17, 30),
        end_time=dt.time(18, 45),
        valid_from=MONDAY,
    )
    ShiftBreak.objects.create(shift=evening, start_time=dt.time(18), end_time=dt.time(18, 15))

    answers = decisions(ims_service, practitioner, location, MONDAY)

    assert [(start, check) for start, _, check in answers] == [
        (start, search) for start, search, _ in answers
    ]
    offered = [start for start, search, _ in answers if search is not None]
    assert len(offered) > 5  # the day offers something, so the comparison means something
    rooms = {search for _, search, _ in answers if search is not None}
    assert rooms == {bed_1.pk, bed_2.pk}


@pytest.mark.django_db
def test_the_re_check_refuses_what_the_search_refuses(
    ims_service: Service, physio: User, location: Location
) -> None:
    weekday_shifts(location, [physio], MONDAY)
    practitioner = physio.practitioner
    tuesday, wednesday = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=2)
    ClinicClosure.objects.create(location=location, first_day=tuesday, last_day=tuesday)
    Practitioner.objects.filter(pk=practitioner.pk).update(ims_certification_expires_on=wednesday)
    practitioner.refresh_from_db()

    for day in (MONDAY, tuesday, wednesday):
        answers = decisions(ims_service, practitioner, location, day)
        assert [check for _, _, check in answers] == [search for _, search, _ in answers]
        offered = any(search is not None for _, search, _ in answers)
        assert offered is (day == MONDAY)  # closed on Tuesday, credential gone on Wednesday

    Practitioner.objects.filter(pk=practitioner.pk).update(is_active=False)
    start = dt.datetime.combine(MONDAY, dt.time(9), tzinfo=location.zone)
    narrow = booking_check_query(
        service=ims_service, practitioner=practitioner, location=location, start=start, now=NOW
    )
    assert slot_is_offered(narrow, practitioner.pk, location.pk, start) is None
