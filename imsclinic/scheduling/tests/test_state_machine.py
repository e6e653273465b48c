"""Random sequences of booking, cancelling, rescheduling, courses and waitlist claims.

Whatever hypothesis does, two active visits never overlap for one practitioner, one bed or
one patient, and the services agree with the availability engine: a time it offers the
patient can be booked, and a time it does not offer is refused.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Room, Service
from imsclinic.core.roles import Role
from imsclinic.patients.models import Patient
from imsclinic.scheduling.availability import Slot
from imsclinic.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Shift,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from imsclinic.scheduling.selectors import available_slots
from imsclinic.scheduling.services import booking as booking_services
from imsclinic.scheduling.services import courses as course_services
from imsclinic.scheduling.services import waitlist
from tests.factories import VANCOUVER
from tests.factories.people import make_user

MONDAY = dt.date(2031, 3, 3)
NOW = dt.datetime(2031, 2, 24, 12, 0, tzinfo=dt.UTC)
# Every quarter hour from just before the shifts start to just after they end, Monday and
# Tuesday: most are offered at first, some never are (lunch, evenings).
TIMES = [
    dt.datetime.combine(MONDAY + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=VANCOUVER)
    for day in (0, 1)
    for hour in (8, 9, 10, 11, 12, 13)
    for minute in (0, 15, 30, 45)
]


class Schedule(RuleBasedStateMachine):
    """One morning's diary for two physios sharing one bed, driven at random."""

    world: dict[str, object]

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        world = self.world
        self.desk: User = world["front_desk"]  # type: ignore[assignment]
        self.location: Location = world["location"]  # type: ignore[assignment]
        self.practitioners = list(world["practitioners"])  # type: ignore[call-overload]
        self.patients: list[Patient] = list(world["patients"])  # type: ignore[call-overload]
        self.services: list[Service] = list(world["services"])  # type: ignore[call-overload]

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _offered(self, service: Service, practitioner: object, patient: Patient) -> list[Slot]:
        return available_slots(
            service=service,
            start_date=MONDAY,
            days=2,
            practitioner=practitioner,  # type: ignore[arg-type]
            location=self.location,
            now=NOW,
            patient=patient,
        )

    def _active(self) -> list[Appointment]:
        return list(
            Appointment.objects.filter(status=AppointmentStatus.BOOKED, start__gte=NOW).order_by(
                "pk"
            )
        )

    @rule(data=st.data())
    def book_an_offered_time(self, data: st.DataObject) -> None:
        service = data.draw(st.sampled_from(self.services))
        practitioner = data.draw(st.sampled_from(self.practitioners))
        patient = data.draw(st.sampled_from(self.patients))
        offered = self._offered(service, practitioner, patient)
        if not offered:
            return
        slot = data.draw(st.sampled_from(offered))
        visit = booking_services.appointment_book(
            patient=patient,
            practitioner=practitioner,
            service=service,
            location=self.location,
            start=slot.start,
            actor=self.desk,
            now=NOW,
        )
        assert visit.status == AppointmentStatus.BOOKED

    @rule(data=st.data(), start=st.sampled_from(TIMES))
    def book_any_time(self, data: st.DataObject, start: dt.datetime) -> None:
        service = data.draw(st.sampled_from(self.services))
        practitioner = data.draw(st.sampled_from(self.practitioners))
        patient = data.draw(st.sampled_from(self.patients))
        offered = {slot.start for slot in self._offered(service, practitioner, patient)}
        try:
            booking_services.appointment_book(
                patient=patient,
                practitioner=practitioner,
                service=service,
                location=self.location,
                start=start,
                actor=self.desk,
                now=NOW,
            )
        except booking_services.SlotUnavailable:
            assert start not in offered
        else:
            assert start in offered

    @precondition(lambda self: Appointment.objects.filter(status="booked").exists())
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        visit = data.draw(st.sampled_from(self._active()))
        booking_services.appointment_cancel(
            appointment=visit, actor=self.desk, reason="Patient phoned", now=NOW
        )
        visit.refresh_from_db()
        assert visit.status == AppointmentStatus.CANCELLED

    @precondition(lambda self: Appointment.objects.filter(status="booked").exists())
    @rule(data=st.data(), start=st.sampled_from(TIMES))
    def reschedule(self, data: st.DataObject, start: dt.datetime) -> None:
        visit = data.draw(st.sampled_from(self._active()))
        before = (visit.start, visit.status)
        try:
            moved = booking_services.appointment_reschedule(
                appointment=visit, start=start, actor=self.desk, reason="Asked to", now=NOW
            )
        except booking_services.SlotUnavailable:
            visit.refresh_from_db()
            assert (visit.start, visit.status) == before
        else:
            visit.refresh_from_db()
            assert visit.status == AppointmentStatus.CANCELLED
            assert moved.rescheduled_from == visit
            assert moved.start == start

    @rule(
        data=st.data(),
        start=st.sampled_from(TIMES),
        sessions=st.integers(2, 3),
        book_partial=st.booleans(),
    )
    def book_a_course(
        self, data: st.DataObject, start: dt.datetime, sessions: int, book_partial: bool
    ) -> None:
        practitioner = data.draw(st.sampled_from(self.practitioners))
        patient = data.draw(st.sampled_from(self.patients))
        service = self.services[0]
        plan = course_services.course_plan(
            patient=patient,
            practitioner=practitioner,
            service=service,
            location=self.location,
            first_start=start,
            sessions=sessions,
            now=NOW,
        )
        free = [item for item in plan.occurrences if item.available]
        count = Appointment.objects.count()
        try:
            result = course_services.course_book(
                patient=patient,
                practitioner=practitioner,
                service=service,
                location=self.location,
                first_start=start,
                sessions=sessions,
                actor=self.desk,
                book_partial=book_partial,
                now=NOW,
            )
        except booking_services.BookingError:
            assert Appointment.objects.count() == count
            assert not book_partial or not free
        else:
            assert [visit.start for visit in result.booked] == [item.start for item in free]
            assert book_partial or len(free) == sessions

    @precondition(lambda self: Appointment.objects.filter(status="booked").exists())
    @rule(data=st.data())
    def free_a_time_a_waiting_patient_claims(self, data: st.DataObject) -> None:
        visit = data.draw(st.sampled_from(self._active()))
        waiting = data.draw(st.sampled_from(self.patients))
        if not WaitlistEntry.objects.filter(
            patient=waiting, service=visit.service, status=WaitlistStatus.WAITING
        ).exists():
            try:
                waitlist.waitlist_join(
                    patient=waiting,
                    service=visit.service,
                    earliest=MONDAY,
                    latest=MONDAY + dt.timedelta(days=1),
                    actor=self.desk,
                    now=NOW,
                )
            except waitlist.WaitlistError:
                # These patients have had IMS: an initial assessment is the one wish refused.
                assert booking_services.has_initial_assessment(waiting, visit.service)
        booking_services.appointment_cancel(
            appointment=visit, actor=self.desk, reason="Ill", now=NOW
        )
        offers = waitlist.waitlist_offer_freed_time(
            practitioner=visit.practitioner, location=visit.location, start=visit.start, now=NOW
        )
        # Every waiting patient it suits is offered the time; the first claim books it, and
        # every later one is told it has gone.
        booked = 0
        for offer in offers:
            try:
                waitlist.waitlist_claim(offer=offer, actor=offer.entry.patient.user, now=NOW)
            except (waitlist.OfferGone, waitlist.OfferClosed):
                offer.refresh_from_db()
                assert offer.outcome != WaitlistOffer.Outcome.BOOKED
            except booking_services.FirstVisitMustBeAssessment:
                pass
            else:
                booked += 1
        assert booked <= 1

    @invariant()
    def no_two_active_visits_overlap_for_a_practitioner_a_bed_or_a_patient(self) -> None:
        rows = list(
            Appointment.objects.filter(status__in=ACTIVE_STATUSES).values_list(
                "practitioner_id", "room_id", "patient_id", "start", "end", "busy_until"
            )
        )
        for index, (practitioner, room, patient, start, end, until) in enumerate(rows):
            for other in rows[index + 1 :]:
                other_practitioner, other_room, other_patient, other_start, other_end = other[:5]
                if start < other[5] and other_start < until:
                    assert practitioner != other_practitioner
                    assert room is None or room != other_room
                if start < other_end and other_start < end:
                    assert patient != other_patient


@pytest.fixture
def world(location: Location, physio: User, other_physio: User, front_desk: User) -> dict:
    """Two physios sharing one bed on weekday mornings; three patients who have had IMS."""
    for user in (physio, other_physio):
        for weekday in range(5):
            Shift.objects.create(
                practitioner=user.practitioner,
                location=location,
                weekday=weekday,
                start_time=dt.time(9),
                end_time=dt.time(12, 30),
                valid_from=dt.date(2030, 1, 1),
            )
    follow_up = Service.objects.create(
        name="IMS follow-up",
        slug="ims-follow-up",
        duration_minutes=30,
        buffer_minutes=15,
        price=Decimal("95.00"),
        requires_ims_credential=True,
    )
    assessment = Service.objects.create(
        name="IMS initial assessment",
        slug="ims-initial-assessment",
        duration_minutes=60,
        buffer_minutes=10,
        price=Decimal("150.00"),
        requires_ims_credential=True,
        for_new_patients=True,
    )
    patients = []
    for number in range(3):
        user = make_user(f"patient{number}@patients.example", Role.PATIENT)
        record = Patient.objects.create(
            user=user,
            given_name=f"Patient{number}",
            family_name="Example",
            date_of_birth=dt.date(1970 + number, 1, 1),
            email=user.email,
        )
        # An assessment already behind them, so follow-ups may be booked.
        past = dt.datetime(2031, 1, 6 + number, 17, 0, tzinfo=dt.UTC)
        Appointment.objects.create(
            patient=record,
            practitioner=physio.practitioner,
            location=location,
            service=assessment,
            start=past,
            end=past + dt.timedelta(hours=1),
            status=AppointmentStatus.COMPLETED,
        )
        patients.append(record)
    return {
        "front_desk": front_desk,
        "location": location,
        "practitioners": [physio.practitioner, other_physio.practitioner],
        "patients": patients,
        "services": [follow_up, assessment],
    }


@pytest.mark.django_db
def test_no_sequence_of_changes_lets_two_visits_overlap(world: dict) -> None:
    assert Room.objects.filter(location=world["location"]).count() == 1
    Schedule.world = world
    run_state_machine_as_test(
        Schedule,
        settings=settings(
            max_examples=30,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
