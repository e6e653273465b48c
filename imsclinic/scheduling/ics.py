"""Calendar files (.ics) for visits: the patient's invitations and a practitioner's private feed.

Each visit has one UID for its whole life (`appointment-<id>@<site host>`). A rescheduled visit
is a new appointment, so it gets a new UID and its own REQUEST; the visit it replaced is sent a
CANCEL under its own UID, which removes the old entry from the patient's calendar. Since a
visit's time never changes in place, a visit has only two versions: the REQUEST (SEQUENCE 0)
and the CANCEL (SEQUENCE 1), which outranks it whichever order the emails arrive in.

Times are written in the location's IANA zone (DTSTART;TZID=America/Vancouver:...) with a
VTIMEZONE built from the zone data for the years around the visits, so calendar programs that
do not know the zone still place the visit at the right instant across DST changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from imsclinic.clinic.models import Location, Practitioner
from imsclinic.scheduling.models import Appointment

Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//imsclinic//Scheduling//EN"
SEQUENCE: dict[Method, int] = {"REQUEST": 0, "CANCEL": 1}


def _site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "imsclinic"


def portal_url() -> str:
    """Return the absolute address of the patient portal (SITE_URL + the portal's path)."""
    return settings.SITE_URL + reverse("portal_home")


def appointment_uid(appointment: Appointment) -> str:
    """Return the visit's calendar UID, the same in every file that names it."""
    return f"appointment-{appointment.pk}@{_site_host()}"


@lru_cache(maxsize=64)
def _vtimezone_ical(tzid: str, first_year: int, last_year: int) -> bytes:
    # Building a VTIMEZONE walks the zone's transitions; cache it per zone and span.
    component = Timezone.from_tzid(
        tzid, first_date=dt.date(first_year, 1, 1), last_date=dt.date(last_year + 1, 1, 1)
    )
    return bytes(component.to_ical())


def _add_timezones(
    calendar: Calendar, zones: Iterable[str], first: dt.datetime, last: dt.datetime
) -> None:
    """Put a VTIMEZONE for each zone, covering the year before `first` to the year after `last`."""
    for tzid in sorted(set(zones)):
        ical = _vtimezone_ical(tzid, first.year - 1, last.year + 1)
        calendar.add_component(Timezone.from_ical(ical))


def _address(location: Location) -> str:
    parts = [
        location.name,
        location.address_line1,
        location.address_line2,
        f"{location.city} {location.region} {location.postal_code}".strip(),
    ]
    return ", ".join(part for part in parts if part)


def _new_calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def appointment_ics(
    appointment: Appointment, *, method: Method, now: dt.datetime | None = None
) -> bytes:
    """Return an iTIP calendar (REQUEST or CANCEL) with one event for this visit."""
    location = appointment.location
    clinic = location.clinic
    zone = location.zone
    calendar = _new_calendar(method)
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", SEQUENCE[method])
    event.add("dtstamp", (now or timezone.now()).astimezone(dt.UTC))
    event.add("dtstart", appointment.start.astimezone(zone))
    event.add("dtend", appointment.end.astimezone(zone))
    event.add(
        "summary",
        _("%(service)s at %(clinic)s")
        % {"service": appointment.service.name, "clinic": clinic.name},
    )
    event.add("location", _address(location))
    event.add(
        "description",
        _("To cancel or change this visit, sign in at %(url)s or call %(phone)s.")
        % {"url": portal_url(), "phone": location.phone or clinic.phone},
    )
    organizer = vCalAddress(f"mailto:{clinic.email}")
    organizer.params["cn"] = vText(clinic.name)
    event.add("organizer", organizer)
    recipient = appointment.patient.contact_email
    if recipient:
        attendee = vCalAddress(f"mailto:{recipient}")
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED")
        attendee.params["rsvp"] = vText("FALSE")
        event.add("attendee", attendee)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    _add_timezones(calendar, [location.time_zone], appointment.start, appointment.end)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def patient_initials(appointment: Appointment) -> str:
    """Return the patient's initials, e.g. 'J.D.'; nothing else about them leaves the clinic."""
    patient = appointment.patient
    letters = [name.strip()[:1].upper() for name in (patient.given_name, patient.family_name)]
    return "".join(f"{letter}." for letter in letters if letter)


def practitioner_feed_ics(
    practitioner: Practitioner,
    appointments: Iterable[Appointment],
    *,
    now: dt.datetime | None = None,
) -> bytes:
    """Return a practitioner's private calendar feed: active visits, initials only.

    Pass appointments with `select_related("patient", "location", "service")`; cancelled and
    no-show visits are left out. Events carry the service name, the patient's initials and the
    location's name, never the patient's name, contact details or anything clinical.
    """
    stamp = (now or timezone.now()).astimezone(dt.UTC)
    calendar = _new_calendar("PUBLISH")
    calendar.add("x-wr-calname", _("IMS visits · %(name)s") % {"name": practitioner.display_name})
    calendar.add("refresh-interval", dt.timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    events: list[Event] = []
    zones: set[str] = set()
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    for appointment in appointments:
        if not appointment.is_active:
            continue
        location = appointment.location
        zones.add(location.time_zone)
        first = appointment.start if first is None else min(first, appointment.start)
        last = appointment.end if last is None else max(last, appointment.end)
        event = Event()
        event.add("uid", appointment_uid(appointment))
        event.add("dtstamp", stamp)
        event.add("dtstart", appointment.start.astimezone(location.zone))
        event.add("dtend", appointment.end.astimezone(location.zone))
        event.add(
            "summary",
            _("%(service)s · %(initials)s")
            % {"service": appointment.service.name, "initials": patient_initials(appointment)},
        )
        event.add("location", location.name)
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        events.append(event)
    if first is not None and last is not None:
        _add_timezones(calendar, zones, first, last)
    for event in events:
        calendar.add_component(event)
    return bytes(calendar.to_ical())
