"""On PostgreSQL, fifty people clicking the same time at once end up with one booking."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Room, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import ACTIVE_STATUSES, Appointment
from imsclinic.scheduling.services import booking as booking_services
from imsclinic.scheduling.services.booking import SlotUnavailable, appointment_book
from tests.factories.scheduling import NOW, at

RIVALS = 50


def race(
    attempts: list[tuple[Patient, User]], location: Location, front_desk: User, service: Service
) -> tuple[list[int], list[str], list[BaseException]]:
    """Book every (patient, practitioner) pair for 09:00 at once; say who got what."""
    barrier = threading.Barrier(len(attempts))
    booked: list[int] = []
    refused: list[str] = []
    failed: list[BaseException] = []
    lock = threading.Lock()

    def attempt(patient: Patient, physio: User) -> None:
        try:
            barrier.wait(timeout=30)
            visit = appointment_book(
                patient=patient,
                practitioner=physio.practitioner,
                service=service,
                location=location,
                start=at(9),
                actor=front_desk,
                now=NOW,
            )
            with lock:
                booked.append(visit.pk)
        except SlotUnavailable as error:  # SlotTaken is one too
            with lock:
                refused.append(type(error).__name__)
        except BaseException as error:
            with lock:
                failed.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=pair) for pair in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return booked, refused, failed


def rivals(count: int) -> list[Patient]:
    return [
        Patient.objects.create(
            given_name=f"Rival{number}", family_name="Racer", date_of_birth=dt.date(1990, 1, 1)
        )
        for number in range(count)
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_threads_racing_for_one_slot_book_it_once(
    location: Location, physio: User, front_desk: User, assessment: Service, shifts: list
) -> None:
    attempts = [(patient, physio) for patient in rivals(RIVALS)]
    booked, refused, failed = race(attempts, location, front_desk, assessment)
    assert failed == []
    assert len(booked) == 1
    assert len(refused) == RIVALS - 1
    assert Appointment.objects.filter(status__in=ACTIVE_STATUSES).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_practitioners_racing_for_the_only_bed_get_it_once(
    location: Location,
    physio: User,
    other_physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list,
) -> None:
    patients = rivals(20)
    attempts = [(patient, (physio, other_physio)[n % 2]) for n, patient in enumerate(patients)]
    booked, refused, failed = race(attempts, location, front_desk, assessment)
    assert failed == []
    assert len(booked) == 1
    assert len(refused) == 19
    assert Appointment.objects.filter(status__in=ACTIVE_STATUSES).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_practitioners_booking_the_same_time_both_get_a_bed_when_there_are_two(
    location: Location,
    physio: User,
    other_physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Room.objects.create(location=location, name="Bed 2")
    # Make the race certain: both bookings check the calendar (both see Bed 1 free) before
    # either inserts. The loser's insert is refused by the bed guard and must find Bed 2.
    checked = threading.Barrier(2)
    first_look = threading.local()
    real = booking_services.slot_is_offered

    def look_together(*args: object) -> object:
        slot = real(*args)  # type: ignore[arg-type]
        if not getattr(first_look, "done", False):
            first_look.done = True
            checked.wait(timeout=30)
        return slot

    monkeypatch.setattr(booking_services, "slot_is_offered", look_together)
    first, second = rivals(2)
    booked, refused, failed = race(
        [(first, physio), (second, other_physio)], location, front_desk, assessment
    )
    assert failed == []
    assert refused == []
    assert len(booked) == 2
    beds = set(Appointment.objects.values_list("room__name", flat=True))
    assert beds == {"Bed 1", "Bed 2"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_practitioners_racing_to_book_one_patient_at_once_book_them_once(
    location: Location,
    physio: User,
    other_physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list,
) -> None:
    Room.objects.create(location=location, name="Bed 2")  # a bed for each practitioner
    (patient,) = rivals(1)
    attempts = [(patient, (physio, other_physio)[n % 2]) for n in range(10)]
    booked, refused, failed = race(attempts, location, front_desk, assessment)
    assert failed == []
    assert len(booked) == 1
    assert len(refused) == 9
    assert "PatientBusy" in refused
    assert Appointment.objects.filter(patient=patient, status__in=ACTIVE_STATUSES).count() == 1
