"""What the desk reads off its billing pages: a waived fee, totals owed, a visit already paid,
fee lines apart in sales, and a CSV of an empty table."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from imsclinic.billing.models import FeeEvent, Invoice, InvoicePurpose, PaymentMethod
from imsclinic.billing.services.fees import fee_waive
from imsclinic.billing.services.invoices import invoice_for_visit, invoice_issue
from imsclinic.billing.services.payments import Apply, payment_record
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.services.booking import appointment_cancel
from tests.factories.billing import fee_policy, issued_invoice, patient_pays, payer
from tests.factories.clients import signed_in
from tests.factories.scheduling import MONDAY, at, book, weekday_shifts

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 3)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def _visit(patient, physio, location, service, start, status=AppointmentStatus.BOOKED):
    return Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=service.duration_minutes),
        status=status,
    )


@pytest.fixture
def waived_fee(patient, physio, front_desk, location, assessment) -> Invoice:
    fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
    visit = _visit(patient, physio, location, assessment, timezone.now() + dt.timedelta(hours=3))
    appointment_cancel(
        appointment=visit, actor=front_desk, reason="Phoned in sick", cancelled_by="patient"
    )
    fee = Invoice.objects.get(appointment=visit, purpose=InvoicePurpose.FEE)
    fee_waive(fee_invoice=fee, reason="In hospital", actor=front_desk)
    return fee


def test_a_waived_fee_reads_waived_not_paid(waived_fee, patient, front_desk):
    client = signed_in(front_desk)
    for url in (reverse("billing_invoices"), reverse("billing_account", args=[patient.pk])):
        row = next(
            line for line in text_of(client.get(url)).split(waived_fee.display_number)[1:2] if line
        )
        assert row.split("40.00")[0].strip().endswith("Waived"), url
        assert "Paid" not in row.split("40.00")[0]


def test_sales_list_a_fee_apart_from_the_visits_of_its_service(
    waived_fee, patient, physio, location, assessment, front_desk, owner
):
    seen = _visit(
        patient,
        physio,
        location,
        assessment,
        timezone.now() - dt.timedelta(hours=2),
        status=AppointmentStatus.COMPLETED,
    )
    invoice_issue(invoice=invoice_for_visit(appointment=seen, actor=front_desk), actor=front_desk)
    response = signed_in(owner).get(reverse("billing_report_sales"))
    rows = {t.key: t for t in response.context["tables"]}["services"].rows
    labels = [row[0] for row in rows]
    assert len(labels) == len(set(labels))
    fee_row = next(row for row in rows if row[0] == f"Late-cancellation fee: {assessment.name}")
    # Charged and waived: one invoice, one credit note, nothing net.
    assert fee_row[1:3] == ["1", "1"] and fee_row[-1] == "0.00"
    visit_row = next(row for row in rows if row[0] == assessment.name)
    assert visit_row[3] == "1"


def test_the_invoice_list_and_the_payers_page_total_what_is_still_owed(
    patient, other_patient, location, front_desk
):
    insurer = payer()
    first = issued_invoice(patient, location, front_desk, prices=("95.00",), day=DAY)
    issued_invoice(other_patient, location, front_desk, prices=("80.00",), day=DAY)
    issued_invoice(
        patient, location, front_desk, prices=("100.00",), billed_to=insurer, payer_share="60"
    )
    patient_pays(patient, front_desk, (first, "30.00"))
    client = signed_in(front_desk)
    listed = text_of(client.get(reverse("billing_invoices")))
    assert "Still owed on the invoices shown 245.00" in listed
    narrowed = text_of(client.get(reverse("billing_invoices"), {"patient": "Otto"}))
    assert "Still owed on the invoices shown 80.00" in narrowed
    to_pay = text_of(client.get(reverse("billing_payer_payment", args=[insurer.pk])))
    assert "Total owed 60.00" in to_pay


def test_a_visit_whose_invoice_is_paid_shows_paid_instead_of_check_out(
    patient, physio, other_physio, assessment, location, front_desk
):
    weekday_shifts(location, [physio, other_physio], dt.date(2030, 1, 1))
    visit = book(patient, physio, assessment, at(10), front_desk)
    Appointment.objects.filter(pk=visit.pk).update(status=AppointmentStatus.COMPLETED)
    client = signed_in(front_desk)
    url = f"{reverse('calendar_day')}?location={location.pk}&date={MONDAY.isoformat()}"
    assert "Check out" in text_of(client.get(url))
    with time_machine.travel(at(11), tick=False):
        visit.refresh_from_db()
        invoice = invoice_issue(
            invoice=invoice_for_visit(appointment=visit, actor=front_desk), actor=front_desk
        )
        payment_record(
            patient=patient,
            method=PaymentMethod.DEBIT,
            amount=invoice.total,
            received_on=MONDAY,
            allocations=[Apply(invoice=invoice, amount=invoice.total)],
            actor=front_desk,
        )
    shown = text_of(client.get(url))
    assert "Check out" not in shown
    assert "Paid" in shown


def test_the_account_names_its_summary_once_and_an_empty_tables_csv_has_no_total(
    patient, front_desk, owner
):
    account = client_text = text_of(
        signed_in(front_desk).get(reverse("billing_account", args=[patient.pk]))
    )
    assert account.count("Balance") == 1 and "Summary" in client_text
    empty = signed_in(owner).get(
        reverse("billing_report_day_sheet"),
        {"since": "2026-03-01", "until": "2026-03-31", "export": "methods"},
    )
    assert empty.content.decode().splitlines() == ["Method,Payments,Received,Refunds,Refunded,Net"]
