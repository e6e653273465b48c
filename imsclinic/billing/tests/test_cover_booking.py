"""Booking a visit for a patient with an open claim warns the front desk; it never refuses."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.billing.claims import booking_warnings
from imsclinic.clinic.models import Service
from imsclinic.scheduling.models import Appointment
from tests.factories.billing import claim, payer
from tests.factories.clients import signed_in
from tests.factories.scheduling import weekday_shifts

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def values(url: str) -> dict[str, str]:
    return {key: found[0] for key, found in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def schedule(location, physio, other_physio):
    return weekday_shifts(location, [physio, other_physio], timezone.localdate() - dt.timedelta(7))


@pytest.fixture
def treatment(db) -> Service:
    return Service.objects.create(
        name="Physiotherapy treatment",
        slug="physio-treatment",
        duration_minutes=30,
        price=120,
        bookable_online=False,
        room_kind=Service.RoomKind.NONE,
    )


@pytest.fixture
def auto(db):
    return payer(name="Provincial Auto", kind="auto")


def chosen_time(client, patient, physio, service) -> str:
    """Pick the first free time on the staff picker; return the confirm page's address."""
    picker = client.get(
        reverse("staff_book", args=[patient.pk]),
        {"service": service.slug, "practitioner": physio.practitioner.pk},
    )
    links = re.findall(r'<a href="([^"]+)"[^>]*class="slot"', picker.content.decode())
    return html.unescape(links[0])


def booked_ahead(patient, physio, service, days: int) -> Appointment:
    """A visit already booked some weeks ahead (a morning at the clinic)."""
    practitioner = physio.practitioner
    start = timezone.now().replace(hour=17, minute=0, second=0, microsecond=0) + dt.timedelta(
        days=days
    )
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        location=practitioner.locations.get(),
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=30),
    )


def test_booking_beyond_the_authorised_visits_warns_the_front_desk_and_still_books(
    cast, patient, physio, other_physio, treatment, schedule, auto
):
    claim(patient, auto, cast["front_desk"], number="AUTO-31-007", visits=1)
    booked_ahead(patient, other_physio, treatment, days=40)
    client = signed_in(cast["front_desk"])
    chosen = chosen_time(client, patient, physio, treatment)

    confirm = text_of(client.get(chosen))

    assert "Check the patient's claim before booking" in confirm
    assert (
        "This visit is beyond the 1 visit authorised on claim AUTO-31-007 (Provincial Auto): "
        "1 already invoiced or booked." in confirm
    )
    assert "Book this visit" in confirm
    response = client.post(chosen.split("?")[0], values(chosen))
    assert response.status_code == 302
    assert Appointment.objects.filter(patient=patient).count() == 2


def test_booking_after_the_authorisation_ended_warns_naming_the_claim(
    cast, patient, physio, treatment, schedule, auto
):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    claim(
        patient,
        auto,
        cast["front_desk"],
        number="AUTO-31-008",
        start=yesterday - dt.timedelta(days=30),
        until=yesterday,
    )
    client = signed_in(cast["front_desk"])
    chosen = chosen_time(client, patient, physio, treatment)

    confirm = text_of(client.get(chosen))

    assert (
        f"This visit is after claim AUTO-31-008 (Provincial Auto) stopped being authorised on "
        f"{yesterday.isoformat()}; the payer will not be billed for it." in confirm
    )
    assert client.post(chosen.split("?")[0], values(chosen)).status_code == 302
    assert Appointment.objects.filter(patient=patient).exists()


def test_booking_before_the_authorisation_starts_warns_naming_the_claim(
    cast, patient, physio, treatment, schedule, auto
):
    later = timezone.localdate() + dt.timedelta(days=60)
    claim(patient, auto, cast["front_desk"], number="WCB-5", start=later)
    client = signed_in(cast["front_desk"])

    confirm = text_of(client.get(chosen_time(client, patient, physio, treatment)))

    assert f"before claim WCB-5 (Provincial Auto) is authorised from {later.isoformat()}" in confirm


def test_the_last_authorised_visit_and_the_one_before_it_are_announced(
    cast, patient, physio, other_physio, treatment, schedule, auto
):
    case = claim(patient, auto, cast["front_desk"], number="AUTO-31-009", visits=3)
    booked_ahead(patient, other_physio, treatment, days=40)
    client = signed_in(cast["front_desk"])

    one_left = text_of(client.get(chosen_time(client, patient, physio, treatment)))
    assert (
        "After this visit, one visit is left of those authorised on claim AUTO-31-009 "
        "(Provincial Auto)." in one_left
    )

    booked_ahead(patient, other_physio, treatment, days=41)
    last = text_of(client.get(chosen_time(client, patient, physio, treatment)))
    assert "This is the last visit authorised on claim AUTO-31-009 (Provincial Auto)" in last

    case.authorised_visits = 10
    case.save()
    plenty = text_of(client.get(chosen_time(client, patient, physio, treatment)))
    assert "Check the patient's claim" not in plenty


def test_a_closed_claim_gives_no_warning(cast, patient, treatment, auto):
    from imsclinic.billing.services.cover import claim_close

    case = claim(patient, auto, cast["front_desk"], visits=1)
    booked_ahead(patient, cast["physio"], treatment, days=5)
    claim_close(claim=case, actor=cast["front_desk"])
    assert booking_warnings(patient, days=[timezone.localdate() + dt.timedelta(days=9)]) == []


def test_a_practitioner_booking_for_the_patient_is_not_shown_their_claim(
    cast, patient, physio, other_physio, treatment, schedule, auto
):
    claim(patient, auto, cast["front_desk"], number="AUTO-31-010", visits=1)
    booked_ahead(patient, other_physio, treatment, days=40)
    client = signed_in(cast["physio"])

    confirm = text_of(client.get(chosen_time(client, patient, physio, treatment)))

    assert "Book this visit" in confirm
    assert "AUTO-31-010" not in confirm


def test_a_course_going_beyond_the_authorised_visits_warns_and_still_books(
    cast, patient, physio, location, treatment, schedule, auto
):
    from imsclinic.scheduling.selectors import available_slots

    claim(patient, auto, cast["front_desk"], number="WCB-31-4", visits=2)
    first = available_slots(
        service=treatment,
        start_date=timezone.localdate() + dt.timedelta(days=7),
        days=7,
        practitioner=physio.practitioner,
        location=location,
    )[0]
    data = {
        "service": treatment.slug,
        "practitioner": str(physio.practitioner.pk),
        "location": str(location.pk),
        "start": first.start.astimezone(dt.UTC).isoformat(),
        "sessions": "4",
    }
    client = signed_in(cast["front_desk"])
    url = reverse("staff_course_plan", args=[patient.pk])

    plan = text_of(client.get(url, data))

    assert (
        "2 of these visits are beyond those authorised on claim WCB-31-4 (Provincial Auto): "
        "2 authorised, 0 already invoiced or booked." in plan
    )
    assert client.post(url, {**data, "book": "all"}).status_code == 302
    assert Appointment.objects.filter(patient=patient).count() == 4


def course_plan_page(client, patient, physio, location, treatment, sessions: int = 4):
    """The staff course page for weekly visits from the first free time a week ahead."""
    from imsclinic.scheduling.selectors import available_slots

    first = available_slots(
        service=treatment,
        start_date=timezone.localdate() + dt.timedelta(days=7),
        days=7,
        practitioner=physio.practitioner,
        location=location,
    )[0]
    data = {
        "service": treatment.slug,
        "practitioner": str(physio.practitioner.pk),
        "location": str(location.pk),
        "start": first.start.astimezone(dt.UTC).isoformat(),
        "sessions": str(sessions),
    }
    url = reverse("staff_course_plan", args=[patient.pk])
    return first, text_of(client.get(url, data))


def test_a_course_counts_only_its_own_visits_beyond_the_authorised_ones(
    cast, patient, physio, other_physio, location, treatment, schedule, auto
):
    claim(patient, auto, cast["front_desk"], number="WCB-31-5", visits=5)
    booked_ahead(patient, other_physio, treatment, days=3)
    booked_ahead(patient, other_physio, treatment, days=4)
    client = signed_in(cast["front_desk"])

    _first, plan = course_plan_page(client, patient, physio, location, treatment)

    assert (
        "1 of these visits is beyond those authorised on claim WCB-31-5 (Provincial Auto): "
        "5 authorised, 2 already invoiced or booked. Unless the payer authorises more visits, "
        "the patient is billed for it." in plan
    )


def test_a_course_on_a_claim_already_used_up_says_all_its_visits_are_beyond(
    cast, patient, physio, other_physio, location, treatment, schedule, auto
):
    claim(patient, auto, cast["front_desk"], number="WCB-31-6", visits=1)
    for days in (2, 3, 4, 5):
        booked_ahead(patient, other_physio, treatment, days=days)
    client = signed_in(cast["front_desk"])

    _first, plan = course_plan_page(client, patient, physio, location, treatment)

    assert "4 of these visits are beyond those authorised on claim WCB-31-6" in plan
    assert "7 of these visits" not in plan


def test_a_course_with_one_visit_after_the_authorisation_ends_says_so_of_the_course(
    cast, patient, physio, location, treatment, schedule, auto
):
    from imsclinic.scheduling.selectors import available_slots

    first = available_slots(
        service=treatment,
        start_date=timezone.localdate() + dt.timedelta(days=7),
        days=7,
        practitioner=physio.practitioner,
        location=location,
    )[0]
    # The fourth weekly visit falls after the last authorised day.
    until = first.start.astimezone(location.zone).date() + dt.timedelta(days=15)
    claim(patient, auto, cast["front_desk"], number="WCB-31-7", until=until)
    client = signed_in(cast["front_desk"])

    _first, plan = course_plan_page(client, patient, physio, location, treatment)

    assert (
        f"1 of these visits is after claim WCB-31-7 (Provincial Auto) stopped being authorised "
        f"on {until.isoformat()}; the payer will not be billed for it." in plan
    )
    assert "This visit is after" not in plan
