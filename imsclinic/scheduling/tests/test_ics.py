"""The .ics files: invitations place the visit at the right instant, the feed names no one."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Clinic, Location, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.ics import appointment_ics, practitioner_feed_ics
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from tests.factories import VANCOUVER

LONDON = ZoneInfo("Europe/London")


def make_visit(
    *,
    patient: Patient,
    physio: User,
    location: Location,
    service: Service,
    start: dt.datetime,
    status: str = AppointmentStatus.BOOKED,
    **extra: object,
) -> Appointment:
    start = start.astimezone(dt.UTC)
    return Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=service.duration_minutes),
        status=status,
        **extra,
    )


@pytest.fixture
def london(clinic: Clinic, physio: User) -> Location:
    place = Location.objects.create(
        clinic=clinic,
        name="Islington",
        slug="islington",
        address_line1="1 Sample Road",
        city="London",
        region="England",
        postal_code="N1 1AA",
        country="GB",
        phone="020 7946 0000",
        time_zone="Europe/London",
    )
    physio.practitioner.locations.add(place)
    return place


def only_event(raw: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(raw)
    events = calendar.events
    assert len(events) == 1
    return calendar, events[0]


def offset_from_vtimezone(calendar: Calendar, tzid: str, wall: dt.datetime) -> dt.timedelta:
    """Read a wall time's UTC offset from the file's own VTIMEZONE, not the system's zone data."""
    (component,) = [tz for tz in calendar.timezones if tz.tz_name == tzid]
    offset = wall.replace(tzinfo=component.to_tz(lookup_tzid=False)).utcoffset()
    assert offset is not None
    return offset


def test_a_vancouver_visit_the_day_after_dst_ends_starts_at_its_utc_instant(
    patient: Patient, physio: User, location: Location, ims_service: Service
) -> None:
    # 3 November 2030 is the autumn change in Vancouver; the 4th is the first PST Monday.
    start = dt.datetime(2030, 11, 4, 10, 0, tzinfo=VANCOUVER)
    visit = make_visit(
        patient=patient, physio=physio, location=location, service=ims_service, start=start
    )
    calendar, event = only_event(appointment_ics(visit, method="REQUEST"))
    assert event["DTSTART"].params["TZID"] == "America/Vancouver"
    assert event.decoded("DTSTART").astimezone(dt.UTC) == dt.datetime(
        2030, 11, 4, 18, 0, tzinfo=dt.UTC
    )
    assert event.decoded("DTEND").astimezone(dt.UTC) == visit.end
    # The VTIMEZONE itself knows both sides of the change.
    assert offset_from_vtimezone(
        calendar, "America/Vancouver", dt.datetime(2030, 11, 4, 10)
    ) == dt.timedelta(hours=-8)
    assert offset_from_vtimezone(
        calendar, "America/Vancouver", dt.datetime(2030, 11, 1, 10)
    ) == dt.timedelta(hours=-7)
    assert offset_from_vtimezone(
        calendar, "America/Vancouver", dt.datetime(2030, 3, 11, 10)
    ) == dt.timedelta(hours=-7)


def test_a_london_visit_the_day_after_summer_time_begins_starts_at_its_utc_instant(
    patient: Patient, physio: User, london: Location, ims_service: Service
) -> None:
    start = dt.datetime(2030, 4, 1, 9, 0, tzinfo=LONDON)
    visit = make_visit(
        patient=patient, physio=physio, location=london, service=ims_service, start=start
    )
    calendar, event = only_event(appointment_ics(visit, method="REQUEST"))
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.decoded("DTSTART").astimezone(dt.UTC) == dt.datetime(
        2030, 4, 1, 8, 0, tzinfo=dt.UTC
    )
    assert offset_from_vtimezone(
        calendar, "Europe/London", dt.datetime(2030, 4, 1, 9)
    ) == dt.timedelta(hours=1)
    assert offset_from_vtimezone(
        calendar, "Europe/London", dt.datetime(2030, 3, 29, 9)
    ) == dt.timedelta(0)
    assert "1 Sample Road" in str(event["LOCATION"])


def test_an_invitation_is_an_itip_request_from_the_clinic(
    patient: Patient, physio: User, location: Location, ims_service: Service, clinic: Clinic
) -> None:
    visit = make_visit(
        patient=patient,
        physio=physio,
        location=location,
        service=ims_service,
        start=dt.datetime(2030, 6, 3, 10, tzinfo=VANCOUVER),
    )
    calendar, event = only_event(appointment_ics(visit, method="REQUEST"))
    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    assert "imsclinic" in str(calendar["PRODID"])
    assert str(event["UID"]) == f"appointment-{visit.pk}@127.0.0.1"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "IMS follow-up at Cedar IMS Physiotherapy"
    assert str(event["ORGANIZER"]) == "mailto:hello@cedar.example"
    assert str(event["ATTENDEE"]) == "mailto:pat@patients.example"
    assert "100 Example Ave" in str(event["LOCATION"])
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert "http://127.0.0.1:8000/portal/" in str(event["DESCRIPTION"])


def test_a_cancellation_keeps_the_uid_and_outranks_the_invitation(
    patient: Patient, physio: User, location: Location, ims_service: Service
) -> None:
    visit = make_visit(
        patient=patient,
        physio=physio,
        location=location,
        service=ims_service,
        start=dt.datetime(2030, 6, 3, 10, tzinfo=VANCOUVER),
    )
    _, request = only_event(appointment_ics(visit, method="REQUEST"))
    visit.status = AppointmentStatus.CANCELLED
    visit.save(update_fields=["status"])
    calendar, cancel = only_event(appointment_ics(visit, method="CANCEL"))
    assert calendar["METHOD"] == "CANCEL"
    assert cancel["UID"] == request["UID"]
    assert cancel.decoded("SEQUENCE") > request.decoded("SEQUENCE")
    assert str(cancel["STATUS"]) == "CANCELLED"


def test_a_rescheduled_visit_has_its_own_uid(
    patient: Patient, physio: User, location: Location, ims_service: Service
) -> None:
    old = make_visit(
        patient=patient,
        physio=physio,
        location=location,
        service=ims_service,
        start=dt.datetime(2030, 6, 3, 10, tzinfo=VANCOUVER),
        status=AppointmentStatus.CANCELLED,
    )
    new = make_visit(
        patient=patient,
        physio=physio,
        location=location,
        service=ims_service,
        start=dt.datetime(2030, 6, 4, 10, tzinfo=VANCOUVER),
        rescheduled_from=old,
    )
    _, old_event = only_event(appointment_ics(old, method="CANCEL"))
    _, new_event = only_event(appointment_ics(new, method="REQUEST"))
    assert old_event["UID"] != new_event["UID"]


def test_the_practitioner_feed_shows_times_and_initials_only(
    patient: Patient,
    other_patient: Patient,
    physio: User,
    location: Location,
    london: Location,
    ims_service: Service,
) -> None:
    kept = make_visit(
        patient=patient,
        physio=physio,
        location=location,
        service=ims_service,
        start=dt.datetime(2030, 11, 4, 10, tzinfo=VANCOUVER),
    )
    abroad = make_visit(
        patient=patient,
        physio=physio,
        location=london,
        service=ims_service,
        start=dt.datetime(2030, 11, 6, 10, tzinfo=LONDON),
    )
    make_visit(
        patient=other_patient,
        physio=physio,
        location=location,
        service=ims_service,
        start=dt.datetime(2030, 11, 5, 10, tzinfo=VANCOUVER),
        status=AppointmentStatus.CANCELLED,
    )
    visits = Appointment.objects.select_related("patient", "location", "service").order_by("start")
    raw = practitioner_feed_ics(physio.practitioner, visits)
    calendar = Calendar.from_ical(raw)
    events = calendar.walk("VEVENT")
    assert [str(event["SUMMARY"]) for event in events] == [
        "IMS follow-up · P.I.",
        "IMS follow-up · P.I.",
    ]
    assert [event.decoded("DTSTART").astimezone(dt.UTC) for event in events] == [
        kept.start,
        abroad.start,
    ]
    assert [str(event["LOCATION"]) for event in events] == ["Kitsilano", "Islington"]
    assert {tz["TZID"] for tz in calendar.walk("VTIMEZONE")} == {
        "America/Vancouver",
        "Europe/London",
    }
    text = raw.decode()
    # Whole values, not fragments: "555" alone also matches a DTSTAMP taken at hh:55:5x.
    private_values = ("Pat", "Ient", "Otto", "555-0199", "555-0123", "patients.example")
    for private in (*private_values, "1980-04-02", "19800402", "Example Ave"):
        assert private not in text
    assert "ATTENDEE" not in text


def test_an_empty_feed_is_still_a_valid_calendar(physio: User) -> None:
    calendar = Calendar.from_ical(practitioner_feed_ics(physio.practitioner, []))
    assert calendar.walk("VEVENT") == []
    assert calendar["VERSION"] == "2.0"
