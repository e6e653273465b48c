"""An issued invoice or credit note is a document the desk and the patient can download.

It names the clinic as the owner set it (legal name, address, business number) and ends with
the owner's invoice footer; a draft is never given out, and only its own patient and the
people who keep the clinic's accounts can download it.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from imsclinic.billing.services.invoices import (
    LineEntry,
    credit_note_issue,
    invoice_add_line,
    invoice_create,
)
from imsclinic.core.models import AuditEvent, ObjectType
from tests.factories.billing import DAY, issued_invoice, payer, treatment_invoice
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def legal_clinic(clinic):
    clinic.legal_name = "Cedar IMS Physiotherapy Inc."
    clinic.legal_address = "200 Legal Street\nVancouver BC V6B 0A1"
    clinic.business_number = "123456789 RT0001"
    clinic.invoice_footer = "Payment is due at each visit.\nE-transfers to billing@cedar.test"
    clinic.save()
    return clinic


def test_the_desk_downloads_an_invoice_naming_the_clinic_as_the_owner_set_it(
    legal_clinic, patient, location, front_desk, physio
):
    insurer = payer("Maple Auto Insurance", kind="auto")
    invoice = treatment_invoice(
        patient, location, front_desk, physio.practitioner, billed_to=insurer, payer_share="60.00"
    )

    response = signed_in(front_desk).get(reverse("billing_invoice_pdf", args=[invoice.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"invoice-{invoice.display_number}.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content)
    for shown in (
        "Cedar IMS Physiotherapy Inc.",
        "200 Legal Street",
        "123456789 RT0001",
        f"Invoice {invoice.display_number}",
        "Pat Ient",
        DAY.isoformat(),
        "Tara Treating",
        "IMS follow-up",
        "95.00",
        "Maple Auto Insurance",
        "60.00",  # the payer's share
        "35.00",  # the patient's share
        "Payment is due at each visit.",
        "E-transfers to billing@cedar.test",
    ):
        assert shown in text, shown
    assert AuditEvent.objects.filter(
        object_type=ObjectType.INVOICE, object_id=str(invoice.pk), patient=patient
    ).exists()


def test_without_a_legal_address_the_invoice_shows_the_location_of_the_visit(
    clinic, patient, location, front_desk
):
    invoice = issued_invoice(patient, location, front_desk)
    text = pdf_text(
        signed_in(front_desk).get(reverse("billing_invoice_pdf", args=[invoice.pk])).content
    )
    assert clinic.name in text
    assert "100 Example Ave" in text


def test_a_credit_note_names_the_invoice_it_corrects(legal_clinic, patient, location, front_desk):
    invoice = issued_invoice(patient, location, front_desk, prices=("40.00",))
    credit = credit_note_issue(
        invoice=invoice, amounts=None, reason="Charged twice", actor=front_desk
    )

    text = pdf_text(
        signed_in(front_desk).get(reverse("billing_invoice_pdf", args=[credit.pk])).content
    )

    assert f"Credit note {credit.display_number}" in text
    assert invoice.display_number in text
    assert "123456789 RT0001" in text


def test_a_draft_is_not_given_out(patient, location, front_desk):
    draft = invoice_create(patient=patient, location=location, actor=front_desk, service_date=DAY)
    invoice_add_line(
        invoice=draft,
        entry=LineEntry(
            service=None, description="Tape", unit_price=Decimal("10.00"), item_kind="product"
        ),
        actor=front_desk,
    )
    response = signed_in(front_desk).get(reverse("billing_invoice_pdf", args=[draft.pk]))
    assert response.status_code == 404


def test_the_patient_downloads_their_own_invoice_and_no_one_elses(
    legal_clinic, patient, other_patient, location, front_desk
):
    own = issued_invoice(patient, location, front_desk)
    theirs = issued_invoice(other_patient, location, front_desk)
    client = signed_in(patient.user)

    bills = client.get(reverse("portal_billing")).content.decode()
    assert reverse("portal_invoice_pdf", args=[own.pk]) in bills

    response = client.get(reverse("portal_invoice_pdf", args=[own.pk]))
    assert response.status_code == 200
    assert "Cedar IMS Physiotherapy Inc." in pdf_text(response.content)

    assert client.get(reverse("portal_invoice_pdf", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("billing_invoice_pdf", args=[own.pk])).status_code in (403, 404)


def test_a_practitioner_cannot_download_an_invoice(patient, location, front_desk, physio):
    invoice = issued_invoice(patient, location, front_desk)
    response = signed_in(physio).get(reverse("billing_invoice_pdf", args=[invoice.pk]))
    assert response.status_code in (403, 404)
