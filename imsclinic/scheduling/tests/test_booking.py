"""Booking and cancelling through the service: the clinic's rules and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from imsclinic.clinic.models import Room, Service
from imsclinic.core.models import AuditEvent
from imsclinic.scheduling.availability import Slot
from imsclinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClinicClosure,
    Shift,
    TimeOff,
)
from imsclinic.scheduling.selectors import availability_query
from imsclinic.scheduling.services import booking as booking_services
from imsclinic.scheduling.services.booking import (
    CancelledByUnstated,
    FirstVisitMustBeAssessment,
    NotCancellable,
    SlotTaken,
    SlotUnavailable,
    TooLateToCancel,
    appointment_book,
    appointment_cancel,
)
from tests.factories import VANCOUVER
from tests.factories.scheduling import MONDAY, NOW, at, book


@pytest.mark.django_db
class TestBooking:
    def test_a_patient_books_their_assessment_on_a_free_bed(
        self, patient, patient_user, other_physio, assessment, shifts
    ):
        visit = book(patient, other_physio, assessment, at(9), patient_user)
        assert visit.status == AppointmentStatus.BOOKED
        assert visit.start == at(9)
        assert visit.end == at(10)
        assert visit.busy_until == at(10, 10)
        assert visit.room == Room.objects.get(name="Bed 1")
        assert visit.created_by == patient_user

    def test_booking_puts_the_practitioner_on_the_care_team(
        self, patient, patient_user, other_physio, assessment, shifts
    ):
        assert not patient.care_team.filter(pk=other_physio.practitioner.pk).exists()
        book(patient, other_physio, assessment, at(9), patient_user)
        assert patient.care_team.filter(pk=other_physio.practitioner.pk).exists()

    def test_booking_is_audited_against_the_patient(
        self, patient, front_desk, physio, assessment, shifts
    ):
        visit = book(patient, physio, assessment, at(14), front_desk)
        event = AuditEvent.objects.get(object_type="appointment")
        assert (event.action, event.object_id, event.patient_id) == (
            "create",
            str(visit.pk),
            patient.pk,
        )
        assert event.actor == front_desk

    def test_booking_keeps_a_history_of_the_visit(
        self, patient, patient_user, physio, assessment, shifts
    ):
        visit = book(patient, physio, assessment, at(9), patient_user)
        assert visit.history.count() == 1

    def test_a_new_patient_cannot_start_with_a_follow_up(
        self, patient, patient_user, physio, assessment, ims_service, shifts
    ):
        with pytest.raises(FirstVisitMustBeAssessment) as refused:
            book(patient, physio, ims_service, at(9), patient_user)
        assert refused.value.assessment == assessment
        assert "IMS initial assessment" in str(refused.value)
        assert not Appointment.objects.exists()

    def test_a_follow_up_is_bookable_after_the_assessment(
        self, patient, patient_user, physio, assessment, ims_service, shifts
    ):
        book(patient, physio, assessment, at(9), patient_user)
        follow_up = book(
            patient, physio, ims_service, at(9, day=MONDAY + dt.timedelta(days=7)), patient_user
        )
        assert follow_up.service == ims_service

    def test_a_follow_up_before_the_assessment_is_refused(
        self, patient, patient_user, physio, assessment, ims_service, shifts
    ):
        book(patient, physio, assessment, at(9, day=MONDAY + dt.timedelta(days=7)), patient_user)
        with pytest.raises(FirstVisitMustBeAssessment):
            book(patient, physio, ims_service, at(9), patient_user)

    def test_a_cancelled_assessment_does_not_count_as_a_first_visit(
        self, patient, patient_user, physio, assessment, ims_service, shifts
    ):
        first = book(patient, physio, assessment, at(9), patient_user)
        appointment_cancel(appointment=first, actor=patient_user, now=NOW)
        with pytest.raises(FirstVisitMustBeAssessment):
            book(
                patient,
                physio,
                ims_service,
                at(14, day=MONDAY + dt.timedelta(days=1)),
                patient_user,
            )

    @pytest.mark.parametrize(
        "start",
        [at(8, 45), at(9, 5), at(16, 30), at(11, 30), at(9, day=MONDAY + dt.timedelta(days=5))],
        ids=["before-shift", "off-grid", "runs-past-shift", "runs-into-lunch", "saturday"],
    )
    def test_a_time_that_is_not_offered_is_refused(
        self, start, patient, patient_user, physio, assessment, shifts
    ):
        with pytest.raises(SlotUnavailable):
            book(patient, physio, assessment, start, patient_user)
        assert not Appointment.objects.exists()
        assert not AuditEvent.objects.filter(object_type="appointment").exists()

    def test_a_time_inside_the_minimum_notice_is_refused(
        self, patient, patient_user, physio, assessment, shifts
    ):
        with pytest.raises(SlotUnavailable):
            appointment_book(
                patient=patient,
                practitioner=physio.practitioner,
                service=assessment,
                location=physio.practitioner.locations.get(),
                start=at(9),
                actor=patient_user,
                now=at(9) - dt.timedelta(hours=11),
            )

    def test_a_time_already_booked_is_refused(
        self, patient, other_patient, patient_user, front_desk, physio, assessment, shifts
    ):
        book(patient, physio, assessment, at(9), patient_user)
        with pytest.raises(SlotUnavailable):
            book(other_patient, physio, assessment, at(10), front_desk)  # inside the buffer
        assert Appointment.objects.count() == 1

    def test_a_cancelled_time_becomes_bookable_again(
        self, patient, other_patient, patient_user, front_desk, physio, assessment, shifts
    ):
        first = book(patient, physio, assessment, at(9), patient_user)
        appointment_cancel(appointment=first, actor=patient_user, now=NOW)
        second = book(other_patient, physio, assessment, at(9), front_desk)
        assert second.status == AppointmentStatus.BOOKED

    def test_the_second_practitioner_gets_the_next_free_bed_or_none(
        self,
        patient,
        other_patient,
        patient_user,
        front_desk,
        physio,
        other_physio,
        assessment,
        shifts,
        location,
    ):
        book(patient, physio, assessment, at(9), patient_user)
        with pytest.raises(SlotUnavailable):
            book(other_patient, other_physio, assessment, at(9), front_desk)
        Room.objects.create(location=location, name="Bed 2")
        visit = book(other_patient, other_physio, assessment, at(9), front_desk)
        assert visit.room.name == "Bed 2"

    def test_a_patient_cannot_book_for_someone_else(
        self, other_patient, patient_user, physio, assessment, shifts
    ):
        with pytest.raises(PermissionDenied):
            book(other_patient, physio, assessment, at(9), patient_user)
        assert not Appointment.objects.exists()

    def test_a_lost_race_at_the_insert_is_reported_as_taken(
        self,
        patient,
        other_patient,
        patient_user,
        front_desk,
        physio,
        assessment,
        shifts,
        monkeypatch,
    ):
        # Stand in for a rival whose booking lands between our re-check and our insert.
        taken = book(patient, physio, assessment, at(9), patient_user)
        stale_offer = Slot(at(9), at(10), physio.practitioner.pk, taken.location_id, taken.room_id)
        monkeypatch.setattr(booking_services, "slot_is_offered", lambda *args: stale_offer)
        with pytest.raises(SlotTaken, match="just taken"):
            book(other_patient, physio, assessment, at(9), front_desk)
        assert Appointment.objects.count() == 1


@pytest.mark.django_db
class TestCancelling:
    def test_a_patient_cancels_well_ahead(self, patient, patient_user, physio, assessment, shifts):
        visit = book(patient, physio, assessment, at(9), patient_user)
        cancelled = appointment_cancel(
            appointment=visit, actor=patient_user, reason="away", now=NOW
        )
        assert cancelled.status == AppointmentStatus.CANCELLED
        assert cancelled.cancelled_at == NOW
        assert cancelled.cancellation_reason == "away"
        assert cancelled.cancelled_late is False
        event = AuditEvent.objects.filter(object_type="appointment", action="update").get()
        assert event.patient_id == patient.pk
        assert event.detail["late"] is False

    def test_a_patient_cannot_cancel_inside_the_late_window(
        self, patient, patient_user, physio, assessment, shifts
    ):
        visit = book(patient, physio, assessment, at(9), patient_user)
        with pytest.raises(TooLateToCancel, match="call the clinic"):
            appointment_cancel(
                appointment=visit, actor=patient_user, now=at(9) - dt.timedelta(hours=23)
            )
        visit.refresh_from_db()
        assert visit.status == AppointmentStatus.BOOKED

    def test_the_window_follows_the_clinic_setting(
        self, clinic, patient, patient_user, physio, assessment, shifts
    ):
        clinic.late_cancellation_hours = 48
        clinic.save()
        visit = book(patient, physio, assessment, at(9), patient_user)
        with pytest.raises(TooLateToCancel):
            appointment_cancel(
                appointment=visit, actor=patient_user, now=at(9) - dt.timedelta(hours=30)
            )

    def test_staff_may_cancel_late_with_a_reason_which_is_audited(
        self, patient, patient_user, front_desk, physio, assessment, shifts
    ):
        visit = book(patient, physio, assessment, at(9), patient_user)
        cancelled = appointment_cancel(
            appointment=visit,
            actor=front_desk,
            reason="Patient phoned in sick",
            cancelled_by="patient",
            now=at(9) - dt.timedelta(hours=2),
        )
        assert cancelled.status == AppointmentStatus.CANCELLED
        assert cancelled.cancelled_late is True
        event = AuditEvent.objects.filter(object_type="appointment", action="update").get()
        assert event.actor == front_desk
        assert event.detail["staff_override"] is True
        assert event.detail["cancelled_by"] == "patient"

    def test_staff_must_say_who_cancelled_late(
        self, patient, patient_user, front_desk, physio, assessment, shifts
    ):
        visit = book(patient, physio, assessment, at(9), patient_user)
        with pytest.raises(CancelledByUnstated) as refusal:
            appointment_cancel(
                appointment=visit,
                actor=front_desk,
                reason="Practitioner ill",
                now=at(9) - dt.timedelta(hours=2),
            )
        assert refusal.value.field == "cancelled_by"
        visit.refresh_from_db()
        assert visit.status == AppointmentStatus.BOOKED

    def test_staff_must_give_a_reason_to_cancel_late(
        self, patient, patient_user, front_desk, physio, assessment, shifts
    ):
        visit = book(patient, physio, assessment, at(9), patient_user)
        with pytest.raises(TooLateToCancel, match="reason"):
            appointment_cancel(
                appointment=visit, actor=front_desk, reason="  ", now=at(9) - dt.timedelta(hours=2)
            )

    def test_a_patient_cannot_cancel_someone_elses_visit(
        self, other_patient, patient_user, front_desk, physio, assessment, shifts
    ):
        visit = book(other_patient, physio, assessment, at(9), front_desk)
        with pytest.raises(PermissionDenied):
            appointment_cancel(appointment=visit, actor=patient_user, now=NOW)

    def test_a_visit_cannot_be_cancelled_twice(
        self, patient, patient_user, physio, assessment, shifts
    ):
        visit = book(patient, physio, assessment, at(9), patient_user)
        appointment_cancel(appointment=visit, actor=patient_user, now=NOW)
        with pytest.raises(NotCancellable):
            appointment_cancel(appointment=visit, actor=patient_user, now=NOW)


@pytest.mark.django_db
class TestAvailabilityQuery:
    def test_it_loads_shifts_breaks_time_off_closures_rooms_and_busy_times(
        self, patient, physio, location, assessment, shifts
    ):
        practitioner = physio.practitioner
        TimeOff.objects.create(practitioner=practitioner, start=at(13), end=at(17), reason="course")
        ClinicClosure.objects.create(
            location=location,
            first_day=MONDAY + dt.timedelta(days=1),
            last_day=MONDAY + dt.timedelta(days=2),
        )
        Room.objects.create(location=location, name="Consult", kind=Room.Kind.ROOM)
        bed = Room.objects.get(name="Bed 1")
        Appointment.objects.create(
            patient=patient,
            practitioner=practitioner,
            location=location,
            room=bed,
            service=assessment,
            start=at(9),
            end=at(10),
        )
        Appointment.objects.create(
            patient=patient,
            practitioner=practitioner,
            location=location,
            room=bed,
            service=assessment,
            start=at(14),
            end=at(15),
            status=AppointmentStatus.CANCELLED,
        )
        query = availability_query(
            service=assessment, start_date=MONDAY, days=3, practitioner=practitioner, now=NOW
        )
        assert [p.practitioner_id for p in query.practitioners] == [practitioner.pk]
        assert query.practitioners[0].ims_certified_on == practitioner.ims_certified_on
        assert len(query.shifts) == 5
        assert query.shifts[0].breaks == ((dt.time(12), dt.time(13)),)
        (loc,) = query.locations
        assert loc.time_zone == "America/Vancouver"
        assert loc.room_ids == (bed.pk,)  # the consult room is not a bed
        assert loc.closures == ((MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=2)),)
        # The buffer is part of the busy time; the cancelled visit is not busy at all.
        # Busy times come as (start, end) UTC timestamps.
        visit = (at(9).timestamp(), at(10, 10).timestamp())
        assert query.practitioner_busy == {practitioner.pk: (visit,)}
        assert query.room_busy == {bed.pk: (visit,)}
        assert query.practitioner_time_off == {
            practitioner.pk: ((at(13).timestamp(), at(17).timestamp()),)
        }
        assert query.service.duration_minutes == 60
        assert query.service.min_notice == dt.timedelta(hours=12)
        assert query.step_minutes == 15

    def test_shifts_outside_their_dates_are_left_out(self, physio, location, assessment, shifts):
        Shift.objects.filter(practitioner=physio.practitioner).update(
            valid_until=MONDAY - dt.timedelta(days=1)
        )
        query = availability_query(service=assessment, start_date=MONDAY, days=7, now=NOW)
        assert physio.practitioner.pk not in {s.practitioner_id for s in query.shifts}

    def test_a_service_without_a_room_needs_no_bed(self, location, assessment, shifts):
        assessment.room_kind = Service.RoomKind.NONE
        assessment.save()
        query = availability_query(service=assessment, start_date=MONDAY, days=1, now=NOW)
        assert query.service.needs_room is False
        assert all(loc.room_ids == () for loc in query.locations)

    def test_it_takes_a_fixed_number_of_queries(
        self, patient, other_patient, location, assessment, shifts, django_assert_num_queries
    ):
        for hour in (9, 10, 11, 14, 15):
            for user_shift, whom in ((shifts[0], patient), (shifts[5], other_patient)):
                Appointment.objects.create(
                    patient=whom,
                    practitioner=user_shift.practitioner,
                    location=location,
                    service=assessment,
                    start=at(hour),
                    end=at(hour, 30),
                )
        TimeOff.objects.create(practitioner=shifts[0].practitioner, start=at(16), end=at(17))
        with django_assert_num_queries(5):
            query = availability_query(service=assessment, start_date=MONDAY, days=14, now=NOW)
        assert len(query.shifts) == 10
        assert all(len(shift.breaks) == 1 for shift in query.shifts)
        assert sum(len(busy) for busy in query.practitioner_busy.values()) == 10
        with django_assert_num_queries(5):
            for_the_patient = availability_query(
                service=assessment, start_date=MONDAY, days=14, now=NOW, patient=patient
            )
        assert len(for_the_patient.patient_busy) == 5


@pytest.mark.django_db
def test_a_visit_on_the_night_the_clocks_go_back_lasts_its_real_length(
    patient, patient_user, physio, location, assessment
):
    """Vancouver, Sunday 2031-11-02: 01:00-02:00 happens twice; an hour's visit is an hour."""
    sunday = dt.date(2031, 11, 2)
    Shift.objects.create(
        practitioner=physio.practitioner,
        location=location,
        weekday=sunday.weekday(),
        start_time=dt.time(0, 30),
        end_time=dt.time(4),
        valid_from=sunday,
    )
    start = dt.datetime.combine(sunday, dt.time(1, 0), tzinfo=VANCOUVER)  # first 01:00, PDT
    visit = appointment_book(
        patient=patient,
        practitioner=physio.practitioner,
        service=assessment,
        location=location,
        start=start,
        actor=patient_user,
        now=dt.datetime(2031, 10, 20, tzinfo=dt.UTC),
    )
    visit.refresh_from_db()
    assert visit.end - visit.start == dt.timedelta(minutes=60)
    assert visit.start == dt.datetime(2031, 11, 2, 8, 0, tzinfo=dt.UTC)
    assert visit.busy_until - visit.end == dt.timedelta(minutes=assessment.buffer_minutes)
    assert visit.end.astimezone(VANCOUVER).strftime("%H:%M %Z") == "01:00 PST"
