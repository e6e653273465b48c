"""The booking picker's pure parts: labels in the location's zone, the choices so far, links.

The portal and the front desk book through the same picker (`scheduling.views.picker`
builds its steps). What is here reads nothing from the database: it turns times, chosen
rows and slots into the labels and links the pages show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.utils import dateformat

from imsclinic.clinic.models import Location, Practitioner, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.availability import Slot
from imsclinic.scheduling.models import Appointment

WEEK = 7
ALTERNATIVES = 5
PATIENT_COURSE_WEEKS = range(2, 13)
STAFF_COURSE_WEEKS = range(2, 53)
DEFAULT_COURSE_WEEKS = 6


# ---------------------------------------------------------------------------------------------
# Showing times: always in the location's zone, with the zone's name at that instant.


def time_label(moment: dt.datetime, zone: ZoneInfo) -> str:
    """Return a time as people read it where the visit is, e.g. "9:15 AM PST"."""
    # The abbreviation is taken at the instant itself (fold included), so on a DST change
    # day a 1:30 AM before the change reads PDT and the one after reads PST. Django's "T"
    # format would print nothing for such a repeated wall time.
    local = moment.astimezone(zone)
    return f"{dateformat.format(local, 'g:i A')} {local.tzname() or zone.key}"


def day_label(moment: dt.datetime | dt.date, zone: ZoneInfo | None = None) -> str:
    """Return a day as "Monday 30 November"; datetimes are read in the given zone."""
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(zone).date() if zone is not None else moment.date()
    return dateformat.format(moment, "l j F")


def when_label(moment: dt.datetime, zone: ZoneInfo) -> str:
    """Return a visit's day and time, e.g. "Monday 30 November 2026, 9:15 AM PST"."""
    local = moment.astimezone(zone)
    return f"{dateformat.format(local, 'l j F Y')}, {time_label(local, zone)}"


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def parse_start(text: str) -> dt.datetime | None:
    """Read a start time sent back by the picker; None unless it is an aware ISO time."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    try:
        return moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def parse_day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def assessment_service(services: Iterable[Service]) -> Service | None:
    return next((s for s in services if s.requires_ims_credential and s.for_new_patients), None)


# ---------------------------------------------------------------------------------------------
# The picker's choices and links.


@dataclass(frozen=True)
class Flow:
    """Where one booking journey's steps live: the picker, and where a chosen time goes."""

    patient: Patient
    picker_url: str
    next_url: str  # the confirm page, or the course plan, or the reschedule confirm page
    for_staff: bool = False
    course_mode: bool = False
    fixed_service: Service | None = None  # rescheduling keeps the service
    moving: Appointment | None = None  # the visit being moved: its own time stays offered
    extra: dict[str, str] = field(default_factory=dict)  # carried on every link


@dataclass(frozen=True)
class SlotChoice:
    """A bookable time as the page shows it, with the link that takes it."""

    start: dt.datetime
    label: str
    day_label: str
    practitioner: Practitioner | None
    location: Location | None
    url: str


@dataclass(frozen=True)
class DayChoice:
    day: dt.date
    label: str
    count: int
    selected: bool
    url: str


@dataclass
class Picked:
    """What the person has chosen so far."""

    service: Service | None = None
    practitioner: Practitioner | None = None
    location: Location | None = None
    week: dt.date | None = None
    day: dt.date | None = None
    sessions: int = DEFAULT_COURSE_WEEKS

    def params(self, flow: Flow, **changes: Any) -> dict[str, str]:
        values: dict[str, Any] = {
            "service": self.service.slug if self.service else None,
            "practitioner": self.practitioner.pk if self.practitioner else None,
            "location": self.location.pk if self.location else None,
            "week": self.week.isoformat() if self.week else None,
            "day": self.day.isoformat() if self.day else None,
        }
        if flow.course_mode:
            values["sessions"] = self.sessions
        values.update(changes)
        params = {**flow.extra}
        params.update({key: str(value) for key, value in values.items() if value is not None})
        return params


def link(base: str, params: dict[str, str]) -> str:
    return f"{base}?{urlencode(params)}" if params else base


def picked_zone(picked: Picked, locations: Sequence[Location]) -> ZoneInfo:
    if picked.location is not None:
        return picked.location.zone
    return locations[0].zone if locations else ZoneInfo("UTC")


def slot_choices(
    slots: Iterable[Slot],
    *,
    flow: Flow,
    picked: Picked,
    people: dict[int, Practitioner],
    places: dict[int, Location],
) -> list[SlotChoice]:
    """Turn slots into links to the next step; for "anyone", one entry per time and place."""
    seen: set[tuple[dt.datetime, int]] = set()
    choices = []
    # A week shows hundreds of times on a handful of days at a few dozen clock times: each
    # label is formatted once (by the local wall time and the zone's name at that instant,
    # so the two 1:30 AMs of a DST change day still read apart).
    days: dict[dt.date, str] = {}
    clock: dict[tuple[int, int, str], str] = {}
    for slot in slots:
        key = (slot.start.astimezone(dt.UTC), slot.location_id)
        if picked.practitioner is None and key in seen:
            continue
        seen.add(key)
        location = places.get(slot.location_id)
        zone = location.zone if location is not None else slot.start.tzinfo
        assert isinstance(zone, ZoneInfo)
        params = {
            **flow.extra,
            "service": picked.service.slug if picked.service else "",
            "practitioner": str(slot.practitioner_id),
            "location": str(slot.location_id),
            "start": iso_utc(slot.start),
        }
        if picked.practitioner is None:
            params["any"] = "1"
        if flow.course_mode:
            params["sessions"] = str(picked.sessions)
        local = slot.start.astimezone(zone)
        name = local.tzname() or zone.key
        label = clock.get((local.hour, local.minute, name))
        if label is None:
            label = clock[(local.hour, local.minute, name)] = time_label(local, zone)
        day = days.get(local.date())
        if day is None:
            day = days[local.date()] = day_label(local.date())
        choices.append(
            SlotChoice(
                start=slot.start,
                label=label,
                day_label=day,
                practitioner=people.get(slot.practitioner_id),
                location=location,
                url=link(flow.next_url, params),
            )
        )
    return choices


def group_by_location(
    choices: Sequence[SlotChoice],
) -> list[tuple[Location | None, list[SlotChoice]]]:
    """Group a day's times by location, each group in its own local order.

    Times at two locations in different zones would otherwise interleave confusingly
    (9:30 AM EST before 8:00 AM PST).
    """
    groups: dict[int | None, tuple[Location | None, list[SlotChoice]]] = {}
    for choice in choices:
        key = choice.location.pk if choice.location is not None else None
        groups.setdefault(key, (choice.location, []))[1].append(choice)
    ordered = sorted(
        groups.values(),
        key=lambda group: (group[0].order, group[0].name) if group[0] is not None else (0, ""),
    )
    return [(location, sorted(items, key=lambda c: c.start)) for location, items in ordered]
