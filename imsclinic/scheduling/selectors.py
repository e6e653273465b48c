"""Reads of appointments that pages and the API share."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet, Value
from django.utils import timezone

from imsclinic.clinic.licences import province_requires_authorisation
from imsclinic.clinic.models import Clinic, Location, Practitioner, Room, Service
from imsclinic.core.permissions import is_clinic_staff, sees_every_patient
from imsclinic.patients.models import Patient
from imsclinic.scheduling.access import visits_actionable_by
from imsclinic.scheduling.availability import (
    AvailabilityQuery,
    BusyTime,
    LocationInfo,
    PractitionerInfo,
    ServiceInfo,
    ShiftRule,
    Slot,
    find_slots,
)
from imsclinic.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    ClinicClosure,
    Shift,
    ShiftBreak,
    TimeOff,
)

if TYPE_CHECKING:
    from imsclinic.accounts.models import User


def upcoming_appointments_for_patient(patient: Patient, limit: int = 10) -> QuerySet[Appointment]:
    """Return the patient's next visits that are still going ahead, soonest first."""
    return (
        Appointment.objects.filter(
            patient=patient,
            start__gte=timezone.now(),
            status__in=(AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED),
        )
        .select_related("practitioner", "location", "service", "room")
        .order_by("start")[:limit]
    )


def with_patient_shown(visits: QuerySet[Appointment], user: User | None) -> QuerySet[Appointment]:
    """Annotate each visit with `patient_shown`: whether this user sees whose visit it is.

    The same rule as acting on the visit (`scheduling.act_on_visit`): the owner and the front
    desk see every patient; a practitioner their own visits' and their care team's. Anyone
    else sees the visit as busy time only. One subquery in the page's own query, so a page
    decides for all its visits at once.
    """
    if user is None or not is_clinic_staff(user):
        return visits.annotate(patient_shown=Value(False))
    if sees_every_patient(user):
        return visits.annotate(patient_shown=Value(True))
    actionable = visits_actionable_by(user).filter(pk=OuterRef("pk"))
    return visits.annotate(patient_shown=Exists(actionable))


def _window(start_date: dt.date, days: int) -> tuple[dt.datetime, dt.datetime]:
    """Return UTC bounds that hold every local day searched, in any time zone."""
    # Zones sit at most 14 hours from UTC, so a day on either side covers them all. At the
    # ends of the calendar there is no day on the far side: clamp rather than overflow.
    first_day = dt.date.fromordinal(max(start_date.toordinal() - 1, dt.date.min.toordinal()))
    end_ordinal = start_date.toordinal() + max(days, 0) + 1
    first = dt.datetime.combine(first_day, dt.time(), tzinfo=dt.UTC)
    if end_ordinal > dt.date.max.toordinal():
        return first, dt.datetime.max.replace(tzinfo=dt.UTC)
    return first, dt.datetime.combine(dt.date.fromordinal(end_ordinal), dt.time(), tzinfo=dt.UTC)


# Shifts never cross midnight and a booked visit with its buffer lies inside one shift; the
# margin also covers a visit staff placed by hand that runs a little longer. A longer one that
# began before a window would be missed by the search, and the database's overlap guard would
# then refuse the booking it offered ("that time was just taken"), never double-book.
LONGEST_VISIT = dt.timedelta(days=2)


def _earliest_overlapping_start(window_start: dt.datetime) -> dt.datetime:
    """Return a start before which no visit can reach into a window (clamped, no overflow)."""
    first_moment = dt.datetime.min.replace(tzinfo=dt.UTC)
    if window_start - first_moment <= LONGEST_VISIT:
        return first_moment
    return window_start - LONGEST_VISIT


MICROSECONDS = 1_000_000


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _epoch_sql(column: str) -> str:
    """Return SQL for a timestamp column as a number the engine can use directly.

    A search reads a few thousand busy rows, and the engine wants UTC timestamps. Read the
    usual way, every value becomes an aware datetime in the driver and in Django (Python code
    per value) only to be turned back into a number; `_instant_seconds` turns what this
    selects into exactly what `datetime.timestamp()` gives. Where SQL cannot say, the column
    itself (the driver's datetime).
    """
    if connection.vendor == "postgresql":
        # Whole microseconds: EXTRACT gives an exact numeric (PostgreSQL 14 and later).
        return f"(EXTRACT(EPOCH FROM {column}) * 1000000)::bigint"
    if _sqlite_epoch():
        # Django's naive UTC text, "2026-12-10 16:00:00" or "2026-12-10 16:00:00.123456":
        # unixepoch() (SQLite 3.38+) reads whole seconds cheaply; a value with a fraction,
        # which only a visit placed by hand has, comes back as its text instead.
        return f"CASE WHEN length({column}) = 19 THEN unixepoch({column}) ELSE {column} END"
    return column


def _sqlite_epoch() -> bool:
    return (
        connection.vendor == "sqlite"
        and connection.timezone_name == "UTC"
        and sqlite3.sqlite_version_info >= (3, 38)  # the library Django's backend uses
    )


def _epoch_units() -> int:
    """Return how many of what `_epoch_sql` selects as an integer make a second."""
    return MICROSECONDS if connection.vendor == "postgresql" else 1


def _busy_time(begins: Any, ends: Any, units: int) -> tuple[float, float]:
    """Return the UTC timestamps of two values `_epoch_sql` selected."""
    return _instant_seconds(begins, units), _instant_seconds(ends, units)


def _instant_seconds(value: Any, units: int) -> float:
    """Return the UTC timestamp of a value `_epoch_sql` selected."""
    if isinstance(value, int):
        # int / int is correctly rounded, as timedelta.total_seconds() (so timestamp()) is.
        return value / units
    # SQLite: text with a fraction of a second, or where unixepoch() is not used, the column's
    # datetime (or its text): naive, in the connection's zone (UTC unless configured).
    instant: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:
        instant = timezone.make_aware(instant, connection.timezone)
    return instant.timestamp()


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run one statement and return the driver's own tuples, without Django's converters.

    The search's five statements are written out in SQL: building and compiling them through
    the ORM cost more than running them. Only table names (from the models), column names
    and placeholders are formatted into the SQL; every value goes as a parameter. Only ids,
    numbers, text, dates and times are read this way, which psycopg and Django's SQLite
    connection (converters by declared column type) return as Django would, and timestamps
    through `_epoch_sql`.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _busy_window_sql(window_start: dt.datetime, window_end: dt.datetime) -> tuple[str, list[Any]]:
    """Return SQL (and its parameters) for "overlaps the window" that an index can answer.

    Read the window's rows only, never the history before it.
    """
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor == "postgresql":
        # The exclusion constraints' GiST indexes hold exactly this range expression, so
        # PostgreSQL answers "overlaps the window" from them, for practitioners and beds.
        return (
            "TSTZRANGE(a.start, a.busy_until, '[)') && TSTZRANGE(%s, %s, '[)')",
            [adapt(window_start), adapt(window_end)],
        )
    # Elsewhere only the index on (practitioner, start) can find a window's rows without
    # reading the years before it, and only with a lower bound on start: a visit fits inside
    # one shift, so none starts more than LONGEST_VISIT before the window and overlaps it.
    # Beds' visits are reached through that index too: every visit has a practitioner, so
    # the IN-subquery excludes nothing and only tells the database how to look.
    return (
        f"a.practitioner_id IN (SELECT id FROM {_table(Practitioner)})"  # noqa: S608
        " AND a.start > %s AND a.start < %s AND a.busy_until > %s",
        [
            adapt(_earliest_overlapping_start(window_start)),
            adapt(window_end),
            adapt(window_start),
        ],
    )


def _own_visits_window_sql(
    window_start: dt.datetime, window_end: dt.datetime
) -> tuple[str, list[Any]]:
    """Return SQL (and parameters) for "one of the patient's visits overlapping the window".

    Like `_busy_window_sql`, it reads the window's rows only, never the patient's years of
    visits before it (a returning patient may have hundreds).
    """
    adapt = connection.ops.adapt_datetimefield_value
    end = "a." + connection.ops.quote_name("end")
    if connection.vendor == "postgresql":
        # The patient overlap guard's GiST index (patient, [start, end)) answers both halves,
        # but only for a BIGINT id: its operator class has no bigint = integer, and an id
        # sent as a plain number would leave the index only the range (every patient's
        # visits that overlap the window).
        return (
            "a.patient_id = CAST(%s AS BIGINT)"
            f" AND TSTZRANGE(a.start, {end}, '[)') && TSTZRANGE(%s, %s, '[)')",
            [adapt(window_start), adapt(window_end)],
        )
    # The index on (patient, start), with the same lower bound on start as the busy rows'.
    return (
        f"a.patient_id = %s AND a.start > %s AND a.start < %s AND {end} > %s",
        [adapt(_earliest_overlapping_start(window_start)), adapt(window_end), adapt(window_start)],
    )


# The first and last days of the calendar have local times whose UTC instants datetime cannot
# hold in some zones; nothing is ever offered there, so searches skip them.
FIRST_SEARCHABLE_DAY = dt.date.min + dt.timedelta(days=1)
LAST_SEARCHABLE_DAY = dt.date.max - dt.timedelta(days=1)


def _searchable(start_date: dt.date, days: int) -> tuple[dt.date, int]:
    """Narrow a search to the local days the engine can turn into instants."""
    first = max(start_date, FIRST_SEARCHABLE_DAY)
    last = min(start_date.toordinal() + max(days, 0) - 1, LAST_SEARCHABLE_DAY.toordinal())
    return first, max(last - first.toordinal() + 1, 0)


def availability_query(
    *,
    service: Service,
    start_date: dt.date,
    days: int,
    practitioner: Practitioner | None = None,
    location: Location | None = None,
    now: dt.datetime | None = None,
    patient: Patient | None = None,
    except_visit: int | None = None,
) -> AvailabilityQuery:
    """Load everything the availability engine needs for a search, in five queries.

    With a patient, the read of busy visits also takes their own visits in the window (but
    `except_visit`, the one being moved), so that no time they are already booked for is
    offered.
    """
    now = now or timezone.now()
    start_date, days = _searchable(start_date, days)
    window_start, window_end = _window(start_date, days)
    last_day = start_date + dt.timedelta(days=max(days, 1) - 1)
    ops = connection.ops

    # One query for shifts, their breaks (a LEFT JOIN: one row per break), the practitioners'
    # credentials and the locations' zones.
    shift_sql = (
        "SELECT s.id, s.practitioner_id, s.location_id, s.weekday, s.start_time, s.end_time,"  # noqa: S608
        " s.valid_from, s.valid_until, p.ims_certified_on, p.ims_certification_expires_on,"
        " l.time_zone, c.slot_step_minutes, b.start_time, b.end_time,"
        " p.registration_status, p.registration_expires_on, p.needling_authorised_on,"
        " p.needling_authorisation_expires_on, l.region, l.requires_needling_authorisation"
        f" FROM {_table(Shift)} s"
        f" INNER JOIN {_table(Practitioner)} p ON p.id = s.practitioner_id"
        f" INNER JOIN {_table(Location)} l ON l.id = s.location_id"
        f" INNER JOIN {_table(Clinic)} c ON c.id = l.clinic_id"
        f" LEFT OUTER JOIN {_table(ShiftBreak)} b ON b.shift_id = s.id"
        " WHERE p.is_active AND l.is_active AND s.valid_from <= %s"
        " AND (s.valid_until IS NULL OR s.valid_until >= %s)"
    )
    shift_params: list[Any] = [
        ops.adapt_datefield_value(last_day),
        ops.adapt_datefield_value(start_date),
    ]
    if practitioner is not None:
        shift_sql += " AND s.practitioner_id = %s"
        shift_params.append(practitioner.pk)
    if location is not None:
        shift_sql += " AND s.location_id = %s"
        shift_params.append(location.pk)
    shift_sql += (
        " ORDER BY s.practitioner_id, s.location_id, s.weekday, s.start_time, s.id, b.start_time"
    )
    shift_rows: dict[int, tuple[Any, ...]] = {}
    breaks: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for row in _fetch(shift_sql, shift_params):
        shift_rows.setdefault(row[0], row)
        if row[12] is not None:
            breaks.setdefault(row[0], []).append((row[12], row[13]))
    if not shift_rows:
        return _nothing_offered(service, start_date, days, now)

    practitioners = {
        row[1]: PractitionerInfo(
            practitioner_id=row[1],
            ims_certified_on=row[8],
            ims_certification_expires_on=row[9],
            registration_status=row[14],
            registration_expires_on=row[15],
            needling_authorised_on=row[16],
            needling_authorisation_expires_on=row[17],
        )
        for row in shift_rows.values()
    }
    locations = {row[2]: row[10] for row in shift_rows.values()}
    # Whether needling there needs an authorisation: the province's rule or the owner's.
    authorisation = {
        row[2]: bool(row[19]) or province_requires_authorisation(row[18])
        for row in shift_rows.values()
    }
    location_ids = list(locations)
    practitioner_ids = list(practitioners)

    rooms: dict[int, list[int]] = {}
    if service.room_kind != Service.RoomKind.NONE:
        for room_id, location_id in _fetch(
            f"SELECT id, location_id FROM {_table(Room)}"  # noqa: S608
            f" WHERE is_active AND kind = %s AND location_id IN ({_marks(location_ids)})"
            " ORDER BY name, id",
            [service.room_kind, *location_ids],
        ):
            rooms.setdefault(location_id, []).append(room_id)

    closures: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for location_id, first, last in _fetch(
        f"SELECT location_id, first_day, last_day FROM {_table(ClinicClosure)}"  # noqa: S608
        f" WHERE location_id IN ({_marks(location_ids)})"
        " AND first_day <= %s AND last_day >= %s",
        [*location_ids, ops.adapt_datefield_value(last_day), ops.adapt_datefield_value(start_date)],
    ):
        closures.setdefault(location_id, []).append((first, last))

    units = _epoch_units()
    time_off: dict[int, list[BusyTime]] = {}
    end = "t." + ops.quote_name("end")
    for practitioner_id, begins, ends in _fetch(
        f"SELECT t.practitioner_id, {_epoch_sql('t.start')}, {_epoch_sql(end)}"  # noqa: S608
        f" FROM {_table(TimeOff)} t WHERE t.practitioner_id IN ({_marks(practitioner_ids)})"
        f" AND t.start < %s AND {end} > %s",
        [
            *practitioner_ids,
            ops.adapt_datetimefield_value(window_end),
            ops.adapt_datetimefield_value(window_start),
        ],
    ):
        time_off.setdefault(practitioner_id, []).append(_busy_time(begins, ends, units))

    all_rooms = [room_id for ids in rooms.values() for room_id in ids]
    practitioner_busy: dict[int, list[BusyTime]] = {pk: [] for pk in practitioners}
    room_busy: dict[int, list[BusyTime]] = {pk: [] for pk in all_rooms}
    window_sql, window_params = _busy_window_sql(window_start, window_end)
    whose = f"a.practitioner_id IN ({_marks(practitioner_ids)})"
    whose_params: list[Any] = [*practitioner_ids]
    if all_rooms:
        whose = f"{whose} OR a.room_id IN ({_marks(all_rooms)})"
        whose_params += all_rooms
    # The patient's own visits come in the same read (the window is wide enough for them).
    patient_id = patient.pk if patient is not None else None
    if patient_id is not None:
        whose = f"{whose} OR a.patient_id = %s"
        whose_params.append(patient_id)
    statuses = [str(status) for status in ACTIVE_STATUSES]
    busy_sql = (
        f"SELECT a.practitioner_id, a.room_id, {_epoch_sql('a.start')},"  # noqa: S608
        f" {_epoch_sql('a.busy_until')}, a.id, a.patient_id,"
        f" {_epoch_sql('a.' + ops.quote_name('end'))} FROM {_table(Appointment)} a"
        f" WHERE {window_sql} AND ({whose}) AND a.status IN ({_marks(statuses)})"
    )
    own_visits: list[BusyTime] = []
    window_opens = window_start.timestamp()
    # The engine takes busy times as (start, end) UTC timestamps: no datetimes per row.
    for practitioner_id, room_id, begins, ends, visit_id, whom, finish in _fetch(
        busy_sql, [*window_params, *whose_params, *statuses]
    ):
        if type(begins) is int and type(ends) is int:
            # int / int is correctly rounded, as timedelta.total_seconds() (so timestamp()) is.
            interval: tuple[float, float] = (begins / units, ends / units)
        else:
            interval = _busy_time(begins, ends, units)
        person = practitioner_busy.get(practitioner_id)
        if person is not None:
            person.append(interval)
        bed = room_busy.get(room_id)
        if bed is not None:
            bed.append(interval)
        if whom == patient_id and visit_id != except_visit:
            # The patient is there from start to end; the buffer after is the practitioner's.
            until = _instant_seconds(finish, units)
            if until > window_opens:
                own_visits.append((interval[0], until))

    return AvailabilityQuery(
        service=service_info(service),
        start_date=start_date,
        days=days,
        now=now,
        patient_busy=tuple(own_visits),
        practitioners=tuple(practitioners.values()),
        locations=tuple(
            LocationInfo(
                location_id=location_id,
                time_zone=time_zone,
                room_ids=tuple(rooms.get(location_id, ())),
                closures=tuple(closures.get(location_id, ())),
                needling_authorisation_required=authorisation[location_id],
            )
            for location_id, time_zone in locations.items()
        ),
        shifts=tuple(
            ShiftRule(
                practitioner_id=row[1],
                location_id=row[2],
                weekday=row[3],
                start=row[4],
                end=row[5],
                valid_from=row[6],
                valid_until=row[7],
                breaks=tuple(breaks.get(pk, ())),
            )
            for pk, row in shift_rows.items()
        ),
        practitioner_busy={key: tuple(value) for key, value in practitioner_busy.items() if value},
        practitioner_time_off={key: tuple(value) for key, value in time_off.items()},
        room_busy={key: tuple(value) for key, value in room_busy.items() if value},
        step_minutes=next(iter(shift_rows.values()))[11],
    )


def patient_has_visit_during(patient: Patient, start: dt.datetime, end: dt.datetime) -> bool:
    """Say whether the patient has an active visit overlapping [start, end)."""
    return Appointment.objects.filter(
        patient=patient, status__in=ACTIVE_STATUSES, start__lt=end, end__gt=start
    ).exists()


def _text(column: str) -> str:
    return f"CAST({column} AS TEXT)"


def _date_or_none(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _time(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


# The re-check's rows. Its single statement is a UNION of nine reads with one column layout:
# kind, two ids, two numbers, six texts (`booking_check_query` shows which read fills which
# column). Each kind of row is read into its own named tuple by `_check_row`, so the code
# that uses them reads names, not positions.


class _CheckKind(IntEnum):
    SHIFT = 0  # a shift, with one of its breaks
    PLACE = 1  # the practitioner and the location, only when both are active
    BED = 2
    CLOSURE = 3
    TIME_OFF = 4
    BUSY = 5  # a visit of the practitioner's, or in one of the location's beds
    OWN_VISIT = 6  # a visit of the patient's own
    LICENCES = 7  # the practitioner's other licences and the location's province
    PATIENT = 8  # the patient's IMS history before the start, and their care team


class _ShiftRow(NamedTuple):
    shift_id: int
    weekday: int
    start_time: str
    end_time: str
    valid_from: str
    valid_until: str | None
    break_start: str | None  # None: a shift without breaks
    break_end: str | None


class _PlaceRow(NamedTuple):
    practitioner_id: int
    location_id: int
    step_minutes: int
    ims_certified_on: str | None
    ims_certification_expires_on: str | None
    time_zone: str


class _LicenceRow(NamedTuple):
    authorisation_ticked: int  # 1: the owner requires an authorisation at the location
    registration_status: str
    registration_expires_on: str | None
    needling_authorised_on: str | None
    needling_authorisation_expires_on: str | None
    region: str


class _BedRow(NamedTuple):
    room_id: int
    place: int  # the order the search tries beds in: by name, then id


class _ClosureRow(NamedTuple):
    first_day: str
    last_day: str


class _PatientRow(NamedTuple):
    had_ims_visit: int  # 1: an IMS visit booked or behind them that starts before this one
    on_care_team: int  # 1: the practitioner is already on the patient's care team


class _BusyRow(NamedTuple):
    """Time off, a busy visit or one of the patient's own: whose, which bed, when."""

    owner_id: int  # the practitioner, or for the patient's own visits the patient
    room_id: int | None
    begins: Any  # as `_epoch_sql` selects it
    ends: Any


_CheckRow = _ShiftRow | _PlaceRow | _LicenceRow | _BedRow | _ClosureRow | _BusyRow | _PatientRow

# For each kind, its named tuple and the columns (0 is the kind) that fill it, in order.
_CHECK_COLUMNS: dict[_CheckKind, tuple[type[_CheckRow], tuple[int, ...]]] = {
    _CheckKind.SHIFT: (_ShiftRow, (1, 2, 5, 6, 7, 8, 9, 10)),
    _CheckKind.PLACE: (_PlaceRow, (1, 2, 3, 5, 6, 7)),
    _CheckKind.BED: (_BedRow, (1, 2)),
    _CheckKind.CLOSURE: (_ClosureRow, (5, 6)),
    _CheckKind.TIME_OFF: (_BusyRow, (1, 2, 3, 4)),
    _CheckKind.BUSY: (_BusyRow, (1, 2, 3, 4)),
    _CheckKind.OWN_VISIT: (_BusyRow, (1, 2, 3, 4)),
    _CheckKind.LICENCES: (_LicenceRow, (3, 5, 6, 7, 8, 9)),
    _CheckKind.PATIENT: (_PatientRow, (1, 2)),
}


def _check_row(row: Sequence[Any]) -> tuple[_CheckKind, _CheckRow]:
    """Return a re-check row's kind and its values by name."""
    kind = _CheckKind(row[0])
    row_type, columns = _CHECK_COLUMNS[kind]
    return kind, row_type._make(row[column] for column in columns)


class BookingCheck(NamedTuple):
    """What a booking re-checks under its locks, read in one statement (`booking_check`).

    `had_ims_visit` and `on_care_team` are None when the statement was not run (a day the
    clinic does not book): ask `has_had_ims_visit` and the care team then.
    """

    query: AvailabilityQuery
    had_ims_visit: bool | None  # an IMS visit booked or behind the patient, before `start`
    on_care_team: bool | None  # the practitioner is on the patient's care team already


def booking_check_query(
    *,
    service: Service,
    practitioner: Practitioner,
    location: Location,
    start: dt.datetime,
    now: dt.datetime | None = None,
    patient: Patient | None = None,
) -> AvailabilityQuery:
    """Load what the engine needs to re-check one start (`booking_check`, without the patient's
    history and care team)."""
    return booking_check(
        service=service,
        practitioner=practitioner,
        location=location,
        start=start,
        now=now,
        patient=patient,
    ).query


def booking_check(
    *,
    service: Service,
    practitioner: Practitioner,
    location: Location,
    start: dt.datetime,
    now: dt.datetime | None = None,
    patient: Patient | None = None,
) -> BookingCheck:
    """Load what the engine needs to re-check one start, for one practitioner and one
    location on that local day (and the patient's own visits then), in a single statement.

    The same rows `availability_query` reads for that practitioner, location and day (shifts
    of that weekday with their breaks, the credential, the zone and slot step, the beds,
    closures, time off and busy times), so `slot_is_offered` applies exactly the same rules;
    only narrower, and in one round trip instead of five, because a booking runs it under the
    practitioner's lock. The same statement says whether the patient has had an IMS visit
    before `start` (the first-visit rule) and whether the practitioner is on their care team,
    which the booking would otherwise ask in two more round trips.
    """
    now = now or timezone.now()
    day, days = _searchable(start.astimezone(location.zone).date(), 1)
    if days == 0:
        return BookingCheck(
            _nothing_offered(service, day, 0, now), had_ims_visit=None, on_care_team=None
        )
    window_start, window_end = _window(day, 1)
    ops = connection.ops
    on_day = ops.adapt_datefield_value(day)
    window_sql, window_params = _busy_window_sql(window_start, window_end)
    own_sql, own_params = _own_visits_window_sql(window_start, window_end)
    statuses = [str(status) for status in ACTIVE_STATUSES]
    end = "t." + ops.quote_name("end")
    none = "CAST(NULL AS BIGINT)"
    text_none = _text("NULL")
    # Columns: kind, two ids, two numbers, six texts; `_CHECK_COLUMNS` names them by kind.
    kinds = {kind.name: int(kind) for kind in _CheckKind}
    sql = (
        f"SELECT {kinds['SHIFT']}, s.id, s.weekday, {none}, {none}, {_text('s.start_time')},"  # noqa: S608
        f" {_text('s.end_time')}, {_text('s.valid_from')}, {_text('s.valid_until')},"
        f" {_text('b.start_time')}, {_text('b.end_time')}"
        f" FROM {_table(Shift)} s LEFT OUTER JOIN {_table(ShiftBreak)} b ON b.shift_id = s.id"
        " WHERE s.practitioner_id = %s AND s.location_id = %s AND s.weekday = %s"
        " AND s.valid_from <= %s AND (s.valid_until IS NULL OR s.valid_until >= %s)"
        f" UNION ALL SELECT {kinds['PLACE']}, p.id, l.id, c.slot_step_minutes, {none},"
        f" {_text('p.ims_certified_on')}, {_text('p.ims_certification_expires_on')},"
        f" l.time_zone, {text_none}, {text_none}, {text_none}"
        f" FROM {_table(Practitioner)} p, {_table(Location)} l"
        f" INNER JOIN {_table(Clinic)} c ON c.id = l.clinic_id"
        " WHERE p.id = %s AND p.is_active AND l.id = %s AND l.is_active"
        f" UNION ALL SELECT {kinds['LICENCES']}, p.id, l.id,"
        " CAST(CASE WHEN l.requires_needling_authorisation THEN 1 ELSE 0 END AS BIGINT),"
        f" {none}, p.registration_status, {_text('p.registration_expires_on')},"
        f" {_text('p.needling_authorised_on')}, {_text('p.needling_authorisation_expires_on')},"
        f" l.region, {text_none}"
        f" FROM {_table(Practitioner)} p, {_table(Location)} l"
        " WHERE p.id = %s AND l.id = %s"
        # Beds numbered in the order the search tries them (by name, then id).
        f" UNION ALL SELECT {kinds['BED']}, r.id, ROW_NUMBER() OVER (ORDER BY r.name, r.id),"
        f" {none}, {none},"
        f" {text_none}, {text_none}, {text_none}, {text_none}, {text_none}, {text_none}"
        f" FROM {_table(Room)} r"
        " WHERE r.location_id = %s AND r.kind = %s AND r.is_active"
        f" UNION ALL SELECT {kinds['CLOSURE']}, {none}, {none}, {none}, {none},"
        f" {_text('z.first_day')},"
        f" {_text('z.last_day')}, {text_none}, {text_none}, {text_none}, {text_none}"
        f" FROM {_table(ClinicClosure)} z"
        " WHERE z.location_id = %s AND z.first_day <= %s AND z.last_day >= %s"
        f" UNION ALL SELECT {kinds['TIME_OFF']}, t.practitioner_id, {none},"
        f" {_epoch_sql('t.start')},"
        f" {_epoch_sql(end)}, {text_none}, {text_none}, {text_none}, {text_none}, {text_none},"
        f" {text_none} FROM {_table(TimeOff)} t"
        f" WHERE t.practitioner_id = %s AND t.start < %s AND {end} > %s"
        f" UNION ALL SELECT {kinds['BUSY']}, a.practitioner_id, a.room_id, {_epoch_sql('a.start')},"
        f" {_epoch_sql('a.busy_until')}, {text_none}, {text_none}, {text_none}, {text_none},"
        f" {text_none}, {text_none} FROM {_table(Appointment)} a WHERE {window_sql}"
        " AND (a.practitioner_id = %s"
        f" OR a.room_id IN (SELECT id FROM {_table(Room)}"
        " WHERE location_id = %s AND kind = %s AND is_active))"
        f" AND a.status IN ({_marks(statuses)})"
        f" UNION ALL SELECT {kinds['OWN_VISIT']}, a.patient_id, {none}, {_epoch_sql('a.start')},"
        f" {_epoch_sql('a.' + ops.quote_name('end'))}, {text_none}, {text_none}, {text_none},"
        f" {text_none}, {text_none}, {text_none} FROM {_table(Appointment)} a"
        f" WHERE {own_sql} AND a.status IN ({_marks(statuses)})"
        f" UNION ALL SELECT {kinds['PATIENT']},"
        f" CAST(CASE WHEN EXISTS (SELECT 1 FROM {_table(Appointment)} h"
        f" INNER JOIN {_table(Service)} v ON v.id = h.service_id"
        f" WHERE h.patient_id = %s AND v.requires_ims_credential AND h.start < %s"
        f" AND h.status IN ({_marks(statuses)})) THEN 1 ELSE 0 END AS BIGINT),"
        f" CAST(CASE WHEN EXISTS (SELECT 1 FROM {_table(Patient.care_team.through)} m"
        " WHERE m.patient_id = %s AND m.practitioner_id = %s) THEN 1 ELSE 0 END AS BIGINT),"
        f" {none}, {none}, {text_none}, {text_none}, {text_none}, {text_none}, {text_none},"
        f" {text_none}"
    )
    no_room = service.room_kind == Service.RoomKind.NONE
    # No patient: an id no row has, so the patient's parts read nothing.
    patient_id = patient.pk if patient is not None and patient.pk is not None else 0
    # A service that needs no bed matches no bed's kind: none is read.
    kind = "" if no_room else service.room_kind
    params: list[Any] = [
        *(practitioner.pk, location.pk, day.weekday(), on_day, on_day),
        *(practitioner.pk, location.pk),
        *(practitioner.pk, location.pk),
        *(location.pk, kind),
        *(location.pk, on_day, on_day),
        practitioner.pk,
        ops.adapt_datetimefield_value(window_end),
        ops.adapt_datetimefield_value(window_start),
        *window_params,
        *(practitioner.pk, location.pk, kind),
        *statuses,
        patient_id,
        *own_params,
        *statuses,
        patient_id,
        ops.adapt_datetimefield_value(start),
        *statuses,
        patient_id,
        practitioner.pk,
    ]
    units = _epoch_units()
    shifts: dict[int, _ShiftRow] = {}
    breaks: dict[int, list[tuple[dt.time, dt.time]]] = {}
    place: _PlaceRow | None = None
    licences: _LicenceRow | None = None
    beds: list[_BedRow] = []
    closures: list[tuple[dt.date, dt.date]] = []
    time_off: list[BusyTime] = []
    person_busy: list[BusyTime] = []
    bed_busy: dict[int, list[BusyTime]] = {}
    own_visits: list[BusyTime] = []
    facts = _PatientRow(had_ims_visit=0, on_care_team=0)
    for raw in _fetch(sql, params):
        match _check_row(raw):
            case _CheckKind.SHIFT, _ShiftRow() as shift:
                shifts.setdefault(shift.shift_id, shift)
                if shift.break_start is not None and shift.break_end is not None:
                    breaks.setdefault(shift.shift_id, []).append(
                        (_time(shift.break_start), _time(shift.break_end))
                    )
            case _CheckKind.PLACE, _PlaceRow() as row:
                place = row
            case _CheckKind.LICENCES, _LicenceRow() as row:
                licences = row
            case _CheckKind.BED, _BedRow() as bed:
                beds.append(bed)
            case _CheckKind.CLOSURE, _ClosureRow() as closure:
                closures.append(
                    (
                        dt.date.fromisoformat(closure.first_day),
                        dt.date.fromisoformat(closure.last_day),
                    )
                )
            case _CheckKind.TIME_OFF, _BusyRow() as busy:
                time_off.append(_busy_time(busy.begins, busy.ends, units))
            case _CheckKind.OWN_VISIT, _BusyRow() as busy:
                own_visits.append(_busy_time(busy.begins, busy.ends, units))
            case _CheckKind.PATIENT, _PatientRow() as row:
                facts = row
            case _CheckKind.BUSY, _BusyRow() as busy:
                interval = _busy_time(busy.begins, busy.ends, units)
                if busy.owner_id == practitioner.pk:
                    person_busy.append(interval)
                if busy.room_id is not None:
                    bed_busy.setdefault(busy.room_id, []).append(interval)
    had_ims_visit, on_care_team = bool(facts.had_ims_visit), bool(facts.on_care_team)
    if place is None or licences is None or not shifts:
        return BookingCheck(
            _nothing_offered(service, day, 1, now),
            had_ims_visit=had_ims_visit,
            on_care_team=on_care_team,
        )
    room_ids = tuple(bed.room_id for bed in sorted(beds, key=lambda bed: bed.place))
    query = AvailabilityQuery(
        service=service_info(service),
        start_date=day,
        days=1,
        now=now,
        practitioners=(
            PractitionerInfo(
                practitioner_id=practitioner.pk,
                ims_certified_on=_date_or_none(place.ims_certified_on),
                ims_certification_expires_on=_date_or_none(place.ims_certification_expires_on),
                registration_status=licences.registration_status,
                registration_expires_on=_date_or_none(licences.registration_expires_on),
                needling_authorised_on=_date_or_none(licences.needling_authorised_on),
                needling_authorisation_expires_on=_date_or_none(
                    licences.needling_authorisation_expires_on
                ),
            ),
        ),
        locations=(
            LocationInfo(
                location_id=location.pk,
                time_zone=place.time_zone,
                room_ids=room_ids,
                closures=tuple(closures),
                needling_authorisation_required=bool(licences.authorisation_ticked)
                or province_requires_authorisation(licences.region),
            ),
        ),
        shifts=tuple(
            ShiftRule(
                practitioner_id=practitioner.pk,
                location_id=location.pk,
                weekday=shift.weekday,
                start=_time(shift.start_time),
                end=_time(shift.end_time),
                valid_from=dt.date.fromisoformat(shift.valid_from),
                valid_until=_date_or_none(shift.valid_until),
                breaks=tuple(breaks.get(pk, ())),
            )
            for pk, shift in shifts.items()
        ),
        practitioner_busy={practitioner.pk: tuple(person_busy)} if person_busy else {},
        practitioner_time_off={practitioner.pk: tuple(time_off)} if time_off else {},
        room_busy={
            room_id: tuple(bed_busy[room_id]) for room_id in room_ids if room_id in bed_busy
        },
        step_minutes=place.step_minutes,
        patient_busy=tuple(own_visits),
    )
    return BookingCheck(query, had_ims_visit=had_ims_visit, on_care_team=on_care_team)


def _nothing_offered(
    service: Service, day: dt.date, days: int, now: dt.datetime
) -> AvailabilityQuery:
    """A query with no practitioner, place or shift in it: the engine offers nothing."""
    return AvailabilityQuery(
        service=service_info(service),
        start_date=day,
        days=days,
        now=now,
        practitioners=(),
        locations=(),
        shifts=(),
    )


def service_info(service: Service) -> ServiceInfo:
    """Describe a service to the availability engine."""
    return ServiceInfo(
        duration_minutes=service.duration_minutes,
        buffer_minutes=service.buffer_minutes,
        requires_ims_credential=service.requires_ims_credential,
        needs_room=service.room_kind != Service.RoomKind.NONE,
        min_notice=dt.timedelta(hours=service.min_notice_hours),
        horizon=dt.timedelta(days=service.horizon_days),
    )


def available_slots(
    *,
    service: Service,
    start_date: dt.date,
    days: int,
    practitioner: Practitioner | None = None,
    location: Location | None = None,
    now: dt.datetime | None = None,
    patient: Patient | None = None,
    except_visit: int | None = None,
) -> list[Slot]:
    """Return the bookable slots for a service over the given local days (for a patient)."""
    query = availability_query(
        service=service,
        start_date=start_date,
        days=days,
        practitioner=practitioner,
        location=location,
        now=now,
        patient=patient,
        except_visit=except_visit,
    )
    return find_slots(query)


def nearest_alternatives(
    *,
    service: Service,
    practitioner: Practitioner | None,
    location: Location | None,
    around: dt.datetime,
    limit: int = 5,
    days: int = 7,
    now: dt.datetime | None = None,
    patient: Patient | None = None,
    except_visit: int | None = None,
) -> list[Slot]:
    """Return the bookable slots closest in time to `around`, before or after, nearest first."""
    if around.tzinfo is None:
        raise ValueError("around must be an aware datetime")
    now = now or timezone.now()
    zone = location.zone if location is not None else around.tzinfo
    middle = around.astimezone(zone).date()
    first = max(middle - dt.timedelta(days=days), now.astimezone(zone).date())
    last = middle + dt.timedelta(days=days)
    if last < first or limit <= 0:
        return []
    slots = find_slots(
        availability_query(
            service=service,
            start_date=first,
            days=(last - first).days + 1,
            practitioner=practitioner,
            location=location,
            now=now,
            patient=patient,
            except_visit=except_visit,
        )
    )
    # Instants, not wall times: within one zone Python subtracts wall clocks.
    target = around.timestamp()
    slots.sort(key=lambda slot: (abs(slot.start.timestamp() - target), slot.start.timestamp()))
    return slots[:limit]


# ---------------------------------------------------------------------------------------------
# What the booking picker offers, and whether a chosen time was booked already.


def services_for(*, staff: bool) -> QuerySet[Service]:
    """Return the services this kind of user may book: patients only those bookable online."""
    services = Service.objects.filter(is_active=True).order_by("order", "name", "pk")
    return services if staff else services.filter(bookable_online=True)


def open_locations() -> list[Location]:
    return list(Location.objects.filter(is_active=True).select_related("clinic"))


def practitioners_for(
    service: Service, location: Location | None, *, today: dt.date
) -> list[Practitioner]:
    """Return who can give this service (at this location), licensed to needle if needed.

    One query: each practitioner with the open locations they work at (or the chosen one),
    where the licence rule (`Practitioner.gives`) judges them for an IMS service.
    """
    links = Practitioner.locations.through.objects.filter(
        practitioner__is_active=True, location__is_active=True
    ).select_related("practitioner", "location")
    if location is not None:
        links = links.filter(location=location)
    places: dict[int, tuple[Practitioner, list[Location]]] = {}
    for link in links:
        places.setdefault(link.practitioner_id, (link.practitioner, []))[1].append(link.location)
    found = sorted(
        places.values(),
        key=lambda item: (item[0].order, item[0].last_name, item[0].first_name, item[0].pk),
    )
    return [
        person
        for person, where in found
        if not service.requires_ims_credential
        or any(person.may_needle(today, place) for place in where)
    ]


def visit_booked_at(
    *, patient: Patient, practitioner: Practitioner, service: Service, start: dt.datetime
) -> Appointment | None:
    """Return this patient's active visit at exactly this time: a repeated submission."""
    return (
        Appointment.objects.filter(
            patient=patient,
            practitioner=practitioner,
            service=service,
            start=start,
            status=AppointmentStatus.BOOKED,
        )
        .order_by("pk")
        .first()
    )


def course_booked_at(
    *, patient: Patient, practitioner: Practitioner, service: Service, start: dt.datetime
) -> bool:
    """Say whether a course starting at exactly this time was booked for the patient."""
    return Appointment.objects.filter(
        patient=patient,
        practitioner=practitioner,
        service=service,
        start=start,
        status=AppointmentStatus.BOOKED,
        course__isnull=False,
    ).exists()


def is_still_offered(
    *,
    service: Service,
    practitioner: Practitioner,
    location: Location,
    start: dt.datetime,
    now: dt.datetime | None = None,
) -> bool:
    """Say whether the chosen time is still free, without booking it."""
    slots = available_slots(
        service=service,
        start_date=start.astimezone(location.zone).date(),
        days=1,
        practitioner=practitioner,
        location=location,
        now=now,
    )
    return any(slot.start == start for slot in slots)
