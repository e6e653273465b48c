"""The calendars take the same number of queries for a quiet day and a full one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from tests.factories import VANCOUVER
from tests.factories.clients import signed_in
from tests.factories.scheduling import weekday_shifts

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2031, 3, 3)
# The signed-in staff page's own (session, user, MFA, clinic; the idle clock saves the session
# at most once a minute, and no permission is read from the database), the calendar's reads
# (locations, shifts with breaks, visits, time off, closures, the screening marks) and one
# statement for the audit rows. A practitioner's own day reads their visits alone, in every
# location.
DAY_QUERIES = 13
WEEK_QUERIES = 13
MINE_QUERIES = 10
# The front desk also sees each named patient's balance: four queries, however many.
BALANCES = 4


def add_visits(
    count: int,
    *,
    people: list[User],
    location: Location,
    service: Service,
    first: int = 0,
    days: int = 1,
    every: int = 15,
) -> None:
    """Book `count` short visits for new patients, spread over the practitioners and days."""
    patients = Patient.objects.bulk_create(
        Patient(given_name=f"Full{n}", family_name="Day", date_of_birth=dt.date(1980, 1, 1))
        for n in range(first, first + count)
    )
    visits = []
    for n, patient in enumerate(patients, start=first):
        who = people[n % len(people)]
        slot = n // len(people)
        day = MONDAY + dt.timedelta(days=slot % days)
        start = dt.datetime.combine(day, dt.time(1), tzinfo=VANCOUVER) + dt.timedelta(
            minutes=every * (slot // days)
        )
        end = start + dt.timedelta(minutes=10)
        visits.append(
            Appointment(
                patient=patient,
                practitioner=who.practitioner,
                location=location,
                service=service,
                start=start,
                end=end,
                busy_until=end,
                status=AppointmentStatus.BOOKED,
            )
        )
    Appointment.objects.bulk_create(visits)


def queries_for(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def staff(location, physio, other_physio):
    weekday_shifts(location, [physio, other_physio], dt.date(2030, 1, 1))
    return [physio, other_physio]


def test_the_day_takes_the_same_queries_for_10_visits_as_for_100(
    front_desk, location, ims_service, staff
):
    url = f"{reverse('calendar_day')}?location={location.pk}&date={MONDAY.isoformat()}"
    client = signed_in(front_desk)
    client.get(url)
    add_visits(10, people=staff, location=location, service=ims_service)
    ten = queries_for(client, url)
    add_visits(90, people=staff, location=location, service=ims_service, first=10)
    hundred = queries_for(client, url)
    assert ten == hundred == DAY_QUERIES + BALANCES
    page = client.get(url).content.decode()
    assert page.count('class="cal-visit cal-visit-booked"') == 100


def test_the_week_takes_the_same_queries_for_10_visits_as_for_100(
    front_desk, location, ims_service, staff
):
    url = f"{reverse('calendar_week')}?location={location.pk}&date={MONDAY.isoformat()}"
    client = signed_in(front_desk)
    client.get(url)
    add_visits(10, people=staff, location=location, service=ims_service, days=5)
    ten = queries_for(client, url)
    add_visits(90, people=staff, location=location, service=ims_service, first=10, days=5)
    hundred = queries_for(client, url)
    assert ten == hundred == WEEK_QUERIES + BALANCES
    assert client.get(url).content.decode().count("Full") >= 100


def test_a_practitioner_s_day_takes_the_same_queries_for_10_visits_as_for_100(
    physio, location, ims_service, staff
):
    url = f"{reverse('calendar_mine')}?date={MONDAY.isoformat()}"
    client = signed_in(physio)
    client.get(url)
    add_visits(10, people=[physio], location=location, service=ims_service, every=12)
    ten = queries_for(client, url)
    add_visits(90, people=[physio], location=location, service=ims_service, first=10, every=12)
    hundred = queries_for(client, url)
    assert ten == hundred == MINE_QUERIES
    response = client.get(url)
    assert len(response.context["groups"][0].visits) == 100
