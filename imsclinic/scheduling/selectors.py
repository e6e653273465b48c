"""Reads of appointments that pages and the API share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.postgres.fields import DateTimeRangeField
from django.db import connection
from django.db.models import F, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from imsclinic.clinic.models import Location, Practitioner, Room, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.availability import (
    AvailabilityQuery,
    Busy,
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
    TimeOff,
)


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


def _overlapping(
    visits: QuerySet[Appointment], window_start: dt.datetime, window_end: dt.datetime
) -> QuerySet[Appointment]:
    """Narrow to visits whose busy time overlaps the window, without reading older history."""
    if connection.vendor == "postgresql":
        # The exclusion constraints' GiST indexes hold exactly this range expression, so
        # PostgreSQL answers "overlaps the window" from them, for practitioners and beds.
        span = Func(
            F("start"),
            F("busy_until"),
            Value("[)"),
            function="TSTZRANGE",
            output_field=DateTimeRangeField(),
        )
        return visits.alias(span=span).filter(span__overlap=(window_start, window_end))
    # Elsewhere only the index on (practitioner, start) can find a window's rows without
    # reading the years before it, and only with a lower bound on start: a visit fits inside
    # one shift, so none starts more than LONGEST_VISIT before the window and overlaps it.
    # Beds' visits are reached through that index too: every visit has a practitioner, so
    # the IN-subquery excludes nothing and only tells the database how to look.
    return visits.filter(
        practitioner_id__in=Practitioner.objects.values("pk"),
        start__gt=_earliest_overlapping_start(window_start),
        start__lt=window_end,
        busy_until__gt=window_start,
    )


def _instant_column(name: str) -> Any:
    """Select a timestamp column as ISO text with its offset, for `fromisoformat`.

    A search reads a few thousand busy rows. Read the usual way, every timestamp passes through
    Python code in the driver and in Django (SQLite: parse, then attach the zone; PostgreSQL:
    Django's loader swaps the zone); `dt.datetime.fromisoformat` on the text is one C call and
    costs about half as much. Other databases, or a SQLite that stores local times, keep F().
    """
    if connection.vendor == "postgresql":
        # "2026-12-10 16:00:00+00": psycopg needs DateStyle ISO itself; Django sets the zone.
        return Cast(F(name), output_field=TextField())
    if connection.vendor == "sqlite" and connection.timezone_name == "UTC":
        # Django stores naive UTC text here ("2026-12-10 16:00:00"): add the offset.
        return Concat(F(name), Value("+00:00"), output_field=TextField())
    return F(name)


def _instant_parser() -> Callable[[Any], dt.datetime]:
    """Return what turns a value `_instant_column` selected into an aware datetime."""
    if isinstance(_instant_column("start"), F):
        return lambda value: value  # Django's own conversion already ran
    return dt.datetime.fromisoformat


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
) -> AvailabilityQuery:
    """Load everything the availability engine needs for a search, in five queries."""
    now = now or timezone.now()
    start_date, days = _searchable(start_date, days)
    window_start, window_end = _window(start_date, days)
    last_day = start_date + dt.timedelta(days=max(days, 1) - 1)

    shift_filter = Q(
        practitioner__is_active=True,
        location__is_active=True,
        valid_from__lte=last_day,
    ) & (Q(valid_until__isnull=True) | Q(valid_until__gte=start_date))
    if practitioner is not None:
        shift_filter &= Q(practitioner=practitioner)
    if location is not None:
        shift_filter &= Q(location=location)
    # One query for shifts, their breaks (a LEFT JOIN: one row per break), the practitioners'
    # credentials and the locations' zones.
    shift_rows: dict[int, Any] = {}
    breaks: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for row in (
        Shift.objects.filter(shift_filter)
        .order_by("practitioner_id", "location_id", "weekday", "start_time", "pk")
        .values(
            "pk",
            "practitioner_id",
            "location_id",
            "weekday",
            "start_time",
            "end_time",
            "valid_from",
            "valid_until",
            "practitioner__ims_certified_on",
            "practitioner__ims_certification_expires_on",
            "location__time_zone",
            "location__clinic__slot_step_minutes",
            "breaks__start_time",
            "breaks__end_time",
        )
    ):
        shift_rows.setdefault(row["pk"], row)
        if row["breaks__start_time"] is not None:
            breaks.setdefault(row["pk"], []).append(
                (row["breaks__start_time"], row["breaks__end_time"])
            )
    if not shift_rows:
        return AvailabilityQuery(
            service=service_info(service),
            start_date=start_date,
            days=days,
            now=now,
            practitioners=(),
            locations=(),
            shifts=(),
        )

    practitioners = {
        row["practitioner_id"]: PractitionerInfo(
            practitioner_id=row["practitioner_id"],
            ims_certified_on=row["practitioner__ims_certified_on"],
            ims_certification_expires_on=row["practitioner__ims_certification_expires_on"],
        )
        for row in shift_rows.values()
    }
    locations = {row["location_id"]: row["location__time_zone"] for row in shift_rows.values()}

    rooms: dict[int, list[int]] = {}
    if service.room_kind != Service.RoomKind.NONE:
        for room_id, location_id in (
            Room.objects.filter(location_id__in=locations, kind=service.room_kind, is_active=True)
            .order_by("name", "pk")
            .values_list("pk", "location_id")
        ):
            rooms.setdefault(location_id, []).append(room_id)

    closures: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for location_id, first, last in ClinicClosure.objects.filter(
        location_id__in=locations, first_day__lte=last_day, last_day__gte=start_date
    ).values_list("location_id", "first_day", "last_day"):
        closures.setdefault(location_id, []).append((first, last))

    time_off: dict[int, list[Busy]] = {}
    for practitioner_id, begins, ends in TimeOff.objects.filter(
        practitioner_id__in=practitioners, start__lt=window_end, end__gt=window_start
    ).values_list("practitioner_id", "start", "end"):
        time_off.setdefault(practitioner_id, []).append(Busy(begins, ends))

    all_rooms = [room_id for ids in rooms.values() for room_id in ids]
    practitioner_busy: dict[int, list[Busy]] = {pk: [] for pk in practitioners}
    room_busy: dict[int, list[Busy]] = {pk: [] for pk in all_rooms}
    instant = _instant_parser()
    for practitioner_id, room_id, begins, ends in (
        _overlapping(Appointment.objects.all(), window_start, window_end)
        .filter(
            Q(practitioner_id__in=practitioners) | Q(room_id__in=all_rooms),
            status__in=ACTIVE_STATUSES,
        )
        .order_by()
        .values_list(
            "practitioner_id", "room_id", _instant_column("start"), _instant_column("busy_until")
        )
    ):
        interval = Busy(instant(begins), instant(ends))
        if practitioner_id in practitioner_busy:
            practitioner_busy[practitioner_id].append(interval)
        if room_id in room_busy:
            room_busy[room_id].append(interval)

    return AvailabilityQuery(
        service=service_info(service),
        start_date=start_date,
        days=days,
        now=now,
        practitioners=tuple(practitioners.values()),
        locations=tuple(
            LocationInfo(
                location_id=location_id,
                time_zone=time_zone,
                room_ids=tuple(rooms.get(location_id, ())),
                closures=tuple(closures.get(location_id, ())),
            )
            for location_id, time_zone in locations.items()
        ),
        shifts=tuple(
            ShiftRule(
                practitioner_id=row["practitioner_id"],
                location_id=row["location_id"],
                weekday=row["weekday"],
                start=row["start_time"],
                end=row["end_time"],
                valid_from=row["valid_from"],
                valid_until=row["valid_until"],
                breaks=tuple(breaks.get(pk, ())),
            )
            for pk, row in shift_rows.items()
        ),
        practitioner_busy={key: tuple(value) for key, value in practitioner_busy.items() if value},
        practitioner_time_off={key: tuple(value) for key, value in time_off.items()},
        room_busy={key: tuple(value) for key, value in room_busy.items() if value},
        step_minutes=next(iter(shift_rows.values()))["location__clinic__slot_step_minutes"],
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
) -> list[Slot]:
    """Return the bookable slots for a service over the given local days."""
    query = availability_query(
        service=service,
        start_date=start_date,
        days=days,
        practitioner=practitioner,
        location=location,
        now=now,
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
        )
    )
    # Instants, not wall times: within one zone Python subtracts wall clocks.
    target = around.timestamp()
    slots.sort(key=lambda slot: (abs(slot.start.timestamp() - target), slot.start.timestamp()))
    return slots[:limit]
