"""Reads of appointments that pages and the API share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
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
    # Zones sit at most 14 hours from UTC, so a day on either side covers them all.
    first = dt.datetime.combine(start_date - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return first, first + dt.timedelta(days=max(days, 0) + 2)


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
    practitioner_busy: dict[int, list[Busy]] = {}
    room_busy: dict[int, list[Busy]] = {}
    for practitioner_id, room_id, begins, ends in Appointment.objects.filter(
        Q(practitioner_id__in=practitioners) | Q(room_id__in=all_rooms),
        status__in=ACTIVE_STATUSES,
        start__lt=window_end,
        busy_until__gt=window_start,
    ).values_list("practitioner_id", "room_id", "start", "busy_until"):
        interval = Busy(begins, ends)
        if practitioner_id in practitioners:
            practitioner_busy.setdefault(practitioner_id, []).append(interval)
        if room_id is not None:
            room_busy.setdefault(room_id, []).append(interval)

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
        practitioner_busy={key: tuple(value) for key, value in practitioner_busy.items()},
        practitioner_time_off={key: tuple(value) for key, value in time_off.items()},
        room_busy={key: tuple(value) for key, value in room_busy.items()},
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
