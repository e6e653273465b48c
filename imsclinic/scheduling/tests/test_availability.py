"""The availability engine's rules, one at a time, on ordinary days (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from imsclinic.scheduling.availability import (
    AvailabilityQuery,
    Busy,
    LocationInfo,
    PractitionerInfo,
    ServiceInfo,
    ShiftRule,
    Slot,
    find_slots,
    slot_is_offered,
)
from tests.factories import VANCOUVER

TORONTO = ZoneInfo("America/Toronto")
MONDAY = dt.date(2026, 1, 5)
TUESDAY = MONDAY + dt.timedelta(days=1)
LONG_AGO = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
PHYSIO = 1
OTHER_PHYSIO = 2
DOWNTOWN = 10
UPTOWN = 20
BED_A = 100
BED_B = 101


def at(day: dt.date, hour: int, minute: int = 0, zone: ZoneInfo = VANCOUVER) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def shift(
    start: str = "09:00",
    end: str = "12:00",
    *,
    practitioner: int = PHYSIO,
    location: int = DOWNTOWN,
    weekday: int = 0,
    valid_from: dt.date = dt.date(2025, 1, 1),
    valid_until: dt.date | None = None,
    breaks: tuple[tuple[str, str], ...] = (),
) -> ShiftRule:
    return ShiftRule(
        practitioner_id=practitioner,
        location_id=location,
        weekday=weekday,
        start=dt.time.fromisoformat(start),
        end=dt.time.fromisoformat(end),
        valid_from=valid_from,
        valid_until=valid_until,
        breaks=tuple((dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for a, b in breaks),
    )


def query(
    *shifts: ShiftRule,
    service: ServiceInfo | None = None,
    start_date: dt.date = MONDAY,
    days: int = 1,
    now: dt.datetime = LONG_AGO,
    practitioners: tuple[PractitionerInfo, ...] = (
        PractitionerInfo(PHYSIO),
        PractitionerInfo(OTHER_PHYSIO),
    ),
    locations: tuple[LocationInfo, ...] = (
        LocationInfo(DOWNTOWN, "America/Vancouver", room_ids=(BED_A, BED_B)),
    ),
    **extra: object,
) -> AvailabilityQuery:
    return AvailabilityQuery(
        service=service or ServiceInfo(duration_minutes=30, needs_room=False),
        start_date=start_date,
        days=days,
        now=now,
        practitioners=practitioners,
        locations=locations,
        shifts=shifts,
        **extra,  # type: ignore[arg-type]
    )


def local_starts(slots: list[Slot]) -> list[str]:
    return [s.start.strftime("%H:%M") for s in slots]


def test_a_shift_offers_every_step_whose_whole_visit_fits_before_the_shift_ends():
    slots = find_slots(query(shift("09:00", "11:00"), service=ServiceInfo(45, needs_room=False)))
    assert local_starts(slots) == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15"]
    assert all(s.end - s.start == dt.timedelta(minutes=45) for s in slots)


def test_the_grid_starts_at_the_shift_start_and_follows_the_step():
    slots = find_slots(query(shift("09:10", "10:40"), step_minutes=20))
    assert local_starts(slots) == ["09:10", "09:30", "09:50", "10:10"]


def test_slots_are_returned_in_the_location_zone_with_its_name():
    slots = find_slots(query(shift("09:00", "09:30")))
    assert len(slots) == 1
    assert slots[0].start.tzinfo == VANCOUVER
    assert slots[0].start.tzname() == "PST"
    assert slots[0].start == dt.datetime(2026, 1, 5, 17, 0, tzinfo=dt.UTC)


def test_no_start_falls_inside_a_break_nor_runs_into_it():
    rule = shift("09:00", "12:00", breaks=(("10:30", "11:00"),))
    slots = find_slots(query(rule, service=ServiceInfo(30, needs_room=False)))
    assert local_starts(slots) == [
        "09:00",
        "09:15",
        "09:30",
        "09:45",
        "10:00",
        "11:00",
        "11:15",
        "11:30",
    ]
    assert "10:15" not in local_starts(slots)


def test_the_buffer_must_fit_inside_the_shift_as_well():
    service = ServiceInfo(60, buffer_minutes=15, needs_room=False)
    slots = find_slots(query(shift("09:00", "11:00"), service=service))
    assert local_starts(slots) == ["09:00", "09:15", "09:30", "09:45"]


def test_the_buffer_keeps_the_practitioner_busy_but_is_not_shown_as_part_of_the_visit():
    service = ServiceInfo(30, buffer_minutes=15, needs_room=False)
    busy = {PHYSIO: (Busy(at(MONDAY, 10, 0), at(MONDAY, 10, 30)),)}
    slots = find_slots(query(shift("09:00", "11:30"), service=service, practitioner_busy=busy))
    # 09:30 would need the practitioner until 10:15 (visit and buffer), which overlaps 10:00.
    assert local_starts(slots) == ["09:00", "09:15", "10:30", "10:45"]
    assert all(s.end - s.start == dt.timedelta(minutes=30) for s in slots)


def test_an_appointment_blocks_overlapping_starts_and_the_next_visit_may_start_as_it_ends():
    busy = {PHYSIO: (Busy(at(MONDAY, 9, 30), at(MONDAY, 10, 15)),)}
    slots = find_slots(query(shift("09:00", "11:00"), practitioner_busy=busy))
    assert local_starts(slots) == ["09:00", "10:15", "10:30"]


def test_a_visit_may_end_exactly_when_the_next_appointment_begins():
    busy = {PHYSIO: (Busy(at(MONDAY, 10, 0), at(MONDAY, 11, 0)),)}
    slots = find_slots(query(shift("09:00", "11:00"), practitioner_busy=busy))
    assert local_starts(slots)[-1] == "09:30"


def test_busy_intervals_in_any_order_and_overlapping_each_other_are_all_respected():
    busy = {
        PHYSIO: (
            Busy(at(MONDAY, 11, 0), at(MONDAY, 11, 30)),
            Busy(at(MONDAY, 9, 0), at(MONDAY, 9, 45)),
            Busy(at(MONDAY, 9, 15), at(MONDAY, 10, 0)),
            Busy(at(MONDAY, 9, 30), at(MONDAY, 9, 40)),
        )
    }
    slots = find_slots(query(shift("09:00", "12:00"), practitioner_busy=busy))
    assert local_starts(slots) == ["10:00", "10:15", "10:30", "11:30"]


def test_one_practitioners_appointments_do_not_block_another_practitioner():
    busy = {PHYSIO: (Busy(at(MONDAY, 9, 0), at(MONDAY, 12, 0)),)}
    rules = (shift("09:00", "10:00"), shift("09:00", "10:00", practitioner=OTHER_PHYSIO))
    slots = find_slots(query(*rules, practitioner_busy=busy))
    assert {s.practitioner_id for s in slots} == {OTHER_PHYSIO}


def test_time_off_removes_the_slots_it_covers():
    time_off = {PHYSIO: (Busy(at(MONDAY, 10, 0), at(TUESDAY, 0, 0)),)}
    rules = (shift("09:00", "12:00"), shift("09:00", "10:00", weekday=1))
    slots = find_slots(query(*rules, days=2, practitioner_time_off=time_off))
    assert [s.start.strftime("%a %H:%M") for s in slots] == [
        "Mon 09:00",
        "Mon 09:15",
        "Mon 09:30",
        "Tue 09:00",
        "Tue 09:15",
        "Tue 09:30",
    ]


def test_a_clinic_closure_removes_every_day_of_its_range_including_both_ends():
    closed = LocationInfo(
        DOWNTOWN, "America/Vancouver", closures=((TUESDAY, TUESDAY + dt.timedelta(days=1)),)
    )
    rules = tuple(shift("09:00", "09:30", weekday=day) for day in range(5))
    slots = find_slots(query(*rules, days=5, locations=(closed,)))
    assert [s.start.date() for s in slots] == [
        MONDAY,
        MONDAY + dt.timedelta(days=3),
        MONDAY + dt.timedelta(days=4),
    ]


def test_a_shift_rule_applies_only_between_its_effective_dates_inclusive():
    first = MONDAY + dt.timedelta(weeks=1)
    last = MONDAY + dt.timedelta(weeks=2)
    rule = shift("09:00", "09:30", valid_from=first, valid_until=last)
    slots = find_slots(query(rule, days=28))
    assert [s.start.date() for s in slots] == [first, last]


def test_a_replacement_rule_takes_over_when_the_old_one_expires():
    old = shift("09:00", "09:30", valid_until=MONDAY)
    new = shift("14:00", "14:30", valid_from=MONDAY + dt.timedelta(days=1))
    slots = find_slots(query(old, new, days=8))
    assert [s.start.strftime("%m-%d %H:%M") for s in slots] == ["01-05 09:00", "01-12 14:00"]


def test_a_practitioner_at_two_locations_is_offered_at_each_on_its_own_days():
    locations = (
        LocationInfo(DOWNTOWN, "America/Vancouver"),
        LocationInfo(UPTOWN, "America/Toronto"),
    )
    rules = (
        shift("09:00", "09:30", location=DOWNTOWN, weekday=0),
        shift("09:00", "09:30", location=UPTOWN, weekday=1),
    )
    slots = find_slots(query(*rules, days=2, locations=locations))
    assert [(s.location_id, s.start.tzinfo, s.start.date()) for s in slots] == [
        (DOWNTOWN, VANCOUVER, MONDAY),
        (UPTOWN, TORONTO, TUESDAY),
    ]
    assert slots[1].start == dt.datetime(2026, 1, 6, 14, 0, tzinfo=dt.UTC)


def test_an_appointment_at_one_location_blocks_the_same_practitioner_everywhere():
    locations = (
        LocationInfo(DOWNTOWN, "America/Vancouver"),
        LocationInfo(UPTOWN, "America/Vancouver"),
    )
    rules = (
        shift("09:00", "10:00", location=DOWNTOWN),
        shift("10:00", "11:00", location=UPTOWN),
    )
    busy = {PHYSIO: (Busy(at(MONDAY, 9, 30), at(MONDAY, 10, 30)),)}
    slots = find_slots(query(*rules, locations=locations, practitioner_busy=busy))
    assert [(s.location_id, s.start.strftime("%H:%M")) for s in slots] == [
        (DOWNTOWN, "09:00"),
        (UPTOWN, "10:30"),
    ]


IMS = ServiceInfo(30, requires_ims_credential=True, needs_room=False)


def test_an_ims_service_is_offered_only_on_days_the_credential_is_current():
    expiring = PractitionerInfo(
        PHYSIO,
        ims_certified_on=dt.date(2020, 5, 1),
        ims_certification_expires_on=MONDAY + dt.timedelta(days=3),
    )
    rules = tuple(shift("09:00", "09:30", weekday=day) for day in range(5))
    slots = find_slots(query(*rules, service=IMS, days=5, practitioners=(expiring,)))
    assert [s.start.date() for s in slots] == [MONDAY + dt.timedelta(days=n) for n in range(3)]


def test_a_newly_certified_practitioner_is_offered_for_ims_from_the_certification_day():
    newcomer = PractitionerInfo(PHYSIO, ims_certified_on=MONDAY + dt.timedelta(days=2))
    rules = tuple(shift("09:00", "09:30", weekday=day) for day in range(5))
    slots = find_slots(query(*rules, service=IMS, days=5, practitioners=(newcomer,)))
    assert [s.start.date() for s in slots] == [MONDAY + dt.timedelta(days=n) for n in (2, 3, 4)]


def test_a_practitioner_without_a_credential_is_offered_only_for_non_ims_services():
    uncertified = PractitionerInfo(PHYSIO)
    certified = PractitionerInfo(OTHER_PHYSIO, ims_certified_on=dt.date(2019, 1, 1))
    rules = (shift("09:00", "09:30"), shift("09:00", "09:30", practitioner=OTHER_PHYSIO))
    people = (uncertified, certified)
    ims_slots = find_slots(query(*rules, service=IMS, practitioners=people))
    other_slots = find_slots(query(*rules, practitioners=people))
    assert [s.practitioner_id for s in ims_slots] == [OTHER_PHYSIO]
    assert [s.practitioner_id for s in other_slots] == [PHYSIO, OTHER_PHYSIO]


def test_shift_rules_of_practitioners_not_in_the_query_are_ignored():
    rules = (shift("09:00", "09:30"), shift("09:00", "09:30", practitioner=OTHER_PHYSIO))
    slots = find_slots(query(*rules, practitioners=(PractitionerInfo(OTHER_PHYSIO),)))
    assert [s.practitioner_id for s in slots] == [OTHER_PHYSIO]


def test_no_slot_starts_before_the_minimum_notice():
    now = at(MONDAY, 7, 50)
    service = ServiceInfo(30, needs_room=False, min_notice=dt.timedelta(hours=2))
    slots = find_slots(query(shift("09:00", "11:00"), service=service, now=now))
    assert local_starts(slots) == ["10:00", "10:15", "10:30"]


def test_the_default_minimum_notice_is_twelve_hours():
    now = at(MONDAY, 9, 0) - dt.timedelta(hours=12)
    slots = find_slots(query(shift("09:00", "10:00"), now=now + dt.timedelta(minutes=1)))
    assert local_starts(slots) == ["09:15", "09:30"]


def test_no_slot_starts_after_the_booking_horizon():
    now = at(MONDAY, 10, 0) - dt.timedelta(days=90)
    slots = find_slots(query(shift("09:00", "12:00"), now=now))
    assert local_starts(slots) == ["09:00", "09:15", "09:30", "09:45", "10:00"]


def test_a_room_service_names_the_first_free_room_in_the_given_order():
    service = ServiceInfo(30)
    slots = find_slots(query(shift("09:00", "09:30"), service=service))
    assert [s.room_id for s in slots] == [BED_A]


def test_when_one_room_is_taken_the_other_is_offered():
    rooms = {BED_A: (Busy(at(MONDAY, 9, 0), at(MONDAY, 10, 0)),)}
    slots = find_slots(query(shift("09:00", "10:30"), service=ServiceInfo(30), room_busy=rooms))
    assert [(s.start.strftime("%H:%M"), s.room_id) for s in slots] == [
        ("09:00", BED_B),
        ("09:15", BED_B),
        ("09:30", BED_B),
        ("09:45", BED_B),
        ("10:00", BED_A),
    ]


def test_when_every_room_is_taken_no_slot_is_offered():
    taken = (Busy(at(MONDAY, 9, 0), at(MONDAY, 10, 0)),)
    rooms = {BED_A: taken, BED_B: taken}
    slots = find_slots(query(shift("09:00", "10:30"), service=ServiceInfo(30), room_busy=rooms))
    assert local_starts(slots) == ["10:00"]


def test_a_room_must_also_be_free_for_the_buffer():
    service = ServiceInfo(30, buffer_minutes=15)
    taken = (Busy(at(MONDAY, 9, 40), at(MONDAY, 10, 0)),)
    slots = find_slots(
        query(shift("09:00", "10:00"), service=service, room_busy={BED_A: taken, BED_B: taken})
    )
    assert local_starts(slots) == []
    slots = find_slots(query(shift("09:00", "10:00"), service=service, room_busy={BED_A: taken}))
    # 09:00 ends at 09:30 but the bed is still being readied when the 09:40 booking begins.
    assert [(s.start.strftime("%H:%M"), s.room_id) for s in slots] == [
        ("09:00", BED_B),
        ("09:15", BED_B),
    ]


def test_a_room_service_is_not_offered_where_the_location_has_no_such_room():
    bare = LocationInfo(DOWNTOWN, "America/Vancouver")
    assert find_slots(query(shift(), service=ServiceInfo(30), locations=(bare,))) == []


def test_a_service_without_a_room_ignores_busy_rooms():
    taken = (Busy(at(MONDAY, 9, 0), at(MONDAY, 10, 0)),)
    slots = find_slots(query(shift("09:00", "09:30"), room_busy={BED_A: taken, BED_B: taken}))
    assert [(s.start.strftime("%H:%M"), s.room_id) for s in slots] == [("09:00", None)]


def test_slots_are_sorted_by_start_then_practitioner_then_location_without_duplicates():
    locations = (
        LocationInfo(DOWNTOWN, "America/Vancouver"),
        LocationInfo(UPTOWN, "America/Toronto"),
    )
    rules = (
        shift("09:00", "10:00", practitioner=OTHER_PHYSIO),
        shift("09:00", "10:00"),
        shift("09:00", "09:45"),  # overlaps the rule above: must not duplicate its slots
        shift("12:00", "13:00", location=UPTOWN),  # 09:00 in Vancouver
    )
    slots = find_slots(query(*rules, locations=locations))
    keys = [(s.start, s.practitioner_id, s.location_id) for s in slots]
    assert len(keys) == len(set(keys)) == 3 + 3 + 3
    assert keys == sorted(keys, key=lambda k: (k[0].timestamp(), k[1], k[2]))
    assert keys[:3] == [
        (at(MONDAY, 9, 0), PHYSIO, DOWNTOWN),
        (at(MONDAY, 9, 0), PHYSIO, UPTOWN),
        (at(MONDAY, 9, 0), OTHER_PHYSIO, DOWNTOWN),
    ]


def test_a_search_of_several_days_covers_each_weekday_rule():
    rules = (shift("09:00", "09:30", weekday=0), shift("13:00", "13:30", weekday=2))
    slots = find_slots(query(*rules, days=14))
    assert [s.start.strftime("%m-%d %H:%M") for s in slots] == [
        "01-05 09:00",
        "01-07 13:00",
        "01-12 09:00",
        "01-14 13:00",
    ]


def test_it_rejects_a_step_that_is_not_positive():
    with pytest.raises(ValueError, match="step"):
        find_slots(query(shift(), step_minutes=0))


def test_slot_is_offered_returns_the_slot_with_its_free_room():
    rooms = {BED_A: (Busy(at(MONDAY, 9, 0), at(MONDAY, 10, 0)),)}
    q = query(shift("09:00", "10:30"), service=ServiceInfo(30), room_busy=rooms)
    slot = slot_is_offered(q, PHYSIO, DOWNTOWN, dt.datetime(2026, 1, 5, 17, 30, tzinfo=dt.UTC))
    assert slot is not None
    assert slot.start == at(MONDAY, 9, 30)
    assert slot.start.tzinfo == VANCOUVER
    assert slot.room_id == BED_B


def test_slot_is_offered_refuses_a_taken_an_off_grid_or_an_unknown_start():
    busy = {PHYSIO: (Busy(at(MONDAY, 9, 0), at(MONDAY, 9, 30)),)}
    q = query(shift("09:00", "10:30"), practitioner_busy=busy)
    assert slot_is_offered(q, PHYSIO, DOWNTOWN, at(MONDAY, 9, 15)) is None
    assert slot_is_offered(q, PHYSIO, DOWNTOWN, at(MONDAY, 9, 40)) is None
    assert slot_is_offered(q, OTHER_PHYSIO, DOWNTOWN, at(MONDAY, 9, 30)) is None
    assert slot_is_offered(q, PHYSIO, UPTOWN, at(MONDAY, 9, 30)) is None
    assert slot_is_offered(q, PHYSIO, DOWNTOWN, at(MONDAY, 9, 30)) is not None


def test_slot_is_offered_searches_the_day_of_the_start_whatever_the_query_window():
    q = query(shift("09:00", "09:30", weekday=1), start_date=MONDAY, days=1)
    assert find_slots(q) == []
    slot = slot_is_offered(q, PHYSIO, DOWNTOWN, at(TUESDAY, 9, 0))
    assert slot is not None
    assert slot.start == at(TUESDAY, 9, 0)


def test_slot_is_offered_applies_min_notice_and_the_credential_rule():
    expired = PractitionerInfo(
        PHYSIO, ims_certified_on=dt.date(2020, 1, 1), ims_certification_expires_on=MONDAY
    )
    q = query(shift("09:00", "10:00"), service=IMS, practitioners=(expired,))
    assert slot_is_offered(q, PHYSIO, DOWNTOWN, at(MONDAY, 9, 0)) is None
    q = replace(q, service=ServiceInfo(30, needs_room=False))
    assert slot_is_offered(q, PHYSIO, DOWNTOWN, at(MONDAY, 9, 0)) is not None
    q = replace(q, now=at(MONDAY, 0, 0))
    assert slot_is_offered(q, PHYSIO, DOWNTOWN, at(MONDAY, 9, 0)) is None


def test_after_an_appointment_ending_off_the_grid_the_next_grid_start_is_offered():
    busy = {PHYSIO: (Busy(at(MONDAY, 9, 0), at(MONDAY, 10, 7)),)}
    slots = find_slots(query(shift("09:00", "11:00"), practitioner_busy=busy))
    assert local_starts(slots) == ["10:15", "10:30"]


def test_when_both_rooms_are_taken_the_first_to_free_up_is_offered_as_soon_as_it_does():
    rooms = {
        BED_A: (Busy(at(MONDAY, 9, 0), at(MONDAY, 10, 30)),),
        BED_B: (
            Busy(at(MONDAY, 8, 0), at(MONDAY, 9, 50)),
            Busy(at(MONDAY, 10, 30), at(MONDAY, 11, 0)),
        ),
    }
    slots = find_slots(query(shift("09:00", "11:30"), service=ServiceInfo(30), room_busy=rooms))
    assert [(s.start.strftime("%H:%M"), s.room_id) for s in slots] == [
        ("10:00", BED_B),
        ("10:30", BED_A),
        ("10:45", BED_A),
        ("11:00", BED_A),
    ]


def test_a_busy_interval_given_in_another_zone_is_compared_as_an_instant():
    toronto_busy = dt.datetime(2026, 1, 5, 12, 0, tzinfo=TORONTO)  # 09:00 in Vancouver
    busy = {PHYSIO: (Busy(toronto_busy, toronto_busy + dt.timedelta(hours=1)),)}
    slots = find_slots(query(shift("09:00", "11:00"), practitioner_busy=busy))
    assert local_starts(slots) == ["10:00", "10:15", "10:30"]
