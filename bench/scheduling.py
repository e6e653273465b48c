"""Time the slot search and booking against a clinic with years of appointments behind it.

Called from `python -m bench` after Django is set up on the bench's throwaway database. It
builds 20 practitioners at two locations in different zones, a bed each, weekday shifts, and
about BENCH_APPOINTMENTS appointments laid on the booking grid without overlaps (most of them
history, the rest the coming weeks). The search is timed three times as history grows: with
the coming weeks only, with one year behind it and with the whole history.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

APPOINTMENTS = int(os.environ.get("BENCH_APPOINTMENTS", "250000"))
SEARCHES = int(os.environ.get("BENCH_SEARCHES", "15"))
BOOKINGS = int(os.environ.get("BENCH_BOOKINGS", "200"))
PRACTITIONERS = 20
ZONES = ("America/Vancouver", "America/Toronto")
SEARCH_DAYS = 14
FUTURE_DAYS = 28  # seeded ahead of today; the searched window lies inside it
BATCH = 2_000
DURATION = 30  # minutes; with the buffer a visit holds its practitioner and bed for 45
BUFFER = 15
# Morning 08:00-12:00 and afternoon 13:00-18:00: five and six 45-minute visits.
VISIT_STARTS = tuple(dt.time(8 + (45 * n) // 60, (45 * n) % 60) for n in range(5)) + tuple(
    dt.time(13 + (45 * n) // 60, (45 * n) % 60) for n in range(6)
)
FILL = 0.85  # share of grid places taken, so searches still find free times
# Goals (docs/PERFORMANCE.md).
QUERIES_GOAL = 5
VS_RAW_GOAL = 3.0
GROWTH_GOAL = 1.2


@dataclass
class Figures:
    """The `name: value` lines the bench prints, in order."""

    lines: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, value: object) -> None:
        self.lines.append((name, f"{value:.2f}" if isinstance(value, float) else str(value)))

    def goal(self, name: str, met: bool) -> None:
        self.add(f"{name}_goal", "met" if met else "missed")


@dataclass
class Stage:
    """The search timed after one stage of seeding."""

    rows: int  # appointments in the database by then
    seed_s: float
    search_ms: float
    queries: int
    slots: int


@dataclass
class Clinic:
    service: Any
    desk: Any
    practitioners: list[Any]
    beds: dict[int, int]  # practitioner id -> their own bed
    locations: dict[int, Any]  # practitioner id -> location
    patients: list[Any]
    today: dt.date


def median_ms(call: Callable[[], object], runs: int) -> float:
    """Return the median wall time of `runs` calls after one warm-up, in milliseconds."""
    call()
    millis = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        millis.append((time.perf_counter() - began) * 1000)
    return statistics.median(millis)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def build_clinic(today: dt.date) -> Clinic:
    """Create the clinic, its two locations, beds, practitioners, shifts and patients."""
    from allauth.mfa.models import Authenticator

    from imsclinic.accounts.models import User
    from imsclinic.clinic.models import Clinic as ClinicModel
    from imsclinic.clinic.models import Location, Practitioner, Room, Service
    from imsclinic.core.roles import Role
    from imsclinic.patients.models import Patient
    from imsclinic.scheduling.models import Shift, ShiftBreak

    clinic = ClinicModel.current() or ClinicModel.objects.create(
        name="Bench IMS Physiotherapy", email="bench@example.com", phone="604-555-0100"
    )
    locations = [
        Location.objects.create(
            clinic=clinic,
            name=f"Bench {zone.split('/')[1]}",
            slug=f"bench-{zone.split('/')[1].lower()}",
            address_line1="1 Example St",
            city=zone.split("/")[1],
            region="BC" if "Vancouver" in zone else "ON",
            postal_code="V6K 1A1",
            phone="604-555-0101",
            time_zone=zone,
        )
        for zone in ZONES
    ]
    service = Service.objects.create(
        name="Bench IMS follow-up",
        slug="bench-ims-follow-up",
        duration_minutes=DURATION,
        buffer_minutes=BUFFER,
        price=Decimal("95.00"),
        requires_ims_credential=True,
    )
    desk = User.objects.create_user("bench.scheduling@example.com", None, role=Role.FRONT_DESK)
    Authenticator.objects.create(
        user=desk, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    practitioners, beds, where = [], {}, {}
    first_day = today - dt.timedelta(days=3660)
    for number in range(PRACTITIONERS):
        location = locations[number % len(locations)]
        practitioner = Practitioner.objects.create(
            first_name=f"Bench{number}",
            last_name="Physio",
            slug=f"bench-physio-{number}",
            registration_body="College of Physical Therapists of BC",
            registration_number=f"BENCH-{number}",
            ims_certified_on=first_day,
        )
        practitioner.locations.add(location)
        bed = Room.objects.create(location=location, name=f"Bed {number // len(locations) + 1}")
        for weekday in range(5):
            for begins, ends in ((dt.time(8), dt.time(12)), (dt.time(13), dt.time(18))):
                Shift.objects.create(
                    practitioner=practitioner,
                    location=location,
                    weekday=weekday,
                    start_time=begins,
                    end_time=ends,
                    valid_from=first_day,
                )
        practitioners.append(practitioner)
        beds[practitioner.pk] = bed.pk
        where[practitioner.pk] = location
    # One break-holding shift too, so the search's join on breaks has rows to join.
    shift = Shift.objects.filter(practitioner=practitioners[0]).order_by("pk").first()
    assert shift is not None
    ShiftBreak.objects.create(shift=shift, start_time=dt.time(10), end_time=dt.time(10, 15))
    Patient.objects.bulk_create(
        Patient(
            given_name=f"Bench{n}",
            family_name="Visitor",
            date_of_birth=dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
        )
        for n in range(500)
    )
    patients = list(Patient.objects.filter(family_name="Visitor").order_by("pk"))
    return Clinic(service, desk, practitioners, beds, where, patients, today)


def grid(clinic: Clinic, days: Iterator[dt.date]) -> Iterator[tuple[Any, dt.datetime, int]]:
    """Yield (practitioner, start, patient index) for the taken grid places of the given days."""
    count = 0
    for day in days:
        if day.weekday() >= 5:
            continue
        for practitioner in clinic.practitioners:
            zone = clinic.locations[practitioner.pk].zone
            for place, local in enumerate(VISIT_STARTS):
                # A fixed pattern leaves about (1 - FILL) of the places free, spread evenly.
                if (day.toordinal() * 7 + practitioner.pk * 3 + place) % 20 >= FILL * 20:
                    continue
                count += 1
                yield practitioner, dt.datetime.combine(day, local, tzinfo=zone), count


# SQLite's overlap trigger finds a bed's other visits through the index on room_id alone, so
# each insert would read every earlier visit in that bed. While seeding, a helper index lets it
# jump to the neighbours instead; it is dropped again before anything is timed.
SEED_INDEX = "bench_seed_room_start"
# The indexes a live clinic's triggers use (scheduling/0005) read the visits that end after
# the new one starts: cheap for a booking in the future, but seeding latest first would make
# every insert read all the history already seeded. They are set aside while seeding.
LIVE_INDEXES = {
    "appt_practitioner_busy": "(practitioner_id, busy_until)",
    "appt_room_busy": "(room_id, busy_until)",
}


def seed_days(clinic: Clinic, days: list[dt.date], label: str, progress: Any, task: Any) -> int:
    """Bulk-create the grid's appointments on these days, latest first; return how many."""
    from django.db import connection

    sqlite = connection.vendor == "sqlite"
    if sqlite:
        with connection.cursor() as cursor:
            cursor.execute(
                f'CREATE INDEX {SEED_INDEX} ON scheduling_appointment (room_id, "start")'
            )
            for name in LIVE_INDEXES:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
    try:
        return insert_days(clinic, days, label, progress, task)
    finally:
        with connection.cursor() as cursor:
            if sqlite:
                cursor.execute(f"DROP INDEX {SEED_INDEX}")
                for name, columns in LIVE_INDEXES.items():
                    cursor.execute(f"CREATE INDEX {name} ON scheduling_appointment {columns}")
            # A live database keeps its statistics current (autovacuum; SQLite's optimize);
            # after a bulk load the planner would otherwise still think the table is tiny.
            cursor.execute("ANALYZE scheduling_appointment")


def insert_days(clinic: Clinic, days: list[dt.date], label: str, progress: Any, task: Any) -> int:
    from imsclinic.scheduling.models import Appointment, AppointmentStatus

    made = 0
    batch: list[Any] = []
    today = clinic.today
    # Latest first: each insert's overlap check (index on practitioner, start) then only
    # meets rows that start after it, however much history is already there.
    for practitioner, start, n in grid(clinic, iter(sorted(days, reverse=True))):
        start = start.astimezone(dt.UTC)
        end = start + dt.timedelta(minutes=DURATION)
        past = start.date() < today
        status = AppointmentStatus.BOOKED
        if past:
            status = AppointmentStatus.COMPLETED if n % 25 else AppointmentStatus.NO_SHOW
        batch.append(
            Appointment(
                patient=clinic.patients[n % len(clinic.patients)],
                practitioner=practitioner,
                location=clinic.locations[practitioner.pk],
                room_id=clinic.beds[practitioner.pk],
                service=clinic.service,
                start=start,
                end=end,
                busy_until=end + dt.timedelta(minutes=BUFFER),
                status=status,
                created_by=clinic.desk,
            )
        )
        if len(batch) >= BATCH:
            Appointment.objects.bulk_create(batch)
            made += len(batch)
            progress.update(task, advance=len(batch), description=label)
            batch = []
    if batch:
        Appointment.objects.bulk_create(batch)
        made += len(batch)
        progress.update(task, advance=len(batch), description=label)
    return made


def places_per_day() -> float:
    return PRACTITIONERS * len(VISIT_STARTS) * FILL * 5 / 7


def raw_window_fetch(clinic: Clinic, start_date: dt.date) -> Callable[[], object]:
    """Return a call that reads the window's shifts and busy rows with plain SQL, no ORM."""
    from django.db import connection

    from imsclinic.scheduling import selectors
    from imsclinic.scheduling.models import ACTIVE_STATUSES

    window_start, window_end = selectors._window(start_date, SEARCH_DAYS)
    last_day = start_date + dt.timedelta(days=SEARCH_DAYS - 1)
    ids = [p.pk for p in clinic.practitioners]
    rooms = list(clinic.beds.values())
    marks = ", ".join(["%s"] * len(ids))
    room_marks = ", ".join(["%s"] * len(rooms))
    status_marks = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    shifts_sql = (
        "SELECT s.id, s.practitioner_id, s.location_id, s.weekday, s.start_time, s.end_time,"
        " s.valid_from, s.valid_until, b.start_time, b.end_time"
        " FROM scheduling_shift s LEFT JOIN scheduling_shiftbreak b ON b.shift_id = s.id"
        " WHERE s.valid_from <= %s AND (s.valid_until IS NULL OR s.valid_until >= %s)"
    )
    # The same rows through the same index the search uses (selectors._busy_window_sql).
    busy_sql = (
        'SELECT practitioner_id, room_id, "start", busy_until FROM scheduling_appointment'
        f" WHERE (practitioner_id IN ({marks}) OR room_id IN ({room_marks}))"
        f" AND status IN ({status_marks})"
    )
    params: list[Any] = [*ids, *rooms, *[str(status) for status in ACTIVE_STATUSES]]
    if connection.vendor == "postgresql":
        busy_sql += " AND tstzrange(\"start\", busy_until, '[)') && tstzrange(%s, %s, '[)')"
        params += [window_start, window_end]
    else:
        busy_sql += (
            " AND practitioner_id IN (SELECT id FROM clinic_practitioner)"
            ' AND "start" > %s AND "start" < %s AND busy_until > %s'
        )
        params += [selectors._earliest_overlapping_start(window_start), window_end, window_start]

    def fetch() -> object:
        with connection.cursor() as cursor:
            cursor.execute(shifts_sql, [last_day, start_date])
            cursor.fetchall()
            cursor.execute(busy_sql, params)
            return cursor.fetchall()

    return fetch


def time_search(clinic: Clinic, start_date: dt.date, now: dt.datetime) -> tuple[float, int, int]:
    """Return the search's median ms, its query count and how many slots it found."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from imsclinic.scheduling.selectors import available_slots

    def search() -> object:
        return available_slots(
            service=clinic.service, start_date=start_date, days=SEARCH_DAYS, now=now
        )

    connection.queries_log.clear()  # DEBUG keeps a bounded log; seeding filled it
    with CaptureQueriesContext(connection) as captured:
        found = available_slots(
            service=clinic.service, start_date=start_date, days=SEARCH_DAYS, now=now
        )
    return median_ms(search, SEARCHES), len(captured), len(found)


def free_places(clinic: Clinic, first: dt.date, now: dt.datetime, count: int) -> list[Any]:
    """Return up to `count` offered slots from `first` on that never overlap one another."""
    from imsclinic.scheduling.selectors import available_slots

    chosen: list[Any] = []
    taken_until: dict[int, float] = {}
    day = first
    while len(chosen) < count and day < first + dt.timedelta(days=60):
        for slot in available_slots(service=clinic.service, start_date=day, days=1, now=now):
            begins = slot.start.timestamp()
            if begins >= taken_until.get(slot.practitioner_id, 0.0):
                chosen.append(slot)
                taken_until[slot.practitioner_id] = begins + (DURATION + BUFFER) * 60
        day += dt.timedelta(days=1)
    return chosen[:count]


def time_booking(clinic: Clinic, now: dt.datetime) -> tuple[list[float], list[float]]:
    """Book free places through the service, then insert as many bare rows; return ms each."""
    from imsclinic.scheduling.models import Appointment, AppointmentStatus
    from imsclinic.scheduling.services.booking import appointment_book

    by_pk = {p.pk: p for p in clinic.practitioners}
    booked_from = clinic.today + dt.timedelta(days=FUTURE_DAYS + 1)
    for_service = free_places(clinic, booked_from, now, BOOKINGS)
    # Bare rows go on later days, each in its practitioner's own bed: the service may have
    # put a booking in any free bed, so sharing a day could collide.
    last_day = max(slot.start.date() for slot in for_service)
    for_bare = free_places(clinic, last_day + dt.timedelta(days=1), now, BOOKINGS)
    service_ms = []
    for n, slot in enumerate(for_service):
        began = time.perf_counter()
        appointment_book(
            patient=clinic.patients[n % len(clinic.patients)],
            practitioner=by_pk[slot.practitioner_id],
            service=clinic.service,
            location=clinic.locations[slot.practitioner_id],
            start=slot.start,
            actor=clinic.desk,
            now=now,
        )
        service_ms.append((time.perf_counter() - began) * 1000)
    bare_ms = []
    for n, slot in enumerate(for_bare):
        start = slot.start.astimezone(dt.UTC)
        end = start + dt.timedelta(minutes=DURATION)
        began = time.perf_counter()
        Appointment.objects.create(
            patient=clinic.patients[n % len(clinic.patients)],
            practitioner_id=slot.practitioner_id,
            location=clinic.locations[slot.practitioner_id],
            room_id=clinic.beds[slot.practitioner_id],
            service=clinic.service,
            start=start,
            end=end,
            busy_until=end + dt.timedelta(minutes=BUFFER),
            status=AppointmentStatus.BOOKED,
            created_by=clinic.desk,
        )
        bare_ms.append((time.perf_counter() - began) * 1000)
    return service_ms, bare_ms


def run_scheduling(console: Any) -> Figures:
    """Seed the clinic, time the search at three sizes of history, time booking."""
    from django.utils import timezone
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    figures = Figures()
    now = timezone.now()
    today = now.date()
    clinic = build_clinic(today)
    future = [today + dt.timedelta(days=n) for n in range(FUTURE_DAYS)]
    future_rows = round(places_per_day() * FUTURE_DAYS)
    history_days = max(int((APPOINTMENTS - future_rows) / places_per_day()), 10)
    year = min(366, history_days // 5 or 1)
    recent = [today - dt.timedelta(days=n) for n in range(1, year + 1)]
    older = [today - dt.timedelta(days=n) for n in range(year + 1, history_days + 1)]
    start_date = today + dt.timedelta(days=2)  # past the minimum notice, inside the seeded weeks

    stages: list[Stage] = []
    began = time.perf_counter()
    total = 0
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("Booking the coming weeks…", total=APPOINTMENTS)
        for label, days in (
            ("Booking the coming weeks…", future),
            ("Filling the last year…", recent),
            ("Filling the years before…", older),
        ):
            seeding = time.perf_counter()
            total += seed_days(clinic, days, label, progress, task)
            seed_s = time.perf_counter() - seeding
            progress.update(task, description="Searching…")
            stages.append(Stage(total, seed_s, *time_search(clinic, start_date, now)))
    seeded_s = time.perf_counter() - began
    empty, one_year, full = stages
    raw_ms = median_ms(raw_window_fetch(clinic, start_date), SEARCHES)
    with console.status(f"Booking {BOOKINGS} visits and inserting {BOOKINGS} bare rows…"):
        service_ms, bare_ms = time_booking(clinic, now)
    booking_ratio = (sum(bare_ms) / len(bare_ms)) / (sum(service_ms) / len(service_ms))

    vs_raw = full.search_ms / raw_ms
    growth = full.search_ms / one_year.search_ms
    figures.add("appointments_seeded", full.rows)
    figures.add("seed_s", seeded_s)
    figures.add("seed_rows_per_s", full.rows / seeded_s)
    figures.add("availability_slots", full.slots)
    figures.add("availability_ms", full.search_ms)
    figures.add("availability_queries", full.queries)
    figures.goal("availability_queries", full.queries <= QUERIES_GOAL)
    figures.add("raw_window_ms", raw_ms)
    figures.add("availability_vs_raw_ratio", vs_raw)
    figures.goal("availability_vs_raw_ratio", vs_raw <= VS_RAW_GOAL)
    figures.add("availability_ms_future_only", empty.search_ms)
    figures.add("rows_future_only", empty.rows)
    figures.add("availability_ms_one_year", one_year.search_ms)
    figures.add("rows_one_year", one_year.rows)
    figures.add("history_growth_ratio", growth)
    figures.goal("history_growth_ratio", growth <= GROWTH_GOAL)
    figures.add("history_growth_ratio_vs_future_only", full.search_ms / empty.search_ms)
    figures.add("booking_ms_p50", percentile(service_ms, 0.5))
    figures.add("booking_ms_p95", percentile(service_ms, 0.95))
    figures.add("bare_insert_ms_p50", percentile(bare_ms, 0.5))
    # One at a time and in-process; the figure is booking_vs_bare_ratio, over HTTP
    # with 8 clients on PostgreSQL (bench/booking_http.py).
    figures.add("inprocess_booking_vs_bare_ratio", booking_ratio)
    return figures
