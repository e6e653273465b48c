"""The booking gate: an absolute flag stops online IMS booking; a relative one marks it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.safety.errors import OnlineImsBookingStopped
from imsclinic.safety.models import Decision
from imsclinic.safety.selectors import (
    ARRIVED,
    BOOKED,
    IN_TREATMENT,
    online_ims_refusal,
    visits_needing_review,
)
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.selectors import available_slots
from imsclinic.scheduling.services.booking import appointment_book
from tests.factories.clients import signed_in
from tests.factories.safety import ON_ANTICOAGULANTS, SEVERE_PHOBIA, clearance, submitted_intake

pytestmark = pytest.mark.django_db

PHONE = "604-555-0100"  # the clinic's, from the root conftest


def test_the_visit_statuses_safety_reads_are_the_ones_scheduling_stores():
    assert (BOOKED, ARRIVED, IN_TREATMENT) == (
        AppointmentStatus.BOOKED,
        AppointmentStatus.ARRIVED,
        AppointmentStatus.IN_TREATMENT,
    )


def first_free(service, user):
    """Return the first time offered for this service with this practitioner, a week ahead."""
    slots = available_slots(
        service=service,
        start_date=timezone.localdate() + dt.timedelta(days=7),
        days=7,
        practitioner=user.practitioner,
    )
    return slots[0].start


def book(patient, user, service, actor):
    return appointment_book(
        patient=patient,
        practitioner=user.practitioner,
        service=service,
        location=user.practitioner.locations.get(),
        start=first_free(service, user),
        actor=actor,
    )


class TestService:
    def test_a_patient_with_an_absolute_flag_cannot_book_ims_online_and_is_told_to_call(
        self, clinic, patient, patient_user, physio, assessment, shifts
    ):
        submitted_intake(patient, SEVERE_PHOBIA)
        with pytest.raises(OnlineImsBookingStopped) as refused:
            book(patient, physio, assessment, patient_user)
        assert PHONE in str(refused.value)
        assert "talk with you" in str(refused.value)
        assert not Appointment.objects.exists()

    def test_they_may_still_book_a_visit_without_needling(
        self, clinic, patient, patient_user, physio, massage, shifts
    ):
        submitted_intake(patient, SEVERE_PHOBIA)
        assert book(patient, physio, massage, patient_user).pk

    def test_the_front_desk_books_the_assessment_after_a_call(
        self, clinic, patient, front_desk, physio, assessment, shifts
    ):
        submitted_intake(patient, SEVERE_PHOBIA)
        visit = book(patient, physio, assessment, front_desk)
        assert visit.created_by == front_desk
        assert visits_needing_review([visit]) == {visit.pk}

    def test_a_patient_with_an_absolute_flag_cannot_move_an_ims_visit_online_either(
        self, clinic, patient, patient_user, front_desk, physio, assessment, shifts
    ):
        from imsclinic.scheduling.services.booking import appointment_reschedule

        visit = book(patient, physio, assessment, patient_user)
        submitted_intake(patient, SEVERE_PHOBIA)
        later = next(
            slot.start
            for slot in available_slots(
                service=assessment,
                start_date=timezone.localdate() + dt.timedelta(days=7),
                days=7,
                practitioner=physio.practitioner,
            )
            if slot.start > visit.start
        )
        with pytest.raises(OnlineImsBookingStopped):
            appointment_reschedule(appointment=visit, start=later, actor=patient_user)
        visit.refresh_from_db()
        assert visit.status == "booked"
        moved = appointment_reschedule(appointment=visit, start=later, actor=front_desk)
        assert moved.start == later

    def test_a_relative_flag_lets_the_booking_through_marked_for_review(
        self, clinic, patient, patient_user, physio, assessment, shifts
    ):
        submitted_intake(patient, ON_ANTICOAGULANTS)
        visit = book(patient, physio, assessment, patient_user)
        assert visits_needing_review([visit]) == {visit.pk}

    def test_the_mark_goes_once_a_practitioner_decides(
        self, clinic, patient, patient_user, physio, assessment, shifts
    ):
        intake = submitted_intake(patient, ON_ANTICOAGULANTS)
        visit = book(patient, physio, assessment, patient_user)
        clearance(patient, intake, by=physio, decision=Decision.CLEARED_WITH_PRECAUTIONS)
        assert visits_needing_review([visit]) == set()

    def test_no_flags_no_mark(self, clinic, patient, patient_user, physio, assessment, shifts):
        submitted_intake(patient)
        assert visits_needing_review([book(patient, physio, assessment, patient_user)]) == set()

    def test_a_clearance_with_precautions_reopens_online_booking(self, patient, physio):
        intake = submitted_intake(
            patient, {"lymphoedema": "yes", "lymphoedema_limbs": ["left_arm"]}
        )
        assert online_ims_refusal(patient) is not None
        clearance(patient, intake, by=physio, decision=Decision.CLEARED_WITH_PRECAUTIONS)
        assert online_ims_refusal(patient) is None

    def test_a_not_suitable_decision_stops_online_ims_booking_too(self, patient, physio):
        intake = submitted_intake(patient, ON_ANTICOAGULANTS)
        assert online_ims_refusal(patient) is None
        clearance(patient, intake, by=physio, decision=Decision.NOT_SUITABLE)
        assert online_ims_refusal(patient) is not None


class TestPortal:
    def test_the_booking_page_says_why_and_whom_to_call_before_any_time_is_picked(
        self, clinic, patient, patient_user, physio, assessment, massage, shifts
    ):
        submitted_intake(patient, SEVERE_PHOBIA)
        response = signed_in(patient_user).get(reverse("portal_book"))
        page = response.content.decode()
        assert "Please call us before booking IMS" in page
        assert f"tel:{PHONE}" in page
        assert f'value="{assessment.slug}"' not in page
        assert f'value="{massage.slug}"' in page

    def test_asking_for_an_ims_service_by_address_offers_no_times(
        self, clinic, patient, patient_user, physio, assessment, shifts
    ):
        submitted_intake(patient, SEVERE_PHOBIA)
        response = signed_in(patient_user).get(
            f"{reverse('portal_book')}?service={assessment.slug}"
        )
        assert "step-who" not in response.content.decode()
        assert not response.context.get("day_slots")

    def test_a_posted_ims_booking_is_refused_kindly_and_nothing_is_booked(
        self, clinic, patient, patient_user, physio, assessment, shifts
    ):
        submitted_intake(patient, SEVERE_PHOBIA)
        start = first_free(assessment, physio)
        response = signed_in(patient_user).post(
            reverse("portal_book_confirm"),
            {
                "service": assessment.slug,
                "practitioner": physio.practitioner.pk,
                "location": physio.practitioner.locations.get().pk,
                "start": start.isoformat(),
            },
        )
        assert response.status_code == 403
        assert PHONE in response.content.decode()
        assert not Appointment.objects.exists()

    def test_a_patient_without_flags_sees_ims_as_usual(
        self, clinic, patient, patient_user, physio, assessment, shifts
    ):
        submitted_intake(patient, ON_ANTICOAGULANTS)
        page = signed_in(patient_user).get(reverse("portal_book")).content.decode()
        assert "Please call us before booking IMS" not in page
        assert f'value="{assessment.slug}"' in page

    def test_staff_booking_pages_still_offer_ims(
        self, clinic, patient, front_desk, physio, assessment, shifts
    ):
        submitted_intake(patient, SEVERE_PHOBIA)
        page = signed_in(front_desk).get(reverse("staff_book", args=[patient.pk]))
        assert f'value="{assessment.slug}"' in page.content.decode()


class TestVisitList:
    def test_a_flagged_patient_is_told_in_plain_words_about_the_review(
        self, clinic, patient, patient_user, physio, assessment, shifts
    ):
        submitted_intake(patient, ON_ANTICOAGULANTS)
        book(patient, physio, assessment, patient_user)
        page = signed_in(patient_user).get(reverse("portal_home")).content.decode()
        assert (
            "A physiotherapist will review your health answers with you before any needling."
            in page
        )

    def test_answers_that_will_be_too_old_by_the_visit_must_be_confirmed(
        self, clinic, patient, patient_user, physio, assessment, shifts
    ):
        submitted_intake(patient, at=timezone.now() - dt.timedelta(days=180))
        book(patient, physio, assessment, patient_user)
        page = signed_in(patient_user).get(reverse("portal_home")).content.decode()
        assert "Please check and confirm them before you come." in page
        assert f'href="{reverse("intake_start")}"' in page

    def test_no_answers_yet_asks_for_them_with_a_link(
        self, clinic, patient, patient_user, physio, assessment, shifts
    ):
        book(patient, physio, assessment, patient_user)
        page = signed_in(patient_user).get(reverse("portal_home")).content.decode()
        assert "Please answer the health questions before this visit." in page
        assert reverse("intake_start") in page

    def test_a_visit_without_needling_carries_no_note(
        self, clinic, patient, patient_user, physio, massage, shifts
    ):
        book(patient, physio, massage, patient_user)
        page = signed_in(patient_user).get(reverse("portal_home")).content.decode()
        assert "health questions before this visit" not in page
