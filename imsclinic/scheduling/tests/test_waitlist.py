"""The waitlist: who may join, which freed times reach whom, and the first claim winning."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from typing import Any

import pytest
from django.core import mail, signing
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django_tasks_db.models import DBTaskResult

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Service
from imsclinic.core.models import AuditEvent
from imsclinic.core.roles import Role
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from imsclinic.scheduling.services import waitlist
from imsclinic.scheduling.services.booking import appointment_book, appointment_cancel
from imsclinic.scheduling.services.waitlist import (
    ClaimLinkExpired,
    ClaimLinkInvalid,
    OfferClosed,
    OfferGone,
    WaitlistError,
    claim_token,
    offer_for_token,
    waitlist_claim,
    waitlist_expire,
    waitlist_join,
    waitlist_offer_freed_time,
    waitlist_withdraw,
)
from imsclinic.scheduling.tasks import offer_freed_time
from tests.factories.people import make_user
from tests.factories.scheduling import MONDAY, NOW, at

WEEK = dt.timedelta(days=7)
Offered = WaitlistOffer.Outcome


def join(patient: Patient, actor: User | None, service: Service, **overrides: Any) -> WaitlistEntry:
    values: dict[str, Any] = {"earliest": MONDAY, "latest": MONDAY + WEEK, "now": NOW}
    values.update(overrides)
    return waitlist_join(patient=patient, service=service, actor=actor, **values)


def book(patient: Patient, physio: User, service: Service, start: dt.datetime) -> Appointment:
    return appointment_book(
        patient=patient,
        practitioner=physio.practitioner,
        service=service,
        location=physio.practitioner.locations.get(),
        start=start,
        actor=patient.user,
        now=NOW,
    )


def free(physio: User, start: dt.datetime) -> list[WaitlistOffer]:
    """Offer a time of this physio's to the waitlist, as the task does after a cancellation."""
    return waitlist_offer_freed_time(
        practitioner=physio.practitioner,
        location=physio.practitioner.locations.get(),
        start=start,
        now=NOW,
    )


def cancelled_visit(booker: Patient, physio: User, service: Service, start: dt.datetime) -> None:
    visit = book(booker, physio, service, start)
    appointment_cancel(appointment=visit, actor=booker.user, now=NOW)


@pytest.fixture
def third_patient(db: None) -> Patient:
    user = make_user("third@patients.example", Role.PATIENT, first="Thea", last="Third")
    return Patient.objects.create(
        user=user, given_name="Thea", family_name="Third", date_of_birth=dt.date(1991, 5, 5)
    )


@pytest.fixture
def elsewhere(location: Location) -> Location:
    return Location.objects.create(
        clinic=location.clinic,
        name="Downtown",
        slug="downtown",
        address_line1="1 Centre St",
        city="Vancouver",
        region="BC",
        postal_code="V6B 1A1",
        time_zone="America/Vancouver",
    )


@pytest.mark.django_db
class TestJoining:
    def test_a_patient_joins_the_waitlist_for_themselves_and_it_is_audited(
        self, patient, patient_user, assessment
    ):
        entry = join(patient, patient_user, assessment)
        assert (entry.status, entry.earliest, entry.latest) == (
            WaitlistStatus.WAITING,
            MONDAY,
            MONDAY + WEEK,
        )
        assert entry.created_by == patient_user
        event = AuditEvent.objects.get(object_type="waitlist_entry")
        assert (event.action, event.patient_id, event.actor) == ("create", patient.pk, patient_user)

    def test_a_patient_cannot_put_someone_else_on_the_waitlist(
        self, patient, other_patient_user, assessment
    ):
        with pytest.raises(PermissionDenied):
            join(patient, other_patient_user, assessment)
        assert not WaitlistEntry.objects.exists()

    def test_the_front_desk_puts_any_patient_on_the_waitlist(
        self, patient, other_patient, front_desk, physio, assessment
    ):
        entry = join(other_patient, front_desk, assessment, practitioner=physio.practitioner)
        assert entry.patient == other_patient
        assert entry.created_by == front_desk

    def test_a_physio_cannot_add_a_patient_outside_their_care_team(
        self, other_patient, other_physio, assessment
    ):
        with pytest.raises(PermissionDenied):
            join(other_patient, other_physio, assessment)

    def test_it_refuses_a_first_day_in_the_past(self, patient, patient_user, assessment):
        yesterday = dt.date(2031, 2, 23)
        with pytest.raises(WaitlistError) as refused:
            join(patient, patient_user, assessment, earliest=yesterday)
        assert "earliest" in refused.value.errors
        assert not WaitlistEntry.objects.exists()

    def test_it_refuses_a_last_day_before_the_first(self, patient, patient_user, assessment):
        with pytest.raises(WaitlistError) as refused:
            join(patient, patient_user, assessment, latest=MONDAY - dt.timedelta(days=1))
        assert "latest" in refused.value.errors

    def test_it_refuses_a_range_longer_than_the_booking_horizon(
        self, patient, patient_user, assessment
    ):
        with pytest.raises(WaitlistError) as refused:
            join(patient, patient_user, assessment, latest=MONDAY + dt.timedelta(days=91))
        assert "90 days" in refused.value.errors["latest"]
        join(patient, patient_user, assessment, latest=MONDAY + dt.timedelta(days=90))

    def test_a_new_patient_cannot_wait_for_a_follow_up(
        self, patient, patient_user, assessment, ims_service
    ):
        with pytest.raises(WaitlistError) as refused:
            join(patient, patient_user, ims_service)
        assert "initial assessment" in refused.value.errors["service"]

    def test_a_patient_cannot_wait_for_a_service_that_is_only_booked_by_phone(
        self, patient, patient_user, assessment
    ):
        assessment.bookable_online = False
        assessment.save()
        with pytest.raises(WaitlistError) as refused:
            join(patient, patient_user, assessment)
        assert "call the clinic" in refused.value.errors["service"]

    def test_it_refuses_a_practitioner_who_does_not_work_at_the_chosen_location(
        self, patient, patient_user, physio, assessment, elsewhere
    ):
        with pytest.raises(WaitlistError) as refused:
            join(
                patient,
                patient_user,
                assessment,
                practitioner=physio.practitioner,
                location=elsewhere,
            )
        assert "practitioner" in refused.value.errors

    def test_it_refuses_the_same_wish_twice_and_says_so(self, patient, patient_user, assessment):
        join(patient, patient_user, assessment)
        with pytest.raises(WaitlistError) as refused:
            join(patient, patient_user, assessment, earliest=MONDAY + dt.timedelta(days=3))
        assert "already on the waitlist" in refused.value.messages[0]
        assert WaitlistEntry.objects.count() == 1

    def test_it_refuses_a_fourth_waiting_entry_for_one_service(
        self, patient, patient_user, physio, other_physio, assessment
    ):
        join(patient, patient_user, assessment)
        join(patient, patient_user, assessment, practitioner=physio.practitioner)
        join(patient, patient_user, assessment, practitioner=other_physio.practitioner)
        with pytest.raises(WaitlistError) as refused:
            join(
                patient,
                patient_user,
                assessment,
                earliest=MONDAY + 2 * WEEK,
                latest=MONDAY + 3 * WEEK,
            )
        assert "at most 3" in refused.value.messages[0]

    def test_a_withdrawn_entry_makes_room_for_a_new_one(self, patient, patient_user, assessment):
        entry = join(patient, patient_user, assessment)
        waitlist_withdraw(entry=entry, actor=patient_user, now=NOW)
        again = join(patient, patient_user, assessment)
        assert again.pk != entry.pk


@pytest.mark.django_db
class TestWithdrawing:
    def test_a_patient_withdraws_their_entry_and_it_is_audited(
        self, patient, patient_user, assessment
    ):
        entry = waitlist_withdraw(entry=join(patient, patient_user, assessment), actor=patient_user)
        assert entry.status == WaitlistStatus.WITHDRAWN
        assert AuditEvent.objects.filter(object_type="waitlist_entry", action="update").exists()

    def test_a_patient_cannot_withdraw_someone_elses_entry(
        self, patient, patient_user, other_patient_user, assessment
    ):
        entry = join(patient, patient_user, assessment)
        with pytest.raises(PermissionDenied):
            waitlist_withdraw(entry=entry, actor=other_patient_user)
        entry.refresh_from_db()
        assert entry.status == WaitlistStatus.WAITING

    def test_an_entry_cannot_be_withdrawn_twice(self, patient, patient_user, assessment):
        entry = join(patient, patient_user, assessment)
        waitlist_withdraw(entry=entry, actor=patient_user)
        with pytest.raises(WaitlistError):
            waitlist_withdraw(entry=entry, actor=patient_user)


@pytest.mark.django_db
class TestOffering:
    def test_a_freed_time_is_offered_and_emailed_with_a_claim_link(
        self,
        patient,
        patient_user,
        other_patient,
        physio,
        assessment,
        shifts,
        django_capture_on_commit_callbacks,
    ):
        entry = join(patient, patient_user, assessment)
        cancelled_visit(other_patient, physio, assessment, at(9))
        with django_capture_on_commit_callbacks(execute=True):
            offers = free(physio, at(9))
        assert [(o.entry, o.start, o.outcome) for o in offers] == [(entry, at(9), Offered.OPEN)]
        [message] = mail.outbox
        assert message.to == ["pat@patients.example"]
        assert "IMS initial assessment" in message.subject
        assert "9:00 AM PST" in message.body
        assert "Tara Treating" in message.body
        link = re.search(r"/portal/waitlist/claim/([^/\s]+)/", str(message.body))
        assert link is not None
        token = link.group(1)
        assert offer_for_token(token) == offers[0]
        assert isinstance(message, EmailMultiAlternatives)
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        assert token in str(html)

    def test_every_matching_patient_is_offered_the_same_time(
        self,
        patient,
        patient_user,
        other_patient,
        third_patient,
        physio,
        assessment,
        shifts,
        django_capture_on_commit_callbacks,
    ):
        join(patient, patient_user, assessment)
        join(third_patient, third_patient.user, assessment, practitioner=physio.practitioner)
        cancelled_visit(other_patient, physio, assessment, at(9))
        with django_capture_on_commit_callbacks(execute=True):
            offers = free(physio, at(9))
        assert {o.entry.patient for o in offers} == {patient, third_patient}
        assert sorted(m.to[0] for m in mail.outbox) == [
            "pat@patients.example",
            "third@patients.example",
        ]

    def test_an_entry_for_another_practitioner_gets_nothing(
        self, patient, patient_user, other_patient, physio, other_physio, assessment, shifts
    ):
        join(patient, patient_user, assessment, practitioner=other_physio.practitioner)
        cancelled_visit(other_patient, physio, assessment, at(9))
        assert free(physio, at(9)) == []

    def test_an_entry_for_another_location_gets_nothing(
        self, patient, patient_user, other_patient, physio, assessment, shifts, elsewhere
    ):
        join(patient, patient_user, assessment, location=elsewhere)
        cancelled_visit(other_patient, physio, assessment, at(9))
        assert free(physio, at(9)) == []

    def test_an_entry_for_this_practitioner_and_location_matches(
        self, patient, patient_user, other_patient, physio, location, assessment, shifts
    ):
        join(patient, patient_user, assessment, practitioner=physio.practitioner, location=location)
        cancelled_visit(other_patient, physio, assessment, at(9))
        assert len(free(physio, at(9))) == 1

    def test_an_entry_whose_dates_miss_the_day_gets_nothing(
        self, patient, patient_user, other_patient, physio, assessment, shifts
    ):
        join(patient, patient_user, assessment, earliest=MONDAY + dt.timedelta(days=1))
        cancelled_visit(other_patient, physio, assessment, at(9))
        assert free(physio, at(9)) == []

    def test_the_last_day_of_an_entry_still_counts(
        self, patient, patient_user, other_patient, physio, assessment, shifts
    ):
        join(patient, patient_user, assessment, earliest=MONDAY, latest=MONDAY)
        cancelled_visit(other_patient, physio, assessment, at(15))
        assert len(free(physio, at(15))) == 1

    def test_an_entry_for_another_service_gets_nothing(
        self, patient, patient_user, other_patient, physio, assessment, ims_service, shifts
    ):
        other_service = Service.objects.create(
            name="Physiotherapy", slug="physio", duration_minutes=30, price=80
        )
        join(patient, patient_user, other_service)
        cancelled_visit(other_patient, physio, assessment, at(9))
        [offer] = free(physio, at(9))  # physiotherapy fits the freed hour too
        assert offer.entry.service == other_service

    def test_a_follow_up_entry_whose_assessment_was_cancelled_gets_nothing(
        self, patient, patient_user, other_patient, physio, assessment, ims_service, shifts
    ):
        first = book(patient, physio, assessment, at(9, day=dt.date(2031, 2, 26)))
        join(patient, patient_user, ims_service)
        appointment_cancel(appointment=first, actor=patient_user, now=NOW)
        cancelled_visit(other_patient, physio, assessment, at(9))
        assert free(physio, at(9)) == []

    def test_a_withdrawn_entry_gets_nothing(
        self, patient, patient_user, other_patient, physio, assessment, shifts
    ):
        waitlist_withdraw(entry=join(patient, patient_user, assessment), actor=patient_user)
        cancelled_visit(other_patient, physio, assessment, at(9))
        assert free(physio, at(9)) == []

    def test_a_time_that_is_still_booked_is_not_offered(
        self, patient, patient_user, other_patient, physio, assessment, shifts
    ):
        join(patient, patient_user, assessment)
        book(other_patient, physio, assessment, at(9))
        assert free(physio, at(9)) == []

    def test_a_freed_half_hour_reaches_a_follow_up_but_not_an_assessment(
        self,
        patient,
        patient_user,
        other_patient,
        third_patient,
        physio,
        assessment,
        ims_service,
        shifts,
    ):
        # The patient has had their assessment, so a follow-up is theirs to book.
        book(patient, physio, assessment, at(9, day=dt.date(2031, 2, 26)))
        follow_up = join(patient, patient_user, ims_service)
        join(third_patient, third_patient.user, assessment)
        book(other_patient, physio, assessment, at(9, day=dt.date(2031, 2, 27)))
        cancelled_visit(other_patient, physio, ims_service, at(9))
        book(other_patient, physio, ims_service, at(9, 30))  # leaves 09:00-09:30 only
        assert [o.entry for o in free(physio, at(9))] == [follow_up]

    def test_a_freed_hour_fits_a_shorter_service(
        self, patient, patient_user, other_patient, physio, assessment, ims_service, shifts
    ):
        book(patient, physio, assessment, at(9, day=dt.date(2031, 2, 26)))
        follow_up = join(patient, patient_user, ims_service)
        cancelled_visit(other_patient, physio, assessment, at(10))
        assert [o.entry for o in free(physio, at(10))] == [follow_up]

    def test_a_time_inside_the_minimum_notice_is_not_offered(
        self, patient, patient_user, physio, assessment, shifts
    ):
        join(patient, patient_user, assessment, earliest=dt.date(2031, 2, 24))
        assert free(physio, at(9, day=dt.date(2031, 2, 24))) == []

    def test_running_twice_makes_one_offer_and_one_email(
        self,
        patient,
        patient_user,
        other_patient,
        physio,
        assessment,
        shifts,
        django_capture_on_commit_callbacks,
    ):
        join(patient, patient_user, assessment)
        cancelled_visit(other_patient, physio, assessment, at(9))
        with django_capture_on_commit_callbacks(execute=True):
            free(physio, at(9))
            assert free(physio, at(9)) == []
        assert WaitlistOffer.objects.count() == 1
        assert len(mail.outbox) == 1

    def test_one_patient_with_two_matching_entries_gets_one_offer(
        self, patient, patient_user, other_patient, physio, assessment, shifts
    ):
        join(patient, patient_user, assessment)
        join(patient, patient_user, assessment, practitioner=physio.practitioner)
        cancelled_visit(other_patient, physio, assessment, at(9))
        assert len(free(physio, at(9))) == 1

    def test_the_task_takes_plain_arguments_and_offers_the_time(
        self,
        patient,
        patient_user,
        other_patient,
        physio,
        location,
        assessment,
        shifts,
        monkeypatch,
    ):
        join(patient, patient_user, assessment)
        cancelled_visit(other_patient, physio, assessment, at(9))
        # The task reads the clock itself; hold it at the test's "now" (Django's, not ours).
        monkeypatch.setattr(waitlist.timezone, "now", lambda: NOW)
        made = offer_freed_time.call(physio.practitioner.pk, location.pk, at(9).isoformat())
        assert made == 1
        assert WaitlistOffer.objects.get().start == at(9)

    def test_a_cancelled_visit_queues_the_task_that_offers_its_time(
        self,
        patient,
        patient_user,
        other_patient,
        physio,
        location,
        assessment,
        shifts,
        monkeypatch,
        django_capture_on_commit_callbacks,
    ):
        entry = join(patient, patient_user, assessment)
        visit = book(other_patient, physio, assessment, at(9))
        with django_capture_on_commit_callbacks(execute=True):
            appointment_cancel(appointment=visit, actor=other_patient.user, now=NOW)
        (queued,) = DBTaskResult.objects.filter(
            task_path="imsclinic.scheduling.tasks.offer_freed_time"
        )
        result = queued.task_result
        assert result.args == [physio.practitioner.pk, location.pk, "2031-03-03T17:00:00+00:00"]
        monkeypatch.setattr(waitlist.timezone, "now", lambda: NOW)
        with django_capture_on_commit_callbacks(execute=True):
            assert queued.task.call(*result.args, **result.kwargs) == 1
        assert WaitlistOffer.objects.get().entry == entry
        assert [m.to for m in mail.outbox if "opened up" in m.subject] == [["pat@patients.example"]]

    def test_entries_whose_last_day_has_passed_expire(self, patient, patient_user, assessment):
        entry = join(patient, patient_user, assessment, earliest=MONDAY, latest=MONDAY)
        assert waitlist_expire(now=NOW + WEEK) == 0
        assert waitlist_expire(now=dt.datetime(2031, 3, 5, 12, tzinfo=dt.UTC)) == 1
        entry.refresh_from_db()
        assert entry.status == WaitlistStatus.EXPIRED


@pytest.mark.django_db
class TestClaiming:
    @pytest.fixture
    def offers(
        self, patient, patient_user, other_patient, third_patient, physio, assessment, shifts
    ):
        join(patient, patient_user, assessment)
        join(third_patient, third_patient.user, assessment)
        cancelled_visit(other_patient, physio, assessment, at(9))
        made = free(physio, at(9))
        return {offer.entry.patient: offer for offer in made}

    def test_a_claim_books_the_time_for_the_patient(self, offers, patient, patient_user):
        offer = offers[patient]
        visit = waitlist_claim(offer=offer, actor=patient_user, now=NOW)
        assert (visit.patient, visit.start, visit.status) == (
            patient,
            at(9),
            AppointmentStatus.BOOKED,
        )
        offer.refresh_from_db()
        assert offer.outcome == Offered.BOOKED
        assert offer.entry.status == WaitlistStatus.BOOKED
        assert offer.entry.appointment == visit

    def test_a_claim_closes_the_other_offers_of_that_time(self, offers, patient, third_patient):
        waitlist_claim(offer=offers[patient], actor=patient.user, now=NOW)
        rival = offers[third_patient]
        rival.refresh_from_db()
        assert rival.outcome == Offered.GONE
        assert rival.entry.status == WaitlistStatus.WAITING

    def test_the_second_to_claim_is_told_it_went_and_keeps_waiting(
        self, offers, patient, third_patient
    ):
        rival = offers[third_patient]
        waitlist_claim(offer=offers[patient], actor=patient.user, now=NOW)
        # The rival's offer was closed already; even forced open, booking fails as "gone".
        WaitlistOffer.objects.filter(pk=rival.pk).update(outcome=Offered.OPEN)
        with pytest.raises(OfferGone) as gone:
            waitlist_claim(offer=rival, actor=third_patient.user, now=NOW)
        assert "someone else booked that time first" in str(gone.value)
        rival.refresh_from_db()
        assert rival.outcome == Offered.GONE
        assert rival.entry.status == WaitlistStatus.WAITING
        assert Appointment.objects.filter(start=at(9), status__in=ACTIVE_STATUSES).count() == 1

    def test_a_closed_offer_cannot_be_claimed(self, offers, patient, third_patient):
        waitlist_claim(offer=offers[patient], actor=patient.user, now=NOW)
        with pytest.raises(OfferClosed):
            waitlist_claim(offer=offers[third_patient], actor=third_patient.user, now=NOW)
        with pytest.raises(OfferClosed):
            waitlist_claim(offer=offers[patient], actor=patient.user, now=NOW)
        assert Appointment.objects.filter(start=at(9), status__in=ACTIVE_STATUSES).count() == 1

    def test_the_offer_of_a_withdrawn_entry_cannot_be_claimed(self, offers, patient):
        offer = offers[patient]
        waitlist_withdraw(entry=offer.entry, actor=patient.user, now=NOW)
        with pytest.raises(OfferClosed):
            waitlist_claim(offer=offer, actor=patient.user, now=NOW)
        offer.refresh_from_db()
        assert offer.outcome == Offered.EXPIRED

    def test_an_offer_cannot_be_claimed_once_its_time_has_passed(self, offers, patient):
        with pytest.raises(OfferClosed):
            waitlist_claim(offer=offers[patient], actor=patient.user, now=at(9, 1))
        assert not Appointment.objects.filter(start=at(9), status__in=ACTIVE_STATUSES).exists()

    def test_only_the_offers_patient_may_claim_it(self, offers, patient, third_patient):
        with pytest.raises(PermissionDenied):
            waitlist_claim(offer=offers[patient], actor=third_patient.user, now=NOW)

    def test_the_claim_is_audited(self, offers, patient):
        waitlist_claim(offer=offers[patient], actor=patient.user, now=NOW)
        event = AuditEvent.objects.get(object_type="waitlist_offer", action="update")
        assert (event.patient_id, event.actor, event.outcome) == (
            patient.pk,
            patient.user,
            "allowed",
        )

    def test_a_tampered_token_is_not_valid(self, offers, patient):
        token = claim_token(offers[patient])
        with pytest.raises(ClaimLinkInvalid):
            offer_for_token(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
        forged = signing.dumps({"offer": offers[patient].pk}, salt="some other purpose")
        with pytest.raises(ClaimLinkInvalid):
            offer_for_token(forged)

    def test_an_old_token_has_expired(self, offers, patient, monkeypatch):
        # Sign the link as if two days ago (Django's clock, read through the time module).
        real_time = time.time
        monkeypatch.setattr(time, "time", lambda: real_time() - 49 * 3600)
        token = claim_token(offers[patient])
        monkeypatch.setattr(time, "time", real_time)
        with pytest.raises(ClaimLinkExpired):
            offer_for_token(token)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_patients_claiming_one_freed_time_at_once_get_one_appointment(
    patient, other_patient, physio, assessment, shifts
):
    third = make_user("third@patients.example", Role.PATIENT)
    third_patient = Patient.objects.create(
        user=third, given_name="Thea", family_name="Third", date_of_birth=dt.date(1991, 5, 5)
    )
    join(patient, patient.user, assessment)
    join(third_patient, third, assessment)
    cancelled_visit(other_patient, physio, assessment, at(9))
    offers = free(physio, at(9))
    assert len(offers) == 2
    barrier = threading.Barrier(len(offers))
    won: list[int] = []
    lost: list[int] = []
    failed: list[BaseException] = []
    lock = threading.Lock()

    def claim(offer: WaitlistOffer) -> None:
        try:
            barrier.wait(timeout=30)
            visit = waitlist_claim(offer=offer, actor=offer.entry.patient.user, now=NOW)
            with lock:
                won.append(visit.pk)
        except (OfferGone, OfferClosed):
            with lock:
                lost.append(offer.pk)
        except BaseException as error:
            with lock:
                failed.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(offer,)) for offer in offers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert (len(won), len(lost)) == (1, 1)
    assert Appointment.objects.filter(start=at(9), status__in=ACTIVE_STATUSES).count() == 1
    outcomes = sorted(WaitlistOffer.objects.values_list("outcome", flat=True))
    assert outcomes == [Offered.BOOKED, Offered.GONE]


@pytest.mark.django_db
class TestRequestsThatCanNeverBeOffered:
    """A wish no freed time could ever satisfy is refused when made, and never offered."""

    def test_it_refuses_an_ims_service_with_a_practitioner_whose_certification_has_lapsed(
        self, patient, patient_user, other_physio, assessment
    ):
        lapsed = other_physio.practitioner
        lapsed.ims_certification_expires_on = MONDAY - dt.timedelta(days=1)
        lapsed.save(update_fields=["ims_certification_expires_on"])
        with pytest.raises(WaitlistError) as refused:
            join(patient, patient_user, assessment, practitioner=lapsed)
        message = refused.value.errors["practitioner"]
        assert message == (
            "Oscar Other holds no current licence to needle for those dates, so cannot give "
            "IMS initial assessment. Choose someone else, or anyone."
        )
        assert not WaitlistEntry.objects.exists()

    def test_it_refuses_an_ims_service_with_a_practitioner_never_certified(
        self, patient, patient_user, other_physio, assessment
    ):
        never = other_physio.practitioner
        never.ims_certified_on = None
        never.ims_certification_issuer = ""
        never.save(update_fields=["ims_certified_on", "ims_certification_issuer"])
        with pytest.raises(WaitlistError) as refused:
            join(patient, patient_user, assessment, practitioner=never)
        assert "no current licence to needle" in refused.value.errors["practitioner"]

    def test_a_certification_lapsing_inside_the_dates_still_leaves_days_to_offer(
        self, patient, patient_user, other_physio, assessment
    ):
        lapsing = other_physio.practitioner
        lapsing.ims_certification_expires_on = MONDAY + dt.timedelta(days=3)
        lapsing.save(update_fields=["ims_certification_expires_on"])
        entry = join(patient, patient_user, assessment, practitioner=lapsing)
        assert entry.practitioner == lapsing

    def test_an_uncertified_practitioner_may_be_waited_for_a_service_without_needling(
        self, patient, patient_user, other_physio
    ):
        other_physio.practitioner.ims_certified_on = None
        other_physio.practitioner.save(update_fields=["ims_certified_on"])
        physiotherapy = Service.objects.create(
            name="Physiotherapy assessment",
            slug="physiotherapy-assessment",
            duration_minutes=45,
            price="120.00",
        )
        entry = join(patient, patient_user, physiotherapy, practitioner=other_physio.practitioner)
        assert entry.service == physiotherapy

    def test_it_refuses_a_practitioner_who_works_at_no_open_location(
        self, patient, patient_user, other_physio, assessment, location
    ):
        location.is_active = False
        location.save(update_fields=["is_active"])
        with pytest.raises(WaitlistError) as refused:
            join(patient, patient_user, assessment, practitioner=other_physio.practitioner)
        assert (
            "does not see patients at any open location" in (refused.value.errors["practitioner"])
        )

    @pytest.mark.parametrize("status", [AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED])
    def test_it_refuses_a_second_initial_assessment(
        self, patient, patient_user, physio, assessment, shifts, status
    ):
        first = book(patient, physio, assessment, at(9, day=dt.date(2031, 2, 26)))
        Appointment.objects.filter(pk=first.pk).update(status=status)
        with pytest.raises(WaitlistError) as refused:
            join(patient, patient_user, assessment)
        message = refused.value.errors["service"]
        assert message == (
            "You already have an IMS visit booked or behind you, so IMS initial assessment is "
            "not for you again. Choose a follow-up instead."
        )
        assert not WaitlistEntry.objects.exists()

    def test_a_cancelled_initial_assessment_leaves_the_waitlist_open(
        self, patient, patient_user, physio, assessment, shifts
    ):
        first = book(patient, physio, assessment, at(9, day=dt.date(2031, 2, 26)))
        appointment_cancel(appointment=first, actor=patient_user, now=NOW)
        assert join(patient, patient_user, assessment).status == WaitlistStatus.WAITING

    def test_a_patient_who_booked_their_assessment_since_joining_is_offered_no_second_one(
        self, patient, patient_user, other_patient, physio, assessment, shifts
    ):
        join(patient, patient_user, assessment)
        book(patient, physio, assessment, at(9, day=dt.date(2031, 2, 26)))
        cancelled_visit(other_patient, physio, assessment, at(9))
        assert free(physio, at(9)) == []
        assert not WaitlistOffer.objects.exists()

    def test_an_offer_made_before_the_patient_booked_their_assessment_cannot_be_claimed(
        self, patient, patient_user, other_patient, physio, assessment, shifts
    ):
        join(patient, patient_user, assessment)
        cancelled_visit(other_patient, physio, assessment, at(9))
        [offer] = free(physio, at(9))
        booked = book(patient, physio, assessment, at(9, day=dt.date(2031, 2, 26)))
        with pytest.raises(waitlist.InitialAssessmentAlreadyBooked):
            waitlist_claim(offer=offer, actor=patient_user, now=NOW)
        offer.refresh_from_db()
        assert offer.outcome == Offered.OPEN
        assert list(Appointment.objects.filter(patient=patient, status__in=ACTIVE_STATUSES)) == [
            booked
        ]
