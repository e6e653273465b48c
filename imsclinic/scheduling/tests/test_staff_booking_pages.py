"""The front desk books for a patient through the pages, usually with them on the phone."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.clinic.models import Service
from imsclinic.scheduling.models import Appointment, AppointmentStatus, Course, TimeOff
from imsclinic.scheduling.selectors import available_slots
from tests.factories.clients import signed_in
from tests.factories.scheduling import weekday_shifts

pytestmark = pytest.mark.django_db


def slot_links(response) -> list[str]:
    return [
        html.unescape(url)
        for url in re.findall(r'<a href="([^"]+)"[^>]*class="slot"', response.content.decode())
    ]


def values(url: str) -> dict[str, str]:
    return {key: found[0] for key, found in parse_qs(urlsplit(url).query).items()}


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def schedule(location, physio, other_physio):
    return weekday_shifts(location, [physio, other_physio], timezone.localdate() - dt.timedelta(7))


@pytest.fixture
def phone_review(db):
    return Service.objects.create(
        name="Phone review",
        slug="phone-review",
        duration_minutes=15,
        price=0,
        bookable_online=False,
        room_kind=Service.RoomKind.NONE,
    )


def test_the_patient_page_links_to_booking_for_that_patient(cast, patient):
    page = signed_in(cast["front_desk"]).get(reverse("patient_detail", args=[patient.pk]))
    assert reverse("staff_book", args=[patient.pk]) in page.content.decode()


def test_the_front_desk_sees_services_patients_cannot_book_online(
    cast, patient, phone_review, assessment, schedule
):
    page = signed_in(cast["front_desk"]).get(reverse("staff_book", args=[patient.pk]))
    assert page.status_code == 200
    text = text_of(page)
    assert "For Pat Ient, born 1980-04-02" in text
    assert "Phone review" in text and "Staff booking only" in text


def test_the_front_desk_books_a_visit_for_a_patient_on_the_phone(
    cast, patient, physio, phone_review, schedule
):
    client = signed_in(cast["front_desk"])
    picker = client.get(
        reverse("staff_book", args=[patient.pk]),
        {"service": phone_review.slug, "practitioner": physio.practitioner.pk},
    )
    chosen = slot_links(picker)[0]
    assert chosen.startswith(reverse("staff_book_confirm", args=[patient.pk]))
    confirm = client.get(chosen)
    assert "Book this visit" in text_of(confirm)
    response = client.post(chosen.split("?")[0], values(chosen))
    assert response.status_code == 302
    assert response["Location"] == reverse("patient_detail", args=[patient.pk])
    visit = Appointment.objects.get(patient=patient)
    assert visit.created_by == cast["front_desk"]
    assert visit.service == phone_review
    assert visit.start.isoformat() == values(chosen)["start"]
    detail = text_of(client.get(response["Location"]))
    assert "Booked Phone review on" in detail
    assert "The patient will get a confirmation email." in detail


def test_a_time_taken_while_on_the_phone_shows_alternatives_for_the_same_patient(
    cast, patient, other_patient, physio, location, phone_review, schedule
):
    client = signed_in(cast["front_desk"])
    slot = available_slots(
        service=phone_review,
        start_date=timezone.localdate() + dt.timedelta(days=3),
        days=7,
        practitioner=physio.practitioner,
        location=location,
    )[0]
    Appointment.objects.create(
        patient=other_patient,
        practitioner=physio.practitioner,
        location=location,
        service=phone_review,
        start=slot.start,
        end=slot.end,
    )
    data = {
        "service": phone_review.slug,
        "practitioner": str(physio.practitioner.pk),
        "location": str(location.pk),
        "start": slot.start.astimezone(dt.UTC).isoformat(),
    }
    response = client.post(reverse("staff_book_confirm", args=[patient.pk]), data)
    assert response.status_code == 409
    assert "That time was just taken." in text_of(response)
    alternatives = slot_links(response)
    assert alternatives
    assert all(
        url.startswith(reverse("staff_book_confirm", args=[patient.pk])) for url in alternatives
    )
    assert not Appointment.objects.filter(patient=patient).exists()


def test_a_practitioner_off_the_care_team_cannot_book_for_the_patient(
    cast, patient, physio, location, phone_review, schedule
):
    client = signed_in(cast["other_physio"])
    assert client.get(reverse("staff_book", args=[patient.pk])).status_code == 404
    data = {
        "service": phone_review.slug,
        "practitioner": str(physio.practitioner.pk),
        "location": str(location.pk),
        "start": (timezone.now() + dt.timedelta(days=3)).isoformat(),
    }
    assert client.post(reverse("staff_book_confirm", args=[patient.pk]), data).status_code == 404
    assert not Appointment.objects.exists()


def test_the_front_desk_books_a_course_skipping_a_week_the_physio_is_away(
    cast, patient, physio, location, assessment, ims_service, schedule
):
    Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=assessment,
        start=timezone.now() - dt.timedelta(days=20),
        end=timezone.now() - dt.timedelta(days=20) + dt.timedelta(hours=1),
        status=AppointmentStatus.COMPLETED,
    )
    first = available_slots(
        service=ims_service,
        start_date=timezone.localdate() + dt.timedelta(days=7),
        days=7,
        practitioner=physio.practitioner,
        location=location,
    )[0]
    away = first.start + dt.timedelta(weeks=2)
    TimeOff.objects.create(
        practitioner=physio.practitioner,
        start=away - dt.timedelta(hours=2),
        end=away + dt.timedelta(hours=2),
    )
    data = {
        "service": ims_service.slug,
        "practitioner": str(physio.practitioner.pk),
        "location": str(location.pk),
        "start": first.start.astimezone(dt.UTC).isoformat(),
        "sessions": "5",
    }
    client = signed_in(cast["front_desk"])
    plan = client.get(reverse("staff_course_plan", args=[patient.pk]), data)
    assert plan.status_code == 200
    assert "Book the 4 available visits" in text_of(plan)
    assert "Nearest free times:" in text_of(plan)
    # "Book all" when a date is not free books nothing and shows the plan again.
    refused = client.post(reverse("staff_course_plan", args=[patient.pk]), {**data, "book": "all"})
    assert refused.status_code == 409
    assert not Course.objects.exists()
    response = client.post(
        reverse("staff_course_plan", args=[patient.pk]), {**data, "book": "available"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("patient_detail", args=[patient.pk])
    course = Course.objects.get(patient=patient)
    assert course.created_by == cast["front_desk"]
    assert course.appointments.count() == 4


def test_the_front_desk_is_told_the_patient_already_has_a_visit_then_and_no_such_time_offered(
    cast, patient, physio, other_physio, location, phone_review, schedule
):
    client = signed_in(cast["front_desk"])
    day = timezone.localdate() + dt.timedelta(days=3)
    slot = available_slots(
        service=phone_review,
        start_date=day,
        days=7,
        practitioner=other_physio.practitioner,
        location=location,
    )[0]
    Appointment.objects.create(
        patient=patient,
        practitioner=other_physio.practitioner,
        location=location,
        service=phone_review,
        start=slot.start,
        end=slot.end,
        busy_until=slot.end,
    )
    data = {
        "service": phone_review.slug,
        "practitioner": str(physio.practitioner.pk),
        "location": str(location.pk),
        "start": slot.start.astimezone(dt.UTC).isoformat(),
    }

    response = client.post(reverse("staff_book_confirm", args=[patient.pk]), data)
    picker = client.get(
        reverse("staff_book", args=[patient.pk]),
        {
            "service": phone_review.slug,
            "practitioner": physio.practitioner.pk,
            "week": slot.start.date().isoformat(),
        },
    )

    assert response.status_code == 409
    assert "Pat Ient already has a visit at that time." in text_of(response)
    assert Appointment.objects.filter(patient=patient).count() == 1
    offered = {values(url)["start"] for url in slot_links(picker)}
    assert offered and slot.start.astimezone(dt.UTC).isoformat() not in offered
