"""Build the staff calendar: a location's day as a grid of rows by practitioners, and its week.

Rows are real instants, a fixed number of elapsed minutes apart, from the earliest shift start
(or visit) to the latest end of the day in the location's zone. On a DST change day the grid
is therefore an hour shorter (spring) or longer (autumn): 02:00-03:00 never appears on the
spring day, and 01:00-02:00 appears twice in autumn, each labelled with its zone abbreviation.
Loading a range of days takes a fixed number of queries, whatever the number of visits.

Each visit knows whether the viewer sees whose it is (`Visit.shows_patient`, decided in the
query that loads the visits, by the rule for acting on a visit): the others are busy time.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from imsclinic.clinic.models import Location, Practitioner
from imsclinic.safety.selectors import visits_needing_review
from imsclinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClinicClosure,
    Shift,
    ShiftBreak,
    TimeOff,
)
from imsclinic.scheduling.selectors import with_patient_shown

Interval = tuple[dt.datetime, dt.datetime]
DASH = "\u2013"  # between the two times of a range

# Shown beside every status so it never depends on colour (aria-hidden in the page).
STATUS_ICONS: dict[str, str] = {
    AppointmentStatus.BOOKED: "○",
    AppointmentStatus.ARRIVED: "◐",
    AppointmentStatus.IN_TREATMENT: "◑",
    AppointmentStatus.COMPLETED: "●",
    AppointmentStatus.NO_SHOW: "⊘",
    AppointmentStatus.CANCELLED: "✕",
}
# Visits that keep their place in the grid; the rest are listed below it.
GRID_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.IN_TREATMENT,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
)


def mark_needs_review(visits: Iterable[Visit]) -> None:
    """Flag IMS visits still waiting for a practitioner's screening review (one query).

    Only visits the viewer sees by name: on busy time the mark would say something about a
    patient the viewer may not know of.
    """
    shown = [v for v in visits if v.shows_patient]
    waiting = visits_needing_review(v.appointment for v in shown)
    for visit in shown:
        visit.needs_review = visit.appointment.pk in waiting


def local_instant(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """Return the UTC instant of a wall-clock time on a day in a zone (first occurrence)."""
    return dt.datetime.combine(day, time, tzinfo=zone).astimezone(dt.UTC)


def day_bounds(day: dt.date, zone: ZoneInfo) -> Interval:
    """Return the UTC instants of the local day's first moment and the next day's."""
    return local_instant(day, dt.time(), zone), local_instant(
        day + dt.timedelta(days=1), dt.time(), zone
    )


def _subtract(intervals: list[Interval], cut: Interval) -> list[Interval]:
    out: list[Interval] = []
    for start, end in intervals:
        if cut[1] <= start or cut[0] >= end:
            out.append((start, end))
            continue
        if start < cut[0]:
            out.append((start, cut[0]))
        if cut[1] < end:
            out.append((cut[1], end))
    return out


def time_range_label(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> str:
    """Return '09:00 to 09:30 PST' with an en dash; two abbreviations across a DST change."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    first, second = local_start.tzname() or "", local_end.tzname() or ""
    if first == second:
        return f"{local_start:%H:%M}{DASH}{local_end:%H:%M} {first}"
    return f"{local_start:%H:%M} {first}{DASH}{local_end:%H:%M} {second}"


@dataclass
class Visit:
    """One appointment as the calendar shows it."""

    appointment: Appointment
    zone: ZoneInfo
    # Whether the viewer sees whose visit it is (and may act on it); if not, the page shows
    # busy time: service, bed, time and practitioner, no patient, no buttons, no marks.
    shows_patient: bool = False
    # Filled in by the page: the buttons this user sees, and what they may open.
    actions: list[Any] = field(default_factory=list)
    can_cancel: bool = False
    patient_link: bool = False
    # The visit's note (charting) for its own practitioner: needling on an IMS visit,
    # physiotherapy on any other.
    note_link: bool = False
    # An IMS visit whose patient has screening flags no practitioner has decided on yet.
    needs_review: bool = False

    @property
    def pk(self) -> int:
        return self.appointment.pk

    @cached_property
    def time_label(self) -> str:
        return time_range_label(self.appointment.start, self.appointment.end, self.zone)

    @cached_property
    def start_label(self) -> str:
        local = self.appointment.start.astimezone(self.zone)
        return f"{local:%H:%M} {local.tzname()}"

    @property
    def status_icon(self) -> str:
        return STATUS_ICONS.get(self.appointment.status, "")

    @property
    def is_cancelled(self) -> bool:
        return self.appointment.status == AppointmentStatus.CANCELLED


@dataclass
class Cell:
    """One cell of the day grid: a visit spanning rows, or an empty slot on or off shift."""

    kind: str  # "visit", "free" or "off"
    visit: Visit | None = None
    rowspan: int = 1


@dataclass
class Row:
    start: dt.datetime
    label: str
    cells: list[Cell] = field(default_factory=list)
    hour_start: bool = False


@dataclass
class Column:
    practitioner: Practitioner
    working: list[Interval] = field(default_factory=list)
    shift_labels: list[str] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)


@dataclass
class DayGrid:
    location: Location
    day: dt.date
    zone_label: str
    step: int
    columns: list[Column]
    rows: list[Row]
    visits: list[Visit]  # every visit of the day at the location, in time order
    unplaced: list[Visit]  # visits not in the grid (cancelled, or clashing with one that is)
    closure: ClinicClosure | None
    hours: float  # length of the local day in hours (23, 24 or 25)


@dataclass
class WeekCell:
    day: dt.date
    working: bool
    shift_labels: list[str]
    visits: list[Visit]


@dataclass
class WeekRow:
    practitioner: Practitioner
    cells: list[WeekCell]


@dataclass
class WeekGrid:
    location: Location
    days: list[dt.date]
    rows: list[WeekRow]
    closed_days: dict[dt.date, ClinicClosure]
    zone_label: str


@dataclass
class _Loaded:
    shifts: list[Shift]
    appointments: list[Appointment]
    time_off: dict[int, list[Interval]]
    closures: list[ClinicClosure]
    practitioners: dict[int, Practitioner]


def _shown(appointment: Appointment, zone: ZoneInfo) -> Visit:
    shows_patient = bool(getattr(appointment, "patient_shown", False))
    return Visit(appointment, zone, shows_patient=shows_patient)


def _load(
    location: Location,
    first_day: dt.date,
    last_day: dt.date,
    viewer: Any,
    *,
    starting_within: bool = False,
) -> _Loaded:
    """Load a location's shifts, visits, time off and closures for a range of days (5 queries).

    The visits are those overlapping the days, or with `starting_within` only those that start
    on them: what the calendars show, read through the index on (location, start) without
    reaching back into the location's history.
    """
    zone = location.zone
    window_start = day_bounds(first_day, zone)[0]
    window_end = day_bounds(last_day, zone)[1]
    shifts = list(
        Shift.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=first_day),
            location=location,
            practitioner__is_active=True,
            valid_from__lte=last_day,
        )
        .select_related("practitioner")
        .prefetch_related(Prefetch("breaks", queryset=ShiftBreak.objects.order_by("start_time")))
        .order_by("start_time", "pk")
    )
    appointments = list(
        with_patient_shown(
            Appointment.objects.filter(location=location, start__lt=window_end).filter(
                Q(start__gte=window_start) if starting_within else Q(end__gt=window_start)
            ),
            viewer,
        )
        .select_related("patient", "practitioner", "service", "room", "rescheduled_to__location")
        .order_by("start", "pk")
    )
    practitioners: dict[int, Practitioner] = {}
    for shift in shifts:
        practitioners.setdefault(shift.practitioner_id, shift.practitioner)
    for appointment in appointments:
        practitioners.setdefault(appointment.practitioner_id, appointment.practitioner)
    time_off: dict[int, list[Interval]] = {}
    if practitioners:
        for practitioner_id, begins, ends in TimeOff.objects.filter(
            practitioner_id__in=list(practitioners), start__lt=window_end, end__gt=window_start
        ).values_list("practitioner_id", "start", "end"):
            time_off.setdefault(practitioner_id, []).append((begins, ends))
    closures = list(
        ClinicClosure.objects.filter(
            location=location, first_day__lte=last_day, last_day__gte=first_day
        )
    )
    return _Loaded(shifts, appointments, time_off, closures, practitioners)


def _closure_on(loaded: _Loaded, day: dt.date) -> ClinicClosure | None:
    return next((c for c in loaded.closures if c.first_day <= day <= c.last_day), None)


def _shifts_on(loaded: _Loaded, day: dt.date) -> list[Shift]:
    return [
        s
        for s in loaded.shifts
        if s.weekday == day.weekday()
        and s.valid_from <= day
        and (s.valid_until is None or s.valid_until >= day)
    ]


@dataclass(frozen=True)
class LocationHours:
    """A location's practitioners, their working seconds over some days, and its visits."""

    practitioners: dict[int, Practitioner]
    working_seconds: dict[int, float]
    visits: list[Appointment]


def location_hours(location: Location, first_day: dt.date, last_day: dt.date) -> LocationHours:
    """Return each practitioner's working time at a location by the calendar's rule (5 queries).

    Working time is shifts less their breaks, time off and closures, day by day in the
    location's zone: what the calendar shows as open. The visits are those overlapping the
    days, whatever their status.
    """
    loaded = _load(location, first_day, last_day, None)
    zone = location.zone
    seconds: dict[int, float] = {}
    day = first_day
    while day <= last_day:
        working, _labels = _working(loaded, day, zone)
        for practitioner_id, pieces in working.items():
            seconds[practitioner_id] = seconds.get(practitioner_id, 0.0) + sum(
                (end - start).total_seconds() for start, end in pieces
            )
        day += dt.timedelta(days=1)
    return LocationHours(
        practitioners=loaded.practitioners, working_seconds=seconds, visits=loaded.appointments
    )


def _working(
    loaded: _Loaded, day: dt.date, zone: ZoneInfo
) -> tuple[dict[int, list[Interval]], dict[int, list[str]]]:
    """Return each practitioner's working intervals on the day (shifts less breaks, time off)."""
    working: dict[int, list[Interval]] = {}
    labels: dict[int, list[str]] = {}
    if _closure_on(loaded, day) is not None:
        return working, labels
    for shift in _shifts_on(loaded, day):
        start = local_instant(day, shift.start_time, zone)
        end = local_instant(day, shift.end_time, zone)
        pieces = [(start, end)] if end > start else []
        for pause in shift.breaks.all():
            pieces = _subtract(
                pieces,
                (
                    local_instant(day, pause.start_time, zone),
                    local_instant(day, pause.end_time, zone),
                ),
            )
        for away in loaded.time_off.get(shift.practitioner_id, []):
            pieces = _subtract(pieces, away)
        working.setdefault(shift.practitioner_id, []).extend(pieces)
        labels.setdefault(shift.practitioner_id, []).append(
            f"{shift.start_time:%H:%M}{DASH}{shift.end_time:%H:%M}"
        )
    return working, labels


def _sorted_practitioners(practitioners: Iterable[Practitioner]) -> list[Practitioner]:
    return sorted(practitioners, key=lambda p: (p.order, p.last_name, p.first_name, p.pk))


def zone_label(zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> str:
    """Return the zone's abbreviations over an interval, e.g. 'PST' or 'PST/PDT'."""
    names: list[str] = []
    for instant in (start, end - dt.timedelta(seconds=1)):
        name = instant.astimezone(zone).tzname() or str(zone)
        if name not in names:
            names.append(name)
    return "/".join(names)


def day_grid(
    *, location: Location, day: dt.date, step_minutes: int = 15, viewer: Any = None
) -> DayGrid:
    """Return the location's day as rows of `step_minutes` by practitioner columns.

    Visits show their patient only to a `viewer` who may act on them; without one, none do.
    """
    zone = location.zone
    step = dt.timedelta(minutes=max(step_minutes, 5))
    # Only visits that start on the day have a place on it (one running past midnight is
    # shown on its first day).
    loaded = _load(location, day, day, viewer, starting_within=True)
    day_start, day_end = day_bounds(day, zone)
    working, labels = _working(loaded, day, zone)
    appointments = [a for a in loaded.appointments if day_start <= a.start < day_end]
    visits = [_shown(a, zone) for a in appointments]
    mark_needs_review(visits)

    column_ids = set(working) | {a.practitioner_id for a in appointments}
    columns = [
        Column(practitioner=p, working=working.get(p.pk, []), shift_labels=labels.get(p.pk, []))
        for p in _sorted_practitioners(loaded.practitioners[pk] for pk in column_ids)
    ]

    # The grid runs from the first start to the last end of any shift or placed visit.
    placeable = [v for v in visits if v.appointment.status in GRID_STATUSES]
    edges = [i for intervals in working.values() for i in intervals] + [
        (v.appointment.start, min(v.appointment.end, day_end)) for v in placeable
    ]
    rows: list[Row] = []
    unplaced: list[Visit] = [v for v in visits if v.appointment.status not in GRID_STATUSES]
    if edges:
        first = min(start for start, _end in edges)
        last = max(end for _start, end in edges)
        # Start on a whole step of the local clock, so rows read 09:00, 09:15, ...
        local_first = first.astimezone(zone)
        minutes = local_first.hour * 60 + local_first.minute
        first -= dt.timedelta(
            minutes=minutes % int(step.total_seconds() // 60), seconds=local_first.second
        )
        first = max(first, day_start)
        starts: list[dt.datetime] = []
        instant = first
        while instant < last:
            starts.append(instant)
            instant += step
        several_zones = len({s.astimezone(zone).utcoffset() for s in starts}) > 1
        for instant in starts:
            local = instant.astimezone(zone)
            label = f"{local:%H:%M}"
            if several_zones:
                label = f"{label} {local.tzname()}"
            rows.append(Row(start=instant, label=label, hour_start=local.minute == 0))
        rows, unplaced = _fill(rows, columns, placeable, first, step, unplaced)
    visits.sort(key=lambda v: (v.appointment.start, v.appointment.pk))
    unplaced.sort(key=lambda v: (v.appointment.start, v.appointment.pk))
    for visit in visits:
        for column in columns:
            if column.practitioner.pk == visit.appointment.practitioner_id:
                column.visits.append(visit)
    return DayGrid(
        location=location,
        day=day,
        zone_label=zone_label(zone, day_start, day_end),
        step=int(step.total_seconds() // 60),
        columns=columns,
        rows=rows,
        visits=visits,
        unplaced=unplaced,
        closure=_closure_on(loaded, day),
        hours=(day_end - day_start).total_seconds() / 3600,
    )


def _fill(
    rows: list[Row],
    columns: list[Column],
    placeable: Sequence[Visit],
    first: dt.datetime,
    step: dt.timedelta,
    unplaced: list[Visit],
) -> tuple[list[Row], list[Visit]]:
    """Place visits in their practitioner's column; a clash goes to the list below instead."""
    index = {column.practitioner.pk: n for n, column in enumerate(columns)}
    taken: list[list[Visit | bool | None]] = [[None] * len(columns) for _ in rows]
    spans: dict[tuple[int, int], int] = {}
    # Visits that hold their place first, so a no-show never pushes out a real visit.
    ordered = sorted(
        placeable,
        key=lambda v: (v.appointment.status == AppointmentStatus.NO_SHOW, v.appointment.start),
    )
    for visit in ordered:
        col = index[visit.appointment.practitioner_id]
        top = math.floor((visit.appointment.start - first) / step)
        bottom = max(math.ceil((visit.appointment.end - first) / step), top + 1)
        bottom = min(bottom, len(rows))
        if top < 0 or top >= len(rows) or any(taken[r][col] for r in range(top, bottom)):
            unplaced.append(visit)
            continue
        taken[top][col] = visit
        for r in range(top + 1, bottom):
            taken[r][col] = True
        spans[(top, col)] = bottom - top
    for r, row in enumerate(rows):
        for col, column in enumerate(columns):
            here = taken[r][col]
            if here is True:
                continue  # covered by a visit's rowspan above
            if isinstance(here, Visit):
                row.cells.append(Cell("visit", here, spans[(r, col)]))
                continue
            on_shift = any(start <= row.start < end for start, end in column.working)
            row.cells.append(Cell("free" if on_shift else "off"))
    return rows, unplaced


def week_grid(*, location: Location, first_day: dt.date, viewer: Any = None) -> WeekGrid:
    """Return seven days from `first_day` as practitioner rows by day columns."""
    zone = location.zone
    days = [first_day + dt.timedelta(days=n) for n in range(7)]
    # Each visit is shown on the day it starts.
    loaded = _load(location, days[0], days[-1], viewer, starting_within=True)
    per_day: dict[dt.date, tuple[dict[int, list[Interval]], dict[int, list[str]]]] = {
        day: _working(loaded, day, zone) for day in days
    }
    visits_by: dict[tuple[int, dt.date], list[Visit]] = {}
    for appointment in loaded.appointments:
        day = appointment.start.astimezone(zone).date()
        visits_by.setdefault((appointment.practitioner_id, day), []).append(
            _shown(appointment, zone)
        )
    mark_needs_review(v for day_visits in visits_by.values() for v in day_visits)
    rows = []
    for practitioner in _sorted_practitioners(loaded.practitioners.values()):
        cells = []
        has_any = False
        for day in days:
            working, labels = per_day[day]
            day_visits = visits_by.get((practitioner.pk, day), [])
            is_working = bool(working.get(practitioner.pk))
            has_any = has_any or is_working or bool(day_visits)
            cells.append(WeekCell(day, is_working, labels.get(practitioner.pk, []), day_visits))
        if has_any:
            rows.append(WeekRow(practitioner, cells))
    start, _end = day_bounds(days[0], zone)
    _start, end = day_bounds(days[-1], zone)
    return WeekGrid(
        location=location,
        days=days,
        rows=rows,
        closed_days={d: c for d in days if (c := _closure_on(loaded, d)) is not None},
        zone_label=zone_label(zone, start, end),
    )


@dataclass
class OwnDayGroup:
    location: Location
    zone_label: str
    visits: list[Visit]


def own_day(*, practitioner: Practitioner, day: dt.date, viewer: Any = None) -> list[OwnDayGroup]:
    """Return a practitioner's visits on a day, by location, each in its location's zone."""
    # Zones sit within a day of UTC: load a wide window, then keep each visit's local day.
    wide_start = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    wide_end = dt.datetime.combine(day + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC)
    groups: dict[int, OwnDayGroup] = {}
    for appointment in (
        with_patient_shown(
            Appointment.objects.filter(
                practitioner=practitioner, start__gte=wide_start, start__lt=wide_end
            ),
            viewer,
        )
        .select_related(
            "patient", "practitioner", "service", "room", "location", "rescheduled_to__location"
        )
        .order_by("start", "pk")
    ):
        zone = appointment.location.zone
        if appointment.start.astimezone(zone).date() != day:
            continue
        group = groups.get(appointment.location_id)
        if group is None:
            start, end = day_bounds(day, zone)
            group = OwnDayGroup(appointment.location, zone_label(zone, start, end), [])
            groups[appointment.location_id] = group
        group.visits.append(_shown(appointment, zone))
    mark_needs_review(v for group in groups.values() for v in group.visits)
    return sorted(groups.values(), key=lambda g: (g.location.order, g.location.name))


def describe_day(grid: DayGrid) -> dict[str, Any]:
    """Return a few facts about the day for the page's summary line."""
    active = [v for v in grid.visits if not v.is_cancelled]
    return {
        "count": len(active),
        "cancelled": len(grid.visits) - len(active),
        "odd_length": grid.hours != 24,
        "length_note": _("This day is %(hours)d hours long (daylight saving time changes).")
        % {"hours": round(grid.hours)},
    }
