"""Moving a booked visit: all or nothing, under the same rules as cancelling."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from imsclinic.core.models import AuditEvent
from imsclinic.scheduling.availability import Slot
from imsclinic.scheduling.models import Appointment, AppointmentStatus, Course
from imsclinic.scheduling.services import booking as booking_services
from imsclinic.scheduling.services.booking import (
    NotCancellable,
    SlotTaken,
    SlotUnavailable,
    TooLateToCancel,
    appointment_cancel,
    appointment_reschedule,
)
from tests.factories.scheduling import MONDAY, NOW, at, book

TUESDAY = MONDAY + dt.timedelta(days=1)


def assert_untouched(visit: Appointment) -> None:
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert visit.cancelled_at is None
    assert visit.cancellation_reason == ""
    assert not Appointment.objects.filter(rescheduled_from=visit).exists()


@pytest.mark.django_db
class TestRescheduling:
    def test_a_patient_moves_their_visit_to_another_day(
        self, patient, patient_user, physio, assessment, shifts
    ):
        old = book(patient, physio, assessment, at(9), patient_user)
        new = appointment_reschedule(
            appointment=old, start=at(14, day=TUESDAY), actor=patient_user, now=NOW
        )
        assert (new.start, new.end, new.busy_until) == (
            at(14, day=TUESDAY),
            at(15, day=TUESDAY),
            at(15, 10, day=TUESDAY),
        )
        assert new.status == AppointmentStatus.BOOKED
        assert (new.patient, new.service, new.practitioner) == (
            patient,
            assessment,
            old.practitioner,
        )
        assert new.rescheduled_from == old
        old.refresh_from_db()
        assert old.status == AppointmentStatus.CANCELLED
        assert old.cancelled_at == NOW
        assert old.cancellation_reason == "Rescheduled"
        assert old.cancelled_late is False
        assert old.rescheduled_to == new

    def test_moving_is_audited_on_both_visits(
        self, patient, patient_user, physio, assessment, shifts
    ):
        old = book(patient, physio, assessment, at(9), patient_user)
        new = appointment_reschedule(
            appointment=old, start=at(14, day=TUESDAY), actor=patient_user, now=NOW
        )
        update = AuditEvent.objects.get(object_type="appointment", action="update")
        assert update.object_id == str(old.pk)
        assert update.detail["rescheduled_to"] == new.pk
        assert update.patient_id == patient.pk
        create = AuditEvent.objects.get(object_type="appointment", object_id=str(new.pk))
        assert create.action == "create"
        assert create.detail["rescheduled_from"] == old.pk

    def test_a_visit_moves_to_a_time_overlapping_its_old_one(
        self, patient, patient_user, physio, assessment, shifts
    ):
        old = book(patient, physio, assessment, at(9), patient_user)
        new = appointment_reschedule(appointment=old, start=at(9, 30), actor=patient_user, now=NOW)
        assert new.start == at(9, 30)
        assert new.room_id == old.room_id  # the only bed, freed by the move itself

    def test_staff_move_a_visit_to_another_practitioner_in_the_same_bed(
        self, patient, patient_user, front_desk, physio, other_physio, assessment, shifts
    ):
        old = book(patient, physio, assessment, at(9), patient_user)
        new = appointment_reschedule(
            appointment=old,
            start=at(9),
            practitioner=other_physio.practitioner,
            actor=front_desk,
            now=NOW,
        )
        assert new.practitioner == other_physio.practitioner
        assert patient.care_team.filter(pk=other_physio.practitioner.pk).exists()

    def test_moving_to_the_same_time_is_refused(
        self, patient, patient_user, physio, assessment, shifts
    ):
        old = book(patient, physio, assessment, at(9), patient_user)
        with pytest.raises(SlotUnavailable, match="already booked for that time"):
            appointment_reschedule(appointment=old, start=at(9), actor=patient_user, now=NOW)
        assert_untouched(old)

    def test_a_patient_cannot_move_a_visit_inside_the_late_window(
        self, patient, patient_user, physio, assessment, shifts
    ):
        old = book(patient, physio, assessment, at(9), patient_user)
        with pytest.raises(TooLateToCancel, match="call the clinic"):
            appointment_reschedule(
                appointment=old,
                start=at(14, day=TUESDAY),
                actor=patient_user,
                reason="stuck at work",
                now=at(9) - dt.timedelta(hours=23),
            )
        assert_untouched(old)
        assert Appointment.objects.count() == 1

    def test_staff_may_move_a_visit_late_with_a_reason_which_is_audited(
        self, patient, patient_user, front_desk, physio, assessment, shifts
    ):
        old = book(patient, physio, assessment, at(9), patient_user)
        new = appointment_reschedule(
            appointment=old,
            start=at(14, day=TUESDAY),
            actor=front_desk,
            reason="Patient phoned: car broke down",
            now=at(9) - dt.timedelta(hours=2),
        )
        old.refresh_from_db()
        assert old.cancelled_late is True
        assert old.cancellation_reason == "Rescheduled: Patient phoned: car broke down"
        update = AuditEvent.objects.get(object_type="appointment", action="update")
        assert update.actor == front_desk
        assert update.detail["staff_override"] is True
        assert update.detail["late"] is True
        assert new.status == AppointmentStatus.BOOKED

    def test_staff_must_give_a_reason_to_move_a_visit_late(
        self, patient, patient_user, front_desk, physio, assessment, shifts
    ):
        old = book(patient, physio, assessment, at(9), patient_user)
        with pytest.raises(TooLateToCancel, match="reason"):
            appointment_reschedule(
                appointment=old,
                start=at(14, day=TUESDAY),
                actor=front_desk,
                now=at(9) - dt.timedelta(hours=2),
            )
        assert_untouched(old)

    def test_moving_to_a_taken_time_leaves_the_old_visit_untouched(
        self, patient, other_patient, patient_user, front_desk, physio, assessment, shifts
    ):
        old = book(patient, physio, assessment, at(9), patient_user)
        book(other_patient, physio, assessment, at(14, day=TUESDAY), front_desk)
        with pytest.raises(SlotUnavailable):
            appointment_reschedule(
                appointment=old, start=at(14, day=TUESDAY), actor=patient_user, now=NOW
            )
        assert_untouched(old)
        assert Appointment.objects.count() == 2
        assert not AuditEvent.objects.filter(action="update", object_type="appointment").exists()

    def test_a_lost_race_at_the_insert_rolls_the_move_back(
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
        old = book(patient, physio, assessment, at(9), patient_user)
        rival = book(other_patient, physio, assessment, at(14, day=TUESDAY), front_desk)
        stale = Slot(
            at(14, day=TUESDAY),
            at(15, day=TUESDAY),
            rival.practitioner_id,
            rival.location_id,
            rival.room_id,
        )
        monkeypatch.setattr(booking_services, "slot_is_offered", lambda *args: stale)
        with pytest.raises(SlotTaken):
            appointment_reschedule(
                appointment=old, start=at(14, day=TUESDAY), actor=patient_user, now=NOW
            )
        assert_untouched(old)

    def test_a_patient_cannot_move_someone_elses_visit(
        self, other_patient, patient_user, front_desk, physio, assessment, shifts
    ):
        old = book(other_patient, physio, assessment, at(9), front_desk)
        with pytest.raises(PermissionDenied):
            appointment_reschedule(
                appointment=old, start=at(14, day=TUESDAY), actor=patient_user, now=NOW
            )
        assert_untouched(old)

    def test_a_cancelled_visit_cannot_be_moved(
        self, patient, patient_user, physio, assessment, shifts
    ):
        old = book(patient, physio, assessment, at(9), patient_user)
        appointment_cancel(appointment=old, actor=patient_user, now=NOW)
        with pytest.raises(NotCancellable):
            appointment_reschedule(
                appointment=old, start=at(14, day=TUESDAY), actor=patient_user, now=NOW
            )
        assert Appointment.objects.count() == 1

    def test_a_patient_cannot_move_a_visit_of_a_service_booked_by_phone_only(
        self, patient, patient_user, front_desk, physio, assessment, shifts
    ):
        assessment.bookable_online = False
        assessment.save()
        old = book(patient, physio, assessment, at(9), front_desk)
        with pytest.raises(SlotUnavailable, match="call the clinic"):
            appointment_reschedule(
                appointment=old, start=at(14, day=TUESDAY), actor=patient_user, now=NOW
            )
        assert_untouched(old)

    def test_a_moved_visit_stays_in_its_course(
        self, patient, patient_user, physio, location, assessment, shifts
    ):
        old = book(patient, physio, assessment, at(9), patient_user)
        course = Course.objects.create(
            patient=patient,
            practitioner=physio.practitioner,
            location=location,
            service=assessment,
            sessions_planned=1,
        )
        Appointment.objects.filter(pk=old.pk).update(course=course)
        new = appointment_reschedule(
            appointment=old, start=at(14, day=TUESDAY), actor=patient_user, now=NOW
        )
        assert new.course == course
