"""IMS is offered and booked only on days every licence needling needs is current there."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.clinic.models import Location, OpeningHours, Room
from imsclinic.scheduling.models import Appointment, Shift
from imsclinic.scheduling.selectors import available_slots, practitioners_for
from imsclinic.scheduling.services.booking import LicenceNotCurrent, appointment_book
from tests.factories import VANCOUVER
from tests.factories.clients import signed_in
from tests.factories.scheduling import weekday_shifts

pytestmark = pytest.mark.django_db


def slot_starts(response) -> list[dt.datetime]:
    """Return the start of every time the picker page offers, in Vancouver, in page order."""
    links = re.findall(r'<a href="([^"]+)"[^>]*class="slot"', response.content.decode())
    return [
        dt.datetime.fromisoformat(
            parse_qs(urlsplit(html.unescape(link)).query)["start"][0]
        ).astimezone(VANCOUVER)
        for link in links
    ]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def schedule(location, physio):
    return weekday_shifts(location, [physio], timezone.localdate() - dt.timedelta(7))


@pytest.fixture
def a_day_with_times(assessment, physio, location, schedule) -> dt.date:
    """A weekday a few days ahead on which the assessment is offered with the physio."""
    slots = available_slots(
        service=assessment,
        start_date=timezone.localdate() + dt.timedelta(days=3),
        days=7,
        practitioner=physio.practitioner,
        location=location,
    )
    return slots[0].start.date()


@pytest.fixture
def calgary(clinic) -> Location:
    """A location in Alberta, where needling needs a separate authorisation."""
    place = Location.objects.create(
        clinic=clinic,
        name="Beltline",
        slug="beltline",
        address_line1="200 Example St SW",
        city="Calgary",
        region="AB",
        postal_code="T2R 0A1",
        phone="403-555-0101",
        time_zone="America/Edmonton",
    )
    for day in range(5):
        OpeningHours.objects.create(
            location=place, weekday=day, opens=dt.time(8), closes=dt.time(18)
        )
    Room.objects.create(location=place, name="Bed 1")
    return place


def picker(client, service, practitioner, day: dt.date):
    return client.get(
        reverse("portal_book"),
        {
            "service": service.slug,
            "practitioner": practitioner.pk,
            "week": day.isoformat(),
            "day": day.isoformat(),
        },
    )


def test_the_online_picker_offers_no_ims_time_from_the_day_the_registration_expires(
    cast, patient, physio, assessment, a_day_with_times
):
    practitioner = physio.practitioner
    client = signed_in(cast["patient"])
    practitioner.registration_expires_on = a_day_with_times + dt.timedelta(days=30)
    practitioner.save()
    offered = slot_starts(picker(client, assessment, practitioner, a_day_with_times))
    assert offered and {start.date() for start in offered} == {a_day_with_times}

    practitioner.registration_expires_on = a_day_with_times
    practitioner.save()
    response = picker(client, assessment, practitioner, a_day_with_times)
    assert slot_starts(response) == []
    earlier = picker(client, assessment, practitioner, a_day_with_times - dt.timedelta(days=7))
    assert all(start.date() < a_day_with_times for start in slot_starts(earlier))


def test_a_suspended_registration_takes_the_practitioner_off_the_ims_picker(
    cast, patient, physio, assessment, schedule
):
    practitioner = physio.practitioner
    today = timezone.localdate()
    client = signed_in(cast["patient"])
    assert practitioner in practitioners_for(assessment, None, today=today)
    page = client.get(reverse("portal_book"), {"service": assessment.slug})
    assert "Tara Treating · IMS certified" in text_of(page)
    practitioner.registration_status = "suspended"
    practitioner.save()
    assert practitioner not in practitioners_for(assessment, None, today=today)
    page = client.get(reverse("portal_book"), {"service": assessment.slug})
    assert "Tara Treating" not in text_of(page)


def test_staff_booking_after_the_registration_expired_is_refused_naming_the_licence(
    cast, patient, physio, location, assessment, a_day_with_times
):
    slot = available_slots(
        service=assessment,
        start_date=a_day_with_times,
        days=1,
        practitioner=physio.practitioner,
        location=location,
    )[0]
    practitioner = physio.practitioner
    practitioner.registration_expires_on = a_day_with_times
    practitioner.save()
    data = {
        "service": assessment.slug,
        "practitioner": str(practitioner.pk),
        "location": str(location.pk),
        "start": slot.start.astimezone(dt.UTC).isoformat(),
    }
    response = signed_in(cast["front_desk"]).post(
        reverse("staff_book_confirm", args=[patient.pk]), data
    )
    text = text_of(response)
    assert "Tara Treating may not needle on" in text
    assert "The college registration expired on" in text
    assert not Appointment.objects.filter(patient=patient).exists()


def test_a_patient_is_told_plainly_without_the_licence_details(
    cast, patient, physio, location, assessment, a_day_with_times
):
    slot = available_slots(
        service=assessment,
        start_date=a_day_with_times,
        days=1,
        practitioner=physio.practitioner,
        location=location,
    )[0]
    practitioner = physio.practitioner
    practitioner.registration_status = "lapsed"
    practitioner.save()
    with pytest.raises(LicenceNotCurrent) as refusal:
        appointment_book(
            patient=patient,
            practitioner=practitioner,
            service=assessment,
            location=location,
            start=slot.start,
            actor=cast["patient"],
        )
    assert str(refusal.value) == (
        "Tara Treating cannot give IMS visits on that day. Please choose another day or "
        "another practitioner."
    )


def test_at_an_alberta_location_ims_needs_the_needling_authorisation(physio, assessment, calgary):
    practitioner = physio.practitioner
    practitioner.locations.add(calgary)
    Shift.objects.create(
        practitioner=practitioner,
        location=calgary,
        weekday=2,
        start_time=dt.time(9),
        end_time=dt.time(17),
        valid_from=timezone.localdate(),
    )

    def offered() -> list:
        return available_slots(
            service=assessment,
            start_date=timezone.localdate() + dt.timedelta(days=1),
            days=14,
            practitioner=practitioner,
            location=calgary,
        )

    assert offered() == []
    assert practitioners_for(assessment, calgary, today=timezone.localdate()) == []
    practitioner.needling_authorisation_body = "Physiotherapy Alberta"
    practitioner.needling_authorisation_number = "RA-2291"
    practitioner.needling_authorised_on = timezone.localdate() - dt.timedelta(days=400)
    practitioner.save()
    assert offered()
    assert practitioners_for(assessment, calgary, today=timezone.localdate()) == [practitioner]


def test_a_british_columbia_location_needs_no_authorisation(
    physio, location, assessment, a_day_with_times
):
    assert not physio.practitioner.needling_authorised_on
    assert location.region == "BC" and not location.needs_needling_authorisation
    assert available_slots(
        service=assessment,
        start_date=a_day_with_times,
        days=1,
        practitioner=physio.practitioner,
        location=location,
    )


def test_an_owner_may_require_the_authorisation_for_a_location_in_any_province(
    physio, location, assessment, a_day_with_times
):
    location.requires_needling_authorisation = True
    location.save()
    assert not available_slots(
        service=assessment,
        start_date=a_day_with_times,
        days=1,
        practitioner=physio.practitioner,
        location=location,
    )


def test_services_without_needling_stay_bookable_whatever_the_licences(
    physio, location, schedule, a_day_with_times
):
    from imsclinic.clinic.models import Service

    review = Service.objects.create(
        name="Physiotherapy assessment", slug="physio", duration_minutes=45, price=120
    )
    practitioner = physio.practitioner
    practitioner.registration_expires_on = a_day_with_times - dt.timedelta(days=10)
    practitioner.save()
    assert available_slots(
        service=review,
        start_date=a_day_with_times,
        days=1,
        practitioner=practitioner,
        location=location,
    )


def test_treatment_of_an_ims_visit_cannot_start_once_the_registration_has_expired(
    patient, front_desk, physio, location, assessment, a_day_with_times
):
    from imsclinic.scheduling.services.booking import (
        StatusChangeNotAllowed,
        appointment_set_status,
    )
    from tests.factories.safety import make_ready_for_needling

    slot = available_slots(
        service=assessment,
        start_date=a_day_with_times,
        days=1,
        practitioner=physio.practitioner,
        location=location,
    )[0]
    visit = appointment_book(
        patient=patient,
        practitioner=physio.practitioner,
        service=assessment,
        location=location,
        start=slot.start,
        actor=front_desk,
    )
    during = slot.start + dt.timedelta(minutes=5)
    make_ready_for_needling(patient, by=physio, at=during)
    appointment_set_status(appointment=visit, status="arrived", actor=front_desk, now=during)
    practitioner = physio.practitioner
    practitioner.registration_expires_on = a_day_with_times
    practitioner.save()
    with pytest.raises(StatusChangeNotAllowed, match="The college registration expired on"):
        appointment_set_status(appointment=visit, status="in_treatment", actor=physio, now=during)
    visit.refresh_from_db()
    assert visit.status == "arrived"

    practitioner.registration_expires_on = a_day_with_times + dt.timedelta(days=1)
    practitioner.save()
    started = appointment_set_status(
        appointment=visit, status="in_treatment", actor=physio, now=during
    )
    assert started.status == "in_treatment"
