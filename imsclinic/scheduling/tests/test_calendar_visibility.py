"""Whose visits the staff calendars name (the rule for acting on a visit); every look audited.

The owner and the front desk see every patient; a practitioner sees their own visits and their
care team's by name. A colleague's other visit is busy time: service, bed, time and
practitioner, with no patient, no link, no buttons and no screening mark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Room, Service
from imsclinic.core.models import Action, AuditEvent
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment
from imsclinic.scheduling.services.booking import appointment_book
from tests.factories import VANCOUVER
from tests.factories.clients import signed_in
from tests.factories.safety import submitted_intake
from tests.factories.scheduling import weekday_shifts

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2031, 3, 3)
# Visits are booked the week before, as the front desk would.
BOOKED_ON = dt.datetime(2031, 2, 24, 12, tzinfo=VANCOUVER)


def at(hour: int, minute: int = 0, day: dt.date = MONDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=VANCOUVER)


@pytest.fixture(autouse=True)
def _on_the_morning_of_the_visits() -> Iterator[None]:
    """Pages are looked at on the visits' Monday, before the first one starts."""
    with time_machine.travel(at(8, 50), tick=True):
        yield


@pytest.fixture
def shifts(location: Location, physio: User, other_physio: User) -> list[Any]:
    """Both physios work weekdays 09:00-17:00 with lunch; a second bed lets both treat at once."""
    Room.objects.create(location=location, name="Bed 2")
    return weekday_shifts(location, [physio, other_physio], dt.date(2030, 1, 1))


def book(
    patient: Patient, user: User, service: Service, start: dt.datetime, *, by: User
) -> Appointment:
    """Book through the booking service, a week ahead, as the front desk does."""
    with time_machine.travel(BOOKED_ON, tick=False):
        return appointment_book(
            patient=patient,
            practitioner=user.practitioner,
            service=service,
            location=user.practitioner.locations.get(),
            start=start,
            actor=by,
            notify=False,
        )


def newcomer(n: int) -> Patient:
    return Patient.objects.create(
        given_name=f"Newcomer{n}", family_name="Zed", date_of_birth=dt.date(1980, 1, 1)
    )


def day_url(location: Location) -> str:
    return f"{reverse('calendar_day')}?location={location.pk}&date={MONDAY.isoformat()}"


def week_url(location: Location) -> str:
    return f"{reverse('calendar_week')}?location={location.pk}&date={MONDAY.isoformat()}"


def mine_url() -> str:
    return f"{reverse('calendar_mine')}?date={MONDAY.isoformat()}"


def calendar_rows(user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor=user, object_type="calendar").order_by("id"))


@pytest.fixture
def taras_visit(
    shifts: list[Any], physio: User, patient: Patient, assessment: Service, front_desk: User
) -> Appointment:
    """Pat Ient's assessment with Tara at 10:00, in Bed 1; Oscar is not on Pat's care team."""
    return book(patient, physio, assessment, at(10), by=front_desk)


class TestAColleagueOutsideTheCareTeam:
    @pytest.mark.parametrize("page", ["day", "week"])
    def test_sees_the_visit_as_busy_time_without_the_patient(
        self, page, location, other_physio, taras_visit
    ):
        url = day_url(location) if page == "day" else week_url(location)
        html = signed_in(other_physio).get(url).content.decode()
        assert "Busy" in html
        assert "IMS initial assessment" in html
        assert "Bed 1" in html
        assert "10:00" in html
        assert "Tara Treating" in html
        assert "Pat Ient" not in html
        assert "Ient" not in html

    def test_gets_no_link_and_no_button_for_it(self, location, other_physio, taras_visit):
        html = signed_in(other_physio).get(day_url(location)).content.decode()
        assert reverse("patient_detail", args=[taras_visit.patient_id]) not in html
        assert reverse("appointment_status", args=[taras_visit.pk]) not in html
        assert reverse("appointment_cancel_staff", args=[taras_visit.pk]) not in html
        assert reverse("session_note", args=[taras_visit.pk]) not in html
        assert "Check in" not in html

    def test_is_not_told_that_the_patient_waits_for_a_screening_review(
        self, location, physio, other_physio, patient, taras_visit
    ):
        submitted_intake(patient, {"anticoagulants": "yes"})
        assert "Needs practitioner review" in signed_in(physio).get(day_url(location)).text
        for url in (day_url(location), week_url(location)):
            assert "Needs practitioner review" not in signed_in(other_physio).get(url).text

    def test_does_not_find_it_on_their_own_day(self, other_physio, taras_visit):
        html = signed_in(other_physio).get(mine_url()).content.decode()
        assert "You have no visits on this day." in html
        assert "Ient" not in html

    def test_sees_their_own_patients_by_name_on_the_same_page(
        self, location, other_physio, other_patient, assessment, front_desk, taras_visit
    ):
        book(other_patient, other_physio, assessment, at(13), by=front_desk)
        html = signed_in(other_physio).get(day_url(location)).content.decode()
        assert "Otto Osborne" in html
        assert "Ient" not in html

    def test_writes_an_audit_row_for_no_one_shown_only_as_busy(
        self, location, other_physio, taras_visit
    ):
        signed_in(other_physio).get(day_url(location))
        [row] = calendar_rows(other_physio)
        assert row.action == Action.VIEW
        assert row.patient_id is None
        assert row.detail == {"view": "day", "date": "2031-03-03", "location": location.pk}


class TestThoseWhoSeeTheName:
    @pytest.mark.parametrize("who", ["front_desk", "owner", "physio"])
    @pytest.mark.parametrize("page", ["day", "week"])
    def test_the_desk_the_owner_and_the_treating_physio_see_the_patient(
        self, who, page, request, location, taras_visit
    ):
        user = request.getfixturevalue(who)
        url = day_url(location) if page == "day" else week_url(location)
        html = signed_in(user).get(url).content.decode()
        assert "Pat Ient" in html
        assert "Busy" not in html

    def test_the_treating_physio_sees_the_patient_on_their_own_day(self, physio, taras_visit):
        html = signed_in(physio).get(mine_url()).content.decode()
        assert "Pat Ient" in html
        assert reverse("patient_detail", args=[taras_visit.patient_id]) in html

    def test_a_colleague_on_the_care_team_sees_the_patient_and_may_act(
        self, location, other_physio, patient, taras_visit
    ):
        patient.care_team.add(other_physio.practitioner)
        html = signed_in(other_physio).get(day_url(location)).content.decode()
        assert "Pat Ient" in html
        assert reverse("patient_detail", args=[patient.pk]) in html
        assert reverse("appointment_cancel_staff", args=[taras_visit.pk]) in html
        assert "Pat Ient" in signed_in(other_physio).get(week_url(location)).text

    def test_leaving_the_care_team_turns_the_visit_back_into_busy_time(
        self, location, other_physio, patient, taras_visit
    ):
        patient.care_team.add(other_physio.practitioner)
        patient.care_team.remove(other_physio.practitioner)
        assert "Ient" not in signed_in(other_physio).get(day_url(location)).text


class TestTheAuditLog:
    @pytest.mark.parametrize("page", ["day", "week"])
    def test_the_front_desk_leaves_one_row_per_patient_shown(
        self,
        page,
        location,
        physio,
        other_physio,
        patient,
        other_patient,
        assessment,
        front_desk,
        shifts,
    ):
        first = book(patient, physio, assessment, at(9), by=front_desk)
        again = book(patient, physio, assessment, at(14), by=front_desk)
        otto = book(other_patient, other_physio, assessment, at(10), by=front_desk)
        url = day_url(location) if page == "day" else week_url(location)

        signed_in(front_desk).get(url)

        rows = calendar_rows(front_desk)
        assert [(r.action, r.patient_id) for r in rows] == [
            (Action.VIEW, patient.pk),
            (Action.VIEW, other_patient.pk),
        ]
        assert rows[0].detail == {
            "view": page,
            "date": "2031-03-03",
            "location": location.pk,
            "visits": sorted([first.pk, again.pk]),
        }
        assert rows[1].detail["visits"] == [otto.pk]

    def test_a_practitioner_s_rows_name_only_the_patients_they_were_shown(
        self, location, physio, other_physio, other_patient, assessment, front_desk, taras_visit
    ):
        own = book(other_patient, other_physio, assessment, at(13), by=front_desk)
        signed_in(other_physio).get(week_url(location))
        [row] = calendar_rows(other_physio)
        assert row.patient_id == other_patient.pk
        assert row.detail["visits"] == [own.pk]

    def test_their_own_day_leaves_a_row_per_patient(
        self, physio, patient, other_patient, assessment, front_desk, shifts
    ):
        book(patient, physio, assessment, at(9), by=front_desk)
        book(other_patient, physio, assessment, at(14), by=front_desk)
        signed_in(physio).get(mine_url())
        rows = calendar_rows(physio)
        assert {r.patient_id for r in rows} == {patient.pk, other_patient.pk}
        assert len(rows) == 2
        assert {r.detail["view"] for r in rows} == {"mine"}

    def test_opening_a_visit_to_cancel_it_is_a_look_at_the_patient(self, front_desk, taras_visit):
        signed_in(front_desk).get(reverse("appointment_cancel_staff", args=[taras_visit.pk]))
        assert AuditEvent.objects.filter(
            actor=front_desk,
            action=Action.VIEW,
            object_type="appointment",
            object_id=str(taras_visit.pk),
            patient_id=taras_visit.patient_id,
            outcome="allowed",
        ).exists()


def audit_inserts(queries: CaptureQueriesContext) -> int:
    return sum(
        1 for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "core_auditevent"')
    )


def load(client: Client, url: str) -> tuple[int, int]:
    """Return the page's queries (its audit rows go in one), and the audit rows it wrote."""
    before = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert audit_inserts(queries) == 1
    return len(queries), AuditEvent.objects.count() - before


class TestQueries:
    """A page decides for all its visits in its own query, and writes its audit rows in one:
    no query per visit or patient."""

    def fill(self, start: int, count: int, user: User, assessment: Service, *, by: User) -> None:
        """Book `count` newcomers with `user`: the day's five assessments (and their buffers)."""
        slots = [at(9), at(10, 15), at(13), at(14, 15), at(15, 30)]
        for n in range(start, start + count):
            book(newcomer(n), user, assessment, slots[n % len(slots)], by=by)

    @pytest.mark.parametrize("page", ["day", "week"])
    def test_busy_time_costs_no_query_however_many_visits(
        self, page, location, physio, other_physio, assessment, front_desk, shifts
    ):
        url = day_url(location) if page == "day" else week_url(location)
        client = signed_in(other_physio)
        client.get(url)  # the session's first queries
        self.fill(0, 1, physio, assessment, by=front_desk)
        few = load(client, url)
        self.fill(1, 4, physio, assessment, by=front_desk)
        many = load(client, url)
        assert few == many == (few[0], 1), "one row, for no patient"

    @pytest.mark.parametrize("page", ["day", "week"])
    def test_a_care_team_s_visits_cost_one_audit_row_per_patient_and_nothing_more(
        self, page, location, physio, other_physio, assessment, front_desk, shifts
    ):
        url = day_url(location) if page == "day" else week_url(location)
        client = signed_in(other_physio)
        client.get(url)
        self.fill(0, 1, physio, assessment, by=front_desk)
        for person in Patient.objects.all():
            person.care_team.add(other_physio.practitioner)
        few = load(client, url)
        self.fill(1, 4, physio, assessment, by=front_desk)
        for person in Patient.objects.all():
            person.care_team.add(other_physio.practitioner)
        many = load(client, url)
        assert few[0] == many[0]
        assert (few[1], many[1]) == (1, 5)

    def test_the_owner_s_day_does_not_grow_with_the_visits(
        self, location, physio, other_physio, assessment, front_desk, owner, shifts
    ):
        client = signed_in(owner)
        client.get(day_url(location))
        self.fill(0, 1, physio, assessment, by=front_desk)
        few = load(client, day_url(location))
        self.fill(1, 4, other_physio, assessment, by=front_desk)
        many = load(client, day_url(location))
        assert few[0] == many[0]
        assert (few[1], many[1]) == (1, 5)

    def test_a_practitioner_s_own_day_does_not_grow_with_the_visits(
        self, physio, assessment, front_desk, shifts
    ):
        client = signed_in(physio)
        client.get(mine_url())
        self.fill(0, 1, physio, assessment, by=front_desk)
        few = load(client, mine_url())
        self.fill(1, 4, physio, assessment, by=front_desk)
        many = load(client, mine_url())
        assert few[0] == many[0]
        assert (few[1], many[1]) == (1, 5)
