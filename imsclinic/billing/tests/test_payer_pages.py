"""A payer's statement, and a payer's payment put towards many invoices at once."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.billing.models import Allocation, Invoice, Payment, PaymentMethod
from imsclinic.billing.selectors import invoice_figures, local_today, payment_left
from imsclinic.billing.services.invoices import credit_note_issue, invoice_issue
from imsclinic.billing.services.payments import Apply, payment_record
from imsclinic.clinic.models import Service
from imsclinic.core.models import AuditEvent
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.services.booking import appointment_set_status
from tests.factories.billing import DAY, claim, issued_invoice, payer, policy
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

PERIOD = {"start": "2025-03-01", "end": "2025-03-31"}


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def statement_url(to) -> str:
    return reverse("billing_payer_statement", args=[to.pk])


def payment_url(to) -> str:
    return reverse("billing_payer_payment", args=[to.pk])


@pytest.fixture
def auto(db):
    return payer(name="Provincial Auto", kind="auto")


@pytest.fixture
def billed(patient, other_patient, location, front_desk, auto):
    """Three invoices billed to the auto insurer in March, one credited, one part-paid."""
    case = claim(
        patient, auto, front_desk, number="AUTO-55", under=policy(patient, auto, front_desk)
    )
    first = issued_invoice(patient, location, front_desk, billed_to=auto, payer_share="80")
    second = issued_invoice(
        patient, location, front_desk, billed_to=auto, payer_share="95", day=DAY + dt.timedelta(7)
    )
    third = issued_invoice(
        other_patient, location, front_desk, billed_to=auto, payer_share="60", day=DAY
    )
    policy(other_patient, auto, front_desk, member_number="MB-OTHER")
    credit_note_issue(invoice=second, amounts=None, reason="Billed twice", actor=front_desk)
    payment_record(
        payer=auto,
        method=PaymentMethod.CHEQUE,
        amount=Decimal("30.00"),
        received_on=DAY,
        allocations=[Apply(invoice=third, amount=Decimal("30.00"))],
        actor=front_desk,
    )
    # Not on March's statement: April's service, and an invoice billed to someone else.
    issued_invoice(
        patient, location, front_desk, billed_to=auto, payer_share="95", day=dt.date(2025, 4, 2)
    )
    issued_invoice(patient, location, front_desk, billed_to=payer(), payer_share="95", day=DAY)
    return {"claim": case, "first": first, "second": second, "third": third}


def test_the_statement_lists_each_invoice_billed_in_the_period_with_totals_that_reconcile(
    cast, billed, auto
):
    page = signed_in(cast["front_desk"]).get(statement_url(auto), PERIOD)
    assert page.status_code == 200
    text = text_of(page)
    first, second, third = billed["first"], billed["second"], billed["third"]
    assert f"Pat Ient — MB-1001 2025-03-03 {first.display_number} 80.00 0.00 0.00 80.00" in text
    assert f"Pat Ient — MB-1001 2025-03-10 {second.display_number} 95.00 95.00 0.00 0.00" in text
    assert f"{third.display_number} 60.00 0.00 30.00 30.00" in text
    assert "MB-OTHER" in text
    # billed 235.00 - credited 95.00 - paid 30.00 = owed 110.00
    assert "Total 235.00 95.00 30.00 110.00" in text
    assert "2025-04-02" not in text


def test_a_claims_invoices_show_the_claim_number(cast, patient, location, front_desk, auto):
    from imsclinic.billing.services.invoices import (
        LineEntry,
        invoice_add_line,
        invoice_bill_payer,
        invoice_create,
    )

    case = claim(patient, auto, front_desk, number="AUTO-77")
    draft = invoice_create(patient=patient, location=location, actor=front_desk, service_date=DAY)
    invoice_add_line(
        invoice=draft,
        entry=LineEntry(description="Treatment", unit_price=Decimal("100"), item_kind="service"),
        actor=front_desk,
    )
    invoice_bill_payer(
        invoice=draft, payer=None, payer_share=Decimal("100"), claim=case, actor=front_desk
    )
    invoice_issue(invoice=draft, actor=front_desk)
    text = text_of(signed_in(cast["owner"]).get(statement_url(auto), PERIOD))
    assert "Pat Ient AUTO-77" in text


def test_the_statement_downloads_as_csv_with_the_same_rows_and_totals(cast, billed, auto):
    response = signed_in(cast["front_desk"]).get(statement_url(auto), {**PERIOD, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == ["Patient", "Claim number", "Member number", "Date of service", "Invoice"]
    assert len(rows) == 1 + 3 + 1
    assert rows[1][3:] == [
        "2025-03-03",
        billed["first"].display_number,
        "80.00",
        "0.00",
        "0.00",
        "80.00",
    ]
    assert rows[-1] == ["Total", "", "", "", "", "235.00", "95.00", "30.00", "110.00"]


def test_the_statement_is_audited_once_per_patient_shown(
    cast, billed, auto, patient, other_patient
):
    client = signed_in(cast["front_desk"])
    client.get(statement_url(auto), PERIOD)
    client.get(statement_url(auto), {**PERIOD, "format": "csv"})
    rows = AuditEvent.objects.filter(object_type="payer_statement", actor=cast["front_desk"])
    assert sorted((row.action, row.patient_id) for row in rows) == sorted(
        [
            ("view", patient.pk),
            ("view", other_patient.pk),
            ("export", patient.pk),
            ("export", other_patient.pk),
        ]
    )


def test_a_period_ending_before_it_starts_shows_a_message(cast, auto):
    response = signed_in(cast["front_desk"]).get(
        statement_url(auto), {"start": "2025-03-31", "end": "2025-03-01"}
    )
    assert response.status_code == 400
    assert "The end of the period cannot be before its start." in text_of(response)


def test_a_payers_cheque_pays_several_invoices_and_the_rest_stays_as_their_credit(
    cast, billed, auto
):
    first, third = billed["first"], billed["third"]
    client = signed_in(cast["front_desk"])
    page = text_of(client.get(payment_url(auto)))
    assert first.display_number in page and third.display_number in page
    assert billed["second"].display_number not in page  # credited in full: owes nothing

    response = client.post(
        payment_url(auto),
        {
            "source": "new",
            "method": PaymentMethod.CHEQUE,
            "amount": "150.00",
            "received_on": "2025-04-10",
            "reference": "CHQ 004512",
            f"invoice-{first.pk}": "80.00",
            f"invoice-{third.pk}": "30.00",
        },
    )

    assert response.status_code == 302
    payment = Payment.objects.get(reference="CHQ 004512")
    assert (payment.payer, payment.patient, payment.amount) == (auto, None, Decimal("150.00"))
    assert invoice_figures(first).payer_due == Decimal("0.00")
    assert invoice_figures(third).payer_due == Decimal("0.00")
    assert payment_left(payment) == Decimal("40.00")
    after = text_of(client.get(response["Location"]))
    assert (
        "110.00 put towards 2 invoices; 40.00 of this payment stays as Provincial Auto's credit"
        in after
    )
    assert first.display_number not in after and third.display_number not in after


def test_the_payers_credit_is_put_towards_an_invoice_later(cast, billed, auto, location, patient):
    cheque = payment_record(
        payer=auto,
        method=PaymentMethod.INSURER,
        amount=Decimal("100.00"),
        received_on=DAY,
        actor=cast["front_desk"],
    )
    first = billed["first"]
    client = signed_in(cast["owner"])
    assert "100.00 left of Insurer or third-party payment 100.00" in text_of(
        client.get(payment_url(auto))
    )

    response = client.post(
        payment_url(auto), {"source": str(cheque.pk), f"invoice-{first.pk}": "80.00"}
    )

    assert response.status_code == 302
    assert Payment.objects.filter(payer=auto).count() == 2  # no new payment was recorded
    assert payment_left(cheque) == Decimal("20.00")
    assert invoice_figures(first).payer_due == Decimal("0.00")


def test_putting_more_on_an_invoice_than_it_owes_is_shown_beside_it_and_records_nothing(
    cast, billed, auto
):
    first = billed["first"]
    before = (Payment.objects.count(), Allocation.objects.count())
    response = signed_in(cast["front_desk"]).post(
        payment_url(auto),
        {
            "source": "new",
            "method": PaymentMethod.CHEQUE,
            "amount": "500.00",
            "received_on": "2025-04-10",
            f"invoice-{first.pk}": "90.00",
        },
    )
    assert response.status_code == 400
    text = text_of(response)
    assert f"{first.display_number} owes 80.00; 90.00 is more than that." in text
    assert 'value="90.00"' in response.content.decode()
    assert (Payment.objects.count(), Allocation.objects.count()) == before


def test_more_put_towards_invoices_than_was_received_is_refused(cast, billed, auto):
    first, third = billed["first"], billed["third"]
    before = Payment.objects.count()
    response = signed_in(cast["front_desk"]).post(
        payment_url(auto),
        {
            "source": "new",
            "method": PaymentMethod.E_TRANSFER,
            "amount": "50.00",
            "received_on": "2025-04-10",
            f"invoice-{first.pk}": "40.00",
            f"invoice-{third.pk}": "30.00",
        },
    )
    assert response.status_code == 400
    assert "70.00 would be put towards invoices, but only 50.00 is available." in text_of(response)
    assert Payment.objects.count() == before


def test_a_payment_without_method_amount_or_a_readable_amount_shows_messages(cast, billed, auto):
    first = billed["first"]
    before = Payment.objects.count()
    response = signed_in(cast["front_desk"]).post(
        payment_url(auto), {"source": "new", "received_on": "", f"invoice-{first.pk}": "eighty"}
    )
    assert response.status_code == 400
    text = text_of(response)
    assert "Choose how the payer paid." in text
    assert "Give the amount received." in text
    assert "Give the day the money was received." in text
    assert "Give an amount in dollars and cents, such as 45.00." in text
    assert 'value="eighty"' in response.content.decode()
    assert Payment.objects.count() == before


def test_a_patient_method_is_not_offered_to_a_payer(cast, auto):
    response = signed_in(cast["front_desk"]).post(
        payment_url(auto),
        {
            "source": "new",
            "method": PaymentMethod.CASH,
            "amount": "10",
            "received_on": "2025-04-10",
        },
    )
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_the_payers_page_shows_what_each_payer_owes_and_links_to_its_statement_and_payment(
    cast, billed, auto, patient
):
    from imsclinic.billing.models import Payer

    maple = Payer.objects.get(name="Maple Life Extended Health")
    # An insurer with a policy and nothing billed yet, and one out of use that owes nothing.
    sun = payer(name="Sun Extended Health")
    policy(patient, sun, cast["front_desk"], member_number="SUN-1")
    Payer.objects.create(name="Old Mutual Benefits", kind="extended_health", is_active=False)
    client = signed_in(cast["front_desk"])
    invoices = client.get(reverse("billing_invoices")).content.decode()
    assert reverse("billing_payers") in invoices

    page = client.get(reverse("billing_payers"))
    text = text_of(page)
    body = page.content.decode()

    # Auto: billed 80 + 95 + 60 + 95 in April = 330.00, credited 95.00, paid 30.00.
    assert "Provincial Auto Auto insurance 330.00 95.00 30.00 205.00" in text
    assert "Maple Life Extended Health Extended health insurer 95.00 0.00 0.00 95.00" in text
    assert "Sun Extended Health Extended health insurer 0.00 0.00 0.00 0.00" in text
    assert "Old Mutual" not in text
    assert "Owed by all payers 300.00" in text
    for each in (auto, maple, sun):
        assert statement_url(each) in body
        assert payment_url(each) in body
    link = re.search(rf'href="({re.escape(statement_url(auto))}[^"]*)"', body)
    assert link is not None
    statement = client.get(html.unescape(link.group(1)))
    assert "Total 330.00 95.00 30.00 205.00" in text_of(statement)


@pytest.mark.parametrize("who", ["physio", "patient"])
def test_practitioners_and_patients_are_refused_the_payer_pages(cast, auto, who):
    client = signed_in(cast[who])
    assert client.get(statement_url(auto), PERIOD).status_code == 403
    assert client.get(reverse("billing_payers")).status_code == 403
    assert client.post(payment_url(auto), {"source": "new"}).status_code == 403
    assert not Payment.objects.exists()


def test_a_claim_visit_is_split_and_each_share_is_paid_end_to_end(
    cast, patient, location, physio, front_desk, auto
):
    client = signed_in(front_desk)
    client.post(
        reverse("billing_patient_cover", args=[patient.pk]),
        {
            "action": "claim_open",
            "claim-payer": auto.pk,
            "claim-claim_number": "AUTO-E2E",
            "claim-authorised_visits": "6",
            "claim-payer_share_percent": "80",
        },
    )
    service = Service.objects.create(
        name="Physiotherapy treatment",
        slug="physio-treatment",
        duration_minutes=30,
        price=Decimal("120.00"),
        room_kind=Service.RoomKind.NONE,
    )
    start = timezone.now() - dt.timedelta(minutes=20)
    visit = Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=30),
        status=AppointmentStatus.IN_TREATMENT,
    )
    appointment_set_status(appointment=visit, status=AppointmentStatus.COMPLETED, actor=physio)

    invoice = Invoice.objects.get(appointment=visit)
    assert invoice.claim is not None
    assert (
        invoice.claim.claim_number,
        invoice.payer,
        invoice.payer_share,
        invoice.patient_share,
    ) == (
        "AUTO-E2E",
        auto,
        Decimal("96.00"),
        Decimal("24.00"),
    )
    invoice_issue(invoice=invoice, actor=front_desk)
    payment_record(
        patient=patient,
        method=PaymentMethod.DEBIT,
        amount=Decimal("24.00"),
        received_on=local_today(invoice.location),
        allocations=[Apply(invoice=invoice, amount=Decimal("24.00"))],
        actor=front_desk,
    )
    paid = client.post(
        payment_url(auto),
        {
            "source": "new",
            "method": PaymentMethod.INSURER,
            "amount": "96.00",
            "received_on": local_today(invoice.location).isoformat(),
            "reference": "EFT 88120",
            f"invoice-{invoice.pk}": "96.00",
        },
    )

    assert paid.status_code == 302
    figures = invoice_figures(invoice)
    assert (figures.paid_by_patient, figures.paid_by_payer, figures.outstanding) == (
        Decimal("24.00"),
        Decimal("96.00"),
        Decimal("0.00"),
    )
    cover = text_of(client.get(reverse("billing_patient_cover", args=[patient.pk])))
    assert "Visits used 1 (1 invoiced, 0 booked)" in cover
    assert "Billed to the payer 96.00" in cover and "Payer still owes 0.00" in cover


def test_a_payers_overpayment_is_given_back_the_way_it_came_by_the_desk_only(cast, auto):
    cheque = payment_record(
        payer=auto,
        method=PaymentMethod.CHEQUE,
        amount=Decimal("150.00"),
        received_on=DAY,
        reference="CHQ 4471",
        actor=cast["front_desk"],
    )
    refund_url = reverse("billing_refund", args=[cheque.pk])
    desk = signed_in(cast["front_desk"])
    page = text_of(desk.get(payment_url(auto)))
    assert "Provincial Auto's credit" in page and "150.00 not put towards an invoice" in page
    assert refund_url in desk.get(payment_url(auto)).content.decode()

    for someone in ("physio", "patient", "other_patient"):
        refused = signed_in(cast[someone]).post(
            refund_url, {"amount": "150.00", "reason": "Paid twice", "refunded_on": DAY}
        )
        assert refused.status_code in (403, 404), someone
    assert payment_left(cheque) == Decimal("150.00")

    response = desk.post(
        refund_url,
        {"amount": "150.00", "reason": "Paid twice", "refunded_on": DAY, "reference": "CHQ 90"},
    )

    assert response.status_code == 302
    assert response["Location"] == payment_url(auto)
    refund = cheque.refunds.get()
    assert (refund.amount, refund.method) == (Decimal("150.00"), PaymentMethod.CHEQUE)
    assert payment_left(cheque) == Decimal("0.00")
    assert "Provincial Auto's credit" not in text_of(desk.get(payment_url(auto)))
