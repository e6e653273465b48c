"""The staff calendar: day and week grids per location, a practitioner's own day, status buttons."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting.models import NeedlingSession
from imsclinic.clinic.models import Clinic, Location, Room, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.calendar_grid import day_grid
from imsclinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClinicClosure,
    Shift,
    ShiftBreak,
    TimeOff,
)
from tests.factories import VANCOUVER
from tests.factories.clients import signed_in
from tests.factories.safety import make_ready_for_needling
from tests.factories.scheduling import weekday_shifts

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")
MONDAY = dt.date(2031, 3, 3)  # PST; DST starts on Sunday 9 March 2031
SPRING_SUNDAY = dt.date(2031, 3, 9)
AUTUMN_SUNDAY = dt.date(2031, 11, 2)


def at(hour: int, minute: int = 0, day: dt.date = MONDAY, zone: ZoneInfo = VANCOUVER):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def visit(
    patient: Patient,
    user: User,
    service: Service,
    start: dt.datetime,
    *,
    status: str = AppointmentStatus.BOOKED,
    location: Location | None = None,
    bed: bool = True,
) -> Appointment:
    location = location or user.practitioner.locations.get()
    return Appointment.objects.create(
        patient=patient,
        practitioner=user.practitioner,
        location=location,
        room=location.rooms.first() if bed else None,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=service.duration_minutes),
        status=status,
    )


def day_url(location: Location, day: dt.date = MONDAY) -> str:
    return f"{reverse('calendar_day')}?location={location.pk}&date={day.isoformat()}"


@pytest.fixture
def shifts(location, physio, other_physio):
    return weekday_shifts(location, [physio, other_physio], dt.date(2030, 1, 1))


@pytest.fixture
def third_patient(db) -> Patient:
    return Patient.objects.create(
        given_name="Thea", family_name="Third", date_of_birth=dt.date(1990, 5, 5)
    )


class TestDayView:
    def test_it_shows_each_practitioner_on_shift_as_a_column(
        self, front_desk, location, physio, other_physio, shifts
    ):
        response = signed_in(front_desk).get(day_url(location))
        assert response.status_code == 200
        grid = response.context["grid"]
        assert [c.practitioner.last_name for c in grid.columns] == ["Other", "Treating"]
        headers = re.findall(r'<th scope="col">([^<]+)', response.content.decode())
        assert [h.strip() for h in headers] == ["Oscar Other", "Tara Treating"]

    def test_a_visit_sits_in_the_row_of_its_local_start_and_spans_its_length(
        self, front_desk, location, physio, patient, ims_service, shifts
    ):
        visit(patient, physio, ims_service, at(10))
        grid = signed_in(front_desk).get(day_url(location)).context["grid"]
        assert grid.rows[0].label == "09:00"
        assert grid.rows[-1].label == "16:45"
        row = next(r for r in grid.rows if r.label == "10:00")
        # Columns: Oscar Other, then Tara Treating.
        assert [c.kind for c in row.cells] == ["free", "visit"]
        assert row.cells[1].rowspan == 2  # 30 minutes at 15-minute rows
        following = next(r for r in grid.rows if r.label == "10:15")
        assert len(following.cells) == 1, "the visit's rowspan covers Tara's cell"

    def test_the_page_names_the_patient_the_service_the_bed_and_the_status_in_local_time(
        self, front_desk, location, physio, patient, ims_service, shifts
    ):
        visit(patient, physio, ims_service, at(10))
        page = signed_in(front_desk).get(day_url(location)).content.decode()
        assert "10:00–10:30 PST" in page  # noqa: RUF001
        assert "Pat Ient" in page
        assert "IMS follow-up" in page
        assert "Bed 1" in page
        assert "Booked" in page
        assert "Times in PST." in page

    def test_breaks_and_hours_outside_shifts_are_shaded_off(
        self, front_desk, location, physio, other_physio, shifts, patient, ims_service
    ):
        TimeOff.objects.create(
            practitioner=other_physio.practitioner, start=at(14), end=at(15), reason="course"
        )
        grid = signed_in(front_desk).get(day_url(location)).context["grid"]
        kinds = {row.label: [c.kind for c in row.cells] for row in grid.rows}
        assert kinds["11:45"] == ["free", "free"]
        assert kinds["12:00"] == ["off", "off"]  # lunch
        assert kinds["14:00"] == ["off", "free"]  # Oscar's time off
        assert "cal-off" in signed_in(front_desk).get(day_url(location)).content.decode()

    def test_a_practitioner_with_a_visit_but_no_shift_still_gets_a_column(
        self, front_desk, location, physio, other_physio, patient, ims_service
    ):
        weekday_shifts(location, [other_physio], dt.date(2030, 1, 1))
        visit(patient, physio, ims_service, at(18))
        grid = signed_in(front_desk).get(day_url(location)).context["grid"]
        names = [c.practitioner.last_name for c in grid.columns]
        assert names == ["Other", "Treating"]
        assert grid.rows[-1].label == "18:15", "the grid runs on to the visit's end"
        row = next(r for r in grid.rows if r.label == "18:00")
        assert [c.kind for c in row.cells] == ["off", "visit"]

    def test_cancelled_visits_are_listed_below_the_grid_not_in_it(
        self, front_desk, location, physio, patient, other_patient, ims_service, shifts
    ):
        visit(patient, physio, ims_service, at(10), status=AppointmentStatus.CANCELLED)
        visit(other_patient, physio, ims_service, at(10))
        response = signed_in(front_desk).get(day_url(location))
        grid = response.context["grid"]
        placed = [
            cell.visit.appointment.patient.given_name
            for row in grid.rows
            for cell in row.cells
            if cell.visit is not None
        ]
        assert placed == ["Otto"]
        assert [v.appointment.patient.given_name for v in grid.unplaced] == ["Pat"]
        page = response.content.decode()
        assert "<del>Pat Ient</del>" in page
        assert "Cancelled" in page

    def test_a_moved_visit_says_when_it_moved_to_in_the_days_list(
        self, front_desk, location, physio, patient, ims_service, shifts
    ):
        old = visit(patient, physio, ims_service, at(10), status=AppointmentStatus.CANCELLED)
        new = visit(patient, physio, ims_service, at(14, day=MONDAY + dt.timedelta(days=1)))
        new.rescheduled_from = old
        new.save(update_fields=["rescheduled_from"])
        page = signed_in(front_desk).get(day_url(location)).content.decode()

        assert "Moved to Tue 4 Mar 2031, 2:00 PM PST" in page
        assert "Cancelled" not in page

    def test_the_list_of_the_day_holds_every_visit_in_time_order(
        self,
        front_desk,
        location,
        physio,
        other_physio,
        patient,
        other_patient,
        ims_service,
        shifts,
    ):
        visit(patient, physio, ims_service, at(14))
        visit(other_patient, other_physio, ims_service, at(9, 30))
        response = signed_in(front_desk).get(day_url(location))
        assert [v.appointment.patient.given_name for v in response.context["grid"].visits] == [
            "Otto",
            "Pat",
        ]
        listed = response.content.decode().split("The day's visits as a list")[1]
        assert listed.index("Otto Osborne") < listed.index("Pat Ient")

    def test_a_closed_day_says_so_and_shades_every_slot(self, front_desk, location, physio, shifts):
        ClinicClosure.objects.create(
            location=location, first_day=MONDAY, last_day=MONDAY, reason="Family Day"
        )
        response = signed_in(front_desk).get(day_url(location))
        assert "closed on this day (Family Day)" in response.content.decode()
        assert response.context["grid"].columns == []

    def test_a_bad_date_is_reported_next_to_the_field_and_today_is_shown(
        self, front_desk, location, shifts
    ):
        response = signed_in(front_desk).get(
            f"{reverse('calendar_day')}?location={location.pk}&date=3031-99-01"
        )
        assert response.status_code == 200
        assert response.context["form"].errors["date"]
        assert response.context["choice"].day == timezone.now().astimezone(VANCOUVER).date()
        assert 'id="date-error"' in response.content.decode()

    def test_without_a_date_it_shows_today_in_the_location_zone(self, front_desk, location):
        response = signed_in(front_desk).get(reverse("calendar_day"))
        assert response.context["choice"].day == timezone.now().astimezone(VANCOUVER).date()
        assert response.context["choice"].location == location

    def test_previous_and_next_links_step_one_day(self, front_desk, location, shifts):
        links = signed_in(front_desk).get(day_url(location)).context["links"]
        assert links["previous"].endswith(f"location={location.pk}&date=2031-03-02")
        assert links["next"].endswith(f"location={location.pk}&date=2031-03-04")

    def test_a_patient_is_refused_and_a_visitor_is_sent_to_sign_in(self, patient_user, location):
        assert signed_in(patient_user).get(day_url(location)).status_code == 403
        response = Client().get(day_url(location))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    def test_the_day_takes_the_same_few_queries_however_many_visits(
        self,
        front_desk,
        location,
        physio,
        other_physio,
        patient,
        ims_service,
        shifts,
        django_assert_max_num_queries,
    ):
        client = signed_in(front_desk)
        client.get(day_url(location))  # warm the session
        for n in range(8):
            person = Patient.objects.create(
                given_name=f"P{n}", family_name="Load", date_of_birth=dt.date(1980, 1, 1)
            )
            who = physio if n % 2 else other_physio
            visit(person, who, ims_service, at(9) + dt.timedelta(minutes=30 * (n // 2)), bed=False)
        # Ten for every signed-in staff page (session, user, MFA, clinic, permissions, the
        # idle-timeout session save) and seven for the calendar (one for the screening
        # "needs review" marks), however many visits; then one statement writing the audit
        # log's row per patient shown; and four for the front desk's view of every shown
        # patient's balance (billing's `billing_balances`), however many patients.
        with django_assert_max_num_queries(17 + 1 + 4):
            response = client.get(day_url(location))
        assert len(response.context["grid"].visits) == 8


class TestDaylightSavingDays:
    @pytest.fixture
    def night_shift(self, location, physio):
        """Tara works 00:00-06:00 on Sundays, across the DST change."""
        return Shift.objects.create(
            practitioner=physio.practitioner,
            location=location,
            weekday=6,
            start_time=dt.time(0),
            end_time=dt.time(6),
            valid_from=dt.date(2030, 1, 1),
        )

    def test_the_spring_forward_day_has_no_two_oclock_hour(
        self, location, physio, patient, ims_service, night_shift
    ):
        grid = day_grid(location=location, day=SPRING_SUNDAY)
        labels = [row.label for row in grid.rows]
        assert len(labels) == 20  # five real hours, not six
        assert labels[:2] == ["00:00 PST", "00:15 PST"]
        assert "01:45 PST" in labels
        assert labels[labels.index("01:45 PST") + 1] == "03:00 PDT"
        assert not any(label.startswith("02:") for label in labels)
        assert grid.hours == 23
        assert grid.zone_label == "PST/PDT"

    def test_a_visit_across_the_change_spans_its_real_length(
        self, location, physio, patient, assessment, night_shift
    ):
        # 01:30 PST plus an hour is 03:30 PDT.
        visit(patient, physio, assessment, at(1, 30, day=SPRING_SUNDAY))
        grid = day_grid(location=location, day=SPRING_SUNDAY)
        row = next(r for r in grid.rows if r.label == "01:30 PST")
        assert row.cells[0].kind == "visit"
        assert row.cells[0].rowspan == 4
        assert row.cells[0].visit is not None
        assert row.cells[0].visit.time_label == "01:30 PST–03:30 PDT"  # noqa: RUF001

    def test_the_fall_back_day_shows_the_one_oclock_hour_twice(
        self, front_desk, location, physio, night_shift
    ):
        response = signed_in(front_desk).get(day_url(location, AUTUMN_SUNDAY))
        grid = response.context["grid"]
        labels = [row.label for row in grid.rows]
        assert len(labels) == 28  # seven real hours
        assert "01:00 PDT" in labels and "01:00 PST" in labels
        assert grid.hours == 25
        assert "This day is 25 hours long" in response.content.decode()


class TestWeekView:
    def test_it_shows_seven_days_from_monday_with_each_visit_under_its_day(
        self, front_desk, location, physio, other_physio, patient, ims_service, shifts
    ):
        visit(patient, physio, ims_service, at(10, day=MONDAY + dt.timedelta(days=2)))
        url = (
            f"{reverse('calendar_week')}?location={location.pk}"
            f"&date={(MONDAY + dt.timedelta(days=3)).isoformat()}"
        )
        response = signed_in(front_desk).get(url)
        week = response.context["week"]
        assert week.days[0] == MONDAY and len(week.days) == 7
        tara = next(r for r in week.rows if r.practitioner.last_name == "Treating")
        assert [len(c.visits) for c in tara.cells] == [0, 0, 1, 0, 0, 0, 0]
        assert [c.working for c in tara.cells] == [True] * 5 + [False] * 2
        page = response.content.decode()
        assert "10:00 PST" in page and "Pat Ient" in page

    def test_the_week_takes_a_fixed_number_of_queries(
        self,
        front_desk,
        location,
        physio,
        patient,
        ims_service,
        shifts,
        django_assert_max_num_queries,
    ):
        client = signed_in(front_desk)
        for n in range(5):
            visit(patient, physio, ims_service, at(9, day=MONDAY + dt.timedelta(days=n)))
        client.get(reverse("calendar_week"))
        # One more for the "needs review" marks, one for the audit rows of patients shown,
        # and four for the balances of the patients shown (billing's `billing_balances`).
        with django_assert_max_num_queries(17 + 1 + 4):
            client.get(f"{reverse('calendar_week')}?location={location.pk}&date=2031-03-03")


class TestOwnDay:
    @pytest.fixture
    def toronto(self, clinic) -> Location:
        place = Location.objects.create(
            clinic=clinic,
            name="Leslieville",
            slug="leslieville",
            address_line1="1 Queen St E",
            city="Toronto",
            region="ON",
            postal_code="M4M 1A1",
            phone="416-555-0100",
            time_zone="America/Toronto",
        )
        Room.objects.create(location=place, name="Bed T")
        return place

    def test_a_practitioner_sees_their_visits_at_every_location_in_each_zone(
        self, physio, other_physio, location, toronto, patient, other_patient, ims_service
    ):
        physio.practitioner.locations.add(toronto)
        visit(patient, physio, ims_service, at(8, day=MONDAY, zone=TORONTO), location=toronto)
        visit(other_patient, physio, ims_service, at(13), location=location)
        visit(other_patient, other_physio, ims_service, at(15), location=location)
        response = signed_in(physio).get(f"{reverse('calendar_mine')}?date=2031-03-03")
        groups = response.context["groups"]
        assert [g.location.name for g in groups] == ["Kitsilano", "Leslieville"]
        assert [len(g.visits) for g in groups] == [1, 1]
        page = response.content.decode()
        assert "08:00–08:30 EST" in page  # noqa: RUF001
        assert "13:00–13:30 PST" in page  # noqa: RUF001
        assert "15:00" not in page, "another practitioner's visit is not on my day"

    def test_staff_without_a_practitioner_profile_are_sent_to_the_day_view(self, front_desk):
        response = signed_in(front_desk).get(reverse("calendar_mine"))
        assert response.status_code == 302
        assert response["Location"] == reverse("calendar_day")


class TestStatusActions:
    @pytest.fixture(autouse=True)
    def _on_the_visits_morning(self):
        """The day's actions are taken on the visits' day, shortly before ten."""
        with time_machine.travel(at(9, 50), tick=True):
            yield

    def post_status(self, client: Client, appointment: Appointment, status: str, next_url: str):
        return client.post(
            reverse("appointment_status", args=[appointment.pk]),
            {"status": status, "next": next_url},
        )

    def test_the_front_desk_checks_a_patient_in(
        self, front_desk, location, physio, patient, ims_service, shifts
    ):
        booked = visit(patient, physio, ims_service, at(10))
        response = self.post_status(
            signed_in(front_desk), booked, AppointmentStatus.ARRIVED, day_url(location)
        )
        assert response.status_code == 302
        assert response["Location"] == day_url(location)
        booked.refresh_from_db()
        assert booked.status == AppointmentStatus.ARRIVED
        assert booked.arrived_at is not None
        [message] = list(get_messages(response.wsgi_request))
        assert "Arrived" in str(message)

    def test_the_front_desk_is_refused_starting_treatment_and_told_why(
        self, front_desk, location, physio, patient, ims_service, shifts
    ):
        arrived = visit(patient, physio, ims_service, at(10), status=AppointmentStatus.ARRIVED)
        response = self.post_status(
            signed_in(front_desk), arrived, AppointmentStatus.IN_TREATMENT, day_url(location)
        )
        arrived.refresh_from_db()
        assert arrived.status == AppointmentStatus.ARRIVED
        [message] = list(get_messages(response.wsgi_request))
        assert message.level_tag == "error"
        assert "treating practitioner" in str(message)

    def test_the_treating_practitioner_starts_and_completes_the_visit(
        self, physio, location, patient, ims_service, shifts
    ):
        arrived = visit(patient, physio, ims_service, at(10), status=AppointmentStatus.ARRIVED)
        make_ready_for_needling(patient, by=physio)
        client = signed_in(physio)
        self.post_status(client, arrived, AppointmentStatus.IN_TREATMENT, day_url(location))
        self.post_status(client, arrived, AppointmentStatus.COMPLETED, day_url(location))
        arrived.refresh_from_db()
        assert arrived.status == AppointmentStatus.COMPLETED

    def test_a_change_the_table_does_not_allow_is_refused_with_a_message(
        self, front_desk, location, physio, patient, ims_service, shifts
    ):
        booked = visit(patient, physio, ims_service, at(10))
        response = self.post_status(
            signed_in(front_desk), booked, AppointmentStatus.COMPLETED, day_url(location)
        )
        booked.refresh_from_db()
        assert booked.status == AppointmentStatus.BOOKED
        [message] = list(get_messages(response.wsgi_request))
        assert "cannot be marked completed" in str(message)

    def test_a_next_address_on_another_site_is_ignored(
        self, front_desk, location, physio, patient, ims_service, shifts
    ):
        booked = visit(patient, physio, ims_service, at(10))
        response = self.post_status(
            signed_in(front_desk), booked, AppointmentStatus.ARRIVED, "https://evil.example/"
        )
        assert response["Location"] == day_url(location)

    def test_a_patient_cannot_change_a_status(self, patient_user, physio, patient, ims_service):
        booked = visit(patient, physio, ims_service, at(10))
        response = self.post_status(signed_in(patient_user), booked, AppointmentStatus.ARRIVED, "/")
        assert response.status_code == 403
        booked.refresh_from_db()
        assert booked.status == AppointmentStatus.BOOKED

    def test_each_user_sees_only_the_buttons_they_may_use(
        self, front_desk, physio, location, patient, ims_service, shifts
    ):
        visit(patient, physio, ims_service, at(10), status=AppointmentStatus.ARRIVED)
        desk_page = signed_in(front_desk).get(day_url(location)).content.decode()
        assert ">Undo check-in</button>" in desk_page
        assert ">Start treatment</button>" not in desk_page
        physio_page = signed_in(physio).get(day_url(location)).content.decode()
        assert ">Start treatment</button>" in physio_page

    def test_no_show_is_offered_only_once_the_visit_has_started(
        self, front_desk, location, physio, patient, other_patient, ims_service
    ):
        past = timezone.now() - dt.timedelta(hours=1)
        future = timezone.now() + dt.timedelta(days=2)
        visit(patient, physio, ims_service, past)
        visit(other_patient, physio, ims_service, future)
        client = signed_in(front_desk)
        page = client.get(day_url(location, past.astimezone(VANCOUVER).date())).content.decode()
        assert ">No-show</button>" in page
        later = client.get(day_url(location, future.astimezone(VANCOUVER).date()))
        assert ">No-show</button>" not in later.content.decode()


class TestCancelFromTheCalendar:
    def test_inside_the_late_window_a_reason_is_required_and_nothing_changes_without_one(
        self, front_desk, location, physio, patient, ims_service
    ):
        soon = visit(patient, physio, ims_service, timezone.now() + dt.timedelta(hours=3))
        client = signed_in(front_desk)
        url = reverse("appointment_cancel_staff", args=[soon.pk])
        page = client.get(url).content.decode()
        assert "late-cancellation window" in page
        response = client.post(url, {"reason": "  "})
        assert response.status_code == 200
        assert response.context["form"].errors["reason"]
        assert response.context["form"].errors["cancelled_by"]
        soon.refresh_from_db()
        assert soon.status == AppointmentStatus.BOOKED

    def test_with_a_reason_the_visit_is_cancelled_late_and_the_calendar_shown_again(
        self, front_desk, location, physio, patient, ims_service
    ):
        soon = visit(patient, physio, ims_service, timezone.now() + dt.timedelta(hours=3))
        response = signed_in(front_desk).post(
            reverse("appointment_cancel_staff", args=[soon.pk]),
            {
                "reason": "Patient phoned: unwell",
                "cancelled_by": "patient",
                "next": day_url(location),
            },
        )
        assert response.status_code == 302
        assert response["Location"] == day_url(location)
        soon.refresh_from_db()
        assert soon.status == AppointmentStatus.CANCELLED
        assert soon.cancelled_late is True
        assert soon.cancellation_reason == "Patient phoned: unwell"


def test_a_second_clinic_location_is_offered_in_the_picker(front_desk, location, clinic: Clinic):
    Location.objects.create(
        clinic=clinic,
        name="Leslieville",
        slug="leslieville",
        address_line1="1 Queen St E",
        city="Toronto",
        region="ON",
        postal_code="M4M 1A1",
        phone="416-555-0100",
        time_zone="America/Toronto",
    )
    page = signed_in(front_desk).get(reverse("calendar_day")).content.decode()
    assert ">Kitsilano</option>" in page and ">Leslieville</option>" in page


def test_a_shift_break_in_a_shift_made_here_is_respected(location, physio):
    shift = Shift.objects.create(
        practitioner=physio.practitioner,
        location=location,
        weekday=0,
        start_time=dt.time(8),
        end_time=dt.time(10),
        valid_from=dt.date(2030, 1, 1),
    )
    ShiftBreak.objects.create(shift=shift, start_time=dt.time(9), end_time=dt.time(9, 30))
    grid = day_grid(location=location, day=MONDAY, step_minutes=30)
    assert [(r.label, r.cells[0].kind) for r in grid.rows] == [
        ("08:00", "free"),
        ("08:30", "free"),
        ("09:00", "off"),
        ("09:30", "free"),
    ]


def test_the_demo_clinic_fills_this_week_and_next_with_visits_in_mixed_states():
    call_command("seed_demo", stdout=io.StringIO())
    kits = Location.objects.get(slug="kitsilano")
    today = timezone.now().astimezone(kits.zone).date()
    monday = today - dt.timedelta(days=today.weekday())
    window = (
        dt.datetime.combine(monday, dt.time(), tzinfo=kits.zone),
        dt.datetime.combine(monday + dt.timedelta(days=14), dt.time(), tzinfo=kits.zone),
    )
    visits = Appointment.objects.filter(start__gte=window[0], start__lt=window[1])
    assert visits.count() >= 100
    statuses = set(visits.values_list("status", flat=True))
    assert {AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED} <= statuses
    demo_patient = Patient.objects.get(email="patient@example.com")
    # Besides the past visits of their charted course, the calendar leaves them one visit.
    charted = NeedlingSession.objects.values("appointment")
    assert visits.filter(patient=demo_patient).exclude(pk__in=charted).count() <= 1, (
        "the demo patient keeps one visit"
    )
    for visit in visits.select_related("patient"):
        assert visit.patient.care_team.filter(pk=visit.practitioner_id).exists()
    before = Appointment.objects.count()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert Appointment.objects.count() == before
    assert "nothing new to create" in out.getvalue()


def test_a_practitioner_opening_the_calendar_lands_on_their_own_day(physio, location):
    response = signed_in(physio).get(reverse("calendar_day"))
    assert response.status_code == 302
    assert response["Location"] == reverse("calendar_mine")
    assert signed_in(physio).get(day_url(location)).status_code == 200


def test_the_calendar_pages_carry_no_inline_styles_or_scripts(
    front_desk, physio, location, patient, ims_service, shifts
):
    visit(patient, physio, ims_service, at(10))
    pages = [
        signed_in(front_desk).get(day_url(location)),
        signed_in(front_desk).get(f"{reverse('calendar_week')}?location={location.pk}"),
        signed_in(physio).get(f"{reverse('calendar_mine')}?date=2031-03-03"),
        signed_in(physio).get(reverse("calendar_feed_settings")),
    ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert ' style="' not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
        assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_an_unknown_location_is_reported_and_the_first_location_shown(front_desk, location):
    response = signed_in(front_desk).get(f"{reverse('calendar_day')}?location=999999")
    assert response.status_code == 200
    assert response.context["form"].errors["location"]
    assert response.context["choice"].location == location


def test_a_practitioner_s_day_takes_a_fixed_number_of_queries(
    physio, location, patient, other_patient, ims_service, django_assert_max_num_queries
):
    client = signed_in(physio)
    url = f"{reverse('calendar_mine')}?date=2031-03-03"
    client.get(url)
    for n in range(6):
        visit(patient if n % 2 else other_patient, physio, ims_service, at(9 + n), bed=False)
    with django_assert_max_num_queries(16 + 1):  # and one statement for the audit rows
        response = client.get(url)
    assert len(response.context["groups"][0].visits) == 6
