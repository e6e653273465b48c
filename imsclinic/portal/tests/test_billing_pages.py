"""The patient sees what they owe in plain words and downloads their own receipts, only theirs."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from imsclinic.billing.models import Receipt
from imsclinic.billing.online import card_provider
from imsclinic.billing.services.receipts import receipt_issue
from imsclinic.billing.tasks import send_receipt_email
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.models import AuditEvent, ObjectType
from tests.factories.billing import patient_pays, payer, treatment_invoice
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db


def clinic_today() -> dt.date:
    """Today where the clinic is: "this year" on the portal is the clinic's year."""
    return timezone.localdate(timezone=clinic_zone())


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def paid_receipt(patient, location, front_desk, physio):
    invoice = treatment_invoice(patient, location, front_desk, physio.practitioner)
    payment = patient_pays(patient, front_desk, (invoice, "95.00"))
    return receipt_issue(patient=patient, payment=payment, actor=front_desk)


def test_the_patient_reads_what_they_owe_what_their_insurer_is_billed_and_their_credit(
    clinic, patient, patient_user, location, front_desk, physio
):
    insurer = payer()
    invoice = treatment_invoice(
        patient,
        location,
        front_desk,
        physio.practitioner,
        price="150.00",
        billed_to=insurer,
        payer_share="60.00",
    )
    patient_pays(patient, front_desk, (invoice, "50.00"))
    other = treatment_invoice(patient, location, front_desk, physio.practitioner)
    patient_pays(patient, front_desk, (other, "95.00"), amount="120.00")

    page = signed_in(patient_user).get(reverse("portal_billing"))

    assert page.status_code == 200
    assert "You owe $40.00." in page.text
    assert "Your insurer is billed $60.00." in page.text
    assert "You have $25.00 credit." in page.text
    assert invoice.display_number in page.text and "You still owe $40.00 on it." in page.text
    assert AuditEvent.objects.filter(
        object_type=ObjectType.ACCOUNT, patient=patient, action="view"
    ).exists()


def test_with_no_card_provider_the_portal_says_to_pay_at_the_clinic_and_offers_no_card(
    clinic, patient, patient_user, location, front_desk, physio, settings
):
    settings.BILLING_CARD_PROVIDER = ""
    clinic.invoice_footer = "E-transfer to pay@cedar.example with your invoice number."
    clinic.save()
    invoice = treatment_invoice(patient, location, front_desk, physio.practitioner)

    page = signed_in(patient_user).get(reverse("portal_billing"))

    assert card_provider() is None
    assert "Pay at the clinic or by e-transfer." in page.text
    assert "E-transfer to pay@cedar.example with your invoice number." in page.text
    assert "by card" not in page.text
    assert reverse("portal_card_pay", args=[invoice.pk]) not in page.text
    response = signed_in(patient_user).post(reverse("portal_card_pay", args=[invoice.pk]))
    assert response.status_code == 404


def test_the_portal_links_to_the_billing_page(patient, patient_user):
    page = signed_in(patient_user).get(reverse("portal_home"))
    assert reverse("portal_billing") in page.text


def test_the_patient_downloads_their_receipt_and_a_second_download_is_a_copy(
    patient_user, paid_receipt
):
    client = signed_in(patient_user)
    url = reverse("portal_receipt_pdf", args=[paid_receipt.pk])
    first = client.get(url)
    second = client.get(url)
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    assert "-copy" not in first["Content-Disposition"]
    assert "-copy" in second["Content-Disposition"]


def test_a_patient_cannot_download_another_patients_receipt(
    other_patient, other_patient_user, paid_receipt
):
    response = signed_in(other_patient_user).get(
        reverse("portal_receipt_pdf", args=[paid_receipt.pk])
    )
    assert response.status_code == 404
    assert not paid_receipt.deliveries.exists()
    assert AuditEvent.objects.filter(
        object_type=ObjectType.RECEIPT, object_id=str(paid_receipt.pk), outcome="denied"
    ).exists()
    email = signed_in(other_patient_user).post(
        reverse("portal_receipt_email", args=[paid_receipt.pk])
    )
    assert email.status_code == 404


def test_the_patient_gets_a_receipt_for_this_year_and_asking_again_the_same_day_gives_the_same(
    patient, patient_user, location, front_desk, physio
):
    invoice = treatment_invoice(
        patient, location, front_desk, physio.practitioner, day=clinic_today()
    )
    patient_pays(patient, front_desk, (invoice, "95.00"), day=clinic_today())
    client = signed_in(patient_user)

    page = client.post(reverse("portal_receipt_year"), follow=True)
    client.post(reverse("portal_receipt_year"))

    receipt = Receipt.objects.get()
    assert (receipt.period_start, receipt.period_end) == (
        clinic_today().replace(month=1, day=1),
        clinic_today(),
    )
    assert f"Your receipt {receipt.display_number} is ready" in page.text
    assert reverse("portal_receipt_pdf", args=[receipt.pk]) in page.text


def test_a_year_with_nothing_paid_tells_the_patient_calmly_and_issues_nothing(
    patient, patient_user
):
    page = signed_in(patient_user).post(reverse("portal_receipt_year"), follow=True)
    assert "You have paid nothing for visits this year yet" in page.text
    assert not Receipt.objects.exists()


def test_the_patient_has_their_receipt_emailed_with_the_pdf(patient_user, paid_receipt):
    page = signed_in(patient_user).post(
        reverse("portal_receipt_email", args=[paid_receipt.pk]), follow=True
    )
    assert "We are emailing receipt" in page.text
    task = DBTaskResult.objects.get(task_path=send_receipt_email.module_path)
    assert send_receipt_email.call(*task.args_kwargs["args"]) is True
    (message,) = mail.outbox
    assert message.to == ["pat@patients.example"]
    assert message.attachments[0][2] == "application/pdf"


def test_staff_are_sent_to_their_own_pages_and_a_practitioner_sees_no_account(
    patient, physio, front_desk, paid_receipt
):
    assert signed_in(physio).get(reverse("portal_billing")).status_code == 302
    assert (
        signed_in(physio).get(reverse("billing_patient_receipts", args=[patient.pk])).status_code
        == 403
    )
    assert (
        signed_in(front_desk)
        .get(reverse("billing_receipt_pdf", args=[patient.pk, paid_receipt.pk]))
        .status_code
        == 200
    )


def test_the_credit_note_is_listed_with_the_invoice_it_corrects(
    patient, patient_user, location, front_desk, physio
):
    from imsclinic.billing.services.invoices import credit_note_issue

    invoice = treatment_invoice(patient, location, front_desk, physio.practitioner)
    note = credit_note_issue(
        invoice=invoice,
        amounts={invoice.lines.get().pk: Decimal("20.00")},
        reason="Shorter visit than booked.",
        actor=front_desk,
    )
    page = signed_in(patient_user).get(reverse("portal_billing"))
    assert note.display_number in page.text
    assert f"Takes back part or all of {invoice.display_number}." in page.text
    assert "You owe $75.00." in page.text


JANUARY = dt.datetime(2026, 1, 12, 18, 0, tzinfo=dt.UTC)


def test_in_january_the_patient_gets_last_years_receipt(
    patient, patient_user, location, front_desk, physio
):
    with time_machine.travel(JANUARY, tick=True):
        invoice = treatment_invoice(
            patient, location, front_desk, physio.practitioner, day=dt.date(2025, 11, 4)
        )
        patient_pays(patient, front_desk, (invoice, "95.00"), day=dt.date(2025, 11, 4))
        client = signed_in(patient_user)
        page = client.get(reverse("portal_billing"))
        assert "Get a receipt for 2025" in page.text
        assert "Get a receipt for 2026" not in page.text

        made = client.post(reverse("portal_receipt_year"), {"year": "2025"}, follow=True)

        receipt = Receipt.objects.get()
        assert (receipt.period_start, receipt.period_end) == (
            dt.date(2025, 1, 1),
            dt.date(2025, 12, 31),
        )
        assert f"Your receipt {receipt.display_number} is ready" in made.text
        assert "Get a receipt for 2025" not in made.text
        assert "Everything you paid for visits in 2025 is on a receipt already" in made.text
        assert client.post(reverse("portal_receipt_year"), {"year": "2024"}).status_code == 302
        assert Receipt.objects.count() == 1


def test_a_patient_with_nothing_to_receipt_this_year_or_last_is_told_so(patient, patient_user):
    page = signed_in(patient_user).get(reverse("portal_billing"))
    assert "You have paid nothing for visits this year or last year" in page.text
    assert "Get a receipt for" not in page.text


def test_a_new_receipt_from_the_portal_leaves_out_what_the_front_desk_receipted(
    patient, patient_user, location, front_desk, physio
):
    today = clinic_today()
    earlier = treatment_invoice(patient, location, front_desk, physio.practitioner, day=today)
    at_the_desk = receipt_issue(
        patient=patient,
        payment=patient_pays(patient, front_desk, (earlier, "95.00"), day=today),
        actor=front_desk,
    )
    client = signed_in(patient_user)
    page = client.get(reverse("portal_billing"))
    assert f"Get a receipt for {today.year}" not in page.text
    assert "one receipt only" in page.text

    refused = client.post(reverse("portal_receipt_year"), {"year": today.year}, follow=True)
    assert (
        f"Everything you paid for visits in {today.year} is on receipt "
        f"{at_the_desk.display_number} already" in refused.text
    )
    assert Receipt.objects.count() == 1

    later = treatment_invoice(patient, location, front_desk, physio.practitioner, day=today)
    patient_pays(patient, front_desk, (later, "80.00"), day=today)
    client.post(reverse("portal_receipt_year"), {"year": today.year})
    mine = Receipt.objects.exclude(pk=at_the_desk.pk).get()
    download = client.get(reverse("portal_receipt_pdf", args=[mine.pk]))
    text = pdf_text(download.content)
    assert later.display_number in text and earlier.display_number not in text
    assert "Received with thanks: 80.00 CAD." in text
