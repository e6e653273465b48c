"""Courses of care: N weekly visits at the same local time, checked and booked in one go."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Room, Service
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Course,
    Shift,
    TimeOff,
)
from imsclinic.scheduling.selectors import availability_query
from imsclinic.scheduling.services import courses as course_services
from imsclinic.scheduling.services.booking import (
    BookingError,
    FirstVisitMustBeAssessment,
    SlotTaken,
    SlotUnavailable,
    appointment_book,
)
from imsclinic.scheduling.services.courses import (
    CourseHasConflicts,
    CoursePlan,
    course_book,
    course_plan,
)
from tests.factories import VANCOUVER

# Vancouver's clocks go back on Sunday 2031-11-02: the course below starts in PDT (UTC-7)
# and ends in PST (UTC-8).
FIRST = dt.datetime(2031, 10, 20, 10, 0, tzinfo=VANCOUVER)  # a Monday
NOW = dt.datetime(2031, 10, 13, 12, 0, tzinfo=dt.UTC)


def week(k: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(
        FIRST.date() + dt.timedelta(weeks=k), dt.time(hour, minute), tzinfo=VANCOUVER
    )


@pytest.fixture
def assessed(patient: Patient, front_desk: User, physio: User, assessment: Service, shifts):
    """The patient has had their IMS assessment the week before the course."""
    appointment_book(
        patient=patient,
        practitioner=physio.practitioner,
        service=assessment,
        location=physio.practitioner.locations.get(),
        start=dt.datetime(2031, 10, 15, 9, tzinfo=VANCOUVER),
        actor=front_desk,
        now=NOW,
    )
    return patient


def plan(patient: Patient, physio: User, service: Service, **options) -> CoursePlan:
    practitioner = physio.practitioner
    arguments: dict[str, Any] = {
        "patient": patient,
        "practitioner": practitioner,
        "service": service,
        "location": options.get("location") or practitioner.locations.get(),
        "first_start": FIRST,
        "sessions": 6,
        "now": NOW,
    } | options
    return course_plan(**arguments)


def book_course(
    patient: Patient, physio: User, service: Service, actor: User, **options
) -> course_services.CourseResult:
    practitioner = physio.practitioner
    arguments: dict[str, Any] = {
        "patient": patient,
        "practitioner": practitioner,
        "service": service,
        "location": practitioner.locations.get(),
        "first_start": FIRST,
        "sessions": 6,
        "actor": actor,
        "book_partial": False,
        "now": NOW,
    } | options
    return course_book(**arguments)


def block_week(physio: User, k: int) -> None:
    """Give the physio the whole local day of week k off."""
    day = FIRST.date() + dt.timedelta(weeks=k)
    TimeOff.objects.create(
        practitioner=physio.practitioner,
        start=dt.datetime.combine(day, dt.time(0), tzinfo=VANCOUVER),
        end=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=VANCOUVER),
        reason="conference",
    )


def course_visits(patient: Patient) -> list[Appointment]:
    return list(Appointment.objects.filter(patient=patient, course__isnull=False).order_by("start"))


@pytest.mark.django_db
class TestPlanning:
    def test_six_weeks_across_the_autumn_change_keep_ten_oclock_local(
        self, assessed, physio, ims_service
    ):
        course = plan(assessed, physio, ims_service)
        assert [o.index for o in course.occurrences] == [0, 1, 2, 3, 4, 5]
        assert all(o.available and o.reason == "" for o in course.occurrences)
        assert [o.start.astimezone(VANCOUVER).time() for o in course.occurrences] == [
            dt.time(10)
        ] * 6
        assert [o.start.astimezone(dt.UTC).hour for o in course.occurrences] == [
            17,
            17,
            18,
            18,
            18,
            18,
        ]
        assert [o.start.tzname() for o in course.occurrences] == ["PDT"] * 2 + ["PST"] * 4

    def test_a_week_blocked_by_time_off_is_reported_with_the_nearest_alternatives(
        self, assessed, physio, ims_service
    ):
        block_week(physio, 3)
        course = plan(assessed, physio, ims_service)
        assert [o.index for o in course.conflicts] == [3]
        (blocked,) = course.conflicts
        assert blocked.reason == "That time is not available."
        assert blocked.start == week(3)
        starts = [slot.start for slot in blocked.alternatives]
        assert len(starts) == 5
        # The next free times are the morning after (the Friday before is further away).
        assert starts == [week(3, 9, 0) + dt.timedelta(days=1, minutes=15 * n) for n in range(5)]
        distances = [abs(s.timestamp() - blocked.start.timestamp()) for s in starts]
        assert distances == sorted(distances)

    def test_alternatives_do_not_collide_with_the_courses_own_dates(
        self, assessed, physio, ims_service
    ):
        # Week 3 is blocked; its neighbours are a week away, so none of the alternatives may
        # be the time booked for another week of the course.
        block_week(physio, 3)
        course = plan(assessed, physio, ims_service)
        planned = {o.start.timestamp() for o in course.bookable}
        (blocked,) = course.conflicts
        assert planned.isdisjoint(slot.start.timestamp() for slot in blocked.alternatives)

    def test_planning_reads_the_schedule_once(
        self, assessed, physio, ims_service, django_assert_max_num_queries
    ):
        block_week(physio, 3)
        location = physio.practitioner.locations.get()
        with django_assert_max_num_queries(5):
            course = plan(assessed, physio, ims_service, sessions=12, location=location)
        assert len(course.conflicts) == 1

    def test_planning_changes_nothing(self, assessed, physio, ims_service):
        before = (Appointment.objects.count(), AuditEvent.objects.count())
        plan(assessed, physio, ims_service)
        assert (Appointment.objects.count(), AuditEvent.objects.count()) == before
        assert not Course.objects.exists()

    def test_a_wall_time_the_clocks_skip_is_not_available(
        self, patient, physio, location, assessment
    ):
        # Vancouver's clocks jump from 02:00 to 03:00 on Sunday 2031-03-09.
        Shift.objects.create(
            practitioner=physio.practitioner,
            location=location,
            weekday=6,
            start_time=dt.time(0, 30),
            end_time=dt.time(5),
            valid_from=dt.date(2030, 1, 1),
        )
        first = dt.datetime(2031, 3, 2, 2, 30, tzinfo=VANCOUVER)
        course = plan(
            patient,
            physio,
            assessment,
            first_start=first,
            sessions=2,
            now=dt.datetime(2031, 2, 24, tzinfo=dt.UTC),
        )
        assert course.occurrences[0].available
        skipped = course.occurrences[1]
        assert not skipped.available
        assert "clocks change" in skipped.reason
        assert skipped.alternatives
        assert all(slot.start.date() == dt.date(2031, 3, 9) for slot in skipped.alternatives[:3])

    @pytest.mark.parametrize("sessions", [0, 53, -1])
    def test_a_course_of_an_impossible_length_is_refused(
        self, assessed, physio, ims_service, sessions
    ):
        with pytest.raises(BookingError, match="between 1 and 52"):
            plan(assessed, physio, ims_service, sessions=sessions)

    def test_dates_past_the_booking_horizon_are_not_available(self, assessed, physio, ims_service):
        ims_service.horizon_days = 30
        ims_service.save()
        course = plan(assessed, physio, ims_service)
        # Thirty days from Monday 13 October reach Wednesday 12 November: four Mondays.
        assert [o.available for o in course.occurrences] == [True] * 4 + [False] * 2


@pytest.mark.django_db
class TestBooking:
    def test_a_free_course_books_every_week(self, assessed, front_desk, physio, ims_service):
        result = book_course(assessed, physio, ims_service, front_desk)
        assert result.skipped == []
        assert [visit.start for visit in result.booked] == [week(k) for k in range(6)]
        assert course_visits(assessed) == result.booked
        assert all(visit.course == result.course for visit in result.booked)
        assert result.course.sessions_planned == 6
        assert result.course.created_by == front_desk
        assert (result.course.practitioner, result.course.service) == (
            physio.practitioner,
            ims_service,
        )

    def test_each_visit_and_the_course_are_audited(self, assessed, front_desk, physio, ims_service):
        result = book_course(assessed, physio, ims_service, front_desk)
        created = AuditEvent.objects.filter(
            object_type="appointment", action="create", detail__course=result.course.pk
        )
        assert created.count() == 6
        course_event = AuditEvent.objects.get(object_type="course")
        assert course_event.detail["appointments"] == [visit.pk for visit in result.booked]
        assert course_event.patient_id == assessed.pk

    def test_a_conflict_books_nothing_unless_asked_to_book_the_rest(
        self, assessed, front_desk, physio, ims_service
    ):
        block_week(physio, 3)
        with pytest.raises(CourseHasConflicts) as refused:
            book_course(assessed, physio, ims_service, front_desk)
        assert [o.index for o in refused.value.plan.conflicts] == [3]
        assert "1 of the 6 dates" in str(refused.value)
        assert course_visits(assessed) == []
        assert not Course.objects.exists()

    def test_booking_the_rest_skips_the_blocked_week(
        self, assessed, front_desk, physio, ims_service
    ):
        block_week(physio, 3)
        result = book_course(assessed, physio, ims_service, front_desk, book_partial=True)
        assert [visit.start for visit in result.booked] == [week(k) for k in (0, 1, 2, 4, 5)]
        assert [o.index for o in result.skipped] == [3]
        assert result.skipped[0].alternatives
        assert result.course.sessions_planned == 6

    def test_a_week_taken_between_planning_and_booking_is_found_again(
        self, assessed, other_patient, front_desk, physio, assessment, ims_service
    ):
        assert plan(assessed, physio, ims_service).conflicts == []
        appointment_book(
            patient=other_patient,
            practitioner=physio.practitioner,
            service=assessment,
            location=physio.practitioner.locations.get(),
            start=week(4),
            actor=front_desk,
            now=NOW,
        )
        with pytest.raises(CourseHasConflicts) as refused:
            book_course(assessed, physio, ims_service, front_desk)
        assert [o.index for o in refused.value.plan.conflicts] == [4]
        result = book_course(assessed, physio, ims_service, front_desk, book_partial=True)
        assert len(result.booked) == 5

    def test_a_rival_in_the_bed_at_the_insert_rolls_the_whole_course_back(
        self, assessed, other_patient, front_desk, physio, other_physio, ims_service, monkeypatch
    ):
        # Stand in for another practitioner's booking of the only bed that lands after our
        # read of the schedule: the database's guard refuses, and nothing of the course stays.
        stale = availability_query(
            service=ims_service,
            start_date=FIRST.date() - dt.timedelta(days=7),
            days=50,
            practitioner=physio.practitioner,
            location=physio.practitioner.locations.get(),
            now=NOW,
        )
        Appointment.objects.create(
            patient=other_patient,
            practitioner=other_physio.practitioner,
            location=physio.practitioner.locations.get(),
            room=Room.objects.get(name="Bed 1"),
            service=ims_service,
            start=week(2),
            end=week(2, 10, 30),
        )
        monkeypatch.setattr(course_services, "availability_query", lambda **kwargs: stale)
        with pytest.raises(SlotTaken):
            book_course(assessed, physio, ims_service, front_desk, book_partial=True)
        assert course_visits(assessed) == []
        assert not Course.objects.exists()

    def test_nothing_free_at_all_is_refused(self, assessed, front_desk, physio, ims_service):
        for k in range(2):
            block_week(physio, k)
        with pytest.raises(SlotUnavailable, match="None of the dates"):
            book_course(assessed, physio, ims_service, front_desk, sessions=2, book_partial=True)
        assert not Course.objects.exists()

    def test_a_patient_books_a_course_for_themselves(
        self, assessed, patient_user, physio, ims_service
    ):
        result = book_course(assessed, physio, ims_service, patient_user, sessions=3)
        assert len(result.booked) == 3
        assert all(visit.created_by == patient_user for visit in result.booked)

    def test_a_patient_cannot_book_a_course_for_someone_else(
        self, other_patient, patient_user, physio, assessment, shifts
    ):
        with pytest.raises(PermissionDenied):
            book_course(other_patient, physio, assessment, patient_user, sessions=2)
        assert not Course.objects.exists()

    def test_a_patient_cannot_book_a_course_of_a_service_booked_by_phone_only(
        self, assessed, patient_user, physio, ims_service
    ):
        ims_service.bookable_online = False
        ims_service.save()
        with pytest.raises(SlotUnavailable, match="call the clinic"):
            book_course(assessed, physio, ims_service, patient_user)

    def test_a_new_patient_cannot_start_with_a_course_of_follow_ups(
        self, patient, patient_user, physio, ims_service, assessment, shifts
    ):
        with pytest.raises(FirstVisitMustBeAssessment):
            book_course(patient, physio, ims_service, patient_user, book_partial=True)
        assert not Appointment.objects.exists()
        assert not Course.objects.exists()

    def test_a_new_patient_may_book_a_course_that_starts_with_the_assessment_service(
        self, patient, patient_user, physio, assessment, shifts
    ):
        result = book_course(patient, physio, assessment, patient_user, sessions=2)
        assert [visit.service for visit in result.booked] == [assessment, assessment]

    def test_a_course_of_an_impossible_length_books_nothing(
        self, assessed, front_desk, physio, ims_service
    ):
        with pytest.raises(BookingError, match="between 1 and 52"):
            book_course(assessed, physio, ims_service, front_desk, sessions=53)
        assert not Course.objects.exists()


def overlaps(visits: list[Appointment]) -> list[tuple[int, int]]:
    """Return the pairs of visits that hold the same practitioner or bed at the same time."""
    found = []
    for i, a in enumerate(visits):
        for b in visits[i + 1 :]:
            same = a.practitioner_id == b.practitioner_id or (
                a.room_id is not None and a.room_id == b.room_id
            )
            if same and a.start < b.busy_until and b.start < a.busy_until:
                found.append((a.pk, b.pk))
    return found


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_threads_booking_overlapping_courses_never_overlap(
    location: Location,
    physio: User,
    other_physio: User,
    front_desk: User,
    assessment: Service,
    shifts: list,
) -> None:
    rivals = [
        Patient.objects.create(
            given_name=f"Course{n}", family_name="Racer", date_of_birth=dt.date(1990, 1, 1)
        )
        for n in range(8)
    ]
    # Same practitioner at overlapping times, and the other practitioner wanting the only bed.
    attempts = [
        (rival, (physio, other_physio)[n % 4 == 3], FIRST + dt.timedelta(minutes=15 * (n % 3)))
        for n, rival in enumerate(rivals)
    ]
    barrier = threading.Barrier(len(attempts))
    booked: list[int] = []
    refused: list[str] = []
    failed: list[BaseException] = []
    lock = threading.Lock()

    def attempt(patient: Patient, user: User, first: dt.datetime) -> None:
        try:
            barrier.wait(timeout=30)
            result = course_book(
                patient=patient,
                practitioner=user.practitioner,
                service=assessment,
                location=location,
                first_start=first,
                sessions=4,
                actor=front_desk,
                book_partial=True,
                now=NOW,
            )
            with lock:
                booked.extend(visit.pk for visit in result.booked)
        except BookingError as error:
            with lock:
                refused.append(type(error).__name__)
        except BaseException as error:
            with lock:
                failed.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=args) for args in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failed == []
    visits = list(Appointment.objects.filter(status__in=ACTIVE_STATUSES))
    assert overlaps(visits) == []
    assert sorted(v.pk for v in visits) == sorted(booked)
    assert {v.status for v in visits} == {AppointmentStatus.BOOKED}
    # Each week has one bed and an hour's visit: exactly one course gets it.
    assert len(visits) == 4
    assert len(refused) == len(attempts) - 1
