"""What a signed-in patient sees on their own page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.scheduling.models import Appointment, AppointmentStatus
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db


def book(patient, practitioner, location, service, start, status=AppointmentStatus.BOOKED):
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        location=location,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=30),
        status=status,
    )


def test_a_patient_sees_their_own_upcoming_visit_in_the_clinics_time_zone(
    cast, patient, location, ims_service
):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    book(patient, cast["physio"].practitioner, location, ims_service, start)
    response = signed_in(cast["patient"]).get(reverse("portal_home"))
    assert response.status_code == 200
    local = start.astimezone(location.zone)
    assert local.strftime("%B %Y").encode() in response.content
    assert f"{local:%-I:%M %p} <small>{local:%Z}</small>".encode() in response.content
    assert b"IMS follow-up" in response.content
    assert "no-store" in response["Cache-Control"]


def test_a_patient_never_sees_another_patients_visits(
    cast, patient, other_patient, location, ims_service
):
    start = timezone.now() + dt.timedelta(days=2)
    book(other_patient, cast["physio"].practitioner, location, ims_service, start)
    response = signed_in(cast["patient"]).get(reverse("portal_home"))
    assert b"You have no upcoming visits" in response.content
    assert b"Osborne" not in response.content


def test_cancelled_and_past_visits_are_not_listed_as_upcoming(cast, patient, location, ims_service):
    physio = cast["physio"].practitioner
    book(patient, physio, location, ims_service, timezone.now() - dt.timedelta(days=1))
    book(
        patient,
        physio,
        location,
        ims_service,
        timezone.now() + dt.timedelta(days=1),
        AppointmentStatus.CANCELLED,
    )
    response = signed_in(cast["patient"]).get(reverse("portal_home"))
    assert b"You have no upcoming visits" in response.content


def test_staff_who_open_the_portal_are_sent_to_their_own_pages(cast):
    response = signed_in(cast["front_desk"]).get(reverse("portal_home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("patient_list")


def test_an_anonymous_visitor_is_asked_to_sign_in(db):
    response = Client().get(reverse("portal_home"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
