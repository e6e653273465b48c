"""The patient's waitlist pages and the emailed claim link, as a browser without JS meets them."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.billing.models import FeeEvent
from imsclinic.clinic.models import Location, Service
from imsclinic.core.roles import Role
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from imsclinic.scheduling.services.booking import appointment_book, appointment_cancel
from imsclinic.scheduling.services.waitlist import (
    claim_token,
    waitlist_join,
    waitlist_offer_freed_time,
)
from tests.factories import VANCOUVER
from tests.factories.billing import fee_policy
from tests.factories.clients import signed_in
from tests.factories.people import make_user
from tests.factories.scheduling import weekday_shifts

pytestmark = pytest.mark.django_db

FORTY = "Cancelling less than 24 hours before, or missing the visit, costs $40."


def a_weekday_soon() -> dt.date:
    """Return a weekday a few days from today in Vancouver: past the notice, inside the horizon."""
    day = timezone.now().astimezone(VANCOUVER).date() + dt.timedelta(days=3)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def day() -> dt.date:
    return a_weekday_soon()


@pytest.fixture
def ten(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=VANCOUVER)


@pytest.fixture
def open_shifts(location: Location, physio: User, other_physio: User) -> None:
    weekday_shifts(location, [physio, other_physio], timezone.localdate() - dt.timedelta(days=7))


@pytest.fixture
def third_patient(db: None) -> Patient:
    user = make_user("third@patients.example", Role.PATIENT, first="Thea", last="Third")
    return Patient.objects.create(
        user=user, given_name="Thea", family_name="Third", date_of_birth=dt.date(1991, 5, 5)
    )


@pytest.fixture
def offers(
    patient: Patient,
    third_patient: Patient,
    other_patient: Patient,
    physio: User,
    location: Location,
    assessment: Service,
    open_shifts: None,
    day: dt.date,
    ten: dt.datetime,
) -> dict[Patient, WaitlistOffer]:
    """Two waiting patients offered the 10:00 another patient has just cancelled."""
    for waiting in (patient, third_patient):
        waitlist_join(
            patient=waiting,
            service=assessment,
            earliest=day,
            latest=day + dt.timedelta(days=7),
            actor=waiting.user,
        )
    visit = appointment_book(
        patient=other_patient,
        practitioner=physio.practitioner,
        service=assessment,
        location=location,
        start=ten,
        actor=other_patient.user,
    )
    appointment_cancel(appointment=visit, actor=other_patient.user)
    made = waitlist_offer_freed_time(practitioner=physio.practitioner, location=location, start=ten)
    return {offer.entry.patient: offer for offer in made}


def claim_path(offer: WaitlistOffer) -> str:
    return reverse("waitlist_claim", kwargs={"token": claim_token(offer)})


def visits_at(start: dt.datetime) -> int:
    return Appointment.objects.filter(start=start, status__in=ACTIVE_STATUSES).count()


class TestJoinPage:
    def test_it_offers_a_form_prefilled_from_the_booking_pages(
        self, patient, patient_user, physio, assessment
    ):
        url = reverse("waitlist_join") + f"?service={assessment.slug}"
        url += f"&practitioner={physio.practitioner.pk}"
        response = signed_in(patient_user).get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert f'<option value="{assessment.pk}" selected>' in html
        assert f'<option value="{physio.practitioner.pk}" selected>' in html
        assert 'type="date"' in html
        assert "<label" in html

    def test_joining_puts_the_patient_on_the_waitlist(
        self, patient, patient_user, physio, location, assessment, day
    ):
        response = signed_in(patient_user).post(
            reverse("waitlist_join"),
            {
                "service": assessment.pk,
                "practitioner": physio.practitioner.pk,
                "location": location.pk,
                "earliest": day.isoformat(),
                "latest": (day + dt.timedelta(days=14)).isoformat(),
            },
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("waitlist_list")
        entry = WaitlistEntry.objects.get()
        assert (entry.patient, entry.service, entry.practitioner, entry.location) == (
            patient,
            assessment,
            physio.practitioner,
            location,
        )

    def test_bad_dates_are_explained_beside_the_field_and_kept(
        self, patient, patient_user, assessment, day
    ):
        response = signed_in(patient_user).post(
            reverse("waitlist_join"),
            {
                "service": assessment.pk,
                "earliest": day.isoformat(),
                "latest": (day - dt.timedelta(days=1)).isoformat(),
            },
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "The last day cannot be before the first day." in html
        assert f'value="{day.isoformat()}"' in html
        assert not WaitlistEntry.objects.exists()

    def test_a_duplicate_is_refused_with_a_clear_message(
        self, patient, patient_user, assessment, day
    ):
        data = {
            "service": assessment.pk,
            "earliest": day.isoformat(),
            "latest": (day + dt.timedelta(days=3)).isoformat(),
        }
        client = signed_in(patient_user)
        client.post(reverse("waitlist_join"), data)
        response = client.post(reverse("waitlist_join"), data)
        assert response.status_code == 200
        assert "already on the waitlist" in response.content.decode()
        assert WaitlistEntry.objects.count() == 1

    def test_a_practitioner_without_a_current_ims_certification_is_refused_beside_the_field(
        self, patient, patient_user, other_physio, assessment, day
    ):
        lapsed = other_physio.practitioner
        lapsed.ims_certification_expires_on = day - dt.timedelta(days=1)
        lapsed.save(update_fields=["ims_certification_expires_on"])
        response = signed_in(patient_user).post(
            reverse("waitlist_join"),
            {
                "service": assessment.pk,
                "practitioner": lapsed.pk,
                "earliest": day.isoformat(),
                "latest": (day + dt.timedelta(days=7)).isoformat(),
            },
        )
        assert response.status_code == 200
        html = response.content.decode()
        message = (
            "Oscar Other holds no current licence to needle for those dates, so cannot give "
            "IMS initial assessment. Choose someone else, or anyone."
        )
        field = html[html.index('for="id_practitioner"') :]
        assert message in field[: field.index("</div>")]
        assert not WaitlistEntry.objects.exists()

    def test_a_second_initial_assessment_is_refused_with_a_clear_message(
        self, patient, patient_user, physio, location, assessment, open_shifts, day, ten
    ):
        appointment_book(
            patient=patient,
            practitioner=physio.practitioner,
            service=assessment,
            location=location,
            start=ten,
            actor=patient_user,
        )
        response = signed_in(patient_user).post(
            reverse("waitlist_join"),
            {
                "service": assessment.pk,
                "earliest": day.isoformat(),
                "latest": (day + dt.timedelta(days=7)).isoformat(),
            },
        )
        assert response.status_code == 200
        assert (
            "You already have an IMS visit booked or behind you, so IMS initial assessment is "
            "not for you again. Choose a follow-up instead."
        ) in response.content.decode()
        assert not WaitlistEntry.objects.exists()

    def test_the_portal_home_leads_to_the_waitlist(self, patient, patient_user):
        html = signed_in(patient_user).get(reverse("portal_home")).content.decode()
        assert f'href="{reverse("waitlist_join")}"' in html
        assert f'href="{reverse("waitlist_list")}"' in html

    def test_an_account_without_a_record_is_told_to_call(self, clinic):
        user = make_user("new@patients.example", Role.PATIENT)
        response = signed_in(user).get(reverse("waitlist_join"))
        assert response.status_code == 200
        assert "not linked it to a patient record" in response.content.decode()
        assert "Join the waitlist</button>" not in response.content.decode()

    def test_staff_are_sent_to_their_own_pages(self, front_desk):
        response = signed_in(front_desk).get(reverse("waitlist_join"))
        assert response.status_code == 302
        assert response["Location"] == reverse("patient_list")


class TestListAndWithdraw:
    def test_the_list_shows_only_the_patients_own_entries(
        self, patient, patient_user, other_patient, other_patient_user, assessment, day
    ):
        for who, user in ((patient, patient_user), (other_patient, other_patient_user)):
            waitlist_join(patient=who, service=assessment, earliest=day, latest=day, actor=user)
        response = signed_in(patient_user).get(reverse("waitlist_list"))
        assert response.status_code == 200
        entries = list(response.context["entries"])
        assert [entry.patient for entry in entries] == [patient]
        assert "Leave the waitlist for IMS initial assessment" in response.content.decode()

    def test_the_list_reads_a_fixed_number_of_queries(
        self,
        patient,
        patient_user,
        physio,
        other_physio,
        location,
        assessment,
        day,
        django_assert_max_num_queries,
    ):
        for who in (None, physio, other_physio):
            waitlist_join(
                patient=patient,
                service=assessment,
                practitioner=who.practitioner if who else None,
                location=location,
                earliest=day,
                latest=day,
                actor=patient_user,
            )
        client = signed_in(patient_user)
        with django_assert_max_num_queries(6):
            response = client.get(reverse("waitlist_list"))
        assert len(response.context["entries"]) == 3

    def test_a_patient_leaves_the_waitlist_with_a_post(
        self, patient, patient_user, assessment, day
    ):
        entry = waitlist_join(
            patient=patient, service=assessment, earliest=day, latest=day, actor=patient_user
        )
        client = signed_in(patient_user)
        url = reverse("waitlist_withdraw", kwargs={"entry_id": entry.pk})
        assert client.get(url).status_code == 405
        response = client.post(url)
        assert response.status_code == 302
        entry.refresh_from_db()
        assert entry.status == WaitlistStatus.WITHDRAWN
        page = client.get(reverse("waitlist_list")).content.decode()
        assert "You have left the waitlist" in page
        assert "Withdrawn" in page

    def test_another_patients_entry_is_not_found(
        self, patient, patient_user, other_patient_user, assessment, day
    ):
        entry = waitlist_join(
            patient=patient, service=assessment, earliest=day, latest=day, actor=patient_user
        )
        url = reverse("waitlist_withdraw", kwargs={"entry_id": entry.pk})
        assert signed_in(other_patient_user).post(url).status_code == 404
        entry.refresh_from_db()
        assert entry.status == WaitlistStatus.WAITING


class TestClaimPage:
    def test_the_offer_email_and_the_claim_page_state_the_fee_policy(
        self, request, patient, assessment, django_capture_on_commit_callbacks
    ):
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        fee_policy(assessment, FeeEvent.NO_SHOW, amount="40")
        with django_capture_on_commit_callbacks(execute=True):
            offers = request.getfixturevalue("offers")
        assert len(mail.outbox) == 2
        for message in mail.outbox:
            assert isinstance(message, mail.EmailMultiAlternatives)
            assert FORTY in message.body
            assert FORTY in str(message.alternatives[0][0])
        page = Client().get(claim_path(offers[patient])).content.decode()
        assert FORTY in page

    def test_opening_the_link_shows_the_time_and_books_nothing(self, offers, patient, ten):
        response = Client().get(claim_path(offers[patient]))
        assert response.status_code == 200
        html = response.content.decode()
        assert f'10:00 AM <abbr title="America/Vancouver">{ten.strftime("%Z")}</abbr>' in html
        assert "IMS initial assessment" in html
        assert "Tara Treating" in html
        assert "Book this time" in html
        assert 'method="post"' in html
        # Nothing about the patient is on a page anyone holding the link can open.
        assert "Pat" not in html.replace("Patients", "")
        assert visits_at(ten) == 0
        assert (
            response["Cache-Control"].startswith("max-age=0")
            or "no-store" in response["Cache-Control"]
        )

    def test_a_patient_who_booked_their_assessment_meanwhile_is_told_and_nothing_is_booked(
        self, offers, patient, physio, location, assessment, ten
    ):
        later = ten.replace(hour=14)  # the same weekday, clear of the offered hour
        appointment_book(
            patient=patient,
            practitioner=physio.practitioner,
            service=assessment,
            location=location,
            start=later,
            actor=patient.user,
        )
        response = Client().post(claim_path(offers[patient]))
        assert response.status_code == 200
        assert "IMS initial assessment is not for you again" in response.content.decode()
        assert visits_at(ten) == 0

    def test_the_button_books_the_time_without_signing_in(self, offers, patient, ten):
        client = Client()
        path = claim_path(offers[patient])
        response = client.post(path)
        assert response.status_code == 302
        assert response["Location"] == path
        assert "This time is booked for you" in client.get(path).content.decode()
        visit = Appointment.objects.get(start=ten, status__in=ACTIVE_STATUSES)
        assert visit.patient == patient
        assert visit.created_by == patient.user

    def test_the_second_to_click_is_told_the_time_went(self, offers, patient, third_patient, ten):
        Client().post(claim_path(offers[patient]))
        client = Client()
        path = claim_path(offers[third_patient])
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 200
        assert "Sorry, someone else booked that time first. You are still on the waitlist." in html
        assert "Book this time" not in html
        client.post(path)
        assert visits_at(ten) == 1
        entry = offers[third_patient].entry
        entry.refresh_from_db()
        assert entry.status == WaitlistStatus.WAITING

    def test_a_used_link_books_nothing_more(self, offers, patient, ten):
        client = Client()
        path = claim_path(offers[patient])
        client.post(path)
        response = client.post(path)
        assert response.status_code == 302
        assert visits_at(ten) == 1

    def test_a_tampered_link_is_not_valid(self, offers, patient):
        token = claim_token(offers[patient])
        tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        response = Client().get(reverse("waitlist_claim", kwargs={"token": tampered}))
        assert response.status_code == 404
        assert "This link is not valid." in response.content.decode()
        assert (
            Client().post(reverse("waitlist_claim", kwargs={"token": tampered})).status_code == 404
        )

    def test_an_expired_link_says_so(self, offers, patient, monkeypatch, ten):
        # Sign the link as if two days ago (Django's clock, read through the time module).
        real_time = time.time
        monkeypatch.setattr(time, "time", lambda: real_time() - 49 * 3600)
        token = claim_token(offers[patient])
        monkeypatch.setattr(time, "time", real_time)
        path = reverse("waitlist_claim", kwargs={"token": token})
        response = Client().get(path)
        assert response.status_code == 200
        assert "This link has expired." in response.content.decode()
        Client().post(path)
        assert visits_at(ten) == 0

    def test_a_withdrawn_patients_link_has_expired(self, offers, patient, ten):
        entry = offers[patient].entry
        signed_in(patient.user).post(reverse("waitlist_withdraw", kwargs={"entry_id": entry.pk}))
        client = Client()
        path = claim_path(offers[patient])
        assert "This offer has expired" in client.get(path).content.decode()
        client.post(path)
        assert visits_at(ten) == 0
