"""Official receipts say what insurers require, are numbered in turn and say COPY on reprints."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import Receipt, ReceiptDelivery
from imsclinic.billing.receipts import receipt_content, receipt_html
from imsclinic.billing.services.invoices import credit_note_issue
from imsclinic.billing.services.receipts import receipt_deliver, receipt_email, receipt_issue
from imsclinic.billing.tasks import send_receipt_email
from imsclinic.core.models import AuditEvent, ObjectType
from tests.factories.billing import (
    DAY,
    patient_pays,
    payer,
    payer_pays,
    treatment_invoice,
)
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

LATER = DAY + dt.timedelta(days=7)


@pytest.fixture
def treating(physio):
    return physio.practitioner


def test_a_payment_receipt_shows_everything_an_extended_health_insurer_asks_for(
    clinic, patient, location, front_desk, treating
):
    clinic.legal_name = "Cedar IMS Physiotherapy Inc."
    clinic.business_number = "123456789 RT0001"
    clinic.save()
    insurer = payer()
    invoice = treatment_invoice(
        patient, location, front_desk, treating, billed_to=insurer, payer_share="40.00"
    )
    payment = patient_pays(patient, front_desk, (invoice, "55.00"), method="debit")
    payer_pays(insurer, front_desk, (invoice, "40.00"))
    receipt = receipt_issue(patient=patient, payment=payment, actor=front_desk)

    html = receipt_html(receipt_content(receipt), is_copy=False)

    for required in (
        "Cedar IMS Physiotherapy Inc.",  # the clinic's legal name
        "100 Example Ave, Vancouver BC V6K 1A1",  # the location's address (no legal address)
        "123456789 RT0001",  # the business number
        "Pat Ient",  # the patient
        "2025-03-03",  # the date of service and of payment
        "Tara Treating",  # the practitioner's full name
        "Physiotherapist",  # their profession
        "PT-1001",  # their college registration number
        "College of Physical Therapists of BC",
        "IMS follow-up",  # the service
        "95.00",  # charged
        "55.00",  # paid by the patient
        "40.00",  # the insurer's direct payment, shown apart
        "Debit card",  # the method of payment
        receipt.display_number,  # the receipt's number
        "CAD",  # the currency
    ):
        assert required in html, required
    assert "COPY" not in html
    content = receipt_content(receipt)
    assert (content.total_charged, content.total_paid, content.total_paid_by_insurer) == (
        Decimal("95.00"),
        Decimal("55.00"),
        Decimal("40.00"),
    )


def test_the_clinics_legal_address_is_the_issuer_and_the_visits_location_is_printed_too(
    clinic, patient, location, front_desk, treating
):
    clinic.legal_address = "Cedar IMS Physiotherapy Inc.\n200 Legal Street\nVancouver BC V6B 0A1"
    clinic.save()
    invoice = treatment_invoice(patient, location, front_desk, treating)
    payment = patient_pays(patient, front_desk, (invoice, "95.00"))
    receipt = receipt_issue(patient=patient, payment=payment, actor=front_desk)
    html = receipt_html(receipt_content(receipt), is_copy=False)
    assert "200 Legal Street" in html
    assert "Services given at: Kitsilano, 100 Example Ave, Vancouver BC V6K 1A1" in html


def test_receipts_take_consecutive_numbers_and_are_audited(patient, location, front_desk, treating):
    first_invoice = treatment_invoice(patient, location, front_desk, treating)
    second_invoice = treatment_invoice(patient, location, front_desk, treating, day=LATER)
    first = receipt_issue(
        patient=patient,
        payment=patient_pays(patient, front_desk, (first_invoice, "95.00")),
        actor=front_desk,
    )
    second = receipt_issue(
        patient=patient,
        payment=patient_pays(patient, front_desk, (second_invoice, "95.00"), day=LATER),
        actor=front_desk,
    )
    assert second.number == first.number + 1
    assert second.display_number == f"R-{second.number:06d}"
    assert AuditEvent.objects.filter(
        object_type=ObjectType.RECEIPT, object_id=str(second.pk), patient=patient
    ).exists()


def test_a_payment_has_one_receipt_and_a_refused_one_takes_no_number(
    patient, location, front_desk, treating
):
    invoice = treatment_invoice(patient, location, front_desk, treating)
    payment = patient_pays(patient, front_desk, (invoice, "95.00"))
    first = receipt_issue(patient=patient, payment=payment, actor=front_desk)
    with pytest.raises(BillingRefused, match=first.display_number):
        receipt_issue(patient=patient, payment=payment, actor=front_desk)
    credit_only = patient_pays(patient, front_desk, amount="20.00")
    with pytest.raises(BillingRefused):
        receipt_issue(patient=patient, payment=credit_only, actor=front_desk)
    other = receipt_issue(
        patient=patient,
        payment=patient_pays(
            patient, front_desk, (treatment_invoice(patient, location, front_desk, treating), "95")
        ),
        actor=front_desk,
    )
    assert other.number == first.number + 1


def test_an_insurers_payment_and_another_patients_payment_get_no_receipt(
    patient, other_patient, location, front_desk, treating
):
    insurer = payer()
    invoice = treatment_invoice(
        patient, location, front_desk, treating, billed_to=insurer, payer_share="95.00"
    )
    insurer_payment = payer_pays(insurer, front_desk, (invoice, "95.00"))
    with pytest.raises(BillingRefused):
        receipt_issue(patient=patient, payment=insurer_payment, actor=front_desk)
    others = treatment_invoice(other_patient, location, front_desk, treating)
    their_payment = patient_pays(other_patient, front_desk, (others, "95.00"))
    with pytest.raises(BillingRefused):
        receipt_issue(patient=patient, payment=their_payment, actor=front_desk)
    assert not Receipt.objects.exists()


def test_a_period_receipt_sums_the_periods_services_net_of_credit_notes(
    patient, location, front_desk, treating
):
    insurer = payer()
    march = treatment_invoice(patient, location, front_desk, treating, price="150.00")
    april = treatment_invoice(
        patient,
        location,
        front_desk,
        treating,
        day=dt.date(2025, 4, 10),
        billed_to=insurer,
        payer_share="45.00",
    )
    outside = treatment_invoice(patient, location, front_desk, treating, day=dt.date(2025, 6, 1))
    # One payment across two visits; the March visit is then corrected by 50.00, which
    # gives 50.00 of what was paid back to the patient's credit.
    patient_pays(patient, front_desk, (march, "150.00"), (april, "50.00"))
    patient_pays(patient, front_desk, (outside, "95.00"))
    payer_pays(insurer, front_desk, (april, "45.00"))
    credit_note_issue(
        invoice=march,
        amounts={march.lines.get().pk: Decimal("50.00")},
        reason="Billed an assessment; it was a follow-up.",
        actor=front_desk,
    )

    receipt = receipt_issue(
        patient=patient, period=(dt.date(2025, 3, 1), dt.date(2025, 4, 30)), actor=front_desk
    )
    content = receipt_content(receipt)

    assert [row.invoice_number for row in content.rows] == [
        march.display_number,
        april.display_number,
    ]
    assert [(row.charged, row.paid, row.paid_by_insurer) for row in content.rows] == [
        (Decimal("100.00"), Decimal("100.00"), Decimal("0.00")),
        (Decimal("95.00"), Decimal("50.00"), Decimal("45.00")),
    ]
    assert content.total_paid == Decimal("150.00")
    assert [payment.amount for payment in content.payments] == [Decimal("150.00")]


def test_a_period_with_nothing_paid_by_the_patient_gets_no_receipt(
    patient, location, front_desk, treating
):
    treatment_invoice(patient, location, front_desk, treating)
    with pytest.raises(BillingRefused) as refused:
        receipt_issue(
            patient=patient, period=(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), actor=front_desk
        )
    assert refused.value.field == "start"
    with pytest.raises(BillingRefused) as backwards:
        receipt_issue(
            patient=patient, period=(dt.date(2025, 12, 31), dt.date(2025, 1, 1)), actor=front_desk
        )
    assert backwards.value.field == "end"


def test_a_copy_printed_later_says_what_the_original_said(patient, location, front_desk, treating):
    invoice = treatment_invoice(patient, location, front_desk, treating, price="100.00")
    patient_pays(patient, front_desk, (invoice, "60.00"))
    receipt = receipt_issue(
        patient=patient, period=(dt.date(2025, 3, 1), dt.date(2025, 3, 31)), actor=front_desk
    )
    patient_pays(patient, front_desk, (invoice, "40.00"), day=LATER)
    assert receipt_content(receipt).total_paid == Decimal("60.00")


def test_every_delivery_after_the_first_is_a_copy(patient, location, front_desk, treating):
    invoice = treatment_invoice(patient, location, front_desk, treating)
    payment = patient_pays(patient, front_desk, (invoice, "95.00"))
    receipt = receipt_issue(patient=patient, payment=payment, actor=front_desk)
    first = receipt_deliver(
        receipt=receipt, channel=ReceiptDelivery.Channel.DOWNLOAD, actor=front_desk
    )
    second = receipt_deliver(
        receipt=receipt, channel=ReceiptDelivery.Channel.DOWNLOAD, actor=front_desk
    )
    assert (first.is_copy, second.is_copy) == (False, True)
    assert "COPY" in receipt_html(receipt_content(receipt), is_copy=second.is_copy)


def test_the_front_desk_downloads_the_pdf_and_the_reprint_is_a_copy(
    patient, location, front_desk, treating
):
    invoice = treatment_invoice(patient, location, front_desk, treating)
    payment = patient_pays(patient, front_desk, (invoice, "95.00"))
    receipt = receipt_issue(patient=patient, payment=payment, actor=front_desk)
    client = signed_in(front_desk)
    url = reverse("billing_receipt_pdf", args=[patient.pk, receipt.pk])

    original = client.get(url)
    reprint = client.get(url)

    assert original.status_code == 200 and original["Content-Type"] == "application/pdf"
    assert original.content.startswith(b"%PDF")
    assert f"{receipt.display_number}.pdf" in original["Content-Disposition"]
    assert f"{receipt.display_number}-copy.pdf" in reprint["Content-Disposition"]
    assert list(receipt.deliveries.values_list("is_copy", flat=True).order_by("pk")) == [
        False,
        True,
    ]


def test_the_front_desk_issues_a_receipt_for_a_payment_from_the_patients_receipts_page(
    patient, location, front_desk, treating
):
    invoice = treatment_invoice(patient, location, front_desk, treating)
    payment = patient_pays(patient, front_desk, (invoice, "95.00"))
    client = signed_in(front_desk)
    page = client.get(reverse("billing_patient_receipts", args=[patient.pk]))
    assert page.status_code == 200
    assert reverse("billing_receipt_issue", args=[patient.pk, payment.pk]) in page.text

    response = client.post(
        reverse("billing_receipt_issue", args=[patient.pk, payment.pk]), follow=True
    )

    receipt = Receipt.objects.get(payment=payment)
    assert f"Receipt {receipt.display_number} is issued" in response.text
    assert reverse("billing_receipt_pdf", args=[patient.pk, receipt.pk]) in response.text


def test_the_period_form_keeps_what_was_typed_and_says_why_nothing_was_issued(
    patient, location, front_desk, treating
):
    treatment_invoice(patient, location, front_desk, treating)
    response = signed_in(front_desk).post(
        reverse("billing_receipt_period", args=[patient.pk]),
        {"start": "2025-03-01", "end": "2025-03-31"},
    )
    assert response.status_code == 200
    assert "Nothing was paid for services in this period" in response.text
    assert 'value="2025-03-31"' in response.text
    assert not Receipt.objects.exists()


def test_the_front_desk_emails_a_receipt_with_the_pdf_attached(
    patient, location, front_desk, treating
):
    invoice = treatment_invoice(patient, location, front_desk, treating)
    payment = patient_pays(patient, front_desk, (invoice, "95.00"))
    receipt = receipt_issue(patient=patient, payment=payment, actor=front_desk)

    response = signed_in(front_desk).post(
        reverse("billing_receipt_email", args=[patient.pk, receipt.pk]), follow=True
    )

    assert "on its way" in response.text
    task = DBTaskResult.objects.get(task_path=send_receipt_email.module_path)
    delivery = receipt.deliveries.get()
    assert (delivery.channel, delivery.is_copy) == ("email", False)
    assert send_receipt_email.call(*task.args_kwargs["args"]) is True
    (message,) = mail.outbox
    assert message.to == ["pat@patients.example"]
    assert receipt.display_number in message.subject
    (filename, content, mimetype) = message.attachments[0]
    assert filename == f"receipt-{receipt.display_number}.pdf"
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")


def test_an_email_after_a_download_carries_a_copy(patient, location, front_desk, treating):
    invoice = treatment_invoice(patient, location, front_desk, treating)
    payment = patient_pays(patient, front_desk, (invoice, "95.00"))
    receipt = receipt_issue(patient=patient, payment=payment, actor=front_desk)
    receipt_deliver(receipt=receipt, channel=ReceiptDelivery.Channel.DOWNLOAD, actor=front_desk)
    delivery = receipt_email(receipt=receipt, actor=front_desk)
    assert send_receipt_email.call(delivery.pk) is True
    assert mail.outbox[0].attachments[0][0] == f"receipt-{receipt.display_number}-copy.pdf"


def test_a_patient_without_an_email_address_cannot_be_emailed_a_receipt(
    other_patient, location, front_desk, treating
):
    other_patient.user.email = ""
    other_patient.user.save()
    invoice = treatment_invoice(other_patient, location, front_desk, treating)
    payment = patient_pays(other_patient, front_desk, (invoice, "95.00"))
    receipt = receipt_issue(patient=other_patient, payment=payment, actor=front_desk)
    with pytest.raises(BillingRefused):
        receipt_email(receipt=receipt, actor=front_desk)
    assert not receipt.deliveries.exists()


def test_a_practitioner_cannot_open_a_patients_receipts(patient, location, front_desk, physio):
    invoice = treatment_invoice(patient, location, front_desk, physio.practitioner)
    payment = patient_pays(patient, front_desk, (invoice, "95.00"))
    receipt = receipt_issue(patient=patient, payment=payment, actor=front_desk)
    client = signed_in(physio)
    assert client.get(reverse("billing_patient_receipts", args=[patient.pk])).status_code == 403
    pdf = client.get(reverse("billing_receipt_pdf", args=[patient.pk, receipt.pk]))
    assert pdf.status_code == 403
    assert not receipt.deliveries.exists()


def test_a_receipt_is_reached_only_through_its_own_patient(
    patient, other_patient, location, front_desk, treating
):
    invoice = treatment_invoice(patient, location, front_desk, treating)
    payment = patient_pays(patient, front_desk, (invoice, "95.00"))
    receipt = receipt_issue(patient=patient, payment=payment, actor=front_desk)
    response = signed_in(front_desk).get(
        reverse("billing_receipt_pdf", args=[other_patient.pk, receipt.pk])
    )
    assert response.status_code == 404
    assert not receipt.deliveries.exists()


def at_once(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads released together; return what they returned, or raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(call())
        except BaseException as error:
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_receipts_issued_at_once_take_the_next_two_numbers(
    patient, other_patient, location, front_desk, owner, treating
):
    mine = patient_pays(
        patient, front_desk, (treatment_invoice(patient, location, front_desk, treating), "95")
    )
    theirs = patient_pays(
        other_patient,
        front_desk,
        (treatment_invoice(other_patient, location, front_desk, treating), "95"),
    )
    results = at_once(
        lambda: receipt_issue(patient=patient, payment=mine, actor=front_desk),
        lambda: receipt_issue(patient=other_patient, payment=theirs, actor=owner),
    )
    assert all(isinstance(result, Receipt) for result in results), results
    assert sorted(Receipt.objects.values_list("number", flat=True)) == [1, 2]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_downloads_at_once_make_one_original_and_one_copy(
    patient, location, front_desk, owner, treating
):
    invoice = treatment_invoice(patient, location, front_desk, treating)
    receipt = receipt_issue(
        patient=patient, payment=patient_pays(patient, front_desk, (invoice, "95")), actor=owner
    )
    results = at_once(
        lambda: receipt_deliver(receipt=receipt, channel="download", actor=front_desk),
        lambda: receipt_deliver(receipt=receipt, channel="download", actor=owner),
    )
    assert all(isinstance(result, ReceiptDelivery) for result in results), results
    assert sorted(receipt.deliveries.values_list("is_copy", flat=True)) == [False, True]
