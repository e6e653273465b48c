"""A busy few seconds on PostgreSQL: booking, cancelling, moving and audited reading at once.

Eight threads, each with its own connection, work for a fixed time through the API and the
pages as the front desk, the owner and patients would: two book, two cancel (API and calendar
page), two move visits in the portal, two read audited pages. No answer may be a server
error or anything but what that step answers a person, PostgreSQL may not have had to
break a single deadlock, and afterwards no practitioner, bed or patient is in two visits at
once, and every visit and cancellation was audited and announced exactly once. And two
practitioners' bookings inserting into the only bed at the same moment queue on the bed's
lock rather than deadlock in its overlap guard.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from imsclinic.accounts.models import User
from imsclinic.accounts.tokens import api_token_issue
from imsclinic.clinic.models import Location, Room, Service
from imsclinic.core.models import AuditEvent
from imsclinic.core.roles import Role
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus
from imsclinic.scheduling.services import booking as booking_services
from imsclinic.scheduling.services.booking import SlotUnavailable, appointment_book
from tests.factories import VANCOUVER
from tests.factories.people import make_practitioner, make_user
from tests.factories.scheduling import weekday_shifts

RUN_SECONDS = 6.0
# Each worker goes on past RUN_SECONDS until it has this many answers (on a loaded machine a
# page can take a second), but never past the cap.
MIN_ANSWERS = 3
CAP_SECONDS = 15.0
PATIENTS = 8
ROUNDS = 12  # bed races, one after another
NOTICE_TASK = "imsclinic.scheduling.tasks.send_appointment_notice"

# What each kind of step may answer: anything else (and any 5xx) fails the test.
EXPECTED = {
    "book (API)": {201, 409},  # booked, or the time had gone
    "cancel (API)": {200, 409},  # cancelled, or no longer booked
    "cancel (page)": {302, 200},  # cancelled, or the form says it no longer can be
    "move (portal)": {302, 409, 200},  # moved; taken or no longer movable; "please call"
    "patient page": {200},
    "screening queue": {200},
    "outcomes report": {200},
    "calendar": {200},
}


def deadlocks() -> int:
    """Return how many deadlocks PostgreSQL has broken in this database so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def the_day() -> dt.date:
    """A weekday far enough ahead that patients may still move and cancel online."""
    day = timezone.now().astimezone(VANCOUVER).date() + dt.timedelta(days=4)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def starts(day: dt.date) -> list[dt.datetime]:
    """Every half hour the physios work that day (09:00-17:00, lunch 12:00-13:00)."""
    times = [dt.time(hour, minute) for hour in range(9, 17) for minute in (0, 30)]
    return [
        dt.datetime.combine(day, moment, tzinfo=VANCOUVER) for moment in times if moment.hour != 12
    ]


def overlaps(visits: list[Appointment], key: Callable[[Appointment], object], end: str) -> list:
    """Return the pairs of visits sharing `key` whose [start, end) intervals overlap."""
    clashes = []
    for index, first in enumerate(visits):
        for second in visits[index + 1 :]:
            if key(first) is None or key(first) != key(second):
                continue
            if first.start < getattr(second, end) and second.start < getattr(first, end):
                clashes.append((first.pk, second.pk))
    return clashes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_busy_clinic_gets_no_server_error_no_deadlock_and_no_double_booking(
    location: Location, physio: User, other_physio: User, front_desk: User, owner: User
) -> None:
    # Three physios and two beds: bookings race for beds as well as for people.
    Room.objects.create(location=location, name="Bed 2")
    third = make_user("third.physio@cedar.example", Role.PRACTITIONER, first="Theo", last="Third")
    make_practitioner(third, location, "theo-third", "PT-1003")
    physios = [physio.practitioner, other_physio.practitioner, third.practitioner]
    weekday_shifts(location, [physio, other_physio, third], timezone.localdate() - dt.timedelta(30))
    service = Service.objects.create(
        name="Physiotherapy", slug="physiotherapy", duration_minutes=30, price=Decimal("90.00")
    )
    patients = []
    accounts: dict[int, User] = {}
    for number in range(PATIENTS):
        user = make_user(f"racer{number}@patients.example", Role.PATIENT)
        patients.append(
            Patient.objects.create(
                user=user,
                given_name=f"Racer{number}",
                family_name="Busy",
                date_of_birth=dt.date(1985, 1, 1) + dt.timedelta(days=number),
                email=f"racer{number}@patients.example",
            )
        )
        accounts[patients[-1].pk] = user
    day = the_day()
    times = starts(day)
    # Bookings and cancellations crowd the morning (races for people, beds and visits); moves
    # take visits from anywhere, the morning's too, to the afternoon.
    morning, afternoon = times[:6], times[6:]
    seeder = random.Random(7)
    for patient in patients:  # something to cancel and move from the first moment
        for _ in range(2):
            with contextlib.suppress(SlotUnavailable):  # a time already taken: fine
                appointment_book(
                    patient=patient,
                    practitioner=seeder.choice(physios),
                    service=service,
                    location=location,
                    start=seeder.choice(times),
                    actor=front_desk,
                )

    def api(user: User) -> Client:
        _token, raw = api_token_issue(user=user, name="busy day", actor=None)
        return Client(headers={"Authorization": f"Bearer {raw}"})

    def signed_in(user: User) -> Client:
        client = Client()
        client.force_login(user)  # password and second factor, as the test settings allow
        return client

    def booked_visit(patient: Patient | None = None) -> Appointment | None:
        """A booked visit: a mover's own, or one in the crowded morning for the cancellers."""
        visits = Appointment.objects.filter(status=AppointmentStatus.BOOKED)
        if patient is not None:
            visits = visits.filter(patient=patient)
        else:
            visits = visits.filter(start__in=morning)
        return visits.order_by("?").first()

    def book_by_api(client: Client, pick: random.Random) -> tuple[str, int] | None:
        response = client.post(
            "/api/v1/appointments",
            {
                "service": service.slug,
                "practitioner": pick.choice(physios).pk,
                "patient": pick.choice(patients).pk,
                "start": pick.choice(morning).isoformat(),
            },
            content_type="application/json",
        )
        return "book (API)", response.status_code

    def cancel_by_api(client: Client, pick: random.Random) -> tuple[str, int] | None:
        visit = booked_visit()
        if visit is None:
            return None
        path = f"/api/v1/appointments/{visit.pk}/cancel"
        response = client.post(path, {"reason": "busy day"}, content_type="application/json")
        return "cancel (API)", response.status_code

    def cancel_on_page(client: Client, pick: random.Random) -> tuple[str, int] | None:
        visit = booked_visit()
        if visit is None:
            return None
        path = reverse("appointment_cancel_staff", args=[visit.pk])
        return "cancel (page)", client.post(path, {"reason": "Called in"}).status_code

    def free_afternoon_time(patient_id: int, pick: random.Random) -> tuple[int, dt.datetime]:
        """Pick a practitioner and time that look free now, as the portal's picker offers."""
        active = Appointment.objects.filter(status__in=ACTIVE_STATUSES, start__in=afternoon)
        rows = list(active.values_list("practitioner_id", "patient_id", "start"))
        beds_taken = Counter(start for _practitioner, _patient, start in rows)
        busy = {(practitioner, start) for practitioner, _patient, start in rows}
        own = {start for _practitioner, patient, start in rows if patient == patient_id}
        free = [
            (practitioner.pk, start)
            for practitioner in physios
            for start in afternoon
            if beds_taken[start] < 2 and (practitioner.pk, start) not in busy and start not in own
        ]
        return pick.choice(free) if free else (pick.choice(physios).pk, pick.choice(afternoon))

    def move_in_portal(clients: dict[int, Client]) -> Callable[..., tuple[str, int] | None]:
        def move(_unused: Client, pick: random.Random) -> tuple[str, int] | None:
            patient_id = pick.choice(list(clients))
            visit = booked_visit(Patient(pk=patient_id))
            if visit is None:
                return None
            practitioner_id, start = free_afternoon_time(patient_id, pick)
            path = reverse("portal_reschedule_confirm", args=[visit.pk])
            form = {
                "service": service.slug,
                "practitioner": str(practitioner_id),
                "location": str(location.pk),
                "start": start.isoformat(),
            }
            return "move (portal)", clients[patient_id].post(path, form).status_code

        return move

    owner_pages = itertools.cycle(["patient page", "screening queue", "outcomes report"])
    desk_pages_in_turn = itertools.cycle(["calendar", "patient page"])

    def read_pages(client: Client, pick: random.Random) -> tuple[str, int] | None:
        page = next(owner_pages)
        if page == "patient page":
            path = reverse("patient_detail", args=[pick.choice(patients).pk])
        else:
            path = reverse("screening_queue" if page == "screening queue" else "outcomes_report")
        return page, client.get(path).status_code

    def desk_pages(client: Client, pick: random.Random) -> tuple[str, int] | None:
        if next(desk_pages_in_turn) == "calendar":
            path = f"{reverse('calendar_day')}?location={location.pk}&date={day.isoformat()}"
            return "calendar", client.get(path).status_code
        path = reverse("patient_detail", args=[pick.choice(patients).pk])
        return "patient page", client.get(path).status_code

    def portal_clients(group: list[Patient]) -> dict[int, Client]:
        return {patient.pk: signed_in(accounts[patient.pk]) for patient in group}

    half = PATIENTS // 2
    workers: list[tuple[Callable[..., tuple[str, int] | None], Client]] = [
        (book_by_api, api(front_desk)),
        (book_by_api, api(front_desk)),
        (cancel_by_api, api(front_desk)),
        (cancel_on_page, signed_in(owner)),
        (move_in_portal(portal_clients(patients[:half])), Client()),
        (move_in_portal(portal_clients(patients[half:])), Client()),
        (read_pages, signed_in(owner)),
        (desk_pages, signed_in(front_desk)),
    ]
    answers: list[tuple[str, int]] = []
    failures: list[BaseException] = []
    record = threading.Lock()
    barrier = threading.Barrier(len(workers))
    deadlocks_before = deadlocks()

    def work(step: Callable[..., tuple[str, int] | None], client: Client, seed: int) -> None:
        pick = random.Random(seed)
        try:
            barrier.wait(timeout=30)
            began = time.monotonic()
            answered = 0
            while time.monotonic() - began < RUN_SECONDS or (
                answered < MIN_ANSWERS and time.monotonic() - began < CAP_SECONDS
            ):
                answer = step(client, pick)
                if answer is None:
                    time.sleep(0.02)  # nothing to act on yet
                    continue
                answered += 1
                with record:
                    answers.append(answer)
        except BaseException as error:
            with record:
                failures.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(step, client, seed))
        for seed, (step, client) in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    unexpected = [(step, code) for step, code in answers if code not in EXPECTED[step]]
    assert unexpected == [], Counter(unexpected)
    tally = Counter(step for step, _code in answers)
    assert set(tally) == set(EXPECTED), tally  # every kind of step ran
    assert Counter(answers)[("book (API)", 201)] > 0
    assert Counter(answers)[("move (portal)", 302)] > 0

    time.sleep(1.0)  # the threads' server processes report their counts as they exit
    assert deadlocks() == deadlocks_before

    active = list(Appointment.objects.filter(status__in=ACTIVE_STATUSES))
    assert overlaps(active, lambda visit: visit.practitioner_id, "busy_until") == []
    assert overlaps(active, lambda visit: visit.room_id, "busy_until") == []
    assert overlaps(active, lambda visit: visit.patient_id, "end") == []
    # Each visit made, moved or cancelled once was written, audited and announced once.
    visits = Appointment.objects.count()
    assert AuditEvent.objects.filter(object_type="appointment", action="create").count() == visits
    moved_away = Appointment.objects.filter(rescheduled_from__isnull=False).count()
    plain_cancellations = (
        Appointment.objects.filter(status=AppointmentStatus.CANCELLED).count() - moved_away
    )
    notices = DBTaskResult.objects.filter(task_path=NOTICE_TASK).count()
    assert notices == visits + plain_cancellations


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_practitioners_inserting_into_one_bed_at_once_queue_instead_of_deadlocking(
    location: Location,
    physio: User,
    other_physio: User,
    front_desk: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    weekday_shifts(location, [physio, other_physio], timezone.localdate() - dt.timedelta(30))
    service = Service.objects.create(
        name="Physiotherapy", slug="physiotherapy", duration_minutes=30, price=Decimal("90.00")
    )
    # Both bookings of a round have checked the calendar (both see the only bed free) before
    # either inserts, so both inserts come at once.
    real = booking_services.slot_is_offered
    rounds = starts(the_day())[:ROUNDS]
    deadlocks_before = deadlocks()
    outcomes: list[str] = []
    for start in rounds:
        checked = threading.Barrier(2)
        looked = threading.local()

        def look_together(*args: object, checked: threading.Barrier = checked) -> object:
            slot = real(*args)  # type: ignore[arg-type]
            if not getattr(looked, "done", False):
                looked.done = True
                checked.wait(timeout=30)
            return slot

        monkeypatch.setattr(booking_services, "slot_is_offered", look_together)

        def attempt(practitioner: User, number: int, start: dt.datetime = start) -> None:
            patient = Patient.objects.create(
                given_name=f"Bed{number}",
                family_name="Racer",
                date_of_birth=dt.date(1990, 1, 1),
            )
            try:
                appointment_book(
                    patient=patient,
                    practitioner=practitioner.practitioner,
                    service=service,
                    location=location,
                    start=start,
                    actor=front_desk,
                )
                outcomes.append("booked")
            except SlotUnavailable:
                outcomes.append("refused")
            except BaseException as error:
                outcomes.append(repr(error))
            finally:
                connection.close()

        pair = [
            threading.Thread(target=attempt, args=(who, number))
            for number, who in enumerate((physio, other_physio))
        ]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join()
    assert Counter(outcomes) == {"booked": ROUNDS, "refused": ROUNDS}
    time.sleep(1.0)  # the threads' server processes report their counts as they exit
    assert deadlocks() == deadlocks_before
