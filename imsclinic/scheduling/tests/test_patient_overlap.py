"""A patient is never booked into two visits at once, whoever books and with whomever."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from imsclinic.clinic.models import Room
from imsclinic.scheduling.availability import Busy, find_slots
from imsclinic.scheduling.models import Appointment
from imsclinic.scheduling.selectors import availability_query, available_slots
from imsclinic.scheduling.services.booking import PatientBusy, appointment_book
from tests.factories.scheduling import NOW, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_beds(location):
    Room.objects.get_or_create(location=location, name="Bed 2")


def book(patient, physio, service, start, front_desk):
    return appointment_book(
        patient=patient,
        practitioner=physio.practitioner,
        service=service,
        location=physio.practitioner.locations.get(),
        start=start,
        actor=front_desk,
        now=NOW,
    )


def test_a_second_practitioner_cannot_book_the_patient_into_a_time_they_are_booked(
    patient, physio, other_physio, assessment, front_desk, shifts, two_beds
):
    book(patient, physio, assessment, at(9), front_desk)

    with pytest.raises(PatientBusy, match="already has a visit at that time"):
        book(patient, other_physio, assessment, at(9, 30), front_desk)

    assert Appointment.objects.filter(patient=patient).count() == 1


def test_back_to_back_visits_with_two_practitioners_are_fine(
    patient, physio, other_physio, assessment, front_desk, shifts, two_beds
):
    book(patient, physio, assessment, at(9), front_desk)
    book(patient, other_physio, assessment, at(10, 15), front_desk)
    assert Appointment.objects.filter(patient=patient).count() == 2


def test_times_that_clash_with_the_patients_own_visits_are_not_offered_to_them(
    patient, other_patient, physio, other_physio, assessment, front_desk, shifts, two_beds
):
    book(patient, physio, assessment, at(9), front_desk)

    def starts(who):
        return {
            slot.start.astimezone(dt.UTC)
            for slot in available_slots(
                service=assessment,
                start_date=at(9).date(),
                days=1,
                practitioner=other_physio.practitioner,
                now=NOW,
                patient=who,
            )
        }

    for clashing in (at(8), at(9), at(9, 45)):
        assert clashing not in starts(patient)
    assert at(10) in starts(patient)
    assert {at(9), at(9, 45)} <= starts(other_patient)


def test_the_engine_drops_slots_overlapping_the_patients_own_time(
    physio, assessment, shifts, location
):
    query = availability_query(
        service=assessment,
        start_date=at(9).date(),
        days=1,
        practitioner=physio.practitioner,
        location=location,
        now=NOW,
    )
    busy = replace(query, patient_busy=(Busy(at(14), at(14, 30)),))
    kept = {slot.start.astimezone(dt.UTC) for slot in find_slots(busy)}
    everything = {slot.start.astimezone(dt.UTC) for slot in find_slots(query)}
    # An hour's assessment overlaps 14:00-14:30 when it starts after 13:00 and before 14:30.
    assert everything - kept == {at(13, 15), at(13, 30), at(13, 45), at(14), at(14, 15)}
