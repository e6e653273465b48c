"""Check-out from the calendar, and the balances the calendar shows the front desk."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from imsclinic.billing.models import Invoice, Payment, Product
from imsclinic.billing.selectors import invoice_figures, patient_account
from imsclinic.billing.services.invoices import invoice_for_visit
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment
from imsclinic.scheduling.services.booking import appointment_set_status
from tests.factories.billing import claim, issued_invoice, payer
from tests.factories.scheduling import MONDAY, at, book, weekday_shifts

pytestmark = pytest.mark.django_db

CAST = ("patient_user", "other_patient_user", "front_desk", "physio", "other_physio", "owner")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def shifts(location, physio, other_physio):
    return weekday_shifts(location, [physio, other_physio], dt.date(2030, 1, 1))


@pytest.fixture
def booked(patient, physio, assessment, front_desk, shifts) -> Appointment:
    """The patient's IMS initial assessment with the treating physio, Monday at 10:00."""
    return book(patient, physio, assessment, at(10), front_desk)


def arrived(visit: Appointment, actor) -> Appointment:
    with time_machine.travel(at(9, 55), tick=False):
        return appointment_set_status(appointment=visit, status="arrived", actor=actor)


def day_url(location, day: dt.date = MONDAY) -> str:
    return f"{reverse('calendar_day')}?location={location.pk}&date={day.isoformat()}"


def test_a_visit_is_checked_out_paid_and_offered_its_receipt(booked, front_desk):
    visit = arrived(booked, front_desk)
    tape = Product.objects.create(name="Kinesiology tape", price=Decimal("12.50"))
    client = signed_in(front_desk)
    url = reverse("billing_checkout", args=[visit.pk])

    assert "This visit has no invoice yet." in client.get(url).content.decode()
    assert not Invoice.objects.exists()  # a look drafts nothing

    client.post(url, {"action": "start"})
    invoice = Invoice.objects.get(appointment=visit)
    assert (invoice.status, invoice.total) == ("draft", Decimal("150.00"))

    client.post(url, {"action": "product", "product-product": tape.pk, "product-quantity": "1"})
    client.post(url, {"action": "issue"})
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total) == ("issued", Decimal("162.50"))

    page = client.get(url)
    assert page.context["pay_form"]["amount"].value() == Decimal("162.50")
    client.post(
        url,
        {
            "action": "pay",
            "pay-method": "debit",
            "pay-amount": "162.50",
            "pay-reference": "AUTH 77",
        },
    )
    payment = Payment.objects.get()
    assert (payment.method, payment.amount, payment.location) == (
        "debit",
        Decimal("162.50"),
        visit.location,
    )
    assert invoice_figures(invoice).patient_due == Decimal("0.00")
    done = client.get(url).content.decode()
    assert "share of this visit is paid." in done
    assert reverse("billing_patient_receipts", args=[visit.patient_id]) in done


def earlier_visits_billed(patient, physio, service, actor, count: int) -> None:
    """Visits the patient had the week before, each drafted on its claim."""
    for n in range(count):
        start = at(10, day=MONDAY - dt.timedelta(days=7 - n))
        earlier = Appointment.objects.create(
            patient=patient,
            practitioner=physio.practitioner,
            location=physio.practitioner.locations.get(),
            service=service,
            start=start,
            end=start + dt.timedelta(minutes=service.duration_minutes),
            status="completed",
        )
        invoice_for_visit(appointment=earlier, actor=actor)


def page_text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_check_out_beyond_the_claims_authorised_visits_bills_the_patient_and_says_why(
    booked, patient, physio, assessment, front_desk
):
    worksafe = payer(name="WorkSafe", kind="workers_comp")
    claim(patient, worksafe, front_desk, number="WC-2031-88", visits=2)
    earlier_visits_billed(patient, physio, assessment, front_desk, 2)
    visit = arrived(booked, front_desk)
    client = signed_in(front_desk)
    url = reverse("billing_checkout", args=[visit.pk])

    client.post(url, {"action": "start"})
    draft = page_text(client.get(url))

    invoice = Invoice.objects.get(appointment=visit)
    assert (invoice.payer, invoice.payer_share) == (None, Decimal("0.00"))
    assert (
        "Visit 3 of 2 authorised on claim WC-2031-88 (WorkSafe): billed to the patient. "
        "Ask the payer for more visits, then raise the claim's authorised visits on the "
        "patient's cover page" in draft
    )
    client.post(url, {"action": "issue"})
    issued = client.get(url)
    assert issued.context["pay_form"]["amount"].value() == Decimal("150.00")
    assert "ask the payer for more visits before the patient's next visit" in page_text(issued)


def test_check_out_within_the_claims_authorised_visits_bills_the_payer_without_a_warning(
    booked, patient, physio, assessment, front_desk
):
    claim(patient, payer(name="WorkSafe", kind="workers_comp"), front_desk, visits=3)
    earlier_visits_billed(patient, physio, assessment, front_desk, 2)
    visit = arrived(booked, front_desk)
    client = signed_in(front_desk)
    url = reverse("billing_checkout", args=[visit.pk])

    client.post(url, {"action": "start"})

    assert Invoice.objects.get(appointment=visit).payer_share == Decimal("150.00")
    assert "billed to the patient" not in page_text(client.get(url))


def test_check_out_of_a_visit_billed_wholly_to_a_payer_offers_no_receipt(
    booked, patient, front_desk
):
    claim(patient, payer(name="WorkSafe", kind="workers_comp"), front_desk, visits=8)
    visit = arrived(booked, front_desk)
    client = signed_in(front_desk)
    url = reverse("billing_checkout", args=[visit.pk])
    client.post(url, {"action": "start"})
    client.post(url, {"action": "issue"})

    done = client.get(url)
    text = page_text(done)

    assert "The whole visit is billed to WorkSafe: nothing is due from the patient." in text
    assert "share of this visit is paid" not in text
    assert "Print or email the receipt" not in text
    assert reverse("billing_patient_receipts", args=[visit.patient_id]) not in done.content.decode()
    assert "pay_form" not in done.context


def test_paying_more_than_the_visit_owes_keeps_the_rest_as_credit(booked, front_desk):
    visit = arrived(booked, front_desk)
    client = signed_in(front_desk)
    url = reverse("billing_checkout", args=[visit.pk])
    client.post(url, {"action": "start"})
    client.post(url, {"action": "issue"})
    response = client.post(
        url, {"action": "pay", "pay-method": "cash", "pay-amount": "155"}, follow=True
    )
    assert "5.00 more than the invoice asked for is kept as account credit." in (
        response.content.decode()
    )
    assert patient_account(visit.patient).credit == Decimal("5.00")


def test_a_payment_with_a_bad_amount_is_refused_beside_the_field(booked, front_desk):
    visit = arrived(booked, front_desk)
    client = signed_in(front_desk)
    url = reverse("billing_checkout", args=[visit.pk])
    client.post(url, {"action": "start"})
    client.post(url, {"action": "issue"})
    response = client.post(url, {"action": "pay", "pay-method": "cash", "pay-amount": "-3"})
    assert response.context["pay_form"].errors["amount"]
    assert not Payment.objects.exists()


def test_a_visit_not_yet_arrived_is_not_checked_out(booked, front_desk):
    client = signed_in(front_desk)
    url = reverse("billing_checkout", args=[booked.pk])
    assert "once the patient has arrived" in client.get(url).content.decode()
    client.post(url, {"action": "start"})
    assert not Invoice.objects.exists()


def test_check_out_is_the_front_desks_and_the_owners(request, booked, front_desk):
    visit = arrived(booked, front_desk)
    got = {}
    for who in CAST:
        got[who] = (
            signed_in(request.getfixturevalue(who))
            .get(reverse("billing_checkout", args=[visit.pk]))
            .status_code
        )
    assert got == {
        "patient_user": 403,
        "other_patient_user": 403,
        "front_desk": 200,
        "physio": 403,
        "other_physio": 403,
        "owner": 200,
    }
    physio = request.getfixturevalue("physio")
    signed_in(physio).post(reverse("billing_checkout", args=[visit.pk]), {"action": "start"})
    assert not Invoice.objects.exists()


def test_the_calendar_shows_the_desk_balances_and_check_out_links(
    booked, patient, location, front_desk, physio
):
    visit = arrived(booked, front_desk)
    issued_invoice(patient, location, front_desk, prices=("40.00",))
    checkout = reverse("billing_checkout", args=[visit.pk])

    desk = signed_in(front_desk).get(day_url(location)).content.decode()
    assert "Owes 40.00" in desk
    assert checkout in desk

    week = (
        signed_in(front_desk)
        .get(f"{reverse('calendar_week')}?location={location.pk}&date={MONDAY.isoformat()}")
        .content.decode()
    )
    assert "Owes 40.00" in week and checkout in week

    treating = signed_in(physio).get(day_url(location)).content.decode()
    assert "Owes 40.00" not in treating
    assert checkout not in treating


def test_the_calendar_asks_the_patient_only_for_their_own_share_never_the_insurers(
    booked, patient, location, front_desk
):
    arrived(booked, front_desk)
    insurer = payer("WorkSafe Demo Board", kind="workers_comp")
    issued_invoice(
        patient, location, front_desk, prices=("95.00",), billed_to=insurer, payer_share="95.00"
    )
    page = signed_in(front_desk).get(day_url(location)).content.decode()
    assert "Owes" not in page

    issued_invoice(
        patient, location, front_desk, prices=("100.00",), billed_to=insurer, payer_share="80.00"
    )
    page = signed_in(front_desk).get(day_url(location)).content.decode()
    assert "Owes 20.00" in page
    assert "Owes 195.00" not in page

    patient_page = (
        signed_in(front_desk).get(reverse("patient_detail", args=[patient.pk])).content.decode()
    )
    assert "Owes 195.00" in patient_page  # the balance, payers' shares included
    assert "Owed by the patient" in patient_page and "20.00" in patient_page
    assert "Owed by insurers and third parties" in patient_page and "175.00" in patient_page


def test_a_booked_visit_has_no_check_out_link_and_a_settled_patient_no_balance(
    booked, location, front_desk
):
    page = signed_in(front_desk).get(day_url(location)).content.decode()
    assert reverse("billing_checkout", args=[booked.pk]) not in page
    assert "Owes" not in page and "In credit" not in page


def test_the_calendars_balances_take_one_set_of_queries_however_many_patients(
    location, physio, other_physio, ims_service, front_desk, shifts, django_assert_max_num_queries
):
    client = signed_in(front_desk)
    client.get(day_url(location))  # warm the session
    for n in range(6):
        person = Patient.objects.create(
            given_name=f"P{n}", family_name="Load", date_of_birth=dt.date(1980, 1, 1)
        )
        issued_invoice(person, location, front_desk, prices=("10.00",))
        who = physio if n % 2 else other_physio
        Appointment.objects.create(
            patient=person,
            practitioner=who.practitioner,
            location=location,
            service=ims_service,
            start=at(9) + dt.timedelta(minutes=30 * (n // 2)),
            end=at(9) + dt.timedelta(minutes=30 * (n // 2) + 30),
            status="arrived",
        )
    # The calendar's own 17 + 1 (scheduling's test), four for every patient's balance and
    # one for which visits due a check-out are already paid.
    with django_assert_max_num_queries(17 + 1 + 4 + 1):
        response = client.get(day_url(location))
    assert response.content.decode().count("Owes 10.00") == 6
