"""The demo clinic loads on any date, places every visit by the booking rules, and reloads idle.

`seed_demo` books its visits relative to the day it runs, so each test sets the clock to an
awkward moment (clock-change days in both demo zones, local midnights, year ends, a leap day,
weekends) and loads the whole demo, as `make run` does on a fresh clone that day.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from itertools import combinations

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from imsclinic.charting.models import NeedlingSession, NoteStatus
from imsclinic.demo.logins import DEMO_PATIENT_EMAIL
from imsclinic.scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Shift

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


# Moments that broke, or could break, a demo placed by the calendar rather than by the rules.
AWKWARD = [
    # Clocks go back: Toronto has changed (06:00 UTC), Vancouver has not (09:00 UTC) ...
    at("2026-11-01T06:30:00+00:00"),
    # ... and then both have.
    at("2026-11-01T09:30:00+00:00"),
    # Clocks go forward, just after each zone's change, and that evening in Vancouver.
    at("2027-03-14T07:30:00+00:00"),
    at("2027-03-14T10:30:00+00:00"),
    at("2027-03-14T23:00:00-07:00"),
    at("2027-11-07T06:15:00+00:00"),
    at("2027-11-07T09:45:00+00:00"),
    at("2028-03-12T07:05:00+00:00"),
    at("2028-03-12T10:05:00+00:00"),
    # Year ends and starts, one minute before local midnight in Vancouver.
    at("2026-12-31T23:59:00-08:00"),
    at("2027-01-01T00:01:00-05:00"),
    at("2027-12-31T12:00:00-08:00"),
    at("2028-01-01T08:30:00-05:00"),
    # A leap day, a Saturday and a Sunday morning.
    at("2028-02-29T09:00:00-08:00"),
    at("2027-06-12T10:00:00-07:00"),
    at("2027-06-13T08:00:00-04:00"),
]
# And a spread over two years at changing hours of the day (UTC), every 16 days.
HOURS = (15, 20, 3, 12, 23, 7)
SPREAD = [
    dt.datetime(2026, 7, 1, HOURS[n % len(HOURS)], 10 * (n % 6), tzinfo=UTC)
    + dt.timedelta(days=16 * n)
    for n in range(46)
]
MOMENTS = sorted(AWKWARD + SPREAD)
# Every fourth moment is loaded on PostgreSQL too, the clock-change days among them.
ON_POSTGRES = sorted(set(MOMENTS[::4]) | set(AWKWARD[:4]))


def load_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed
    }


def overlapping(rows: list[tuple[int, dt.datetime, dt.datetime]]) -> list[tuple[int, int]]:
    """Return pairs of visit ids whose times overlap among rows of (id, start, until)."""
    return [(a[0], b[0]) for a, b in combinations(rows, 2) if a[1] < b[2] and b[1] < a[2]]


def clashes(by: str, until: str) -> list[tuple[int, int]]:
    """Return visits that share a practitioner, bed or patient at the same time."""
    groups: dict[object, list[tuple[int, dt.datetime, dt.datetime]]] = defaultdict(list)
    for visit in Appointment.objects.filter(status__in=ACTIVE_STATUSES).values(
        "pk", by, "start", until
    ):
        if visit[by] is not None:
            groups[visit[by]].append((visit["pk"], visit["start"], visit[until]))
    return [pair for rows in groups.values() for pair in overlapping(rows)]


def outside_shifts() -> list[int]:
    """Return visits not wholly inside a shift of their practitioner, clear of its breaks."""
    shifts = defaultdict(list)
    for shift in Shift.objects.prefetch_related("breaks"):
        shifts[(shift.practitioner_id, shift.location_id, shift.weekday)].append(shift)
    stray = []
    for visit in Appointment.objects.select_related("location"):
        zone = visit.location.zone
        begin, until = visit.start.astimezone(zone), visit.busy_until.astimezone(zone)
        day = begin.date()

        def wall(clock: dt.time, day: dt.date = day) -> dt.datetime:
            return dt.datetime.combine(day, clock, tzinfo=zone)

        fits = any(
            shift.valid_from <= day
            and (shift.valid_until is None or day <= shift.valid_until)
            and wall(shift.start_time) <= begin
            and until <= wall(shift.end_time)
            and not any(
                begin < wall(pause.end_time) and wall(pause.start_time) < until
                for pause in shift.breaks.all()
            )
            for shift in shifts[(visit.practitioner_id, visit.location_id, day.weekday())]
        )
        if not fits:
            stray.append(visit.pk)
    return stray


def assert_a_whole_demo_by_the_rules(now: dt.datetime) -> None:
    assert clashes("practitioner_id", "busy_until") == []
    assert clashes("room_id", "busy_until") == []
    assert clashes("patient_id", "end") == []
    assert outside_shifts() == []
    signed = NeedlingSession.objects.filter(
        patient__email=DEMO_PATIENT_EMAIL, status=NoteStatus.SIGNED
    )
    assert signed.count() == 6, "the demo patient's course of six signed sessions"
    assert all(session.appointment.end < now for session in signed)
    # Every course's needling rests on a Gunn assessment signed before its note.
    unassessed = NeedlingSession.objects.filter(status=NoteStatus.SIGNED).exclude(
        assessment__signed_at__lte=F("signed_at")
    )
    assert list(unassessed.values_list("pk", flat=True)) == []
    assert Appointment.objects.filter(
        patient__email=DEMO_PATIENT_EMAIL, status=AppointmentStatus.BOOKED, start__gt=now
    ).exists(), "the demo patient has a visit ahead"
    fortnight = Appointment.objects.filter(
        start__gte=now - dt.timedelta(days=7), start__lt=now + dt.timedelta(days=14)
    )
    assert fortnight.count() >= 100, "the staff calendar is full around today"


def load_twice_at(moment: dt.datetime) -> None:
    with time_machine.travel(moment, tick=True):
        summary = load_demo()
        assert "ready with 2 locations" in summary
        assert_a_whole_demo_by_the_rules(timezone.now())
        before = row_counts()
        again = load_demo()
        assert "nothing new to create" in again
        assert row_counts() == before


@pytest.mark.sqlite_pass
@pytest.mark.parametrize("moment", MOMENTS, ids=lambda moment: moment.strftime("%Y-%m-%dT%H:%MZ"))
def test_the_demo_loads_by_the_rules_and_reloads_idle_at(moment: dt.datetime) -> None:
    load_twice_at(moment)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "moment", ON_POSTGRES, ids=lambda moment: moment.strftime("%Y-%m-%dT%H:%MZ")
)
def test_the_demo_loads_on_postgresql_at(moment: dt.datetime) -> None:
    load_twice_at(moment)


def test_the_demo_loads_by_the_rules_today() -> None:
    load_demo()
    assert_a_whole_demo_by_the_rules(timezone.now())
    before = row_counts()
    assert "nothing new to create" in load_demo()
    assert row_counts() == before


def test_the_moments_cover_two_years_and_the_awkward_days() -> None:
    days = {moment.date() for moment in MOMENTS}
    assert len(MOMENTS) >= 60 and len(ON_POSTGRES) >= 15
    assert max(days) - min(days) >= dt.timedelta(days=700)
    for needed in ("2026-11-01", "2027-03-14", "2027-11-07", "2028-03-12", "2028-02-29"):
        assert dt.date.fromisoformat(needed) in days
    assert {5, 6} <= {moment.date().weekday() for moment in MOMENTS}
    assert {(12, 31), (1, 1)} <= {(day.month, day.day) for day in days}
