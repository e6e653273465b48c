"""Each dollar a patient paid is on one original receipt; fees stay off; each visit says where."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from imsclinic.billing.errors import AlreadyReceipted, BillingRefused
from imsclinic.billing.models import FeeEvent, Invoice, InvoicePurpose, Receipt
from imsclinic.billing.receipts import receipt_content
from imsclinic.billing.services.receipts import receipt_issue
from imsclinic.clinic.models import Location
from imsclinic.scheduling.services.booking import appointment_cancel
from tests.factories.billing import DAY, fee_policy, patient_pays, treatment_invoice
from tests.factories.clients import signed_in
from tests.factories.scheduling import at, book, weekday_shifts

pytestmark = pytest.mark.django_db

MARCH = (dt.date(2025, 3, 1), dt.date(2025, 3, 31))
YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


@pytest.fixture
def treating(physio):
    return physio.practitioner


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def desk_pdf(front_desk, receipt: Receipt) -> str:
    response = signed_in(front_desk).get(
        reverse("billing_receipt_pdf", args=[receipt.patient_id, receipt.pk])
    )
    assert response.status_code == 200
    return pdf_text(response.content)


def issue_period(client, patient, period: tuple[dt.date, dt.date]):
    return client.post(
        reverse("billing_receipt_period", args=[patient.pk]),
        {"start": period[0].isoformat(), "end": period[1].isoformat()},
        follow=True,
    )


def test_the_same_period_twice_is_refused_naming_the_receipt_to_copy(
    patient, location, front_desk, treating
):
    invoice = treatment_invoice(patient, location, front_desk, treating)
    patient_pays(patient, front_desk, (invoice, "95.00"))
    client = signed_in(front_desk)
    issue_period(client, patient, MARCH)
    first = Receipt.objects.get()

    again = issue_period(client, patient, MARCH)

    assert again.status_code == 200
    assert (
        f"Everything paid for these visits is on receipt {first.display_number} already; "
        "print a copy of it." in again.text
    )
    assert Receipt.objects.count() == 1


def test_a_later_period_receipt_holds_only_what_the_earlier_one_did_not(
    patient, location, front_desk, treating
):
    march = treatment_invoice(patient, location, front_desk, treating, price="100.00")
    patient_pays(patient, front_desk, (march, "60.00"))
    client = signed_in(front_desk)
    issue_period(client, patient, MARCH)
    first = Receipt.objects.get()
    april = treatment_invoice(patient, location, front_desk, treating, day=dt.date(2025, 4, 7))
    patient_pays(patient, front_desk, (march, "40.00"), (april, "95.00"), day=dt.date(2025, 4, 7))

    page = issue_period(client, patient, YEAR)
    second = Receipt.objects.exclude(pk=first.pk).get()
    text = desk_pdf(front_desk, second)

    assert f"Receipt {second.display_number} is issued" in page.text
    content = receipt_content(second)
    assert [(row.invoice_number, row.paid) for row in content.rows] == [
        (march.display_number, Decimal("40.00")),
        (april.display_number, Decimal("95.00")),
    ]
    assert content.total_paid == Decimal("135.00")
    assert [payment.amount for payment in content.payments] == [Decimal("135.00")]
    assert f"Also paid earlier: 60.00, on receipt {first.display_number}, not counted here" in text
    assert "Received with thanks: 135.00 CAD." in text
    # The first receipt still says what it said when it was issued.
    assert receipt_content(first).total_paid == Decimal("60.00")
    assert "Received with thanks: 60.00 CAD." in desk_pdf(front_desk, first)


def test_a_year_to_date_receipt_the_next_day_holds_only_the_new_payment(
    patient, location, front_desk, treating
):
    first_visit = treatment_invoice(patient, location, front_desk, treating)
    patient_pays(patient, front_desk, (first_visit, "95.00"))
    monday = receipt_issue(patient=patient, period=(YEAR[0], DAY), actor=front_desk)
    next_day = DAY + dt.timedelta(days=1)
    second_visit = treatment_invoice(patient, location, front_desk, treating, day=next_day)
    patient_pays(patient, front_desk, (second_visit, "95.00"), day=next_day)

    tuesday = receipt_issue(patient=patient, period=(YEAR[0], next_day), actor=front_desk)

    assert [row.invoice_number for row in receipt_content(tuesday).rows] == [
        second_visit.display_number
    ]
    assert [row.invoice_number for row in receipt_content(monday).rows] == [
        first_visit.display_number
    ]


def test_a_payment_already_on_a_period_receipt_gets_no_second_original(
    patient, location, front_desk, treating
):
    invoice = treatment_invoice(patient, location, front_desk, treating)
    payment = patient_pays(patient, front_desk, (invoice, "95.00"))
    period = receipt_issue(patient=patient, period=MARCH, actor=front_desk)
    client = signed_in(front_desk)

    page = client.get(reverse("billing_patient_receipts", args=[patient.pk]))
    assert reverse("billing_receipt_issue", args=[patient.pk, payment.pk]) not in page.text
    assert "one receipt only" in page.text
    response = client.post(
        reverse("billing_receipt_issue", args=[patient.pk, payment.pk]), follow=True
    )

    assert (
        f"Everything this payment paid is on receipt {period.display_number} already; "
        "print a copy of it." in response.text
    )
    assert Receipt.objects.count() == 1


def test_a_period_receipt_after_a_payment_receipt_leaves_that_payment_out(
    patient, location, front_desk, treating
):
    first = treatment_invoice(patient, location, front_desk, treating)
    second = treatment_invoice(patient, location, front_desk, treating, day=dt.date(2025, 3, 10))
    receipted = patient_pays(patient, front_desk, (first, "95.00"))
    by_payment = receipt_issue(patient=patient, payment=receipted, actor=front_desk)
    patient_pays(patient, front_desk, (second, "95.00"), day=dt.date(2025, 3, 10))

    by_period = receipt_issue(patient=patient, period=MARCH, actor=front_desk)

    assert [row.invoice_number for row in receipt_content(by_period).rows] == [
        second.display_number
    ]
    with pytest.raises(AlreadyReceipted) as refused:
        receipt_issue(patient=patient, period=MARCH, actor=front_desk)
    assert refused.value.receipts == (by_payment, by_period)
    assert "receipts R-000001, R-000002 already; print a copy of them" in refused.value.message


def test_a_receipt_reads_the_patients_payments_once_however_many_receipts_came_before(
    patient, location, front_desk, treating
):
    def content_queries(receipt: Receipt) -> int:
        receipt = Receipt.objects.select_related("patient").get(pk=receipt.pk)
        with CaptureQueriesContext(connection) as queries:
            receipt_content(receipt)
        return len(queries)

    receipts = []
    for week in range(4):
        day = DAY + dt.timedelta(days=7 * week)
        invoice = treatment_invoice(patient, location, front_desk, treating, day=day)
        patient_pays(patient, front_desk, (invoice, "95.00"), day=day)
        receipts.append(receipt_issue(patient=patient, period=(YEAR[0], day), actor=front_desk))

    assert content_queries(receipts[1]) == content_queries(receipts[3])
    assert [receipt_content(r).total_paid for r in receipts] == [Decimal("95.00")] * 4


def test_a_missed_visits_fee_is_left_off_insurer_receipts(
    patient, physio, location, front_desk, assessment
):
    weekday_shifts(location, [physio], dt.date(2024, 1, 1))
    visit = book(patient, physio, assessment, at(9), front_desk)
    fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
    appointment_cancel(
        appointment=visit,
        actor=front_desk,
        reason="Phoned in sick",
        cancelled_by="patient",
        now=at(7),
    )
    fee = Invoice.objects.get(appointment=visit, purpose=InvoicePurpose.FEE)
    treated = treatment_invoice(
        patient, location, front_desk, physio.practitioner, day=dt.date(2025, 3, 10)
    )
    fee_only = patient_pays(patient, front_desk, (fee, "40.00"))
    patient_pays(patient, front_desk, (treated, "95.00"))

    with pytest.raises(BillingRefused) as refused:
        receipt_issue(patient=patient, payment=fee_only, actor=front_desk)
    assert "nothing to receipt" in refused.value.message
    receipt = receipt_issue(patient=patient, period=MARCH, actor=front_desk)
    text = desk_pdf(front_desk, receipt)

    assert fee.display_number not in text
    assert treated.display_number in text
    assert "Received with thanks: 95.00 CAD." in text


def test_each_visit_says_where_it_was_given_under_the_clinics_legal_address(
    clinic, patient, location, front_desk, treating
):
    clinic.legal_name = "Cedar IMS Physiotherapy Inc."
    clinic.legal_address = "200 Legal Street\nVancouver BC V6B 0A1"
    clinic.save()
    second = Location.objects.create(
        clinic=clinic,
        name="Burnaby",
        slug="burnaby",
        address_line1="4500 Kingsway",
        city="Burnaby",
        region="BC",
        postal_code="V5H 2A9",
        phone="604-555-0102",
        time_zone="America/Vancouver",
    )
    here = treatment_invoice(patient, location, front_desk, treating)
    there = treatment_invoice(patient, second, front_desk, treating, day=dt.date(2025, 3, 10))
    patient_pays(patient, front_desk, (here, "95.00"), (there, "95.00"))
    receipt = receipt_issue(patient=patient, period=MARCH, actor=front_desk)

    text = desk_pdf(front_desk, receipt)

    assert "Cedar IMS Physiotherapy Inc. 200 Legal Street Vancouver BC V6B 0A1" in text
    assert "Given at: Kitsilano, 100 Example Ave, Vancouver BC V6K 1A1" in text
    assert "Given at: Burnaby, 4500 Kingsway, Burnaby BC V5H 2A9" in text
    assert text.index(here.display_number) < text.index("Kitsilano") < text.index("Burnaby")
