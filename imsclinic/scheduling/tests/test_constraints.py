"""The database itself refuses two active appointments that overlap (both databases)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Room, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus, Shift, ShiftBreak
from imsclinic.scheduling.services.booking import is_deadlock

NINE = dt.datetime(2031, 3, 3, 17, 0, tzinfo=dt.UTC)


def book_row(
    patient: Patient,
    physio: User,
    location: Location,
    service: Service,
    start: dt.datetime,
    *,
    minutes: int = 30,
    buffer: int = 0,
    room: Room | None = None,
    status: str = AppointmentStatus.BOOKED,
) -> Appointment:
    """Insert an appointment row directly, bypassing the booking service."""
    end = start + dt.timedelta(minutes=minutes)
    return Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        room=room,
        service=service,
        start=start,
        end=end,
        busy_until=end + dt.timedelta(minutes=buffer),
        status=status,
    )


@pytest.fixture
def bed(location: Location) -> Room:
    return location.rooms.get(name="Bed 1")


@pytest.mark.django_db
class TestPractitionerGuard:
    def test_it_refuses_an_overlapping_active_appointment(
        self, patient, other_patient, physio, location, ims_service
    ):
        book_row(patient, physio, location, ims_service, NINE)
        with (
            pytest.raises(IntegrityError, match="appointment_practitioner_no_overlap"),
            transaction.atomic(),
        ):
            book_row(other_patient, physio, location, ims_service, NINE + dt.timedelta(minutes=15))
        assert Appointment.objects.count() == 1

    def test_a_cancelled_appointment_does_not_block_the_time(
        self, patient, physio, location, ims_service
    ):
        book_row(patient, physio, location, ims_service, NINE, status=AppointmentStatus.CANCELLED)
        book_row(patient, physio, location, ims_service, NINE)
        assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1

    def test_a_no_show_does_not_block_the_time(self, patient, physio, location, ims_service):
        book_row(patient, physio, location, ims_service, NINE, status=AppointmentStatus.NO_SHOW)
        book_row(patient, physio, location, ims_service, NINE)
        assert Appointment.objects.count() == 2

    def test_back_to_back_visits_are_allowed(self, patient, physio, location, ims_service):
        book_row(patient, physio, location, ims_service, NINE)
        book_row(patient, physio, location, ims_service, NINE + dt.timedelta(minutes=30))
        assert Appointment.objects.count() == 2

    def test_a_start_inside_the_previous_buffer_is_refused(
        self, patient, physio, location, ims_service
    ):
        book_row(patient, physio, location, ims_service, NINE, buffer=10)
        with pytest.raises(IntegrityError), transaction.atomic():
            book_row(patient, physio, location, ims_service, NINE + dt.timedelta(minutes=35))
        book_row(patient, physio, location, ims_service, NINE + dt.timedelta(minutes=40))
        assert Appointment.objects.count() == 2

    def test_another_practitioner_may_see_someone_else_at_the_same_time(
        self, patient, other_patient, physio, other_physio, location, ims_service
    ):
        book_row(patient, physio, location, ims_service, NINE)
        book_row(other_patient, other_physio, location, ims_service, NINE)
        assert Appointment.objects.count() == 2

    def test_reviving_a_cancelled_visit_into_a_taken_time_is_refused(
        self, patient, physio, location, ims_service
    ):
        cancelled = book_row(
            patient, physio, location, ims_service, NINE, status=AppointmentStatus.CANCELLED
        )
        book_row(patient, physio, location, ims_service, NINE)
        cancelled.status = AppointmentStatus.BOOKED
        with pytest.raises(IntegrityError), transaction.atomic():
            cancelled.save(update_fields=["status"])

    def test_moving_a_visit_within_its_own_time_is_allowed(
        self, patient, physio, location, ims_service
    ):
        visit = book_row(patient, physio, location, ims_service, NINE)
        visit.start += dt.timedelta(minutes=15)
        visit.end += dt.timedelta(minutes=15)
        visit.busy_until = visit.end
        visit.save()
        visit.refresh_from_db()
        assert visit.start == NINE + dt.timedelta(minutes=15)


@pytest.mark.django_db
class TestRoomGuard:
    def test_it_refuses_two_practitioners_on_one_bed_at_once(
        self, patient, other_patient, physio, other_physio, location, ims_service, bed
    ):
        book_row(patient, physio, location, ims_service, NINE, room=bed)
        with (
            pytest.raises(IntegrityError, match="appointment_room_no_overlap"),
            transaction.atomic(),
        ):
            book_row(other_patient, other_physio, location, ims_service, NINE, room=bed)

    def test_the_bed_is_free_again_after_the_buffer(
        self, patient, physio, other_physio, location, ims_service, bed
    ):
        book_row(patient, physio, location, ims_service, NINE, room=bed, buffer=5)
        book_row(
            patient, other_physio, location, ims_service, NINE + dt.timedelta(minutes=35), room=bed
        )
        assert Appointment.objects.filter(room=bed).count() == 2

    def test_visits_without_a_bed_never_clash_on_the_bed(
        self, patient, other_patient, physio, other_physio, location, ims_service
    ):
        book_row(patient, physio, location, ims_service, NINE)
        book_row(other_patient, other_physio, location, ims_service, NINE)
        assert Appointment.objects.filter(room__isnull=True).count() == 2


@pytest.mark.django_db
class TestPatientGuard:
    def test_it_refuses_one_patient_with_two_practitioners_at_once(
        self, patient, physio, other_physio, location, ims_service
    ):
        book_row(patient, physio, location, ims_service, NINE)
        with (
            pytest.raises(IntegrityError, match="appointment_patient_no_overlap"),
            transaction.atomic(),
        ):
            book_row(patient, other_physio, location, ims_service, NINE + dt.timedelta(minutes=15))
        assert Appointment.objects.count() == 1

    def test_the_practitioners_buffer_is_not_the_patients(
        self, patient, physio, other_physio, location, ims_service
    ):
        book_row(patient, physio, location, ims_service, NINE, buffer=15)
        book_row(patient, other_physio, location, ims_service, NINE + dt.timedelta(minutes=30))
        assert Appointment.objects.count() == 2

    def test_a_cancelled_visit_leaves_the_patient_free(
        self, patient, physio, other_physio, location, ims_service
    ):
        book_row(patient, physio, location, ims_service, NINE, status=AppointmentStatus.CANCELLED)
        book_row(patient, other_physio, location, ims_service, NINE)
        assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1

    def test_moving_a_visit_onto_the_patients_other_visit_is_refused(
        self, patient, physio, other_physio, location, ims_service
    ):
        book_row(patient, physio, location, ims_service, NINE)
        later = book_row(patient, other_physio, location, ims_service, NINE + dt.timedelta(hours=2))
        later.start, later.end, later.busy_until = NINE, NINE + dt.timedelta(minutes=30), NINE
        later.busy_until = later.end
        with pytest.raises(IntegrityError), transaction.atomic():
            later.save()


@pytest.mark.django_db
def test_the_guards_are_installed_on_this_database() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'x' AND conname LIKE %s",
                ["appointment_%_no_overlap"],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                ["appointment_%_no_overlap_%"],
            )
        names = {row[0] for row in cursor.fetchall()}
    expected = {
        "appointment_practitioner_no_overlap",
        "appointment_room_no_overlap",
        "appointment_patient_no_overlap",
    }
    if connection.vendor != "postgresql":
        expected = {f"{name}_{event}" for name in expected for event in ("insert", "update")}
    assert names == expected


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_racing_inserts_leave_one_row(patient, physio, location, ims_service) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def insert() -> None:
        try:
            barrier.wait()
            book_row(patient, physio, location, ims_service, NINE)
            outcomes.append("inserted")
        except IntegrityError:
            outcomes.append("refused")
        except OperationalError as error:
            # Two inserts that each wait on the other's index entry: PostgreSQL breaks the
            # tie by aborting one as a deadlock, which refuses it just the same.
            outcomes.append("refused" if is_deadlock(error) else f"{error!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=insert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["inserted", "refused"]
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
class TestScheduleValidation:
    def test_a_break_outside_its_shift_is_refused(self, physio, location) -> None:
        shift = Shift.objects.create(
            practitioner=physio.practitioner,
            location=location,
            weekday=0,
            start_time=dt.time(9),
            end_time=dt.time(13),
            valid_from=dt.date(2031, 1, 1),
        )
        with pytest.raises(ValidationError, match="inside its shift"):
            ShiftBreak(shift=shift, start_time=dt.time(12), end_time=dt.time(14)).full_clean()
        ShiftBreak(shift=shift, start_time=dt.time(11), end_time=dt.time(12)).full_clean()

    def test_the_database_refuses_a_shift_that_ends_before_it_starts(
        self, physio, location
    ) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            Shift.objects.create(
                practitioner=physio.practitioner,
                location=location,
                weekday=0,
                start_time=dt.time(13),
                end_time=dt.time(9),
            )

    def test_a_shift_valid_until_before_it_starts_is_refused(self, physio, location) -> None:
        shift = Shift(
            practitioner=physio.practitioner,
            location=location,
            weekday=0,
            start_time=dt.time(9),
            end_time=dt.time(13),
            valid_from=dt.date(2031, 1, 1),
            valid_until=dt.date(2030, 12, 31),
        )
        with pytest.raises(ValidationError, match="last day"):
            shift.full_clean()
