"""The practitioner's review queue, and the "needs review" marks on the calendar and record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from imsclinic.safety.models import Decision
from imsclinic.safety.selectors import review_queue
from imsclinic.scheduling.models import AppointmentStatus
from tests.factories.charting import ims_visit
from tests.factories.clients import signed_in
from tests.factories.safety import (
    ON_ANTICOAGULANTS,
    SEVERE_PHOBIA,
    clearance,
    published_consent,
    signature,
    submitted_intake,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def day_url(location, moment: dt.datetime) -> str:
    day = timezone.localdate(moment, location.zone).isoformat()
    return f"{reverse('calendar_day')}?location={location.pk}&date={day}"


def names(rows):
    return [row.patient.given_name for row in rows]


def new_patient(n: int, physio) -> Patient:
    person = Patient.objects.create(
        given_name=f"Queue{n}", family_name="Person", date_of_birth=dt.date(1970, 1, 1)
    )
    person.care_team.add(physio.practitioner)
    return person


class TestQueue:
    def test_answers_without_a_decision_wait_there_with_their_flags(self, patient, physio):
        submitted_intake(patient, {**SEVERE_PHOBIA, **ON_ANTICOAGULANTS})
        queue = review_queue(physio, at=NOW)
        [row] = queue.decisions
        assert row.patient == patient
        assert (row.absolute_count, row.relative_count) == (1, 1)

    def test_a_decision_takes_them_off_until_new_answers_come(self, patient, physio):
        intake = submitted_intake(patient, ON_ANTICOAGULANTS, at=NOW - dt.timedelta(days=2))
        clearance(patient, intake, by=physio, at=NOW - dt.timedelta(days=1))
        assert review_queue(physio, at=NOW).decisions == []
        submitted_intake(patient, ON_ANTICOAGULANTS, at=NOW - dt.timedelta(hours=1))
        assert names(review_queue(physio, at=NOW).decisions) == ["Pat"]

    def test_a_practitioner_sees_only_their_care_team_and_the_owner_sees_all(
        self, patient, other_patient, physio, other_physio, owner
    ):
        submitted_intake(patient, ON_ANTICOAGULANTS)
        submitted_intake(other_patient, ON_ANTICOAGULANTS)
        assert names(review_queue(physio, at=NOW).decisions) == ["Pat"]
        assert review_queue(other_physio, at=NOW).decisions == []
        assert sorted(names(review_queue(owner, at=NOW).decisions)) == ["Otto", "Pat"]

    def test_answers_expiring_before_the_next_ims_visit_are_listed(
        self, patient, physio, ims_service
    ):
        intake = submitted_intake(patient, at=NOW - dt.timedelta(days=170))
        clearance(patient, intake, by=physio, at=NOW - dt.timedelta(days=169))
        ims_visit(
            patient,
            physio,
            ims_service,
            start=NOW + dt.timedelta(days=40),
            status=AppointmentStatus.BOOKED,
        )
        [row] = review_queue(physio, at=NOW).expiring
        assert "before the next IMS visit" in row.text

    def test_answers_expiring_within_thirty_days_are_listed_even_with_no_visit(
        self, patient, physio
    ):
        intake = submitted_intake(patient, at=NOW - dt.timedelta(days=165))
        clearance(patient, intake, by=physio, at=NOW - dt.timedelta(days=164))
        assert names(review_queue(physio, at=NOW).expiring) == ["Pat"]

    def test_fresh_answers_and_long_expired_ones_without_a_visit_are_not(self, patient, physio):
        intake = submitted_intake(patient, at=NOW - dt.timedelta(days=10))
        clearance(patient, intake, by=physio)
        assert review_queue(physio, at=NOW).expiring == []

    def test_a_missing_consent_before_an_ims_visit_within_two_weeks_is_listed(
        self, patient, physio, ims_service
    ):
        published_consent()
        ims_visit(
            patient,
            physio,
            ims_service,
            start=NOW + dt.timedelta(days=3),
            status=AppointmentStatus.BOOKED,
        )
        [row] = review_queue(physio, at=NOW).consents
        assert "Has not signed" in row.text

    def test_an_out_of_date_consent_is_listed_too(self, patient, physio, ims_service):
        signature(patient, published_consent(1))
        published_consent(2)
        ims_visit(
            patient,
            physio,
            ims_service,
            start=NOW + dt.timedelta(days=3),
            status=AppointmentStatus.BOOKED,
        )
        [row] = review_queue(physio, at=NOW).consents
        assert "version 2" in row.text

    def test_consent_in_place_or_a_visit_far_off_is_not_listed(
        self, patient, other_patient, physio, owner, ims_service
    ):
        signature(patient, published_consent())
        ims_visit(
            patient,
            physio,
            ims_service,
            start=NOW + dt.timedelta(days=3),
            status=AppointmentStatus.BOOKED,
        )
        ims_visit(
            other_patient,
            physio,
            ims_service,
            start=NOW + dt.timedelta(days=30),
            status=AppointmentStatus.BOOKED,
        )
        assert review_queue(owner, at=NOW).consents == []

    def test_it_takes_a_fixed_number_of_queries(
        self, physio, ims_service, django_assert_max_num_queries
    ):
        published_consent()
        for n in range(6):
            person = new_patient(n, physio)
            intake = submitted_intake(
                person, ON_ANTICOAGULANTS if n % 2 else {}, at=NOW - dt.timedelta(days=170)
            )
            if n % 3 == 0:
                clearance(person, intake, by=physio, decision=Decision.CLEARED)
            ims_visit(
                person,
                physio,
                ims_service,
                start=NOW + dt.timedelta(days=n + 1),
                status=AppointmentStatus.BOOKED,
            )
        # Clinic setting, clinic time zone, latest answers, next visits, consent version,
        # signatures: the same six however many patients wait.
        with django_assert_max_num_queries(6):
            queue = review_queue(physio, at=NOW)
        assert len(queue.decisions) == 4
        assert len(queue.expiring) == 6
        assert len(queue.consents) == 6


class TestQueuePage:
    def test_rows_link_to_the_screening_page_and_the_look_is_audited(self, patient, physio):
        submitted_intake(patient, SEVERE_PHOBIA)
        response = signed_in(physio).get(reverse("screening_queue"))
        page = response.content.decode()
        assert reverse("patient_screening", args=[patient.pk]) in page
        assert "1 absolute" in page
        event = AuditEvent.objects.get(object_type="screening_queue")
        assert event.detail["shown"] == [patient.pk]

    def test_the_page_is_in_the_staff_navigation_of_clinicians_only(
        self, physio, owner, front_desk
    ):
        link = f'href="{reverse("screening_queue")}"'
        assert link in signed_in(physio).get(reverse("patient_list")).content.decode()
        assert link in signed_in(owner).get(reverse("patient_list")).content.decode()
        assert link not in signed_in(front_desk).get(reverse("patient_list")).content.decode()

    def test_the_page_takes_a_fixed_number_of_queries(
        self, physio, ims_service, django_assert_max_num_queries
    ):
        client = signed_in(physio)
        client.get(reverse("screening_queue"))
        for n in range(5):
            person = new_patient(n, physio)
            submitted_intake(person, SEVERE_PHOBIA)
            ims_visit(
                person,
                physio,
                ims_service,
                start=NOW + dt.timedelta(days=2, hours=n),
                status=AppointmentStatus.BOOKED,
            )
        # The signed-in staff page's own (session, user, MFA, clinic...), the queue's five
        # and the audit row's.
        with django_assert_max_num_queries(20):
            response = client.get(reverse("screening_queue"))
        assert len(response.context["queue"].decisions) == 5

    def test_the_page_takes_the_same_queries_for_10_patients_as_for_100(self, physio, ims_service):
        published_consent()
        client = signed_in(physio)
        client.get(reverse("screening_queue"))

        def waiting(first: int, count: int) -> None:
            for n in range(first, first + count):
                person = new_patient(n, physio)
                submitted_intake(
                    person, SEVERE_PHOBIA if n % 2 else {}, at=NOW - dt.timedelta(days=170)
                )
                ims_visit(
                    person,
                    physio,
                    ims_service,
                    start=NOW + dt.timedelta(days=1 + n % 10, minutes=45 * (n // 10)),
                    status=AppointmentStatus.BOOKED,
                )

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(reverse("screening_queue"))
            assert response.status_code == 200
            return len(captured)

        waiting(0, 10)
        ten = queries()
        waiting(10, 90)
        hundred = queries()
        # The signed-in staff page's own, the queue's six and the audit row's statement.
        assert ten == hundred == 13
        queue = client.get(reverse("screening_queue")).context["queue"]
        assert (len(queue.decisions), len(queue.expiring), len(queue.consents)) == (100, 100, 100)


class TestMarks:
    def test_the_day_calendar_marks_a_visit_needing_review_in_words(
        self, patient, physio, location, ims_service
    ):
        submitted_intake(patient, ON_ANTICOAGULANTS)
        ims_visit(
            patient,
            physio,
            ims_service,
            start=NOW + dt.timedelta(hours=1),
            status=AppointmentStatus.BOOKED,
        )
        url = day_url(location, NOW + dt.timedelta(hours=1))
        page = signed_in(physio).get(url).content.decode()
        assert "Needs practitioner review" in page

    def test_a_decided_patient_is_not_marked(self, patient, physio, location, ims_service):
        intake = submitted_intake(patient, ON_ANTICOAGULANTS)
        clearance(patient, intake, by=physio, decision=Decision.CLEARED_WITH_PRECAUTIONS)
        start = NOW + dt.timedelta(hours=1)
        ims_visit(patient, physio, ims_service, start=start, status=AppointmentStatus.BOOKED)
        url = day_url(location, start)
        assert "Needs practitioner review" not in signed_in(physio).get(url).content.decode()

    def test_the_week_and_own_day_mark_it_too(self, patient, physio, location, ims_service):
        submitted_intake(patient, ON_ANTICOAGULANTS)
        start = NOW + dt.timedelta(hours=1)
        ims_visit(patient, physio, ims_service, start=start, status=AppointmentStatus.BOOKED)
        day = timezone.localdate(start, location.zone).isoformat()
        client = signed_in(physio)
        week = client.get(f"{reverse('calendar_week')}?location={location.pk}&date={day}")
        mine = client.get(f"{reverse('calendar_mine')}?date={day}")
        assert "Needs practitioner review" in week.content.decode()
        assert "Needs practitioner review" in mine.content.decode()

    def test_marking_the_day_does_not_grow_with_flagged_patients(
        self, physio, location, ims_service, django_assert_max_num_queries
    ):
        client = signed_in(physio)
        start = NOW.replace(hour=17, minute=0)  # a fixed hour (UTC) of today
        day = timezone.localdate(start, location.zone).isoformat()
        url = f"{reverse('calendar_day')}?location={location.pk}&date={day}"
        client.get(url)
        for n in range(6):
            person = new_patient(n, physio)
            submitted_intake(person, ON_ANTICOAGULANTS)
            ims_visit(
                person,
                physio,
                ims_service,
                start=start + dt.timedelta(minutes=30 * n),
                status=AppointmentStatus.BOOKED,
            )
        # The page's own, and one statement for the audit log's row per patient shown.
        with django_assert_max_num_queries(17 + 1):
            response = client.get(url)
        assert sum(v.needs_review for v in response.context["grid"].visits) == 6

    def test_the_record_shows_clinicians_the_flags_and_the_desk_only_what_to_do(
        self, patient, physio, front_desk
    ):
        submitted_intake(patient, SEVERE_PHOBIA)
        url = reverse("patient_detail", args=[patient.pk])
        clinician = signed_in(physio).get(url).content.decode()
        desk = signed_in(front_desk).get(url).content.decode()
        assert "1 absolute flag" in clinician
        assert reverse("patient_screening", args=[patient.pk]) in clinician
        assert "cannot book IMS online" in desk
        assert "absolute flag" not in desk
        assert reverse("patient_screening", args=[patient.pk]) not in desk
