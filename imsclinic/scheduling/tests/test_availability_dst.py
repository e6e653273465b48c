"""The availability engine on daylight-saving change days, and its properties (hypothesis)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imsclinic.scheduling.availability import (
    AvailabilityQuery,
    Busy,
    LocationInfo,
    PractitionerInfo,
    ServiceInfo,
    ShiftRule,
    Slot,
    boundary_instant,
    find_slots,
    slot_is_offered,
    wall_instant,
)
from tests.factories import VANCOUVER

PHYSIO = 1
CLINIC = 10
HOUR = dt.timedelta(hours=1)


class ChangeDay(NamedTuple):
    zone: str
    day: dt.date
    change_at: str  # wall time at which the clocks move
    offset_before: dt.timedelta
    offset_after: dt.timedelta


SPRING = [
    ChangeDay("America/Vancouver", dt.date(2026, 3, 8), "02:00", -8 * HOUR, -7 * HOUR),
    ChangeDay("America/Toronto", dt.date(2026, 3, 8), "02:00", -5 * HOUR, -4 * HOUR),
    ChangeDay("Europe/London", dt.date(2026, 3, 29), "01:00", 0 * HOUR, 1 * HOUR),
]
AUTUMN = [
    ChangeDay("America/Vancouver", dt.date(2026, 11, 1), "02:00", -7 * HOUR, -8 * HOUR),
    ChangeDay("America/Toronto", dt.date(2026, 11, 1), "02:00", -4 * HOUR, -5 * HOUR),
    ChangeDay("Europe/London", dt.date(2026, 10, 25), "02:00", 1 * HOUR, 0 * HOUR),
]


def day_query(
    change: ChangeDay, start: str, end: str, *, minutes: int = 30, **extra: object
) -> AvailabilityQuery:
    return AvailabilityQuery(
        service=ServiceInfo(minutes, needs_room=False),
        start_date=change.day,
        days=1,
        now=dt.datetime.combine(change.day, dt.time(0), dt.UTC) - dt.timedelta(days=7),
        practitioners=(PractitionerInfo(PHYSIO),),
        locations=(LocationInfo(CLINIC, change.zone),),
        shifts=(
            ShiftRule(
                PHYSIO,
                CLINIC,
                change.day.weekday(),
                dt.time.fromisoformat(start),
                dt.time.fromisoformat(end),
                valid_from=dt.date(2026, 1, 1),
            ),
        ),
        **extra,  # type: ignore[arg-type]
    )


def walls(slots: list[Slot]) -> list[str]:
    return [s.start.strftime("%H:%M") for s in slots]


def real_minutes(slot: Slot) -> float:
    return (slot.end.timestamp() - slot.start.timestamp()) / 60


def ids(change: ChangeDay) -> str:
    return f"{change.zone}-{change.day}"


@pytest.mark.parametrize("change", SPRING, ids=ids)
def test_a_morning_shift_on_the_spring_day_keeps_its_wall_times_with_the_summer_offset(change):
    slots = find_slots(day_query(change, "08:00", "12:00"))
    grid = [f"{h:02d}:{m:02d}" for h in range(8, 12) for m in (0, 15, 30, 45)]
    assert walls(slots) == grid[: grid.index("11:30") + 1]
    assert {s.start.utcoffset() for s in slots} == {change.offset_after}
    assert all(s.start.tzinfo == ZoneInfo(change.zone) for s in slots)
    assert all(real_minutes(s) == 30 for s in slots)


@pytest.mark.parametrize("change", SPRING, ids=ids)
def test_no_wall_time_the_clocks_skip_is_offered_on_the_spring_day(change):
    skipped_hour = int(change.change_at[:2])
    start = f"{skipped_hour - 1:02d}:00"
    end = f"{skipped_hour + 2:02d}:00"
    slots = find_slots(day_query(change, start, end))
    # Three wall hours hold only two real hours: the first hour, then the one after the jump.
    before = [f"{skipped_hour - 1:02d}:{m:02d}" for m in (0, 15, 30, 45)]
    after = [f"{skipped_hour + 1:02d}:{m:02d}" for m in (0, 15, 30)]
    assert walls(slots) == before + after
    assert all(s.start.hour != skipped_hour for s in slots)
    assert all(real_minutes(s) == 30 for s in slots)
    last_before = slots[3]
    assert last_before.start.utcoffset() == change.offset_before
    assert last_before.end.utcoffset() == change.offset_after
    assert last_before.end.strftime("%H:%M") == f"{skipped_hour + 1:02d}:15"


@pytest.mark.parametrize("change", SPRING, ids=ids)
def test_a_shift_ending_inside_the_skipped_hour_ends_when_the_clocks_jump(change):
    skipped_hour = int(change.change_at[:2])
    slots = find_slots(day_query(change, f"{skipped_hour - 1:02d}:00", f"{skipped_hour:02d}:30"))
    assert walls(slots) == [f"{skipped_hour - 1:02d}:{m:02d}" for m in (0, 15, 30)]
    assert slots[-1].end.strftime("%H:%M") == f"{skipped_hour + 1:02d}:00"


@pytest.mark.parametrize("change", SPRING, ids=ids)
def test_a_shift_ending_as_the_clocks_jump_ends_its_last_visit_at_the_new_wall_time(change):
    skipped_hour = int(change.change_at[:2])
    slots = find_slots(day_query(change, f"{skipped_hour - 1:02d}:00", change.change_at))
    assert walls(slots) == [f"{skipped_hour - 1:02d}:{m:02d}" for m in (0, 15, 30)]
    last = slots[-1]
    assert last.end.strftime("%H:%M") == f"{skipped_hour + 1:02d}:00"
    assert last.end.utcoffset() == change.offset_after
    assert real_minutes(last) == 30


@pytest.mark.parametrize("change", SPRING, ids=ids)
def test_a_shift_starting_inside_the_skipped_hour_starts_when_the_clocks_jump(change):
    skipped_hour = int(change.change_at[:2])
    slots = find_slots(day_query(change, f"{skipped_hour:02d}:30", f"{skipped_hour + 1:02d}:30"))
    # The grid stays anchored at the rule's wall start, so it resumes at :30 after the jump.
    assert walls(slots) == [f"{skipped_hour + 1:02d}:00"]
    assert all(s.start.utcoffset() == change.offset_after for s in slots)


@pytest.mark.parametrize("change", AUTUMN, ids=ids)
def test_on_the_autumn_day_each_wall_time_is_offered_once_and_lasts_its_real_duration(change):
    repeated = int(change.change_at[:2]) - 1
    slots = find_slots(day_query(change, f"{repeated - 1:02d}:30", f"{repeated + 2:02d}:00"))
    expected = [f"{repeated - 1:02d}:{m:02d}" for m in (30, 45)]
    expected += [f"{repeated:02d}:{m:02d}" for m in (0, 15, 30, 45)]
    expected += [f"{repeated + 1:02d}:{m:02d}" for m in (0, 15, 30)]
    assert walls(slots) == expected
    assert len(set(walls(slots))) == len(slots)
    assert all(real_minutes(s) == 30 for s in slots)
    # The repeated hour is offered at its first occurrence, with the summer offset.
    first_pass = [s for s in slots if s.start.hour == repeated]
    assert {s.start.utcoffset() for s in first_pass} == {change.offset_before}
    assert {s.start.fold for s in slots} == {0}
    assert [s.start.timestamp() for s in slots] == sorted(s.start.timestamp() for s in slots)


@pytest.mark.parametrize("change", AUTUMN, ids=ids)
def test_an_hour_long_visit_in_the_repeated_hour_ends_at_the_same_wall_time_an_hour_later(
    change,
):
    repeated = int(change.change_at[:2]) - 1
    slots = find_slots(
        day_query(change, f"{repeated:02d}:30", f"{repeated + 2:02d}:00", minutes=60)
    )
    first = slots[0]
    assert first.start.strftime("%H:%M") == first.end.strftime("%H:%M") == f"{repeated:02d}:30"
    assert first.start.utcoffset() == change.offset_before
    assert first.end.utcoffset() == change.offset_after
    assert first.end.fold == 1
    assert real_minutes(first) == 60


@pytest.mark.parametrize("change", AUTUMN, ids=ids)
def test_a_morning_shift_on_the_autumn_day_uses_the_winter_offset(change):
    slots = find_slots(day_query(change, "08:00", "09:00"))
    assert walls(slots) == ["08:00", "08:15", "08:30"]
    assert {s.start.utcoffset() for s in slots} == {change.offset_after}


@pytest.mark.parametrize("change", AUTUMN, ids=ids)
def test_an_appointment_in_the_second_pass_of_the_repeated_hour_blocks_the_right_slots(change):
    repeated = int(change.change_at[:2]) - 1
    zone = ZoneInfo(change.zone)
    second_pass = dt.datetime.combine(change.day, dt.time(repeated, 0), zone).replace(fold=1)
    # Aware arithmetic in one zone works on wall time and drops the fold, so add in UTC.
    begin = second_pass.astimezone(dt.UTC)
    busy = {PHYSIO: (Busy(begin, begin + dt.timedelta(minutes=30)),)}
    slots = find_slots(
        day_query(change, f"{repeated:02d}:00", f"{repeated + 2:02d}:00", practitioner_busy=busy)
    )
    # First-pass starts up to :30 finish by the time the clocks go back; :45 would run into
    # the appointment at the start of the second pass.
    assert walls(slots) == [
        f"{repeated:02d}:00",
        f"{repeated:02d}:15",
        f"{repeated:02d}:30",
        f"{repeated + 1:02d}:00",
        f"{repeated + 1:02d}:15",
        f"{repeated + 1:02d}:30",
    ]
    taken = busy[PHYSIO][0]
    # Compare instants: same-zone datetimes compare by wall time and would ignore the fold.
    assert all(
        not (
            s.start.timestamp() < taken.end.timestamp()
            and taken.start.timestamp() < s.end.timestamp()
        )
        for s in slots
    )


@pytest.mark.parametrize("change", SPRING, ids=ids)
def test_slot_is_offered_refuses_a_skipped_wall_time_even_if_it_reads_as_a_grid_instant(change):
    skipped_hour = int(change.change_at[:2])
    q = day_query(change, f"{skipped_hour - 1:02d}:00", f"{skipped_hour + 2:02d}:00")
    zone = ZoneInfo(change.zone)
    skipped = dt.datetime.combine(change.day, dt.time(skipped_hour, 30), zone)
    after_jump = dt.datetime.combine(change.day, dt.time(skipped_hour + 1, 30), zone)
    assert skipped.timestamp() == after_jump.timestamp()  # how Python reads a skipped time
    assert slot_is_offered(q, PHYSIO, CLINIC, skipped) is None
    assert slot_is_offered(q, PHYSIO, CLINIC, after_jump) is not None


def test_a_skipped_boundary_means_the_moment_the_clocks_jump():
    zone = VANCOUVER
    jump = dt.datetime(2026, 3, 8, 10, 0, tzinfo=dt.UTC).timestamp()
    assert wall_instant(dt.datetime(2026, 3, 8, 2, 30), zone) is None
    assert boundary_instant(dt.datetime(2026, 3, 8, 2, 30), zone) == jump
    assert boundary_instant(dt.datetime(2026, 3, 8, 2, 0), zone) == jump
    assert boundary_instant(dt.datetime(2026, 3, 8, 3, 0), zone) == jump
    assert boundary_instant(dt.datetime(2026, 3, 8, 1, 59), zone) == jump - 60


# --- properties -------------------------------------------------------------------------

ZONES = ["America/Vancouver", "America/Toronto", "Europe/London", "UTC"]
DAYS = [c.day for c in SPRING + AUTUMN] + [dt.date(2026, 1, 5), dt.date(2026, 7, 1)]
ROOMS = (100, 101)


@st.composite
def wall_span(draw: st.DrawFn, *, min_minutes: int = 0) -> tuple[dt.time, dt.time]:
    start = draw(st.integers(min_value=0, max_value=23 * 12 - 1)) * 5
    length = draw(st.integers(min_value=max(1, min_minutes // 5), max_value=14 * 12)) * 5
    end = min(start + length, 24 * 60 - 5)
    return dt.time(start // 60, start % 60), dt.time(end // 60, end % 60)


@st.composite
def shift_rules(draw: st.DrawFn, start_date: dt.date) -> tuple[ShiftRule, ...]:
    rules = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        practitioner = draw(st.sampled_from([1, 2]))
        location = draw(st.sampled_from([10, 20]))
        start, end = draw(wall_span())
        breaks = tuple(draw(st.lists(wall_span(), max_size=2)))
        weekday = (start_date + dt.timedelta(days=draw(st.integers(0, 2)))).weekday()
        rules.append(
            ShiftRule(practitioner, location, weekday, start, end, start_date, None, breaks)
        )
    return tuple(rules)


@st.composite
def busy_lists(draw: st.DrawFn, start_date: dt.date, keys: tuple[int, ...]) -> dict:
    origin = dt.datetime.combine(start_date, dt.time(0), dt.UTC) - dt.timedelta(hours=14)
    result = {}
    for key in keys:
        intervals = []
        for _ in range(draw(st.integers(min_value=0, max_value=8))):
            begin = origin + dt.timedelta(minutes=5 * draw(st.integers(0, 12 * 24 * 4)))
            length = dt.timedelta(minutes=5 * draw(st.integers(1, 36)))
            intervals.append(Busy(begin, begin + length))
        result[key] = tuple(intervals)
    return result


@st.composite
def queries(draw: st.DrawFn) -> AvailabilityQuery:
    start_date = draw(st.sampled_from(DAYS))
    needs_room = draw(st.booleans())
    service = ServiceInfo(
        duration_minutes=draw(st.sampled_from([15, 20, 30, 45, 60, 90])),
        buffer_minutes=draw(st.sampled_from([0, 5, 10, 15])),
        needs_room=needs_room,
        min_notice=dt.timedelta(0),
    )
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=2, max_size=2))
    return AvailabilityQuery(
        service=service,
        start_date=start_date,
        days=3,
        now=dt.datetime.combine(start_date, dt.time(0), dt.UTC) - dt.timedelta(days=2),
        practitioners=(PractitionerInfo(1), PractitionerInfo(2)),
        locations=(
            LocationInfo(10, zones[0], room_ids=ROOMS),
            LocationInfo(20, zones[1], room_ids=ROOMS[:1]),
        ),
        shifts=draw(shift_rules(start_date)),
        practitioner_busy=draw(busy_lists(start_date, (1, 2))),
        practitioner_time_off=draw(busy_lists(start_date, (1, 2))),
        room_busy=draw(busy_lists(start_date, ROOMS)),
        step_minutes=draw(st.sampled_from([5, 10, 15, 20, 30])),
    )


def occupied(query: AvailabilityQuery, slot: Slot) -> tuple[float, float]:
    begin = slot.start.timestamp()
    service = query.service
    return begin, begin + 60 * (service.duration_minutes + service.buffer_minutes)


def overlaps(span: tuple[float, float], busy: Busy) -> bool:
    return span[0] < busy.end.timestamp() and busy.start.timestamp() < span[1]


def covering_rules(query: AvailabilityQuery, slot: Slot) -> list[ShiftRule]:
    """List the rules whose shift-minus-breaks holds the slot and whose grid it lies on."""
    zone = slot.start.tzinfo
    assert isinstance(zone, ZoneInfo)
    wall = slot.start.replace(tzinfo=None)
    span = occupied(query, slot)
    found = []
    for rule in query.shifts:
        if (rule.practitioner_id, rule.location_id, rule.weekday) != (
            slot.practitioner_id,
            slot.location_id,
            wall.weekday(),
        ):
            continue
        rule_start = dt.datetime.combine(wall.date(), rule.start)
        on_grid = (wall - rule_start) % dt.timedelta(minutes=query.step_minutes) == dt.timedelta(0)
        inside = boundary_instant(rule_start, zone) <= span[0] and span[1] <= boundary_instant(
            dt.datetime.combine(wall.date(), rule.end), zone
        )
        clear_of_breaks = all(
            not (
                span[0] < boundary_instant(dt.datetime.combine(wall.date(), b1), zone)
                and boundary_instant(dt.datetime.combine(wall.date(), b0), zone) < span[1]
            )
            for b0, b1 in rule.breaks
        )
        if wall >= rule_start and on_grid and inside and clear_of_breaks:
            found.append(rule)
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_every_slot_satisfies_the_rules_whatever_the_schedule(query):
    slots = find_slots(query)
    zones = {loc.location_id: ZoneInfo(loc.time_zone) for loc in query.locations}
    duration = 60 * query.service.duration_minutes
    keys = [(s.start.timestamp(), s.practitioner_id, s.location_id) for s in slots]
    assert keys == sorted(set(keys))
    for index, slot in enumerate(slots):
        span = occupied(query, slot)
        assert slot.start.tzinfo == zones[slot.location_id]
        assert slot.end.tzinfo == zones[slot.location_id]
        assert slot.end.timestamp() - slot.start.timestamp() == duration
        # The start is a wall time that really exists, read at its first occurrence.
        assert wall_instant(slot.start.replace(tzinfo=None), zones[slot.location_id]) == span[0]
        practitioner_busy = query.practitioner_busy[slot.practitioner_id]
        time_off = query.practitioner_time_off[slot.practitioner_id]
        assert not any(overlaps(span, b) for b in practitioner_busy + time_off)
        if query.service.needs_room:
            assert slot.room_id is not None
            assert not any(overlaps(span, b) for b in query.room_busy[slot.room_id])
            rooms = next(
                loc.room_ids for loc in query.locations if loc.location_id == slot.location_id
            )
            earlier_rooms = rooms[: rooms.index(slot.room_id)]
            assert all(any(overlaps(span, b) for b in query.room_busy[r]) for r in earlier_rooms)
        else:
            assert slot.room_id is None
        assert covering_rules(query, slot), f"{slot} lies outside every shift"
        if index % 10 == 0:  # the re-check is a whole day's search; a sample is enough
            assert (
                slot_is_offered(query, slot.practitioner_id, slot.location_id, slot.start) == slot
            )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_freeing_every_busy_interval_never_loses_a_slot(query):
    offered = {(s.start.timestamp(), s.practitioner_id, s.location_id) for s in find_slots(query)}
    free = AvailabilityQuery(
        service=query.service,
        start_date=query.start_date,
        days=query.days,
        now=query.now,
        practitioners=query.practitioners,
        locations=query.locations,
        shifts=query.shifts,
        step_minutes=query.step_minutes,
    )
    everything = find_slots(free)
    assert offered <= {(s.start.timestamp(), s.practitioner_id, s.location_id) for s in everything}
    # ... and every free candidate that collides with nothing is still offered.
    for slot in everything:
        span = occupied(query, slot)
        person = (
            query.practitioner_busy[slot.practitioner_id]
            + query.practitioner_time_off[slot.practitioner_id]
        )
        rooms = next(loc.room_ids for loc in query.locations if loc.location_id == slot.location_id)
        room_free = not query.service.needs_room or any(
            not any(overlaps(span, b) for b in query.room_busy[r]) for r in rooms
        )
        if room_free and not any(overlaps(span, b) for b in person):
            assert (slot.start.timestamp(), slot.practitioner_id, slot.location_id) in offered


def naive_grid(query: AvailabilityQuery) -> set[tuple[float, int, int]]:
    """Walk every grid wall time of every shift the slow, obvious way (nothing is busy)."""
    expected = set()
    service = query.service
    occupied_seconds = 60 * (service.duration_minutes + service.buffer_minutes)
    locations = {loc.location_id: loc for loc in query.locations}
    for offset in range(query.days):
        day = query.start_date + dt.timedelta(days=offset)
        for rule in query.shifts:
            if rule.weekday != day.weekday() or day < rule.valid_from:
                continue
            location = locations[rule.location_id]
            if service.needs_room and not location.room_ids:
                continue
            zone = ZoneInfo(location.time_zone)
            shift_end = boundary_instant(dt.datetime.combine(day, rule.end), zone)
            breaks = [
                (
                    boundary_instant(dt.datetime.combine(day, b0), zone),
                    boundary_instant(dt.datetime.combine(day, b1), zone),
                )
                for b0, b1 in rule.breaks
            ]
            wall = dt.datetime.combine(day, rule.start)
            while wall < dt.datetime.combine(day, rule.end):
                moment = wall.replace(tzinfo=zone).astimezone(dt.UTC)
                exists = moment.astimezone(zone).replace(tzinfo=None) == wall
                begin = moment.timestamp()
                finish = begin + occupied_seconds
                if (
                    exists
                    and finish <= shift_end
                    and query.now + service.min_notice <= moment <= query.now + service.horizon
                    and not any(b0 < finish and begin < b1 for b0, b1 in breaks)
                ):
                    expected.add((begin, rule.practitioner_id, rule.location_id))
                wall += dt.timedelta(minutes=query.step_minutes)
    return expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_with_nothing_booked_every_grid_start_that_fits_its_shift_is_offered(query):
    free = AvailabilityQuery(
        service=query.service,
        start_date=query.start_date,
        days=query.days,
        now=query.now,
        practitioners=query.practitioners,
        locations=query.locations,
        shifts=query.shifts,
        step_minutes=query.step_minutes,
    )
    offered = {(s.start.timestamp(), s.practitioner_id, s.location_id) for s in find_slots(free)}
    assert offered == naive_grid(free)
