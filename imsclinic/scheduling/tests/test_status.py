"""A visit's day: check-in, treatment, completion and no-shows, by an explicit table."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from imsclinic.core.models import AuditEvent
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.services.booking import (
    StatusChangeNotAllowed,
    allowed_status_changes,
    appointment_set_status,
)
from tests.factories.safety import make_ready_for_needling
from tests.factories.scheduling import MONDAY, at, book

S = AppointmentStatus
DURING = at(9, 5)  # five minutes into the visit
BEFORE = at(8, 30)


@pytest.fixture
def visit(patient, front_desk, physio, assessment, shifts) -> Appointment:
    """The patient's 09:00 assessment with the treating physio (screened and consented)."""
    make_ready_for_needling(patient, by=physio, at=DURING)
    return book(patient, physio, assessment, at(9), front_desk)


def in_status(visit: Appointment, status: str) -> Appointment:
    Appointment.objects.filter(pk=visit.pk).update(status=status)
    visit.refresh_from_db()
    return visit


def set_status(visit: Appointment, status: str, actor, now: dt.datetime = DURING) -> Appointment:
    return appointment_set_status(appointment=visit, status=status, actor=actor, now=now)


ALLOWED = [
    (S.BOOKED, S.ARRIVED, "front_desk"),
    (S.BOOKED, S.ARRIVED, "physio"),
    (S.BOOKED, S.ARRIVED, "owner"),
    (S.ARRIVED, S.IN_TREATMENT, "physio"),
    (S.ARRIVED, S.IN_TREATMENT, "owner"),
    (S.IN_TREATMENT, S.COMPLETED, "physio"),
    (S.IN_TREATMENT, S.COMPLETED, "owner"),
    (S.BOOKED, S.NO_SHOW, "front_desk"),
    (S.ARRIVED, S.NO_SHOW, "physio"),
    (S.ARRIVED, S.BOOKED, "front_desk"),
]

REFUSED = [
    # A practitioner who neither treats at the visit nor has the patient in their care.
    (S.BOOKED, S.ARRIVED, "other_physio"),
    (S.BOOKED, S.NO_SHOW, "other_physio"),
    (S.ARRIVED, S.IN_TREATMENT, "front_desk"),
    (S.ARRIVED, S.IN_TREATMENT, "other_physio"),
    (S.IN_TREATMENT, S.COMPLETED, "front_desk"),
    (S.IN_TREATMENT, S.COMPLETED, "other_physio"),
    (S.BOOKED, S.IN_TREATMENT, "physio"),
    (S.BOOKED, S.COMPLETED, "owner"),
    (S.BOOKED, S.CANCELLED, "front_desk"),
    (S.ARRIVED, S.COMPLETED, "physio"),
    (S.IN_TREATMENT, S.ARRIVED, "physio"),
    (S.IN_TREATMENT, S.NO_SHOW, "owner"),
    (S.COMPLETED, S.BOOKED, "owner"),
    (S.COMPLETED, S.IN_TREATMENT, "physio"),
    (S.NO_SHOW, S.ARRIVED, "front_desk"),
    (S.CANCELLED, S.ARRIVED, "front_desk"),
    (S.CANCELLED, S.BOOKED, "owner"),
    (S.BOOKED, S.BOOKED, "front_desk"),
]


@pytest.mark.django_db
class TestTransitions:
    @pytest.mark.parametrize(("source", "target", "who"), ALLOWED)
    def test_an_allowed_change_is_made_and_audited(self, visit, cast, source, target, who):
        visit = in_status(visit, source)
        changed = set_status(visit, target, cast[who])
        assert changed.status == target
        event = AuditEvent.objects.get(object_type="appointment", action="update")
        assert event.actor == cast[who]
        assert event.object_id == str(visit.pk)
        assert event.detail == {"status": {"from": str(source), "to": str(target)}}
        assert target in allowed_status_changes(in_status(visit, source), cast[who])

    @pytest.mark.parametrize(("source", "target", "who"), REFUSED)
    def test_any_other_change_is_refused_and_nothing_changes(
        self, visit, cast, source, target, who
    ):
        visit = in_status(visit, source)
        with pytest.raises(StatusChangeNotAllowed) as refused:
            set_status(visit, target, cast[who])
        assert str(refused.value)
        visit.refresh_from_db()
        assert visit.status == source
        assert not AuditEvent.objects.filter(action="update").exists()
        assert target not in allowed_status_changes(visit, cast[who])

    @pytest.mark.parametrize("who", ["patient", "other_patient", "anonymous"])
    def test_patients_may_not_change_a_status(self, visit, cast, who):
        with pytest.raises(PermissionDenied):
            set_status(visit, S.ARRIVED, cast[who])
        visit.refresh_from_db()
        assert visit.status == S.BOOKED
        assert allowed_status_changes(visit, cast[who]) == []

    def test_an_unknown_status_is_refused_with_a_message(self, visit, front_desk):
        with pytest.raises(StatusChangeNotAllowed, match="not a status"):
            set_status(visit, "teleported", front_desk)

    def test_the_refusal_names_the_statuses(self, visit, physio):
        with pytest.raises(StatusChangeNotAllowed, match="booked cannot be marked completed"):
            set_status(visit, S.COMPLETED, physio)

    def test_front_desk_is_told_who_may_complete_a_treatment(self, visit, front_desk):
        visit = in_status(visit, S.IN_TREATMENT)
        with pytest.raises(StatusChangeNotAllowed, match="treating practitioner or the owner"):
            set_status(visit, S.COMPLETED, front_desk)


@pytest.mark.django_db
class TestCheckIn:
    def test_checking_in_records_the_arrival_time(self, visit, front_desk):
        arrived = set_status(visit, S.ARRIVED, front_desk, now=BEFORE)
        assert arrived.arrived_at == BEFORE

    def test_undoing_a_check_in_clears_the_arrival_time(self, visit, front_desk):
        set_status(visit, S.ARRIVED, front_desk, now=BEFORE)
        undone = set_status(visit, S.BOOKED, front_desk, now=BEFORE + dt.timedelta(minutes=1))
        assert undone.status == S.BOOKED
        assert undone.arrived_at is None

    def test_a_visit_goes_through_its_whole_day(self, visit, front_desk, physio):
        set_status(visit, S.ARRIVED, front_desk, now=BEFORE)
        set_status(visit, S.IN_TREATMENT, physio)
        done = set_status(visit, S.COMPLETED, physio, now=at(10))
        assert done.status == S.COMPLETED
        assert done.arrived_at == BEFORE
        assert visit.history.count() == 4


@pytest.mark.django_db
class TestNoShow:
    def test_a_no_show_is_refused_before_the_start(self, visit, front_desk):
        with pytest.raises(StatusChangeNotAllowed, match="start time has passed"):
            set_status(visit, S.NO_SHOW, front_desk, now=at(9) - dt.timedelta(minutes=1))
        visit.refresh_from_db()
        assert visit.status == S.BOOKED

    def test_a_no_show_is_recorded_from_the_start_time(self, visit, front_desk):
        assert set_status(visit, S.NO_SHOW, front_desk, now=at(9)).status == S.NO_SHOW

    def test_a_no_show_frees_the_time_for_someone_else(
        self, visit, other_patient, front_desk, physio, assessment
    ):
        set_status(visit, S.NO_SHOW, front_desk, now=at(9))
        # A no-show no longer holds the practitioner or the bed (booked as of last week).
        again = book(other_patient, physio, assessment, at(9), front_desk)
        assert again.start == at(9)


@pytest.mark.django_db
class TestTheClock:
    """Visit actions follow the clock in the clinic's zone."""

    def test_a_visit_is_checked_in_from_its_own_day_not_the_evening_before(self, visit, cast):
        the_evening_before = at(20, 0, day=MONDAY - dt.timedelta(days=1))
        with pytest.raises(StatusChangeNotAllowed, match="from its own day"):
            set_status(visit, S.ARRIVED, cast["front_desk"], now=the_evening_before)
        visit.refresh_from_db()
        assert visit.status == S.BOOKED
        early_that_morning = at(6, 30)
        assert set_status(visit, S.ARRIVED, cast["front_desk"], now=early_that_morning).status == (
            S.ARRIVED
        )

    def test_treatment_starts_no_earlier_than_the_clinic_allows(self, visit, cast):
        visit = in_status(visit, S.ARRIVED)
        with pytest.raises(StatusChangeNotAllowed, match="from 08:30"):
            set_status(visit, S.IN_TREATMENT, cast["physio"], now=at(8, 29))
        visit.refresh_from_db()
        assert visit.status == S.ARRIVED
        assert set_status(visit, S.IN_TREATMENT, cast["physio"], now=at(8, 45)).status == (
            S.IN_TREATMENT
        )
