"""Which appointment times can be offered: plain data in, slots out (no ORM, no request).

Everything here is pure so that it can be tested exhaustively (DST days, hypothesis) and
timed on its own. `scheduling.selectors` loads the rows and calls `find_slots`.

Rules, in the order they are applied:

- A shift rule applies on each searched local day with its weekday inside
  valid_from..valid_until (both inclusive), unless the location is closed that day. Shifts
  never cross midnight; a rule whose end is not after its start is ignored.
- Candidate starts lie on a grid in local wall time: shift start + k * step.
- The practitioner (and the room, if any) is occupied for duration + buffer. That whole span
  must lie inside the shift, outside every break, and clear of the practitioner's busy
  intervals and time off. Intervals are half-open, so an appointment may start exactly when
  another one (or a break) ends.
- A start must not be earlier than now + min_notice nor later than now + horizon.
- IMS services are offered only on local days when every licence needling needs at that
  location is current: registration practising and unexpired, IMS certificate, and where the
  location requires one the needling authorisation. The rule is `clinic.licences`
  (`needling_gaps`), the same one `Practitioner.needling_gaps` asks.
- A service that needs a room is offered only when one of the location's rooms is free for
  duration + buffer; the first free room in the given order is named in the slot. A location
  without any such room offers nothing for that service.
- When the search is for one patient, a slot (start to end, without the buffer) must not
  overlap any of that patient's own visits: nobody is in two places at once.

Daylight saving time (the explicit rule):

- Local wall times are turned into instants with zoneinfo. A grid wall time that does not
  exist (the hour skipped in spring) is never offered.
- An ambiguous wall time (the hour repeated in autumn) is read as its first occurrence
  (fold=0) and offered once. The second pass through that hour therefore yields no new
  starts, though a slot begun in the first pass may run on into it.
- A shift or break boundary that falls in the skipped hour means the moment the clocks jump.
- Durations are real elapsed time: a slot's end is its start instant plus the duration,
  converted back to the location's zone (so it may carry the other UTC offset).
- Slot start and end carry tzinfo=ZoneInfo(location.time_zone), so callers can show the
  zone's name and the correct offset. Compare or subtract them as instants (e.g. via
  .timestamp() or after astimezone(UTC)): within one zone Python compares wall times.

Speed: busy intervals become merged, sorted lists of UTC timestamps searched with bisect. On
a shift without a clock change the grid is plain arithmetic and a blocked start jumps straight
past whatever blocks it, so zoneinfo is consulted per shift-day, not per candidate.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from imsclinic.clinic.licences import Licences, RegistrationStatus, may_needle


@dataclass(frozen=True)
class ShiftRule:
    """A weekly working period of one practitioner at one location, in local wall time."""

    practitioner_id: int
    location_id: int
    weekday: int  # Monday 0 .. Sunday 6
    start: dt.time
    end: dt.time
    valid_from: dt.date
    valid_until: dt.date | None = None  # inclusive; None: open-ended
    breaks: tuple[tuple[dt.time, dt.time], ...] = ()  # local wall-time pauses inside the shift


@dataclass(frozen=True)
class Busy:
    """A period (aware datetimes) when a practitioner or a room is taken, buffer included."""

    start: dt.datetime
    end: dt.datetime


# A busy period given either as a Busy or as its (start, end) UTC timestamps, which is what
# `datetime.timestamp()` returns for its bounds. The selector hands over the timestamps: a
# search reads thousands of busy rows, and building datetimes only to turn them back into
# numbers costs more than the search itself.
BusyTime = Busy | tuple[float, float]


@dataclass(frozen=True)
class PractitionerInfo:
    practitioner_id: int
    ims_certified_on: dt.date | None = None
    ims_certification_expires_on: dt.date | None = None  # first day it is no longer valid
    registration_status: str = RegistrationStatus.PRACTISING
    registration_expires_on: dt.date | None = None
    needling_authorised_on: dt.date | None = None
    needling_authorisation_expires_on: dt.date | None = None

    @property
    def licences(self) -> Licences:
        return Licences(
            registration_status=self.registration_status,
            registration_expires_on=self.registration_expires_on,
            ims_certified_on=self.ims_certified_on,
            ims_certification_expires_on=self.ims_certification_expires_on,
            needling_authorised_on=self.needling_authorised_on,
            needling_authorisation_expires_on=self.needling_authorisation_expires_on,
        )


@dataclass(frozen=True)
class LocationInfo:
    location_id: int
    time_zone: str  # IANA name
    # Rooms of the kind the service needs, tried in this order. Ignored when the service
    # needs no room; when it does, a location with no rooms here offers nothing.
    room_ids: tuple[int, ...] = ()
    closures: tuple[tuple[dt.date, dt.date], ...] = ()  # inclusive local-date ranges
    needling_authorisation_required: bool = False  # `Location.needs_needling_authorisation`


@dataclass(frozen=True)
class ServiceInfo:
    duration_minutes: int
    buffer_minutes: int = 0
    requires_ims_credential: bool = False
    needs_room: bool = True
    min_notice: dt.timedelta = dt.timedelta(hours=12)
    horizon: dt.timedelta = dt.timedelta(days=90)


@dataclass(frozen=True)
class AvailabilityQuery:
    service: ServiceInfo
    start_date: dt.date  # first local day to search (in each location's own zone)
    days: int
    now: dt.datetime  # aware
    practitioners: tuple[PractitionerInfo, ...]
    locations: tuple[LocationInfo, ...]
    shifts: tuple[ShiftRule, ...]
    practitioner_busy: dict[int, tuple[BusyTime, ...]] = field(default_factory=dict)
    practitioner_time_off: dict[int, tuple[BusyTime, ...]] = field(default_factory=dict)
    room_busy: dict[int, tuple[BusyTime, ...]] = field(default_factory=dict)
    step_minutes: int = 15
    # When booking for one patient: their own active visits (start to end, no buffer). A
    # patient is never in two visits at once, so no slot may overlap one of these.
    patient_busy: tuple[BusyTime, ...] = ()


@dataclass(frozen=True, order=True)
class Slot:
    start: dt.datetime  # aware, in the location's zone
    end: dt.datetime  # start + duration (the buffer is not shown to patients)
    practitioner_id: int
    location_id: int
    room_id: int | None  # a free room of the needed kind, or None when none is needed


# Busy intervals as two parallel sorted lists of UTC timestamps (starts, ends), merged so that
# they do not overlap; then the ends are sorted too and one bisect answers an overlap question.
_Timeline = tuple[list[float], list[float]]


def find_slots(query: AvailabilityQuery) -> list[Slot]:
    """Return every bookable slot for the query, sorted by start, practitioner, location."""
    if query.step_minutes <= 0:
        raise ValueError("step_minutes must be positive")
    if query.service.duration_minutes <= 0:
        raise ValueError("duration_minutes must be positive")
    if query.now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    slots = _Search(query).run()
    if not query.patient_busy:
        return slots
    own = _timeline(
        busy if isinstance(busy, tuple) else (busy.start.timestamp(), busy.end.timestamp())
        for busy in query.patient_busy
    )
    return [
        slot
        for slot in slots
        if _blocked_until(own, slot.start.timestamp(), slot.end.timestamp()) is None
    ]


def slot_is_offered(
    query: AvailabilityQuery, practitioner_id: int, location_id: int, start: dt.datetime
) -> Slot | None:
    """Return the slot if exactly this start is offered, else None.

    Only the local day of `start` at the location is searched; the query's own start_date and
    days are ignored, but its busy lists, time off and `now` are used as given. Starts are
    compared as instants, so any zone or offset will do; a skipped wall time is never offered.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if start.astimezone(dt.UTC).astimezone(start.tzinfo).replace(tzinfo=None) != start.replace(
        tzinfo=None
    ):
        return None  # a wall time the clocks skip names no real moment
    location = next((loc for loc in query.locations if loc.location_id == location_id), None)
    if location is None:
        return None
    day = start.astimezone(ZoneInfo(location.time_zone)).date()
    narrowed = replace(
        query,
        start_date=day,
        days=1,
        practitioners=tuple(p for p in query.practitioners if p.practitioner_id == practitioner_id),
        locations=(location,),
        shifts=tuple(
            s
            for s in query.shifts
            if s.practitioner_id == practitioner_id and s.location_id == location_id
        ),
    )
    target = start.timestamp()
    for slot in find_slots(narrowed):
        if slot.start.timestamp() == target:
            return slot
    return None


def credential_current_on(
    practitioner: PractitionerInfo, day: dt.date, location: LocationInfo | None = None
) -> bool:
    """Say whether the practitioner may needle on the given local day (at the location)."""
    return may_needle(
        practitioner.licences,
        day,
        authorisation_required=location is not None and location.needling_authorisation_required,
    )


def wall_instant(wall: dt.datetime, zone: ZoneInfo) -> float | None:
    """Return the UTC timestamp of a naive local wall time, or None if the clock skips it."""
    # fold=0 picks the first occurrence of an ambiguous time; a skipped time does not survive
    # the round trip back to wall time.
    stamp = wall.replace(tzinfo=zone, fold=0).timestamp()
    if dt.datetime.fromtimestamp(stamp, zone).replace(tzinfo=None) != wall:
        return None
    return stamp


def boundary_instant(wall: dt.datetime, zone: ZoneInfo) -> float:
    """Return the instant a shift or break boundary means, even inside a skipped hour."""
    stamp = wall_instant(wall, zone)
    if stamp is not None:
        return stamp
    # Inside the gap the boundary is the moment the clock jumps over it: the first instant
    # whose wall time is not before `wall`. Both readings of the gap bracket that moment.
    readings = (
        wall.replace(tzinfo=zone, fold=0).timestamp(),
        wall.replace(tzinfo=zone, fold=1).timestamp(),
    )
    low, high = int(min(readings)), math.ceil(max(readings))
    while low < high:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle + 1
    return float(low)


def _timeline(intervals: Iterable[tuple[float, float]]) -> _Timeline:
    """Merge (start, end) timestamp pairs, in any order, into a timeline."""
    pairs = sorted(intervals)
    starts: list[float] = []
    ends: list[float] = []
    for begin, finish in pairs:
        if finish <= begin:
            continue
        if ends and begin <= ends[-1]:
            # Touching or overlapping intervals merge; a touching gap has no room for a slot.
            if finish > ends[-1]:
                ends[-1] = finish
        else:
            starts.append(begin)
            ends.append(finish)
    return starts, ends


def _blocked_until(timeline: _Timeline, begin: float, finish: float) -> float | None:
    """Return when the interval that overlaps [begin, finish) ends, or None if it is free."""
    starts, ends = timeline
    index = bisect_right(ends, begin)  # first interval that ends after `begin`
    if index < len(starts) and starts[index] < finish:
        return ends[index]
    return None


def _free_room(
    rooms: list[tuple[int, _Timeline]], begin: float, finish: float
) -> tuple[int | None, float | None]:
    """Return the first free room, or None and the soonest moment one of them frees up."""
    soonest: float | None = None
    for room_id, (starts, ends) in rooms:
        # _blocked_until, inlined: this runs for every bed at every free candidate start.
        index = bisect_right(ends, begin)
        if index < len(starts) and starts[index] < finish:
            blocked_until = ends[index]
            if soonest is None or blocked_until < soonest:
                soonest = blocked_until
        else:
            return room_id, None
    return None, soonest


def _subtract(
    start: float, end: float, holes: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Return [start, end) minus the holes, as sorted disjoint stretches."""
    stretches = []
    cursor = start
    for low, high in sorted(holes):
        if low > cursor:
            stretches.append((cursor, min(low, end)))
        cursor = max(cursor, high)
    if cursor < end:
        stretches.append((cursor, end))
    return [(low, high) for low, high in stretches if high > low]


class _Search:
    """One run of the engine; caches per-practitioner and per-room timelines."""

    def __init__(self, query: AvailabilityQuery) -> None:
        self.query = query
        service = query.service
        self.step = query.step_minutes * 60
        self.step_delta = dt.timedelta(minutes=query.step_minutes)
        self.offsets: list[dt.timedelta] = []
        self.shown_delta = dt.timedelta(minutes=service.duration_minutes)
        self.shown = service.duration_minutes * 60
        self.occupied = (service.duration_minutes + service.buffer_minutes) * 60
        self.earliest = (query.now + service.min_notice).timestamp()
        self.latest = (query.now + service.horizon).timestamp()
        self.practitioners = {p.practitioner_id: p for p in query.practitioners}
        self.locations = {loc.location_id: loc for loc in query.locations}
        self.zones = {loc.location_id: ZoneInfo(loc.time_zone) for loc in query.locations}
        self.days_by_weekday: dict[int, list[dt.date]] = {}
        for offset in range(max(query.days, 0)):
            day = query.start_date + dt.timedelta(days=offset)
            self.days_by_weekday.setdefault(day.weekday(), []).append(day)
        self.practitioner_timelines: dict[int, _Timeline] = {}
        self.room_timelines: dict[int, _Timeline] = {}
        self.location_rooms: dict[int, list[tuple[int, _Timeline]]] = {}
        self.instants: dict[int, tuple[float, float]] = {}  # id(Busy) -> timestamps
        # Practitioners at one location share shift times: each wall time is converted once.
        self.boundaries: dict[tuple[int, dt.date, dt.time], tuple[float, bool]] = {}
        # Practitioners at one location ask for the same starts: each answer is kept.
        self.free_rooms: dict[tuple[int, float], tuple[int | None, float | None]] = {}
        self.found: dict[tuple[float, int, int], Slot] = {}

    def run(self) -> list[Slot]:
        service = self.query.service
        for rule in self.query.shifts:
            practitioner = self.practitioners.get(rule.practitioner_id)
            location = self.locations.get(rule.location_id)
            if practitioner is None or location is None or rule.start >= rule.end:
                continue
            if service.needs_room and not location.room_ids:
                continue
            for day in self.days_by_weekday.get(rule.weekday, ()):
                if day < rule.valid_from or (rule.valid_until and day > rule.valid_until):
                    continue
                if location.closures and any(
                    first <= day <= last for first, last in location.closures
                ):
                    continue
                if service.requires_ims_credential and not credential_current_on(
                    practitioner, day, location
                ):
                    continue
                self._offer_shift_day(rule, location, day)
        return [self.found[key] for key in sorted(self.found)]

    def _practitioner_timeline(self, practitioner_id: int) -> _Timeline:
        timeline = self.practitioner_timelines.get(practitioner_id)
        if timeline is None:
            timeline = _timeline(
                self._instants(
                    itertools.chain(
                        self.query.practitioner_busy.get(practitioner_id, ()),
                        self.query.practitioner_time_off.get(practitioner_id, ()),
                    )
                )
            )
            self.practitioner_timelines[practitioner_id] = timeline
        return timeline

    def _instants(self, intervals: Iterable[BusyTime]) -> list[tuple[float, float]]:
        """Return the intervals as UTC timestamp pairs, converting each Busy object once."""
        # A visit in a room is usually the very same Busy object in its practitioner's list
        # and in its room's; the query keeps every one alive, so its id() names it meanwhile.
        intervals = list(intervals)
        if all(type(busy) is tuple for busy in intervals):
            return intervals  # type: ignore[return-value]  # timestamps already
        known = self.instants
        pairs = []
        for busy in intervals:
            if isinstance(busy, tuple):
                pairs.append(busy)
                continue
            pair = known.get(id(busy))
            if pair is None:
                pair = known[id(busy)] = (busy.start.timestamp(), busy.end.timestamp())
            pairs.append(pair)
        return pairs

    def _room_timeline(self, room_id: int) -> _Timeline:
        timeline = self.room_timelines.get(room_id)
        if timeline is None:
            timeline = _timeline(self._instants(self.query.room_busy.get(room_id, ())))
            self.room_timelines[room_id] = timeline
        return timeline

    def _rooms(self, location: LocationInfo) -> list[tuple[int, _Timeline]]:
        """Return the location's rooms with their timelines, in order (none if not needed)."""
        rooms = self.location_rooms.get(location.location_id)
        if rooms is None:
            rooms = (
                [(rid, self._room_timeline(rid)) for rid in location.room_ids]
                if self.query.service.needs_room
                else []
            )
            self.location_rooms[location.location_id] = rooms
        return rooms

    def _boundary(
        self, location_id: int, zone: ZoneInfo, day: dt.date, wall_time: dt.time
    ) -> tuple[float, bool]:
        """Return the instant a wall time means on a day, and whether that wall time exists."""
        key = (location_id, day, wall_time)
        known = self.boundaries.get(key)
        if known is None:
            wall = dt.datetime.combine(day, wall_time)
            stamp = wall_instant(wall, zone)
            known = (stamp, True) if stamp is not None else (boundary_instant(wall, zone), False)
            self.boundaries[key] = known
        return known

    def _offer_shift_day(self, rule: ShiftRule, location: LocationInfo, day: dt.date) -> None:
        location_id = location.location_id
        zone = self.zones[location_id]
        shift_start, start_exists = self._boundary(location_id, zone, day, rule.start)
        shift_end, plain_ends = self._boundary(location_id, zone, day, rule.end)
        first_allowed = max(shift_start, self.earliest)
        last_allowed = min(shift_end - self.occupied, self.latest)
        if last_allowed < first_allowed:
            return
        breaks = [
            (
                self._boundary(location_id, zone, day, b0)[0],
                self._boundary(location_id, zone, day, b1)[0],
            )
            for b0, b1 in rule.breaks
            if b1 > b0
        ]
        # A visit and its buffer must fit wholly inside one of these working stretches.
        stretches = (
            _subtract(shift_start, shift_end, breaks) if breaks else [(shift_start, shift_end)]
        )
        person = self._practitioner_timeline(rule.practitioner_id)
        rooms = self._rooms(location)
        step, occupied = self.step, self.occupied
        start_wall = dt.datetime.combine(day, rule.start)
        wall_seconds = (dt.datetime.combine(day, rule.end) - start_wall).total_seconds()

        if not start_exists or wall_seconds != shift_end - shift_start:
            # The clocks change during this shift: convert each grid wall time on its own.
            end_wall = dt.datetime.combine(day, rule.end)
            for wall, begin in self._dst_day_candidates(start_wall, end_wall, zone):
                finish = begin + occupied
                if not first_allowed <= begin <= last_allowed:
                    continue
                if not any(low <= begin and finish <= high for low, high in stretches):
                    continue
                if _blocked_until(person, begin, finish) is not None:
                    continue
                room_id, _ = _free_room(rooms, begin, finish)
                if rooms and room_id is None:
                    continue
                self._add(rule, location, zone, wall, begin, room_id)
            return

        # No clock change inside the shift: instants advance exactly with wall time, so the
        # grid is plain arithmetic, and a blocked start can jump straight past its blocker.
        # Aware arithmetic within one zone is wall-clock arithmetic, which is exact here; only
        # an end landing on the very moment the clocks jump needs a real conversion.
        aware_start = start_wall.replace(tzinfo=zone)
        offsets = self._grid_offsets(last_allowed - shift_start)
        person_starts, person_ends = person
        person_count = len(person_starts)
        found, free_rooms = self.found, self.free_rooms
        practitioner_id = rule.practitioner_id
        for low, high in stretches:
            k = max(0, math.ceil((max(low, first_allowed) - shift_start) / step))
            last_k = math.floor((min(high - occupied, last_allowed) - shift_start) / step)
            # The practitioner's first busy interval that ends after the first candidate;
            # candidates only move later, so this index only moves forward.
            index = bisect_right(person_ends, shift_start + k * step)
            while k <= last_k:
                begin = shift_start + k * step
                finish = begin + occupied
                while index < person_count and person_ends[index] <= begin:
                    index += 1
                if index < person_count and person_starts[index] < finish:
                    blocked_until: float | None = person_ends[index]
                else:
                    answer = free_rooms.get((location_id, begin))
                    if answer is None:
                        answer = _free_room(rooms, begin, finish)
                        free_rooms[(location_id, begin)] = answer
                    room_id, blocked_until = answer
                    if room_id is not None or not rooms:
                        key = (begin, practitioner_id, location_id)
                        if key not in found:
                            start = aware_start + offsets[k]
                            found[key] = Slot(
                                start=start,
                                end=start + self.shown_delta
                                if plain_ends
                                else dt.datetime.fromtimestamp(begin + self.shown, zone),
                                practitioner_id=practitioner_id,
                                location_id=location_id,
                                room_id=room_id,
                            )
                        k += 1
                        continue
                assert blocked_until is not None
                k = max(k + 1, math.ceil((blocked_until - shift_start) / step))

    def _grid_offsets(self, span: float) -> list[dt.timedelta]:
        """Return k * step as timedeltas for every k up to span, reusing earlier work."""
        needed = int(span // self.step) + 1
        offsets = self.offsets
        while len(offsets) < needed:
            offsets.append(len(offsets) * self.step_delta)
        return offsets

    def _add(
        self,
        rule: ShiftRule,
        location: LocationInfo,
        zone: ZoneInfo,
        wall: dt.datetime,
        begin: float,
        room_id: int | None,
    ) -> None:
        key = (begin, rule.practitioner_id, location.location_id)
        if key not in self.found:
            self.found[key] = Slot(
                start=wall.replace(tzinfo=zone, fold=0),
                end=dt.datetime.fromtimestamp(begin + self.shown, zone),
                practitioner_id=rule.practitioner_id,
                location_id=location.location_id,
                room_id=room_id,
            )

    def _dst_day_candidates(
        self, start_wall: dt.datetime, end_wall: dt.datetime, zone: ZoneInfo
    ) -> list[tuple[dt.datetime, float]]:
        """List grid wall times that exist, with their instants, on a day the clocks change."""
        candidates = []
        wall = start_wall
        while wall < end_wall:
            stamp = wall_instant(wall, zone)
            if stamp is not None:
                candidates.append((wall, stamp))
            wall += self.step_delta
        return candidates
