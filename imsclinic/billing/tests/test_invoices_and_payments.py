"""Invoices are numbered without gaps, never change once issued, and payments add up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from imsclinic.billing.errors import BillingRefused, InvoiceLocked, OverAllocated
from imsclinic.billing.models import (
    Invoice,
    InvoiceLine,
    ItemKind,
    Payment,
    PaymentMethod,
    TaxRate,
)
from imsclinic.billing.selectors import balances_for, invoice_figures, patient_account
from imsclinic.billing.services.invoices import (
    LineEntry,
    credit_note_issue,
    invoice_add_line,
    invoice_create,
    invoice_issue,
)
from imsclinic.billing.services.payments import (
    Apply,
    credit_apply,
    payment_record,
    refund_issue,
)
from tests.factories.billing import DAY, issued_invoice, payer, product

pytestmark = pytest.mark.django_db


def test_issued_invoices_take_consecutive_numbers(patient, location, front_desk):
    first = issued_invoice(patient, location, front_desk)
    second = issued_invoice(patient, location, front_desk)
    assert first.number is not None
    assert second.number == first.number + 1
    assert first.display_number == f"INV-{first.number:06d}"


def test_a_draft_has_no_number_and_issuing_an_empty_one_is_refused(patient, location, front_desk):
    draft = invoice_create(patient=patient, location=location, actor=front_desk, service_date=DAY)
    assert draft.number is None
    with pytest.raises(BillingRefused):
        invoice_issue(invoice=draft, actor=front_desk)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_product_line_is_taxed_once_half_up_and_the_service_line_is_not(
    patient, location, front_desk
):
    TaxRate.objects.create(
        location=location, item_kind=ItemKind.PRODUCT, name="GST", rate_percent=Decimal("5")
    )
    tape = product(price="12.50")
    draft = invoice_create(patient=patient, location=location, actor=front_desk, service_date=DAY)
    invoice_add_line(
        invoice=draft,
        entry=LineEntry(description="IMS", unit_price=Decimal("95"), item_kind="service"),
        actor=front_desk,
    )
    line = invoice_add_line(
        invoice=draft, entry=LineEntry(product=tape, quantity=Decimal("3")), actor=front_desk
    )
    # 3 x 12.50 = 37.50; 5% of it is 1.875, which rounds half-up to 1.88.
    assert (line.amount, line.tax_amount, line.tax_name) == (
        Decimal("37.50"),
        Decimal("1.88"),
        "GST",
    )
    draft.refresh_from_db()
    assert (draft.subtotal, draft.tax_total, draft.total) == (
        Decimal("132.50"),
        Decimal("1.88"),
        Decimal("134.38"),
    )


def test_an_issued_invoice_cannot_gain_a_line(patient, location, front_desk):
    invoice = issued_invoice(patient, location, front_desk)
    with pytest.raises(InvoiceLocked):
        invoice_add_line(
            invoice=invoice,
            entry=LineEntry(description="More", unit_price=Decimal("1")),
            actor=front_desk,
        )


def test_the_database_refuses_to_change_or_delete_an_issued_invoice(patient, location, front_desk):
    invoice = issued_invoice(patient, location, front_desk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(
            total=Decimal("1.00"), subtotal=Decimal("1.00")
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.filter(invoice=invoice).update(description="changed")
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).delete()
    invoice.refresh_from_db()
    assert invoice.total == Decimal("95.00")


def test_the_database_refuses_to_change_a_payment(patient, location, front_desk):
    payment = payment_record(
        patient=patient,
        method=PaymentMethod.CASH,
        amount=Decimal("20"),
        received_on=DAY,
        actor=front_desk,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(amount=Decimal("2000"))


def test_one_payment_across_two_invoices_leaves_the_rest_as_credit(patient, location, front_desk):
    first = issued_invoice(patient, location, front_desk, prices=("95.00",))
    second = issued_invoice(patient, location, front_desk, prices=("60.00",))
    payment_record(
        patient=patient,
        method=PaymentMethod.DEBIT,
        amount=Decimal("200"),
        received_on=DAY,
        actor=front_desk,
        allocations=[Apply(first, Decimal("95")), Apply(second, Decimal("60"))],
    )
    assert invoice_figures(first).outstanding == 0
    assert invoice_figures(second).outstanding == 0
    account = patient_account(patient)
    assert account.credit == Decimal("45.00")
    assert account.balance == Decimal("-45.00")


def test_a_payment_is_never_put_towards_more_than_an_invoice_owes(patient, location, front_desk):
    invoice = issued_invoice(patient, location, front_desk, prices=("95.00",))
    with pytest.raises(OverAllocated):
        payment_record(
            patient=patient,
            method=PaymentMethod.CASH,
            amount=Decimal("100"),
            received_on=DAY,
            actor=front_desk,
            allocations=[Apply(invoice, Decimal("100"))],
        )
    assert not Payment.objects.exists()


def test_a_payment_cannot_pay_another_patients_invoice(
    patient, other_patient, location, front_desk
):
    theirs = issued_invoice(other_patient, location, front_desk)
    with pytest.raises(OverAllocated):
        payment_record(
            patient=patient,
            method=PaymentMethod.CASH,
            amount=Decimal("95"),
            received_on=DAY,
            actor=front_desk,
            allocations=[Apply(theirs, Decimal("95"))],
        )


def test_a_split_invoice_is_paid_in_two_shares(patient, location, front_desk):
    insurer = payer()
    invoice = issued_invoice(
        patient, location, front_desk, prices=("100.00",), billed_to=insurer, payer_share="80"
    )
    payment_record(
        patient=patient,
        method=PaymentMethod.CASH,
        amount=Decimal("20"),
        received_on=DAY,
        actor=front_desk,
        allocations=[Apply(invoice, Decimal("20"))],
    )
    figures = invoice_figures(invoice)
    assert (figures.patient_due, figures.payer_due) == (0, Decimal("80.00"))
    payment_record(
        payer=insurer,
        method=PaymentMethod.INSURER,
        amount=Decimal("80"),
        received_on=DAY,
        actor=front_desk,
        allocations=[Apply(invoice, Decimal("80"))],
    )
    assert invoice_figures(invoice).outstanding == 0
    assert patient_account(patient).balance == 0


def test_a_credit_note_on_a_paid_invoice_returns_the_money_to_credit_and_it_can_be_refunded(
    patient, location, front_desk
):
    invoice = issued_invoice(patient, location, front_desk, prices=("95.00",))
    payment = payment_record(
        patient=patient,
        method=PaymentMethod.CREDIT_CARD,
        amount=Decimal("95"),
        received_on=DAY,
        actor=front_desk,
        allocations=[Apply(invoice, Decimal("95"))],
    )
    note = credit_note_issue(invoice=invoice, amounts=None, reason="Billed twice", actor=front_desk)
    assert note.display_number.startswith("CN-")
    assert note.total == Decimal("95.00")
    assert invoice_figures(invoice).outstanding == 0
    assert patient_account(patient).credit == Decimal("95.00")
    refund = refund_issue(
        payment=payment,
        amount=Decimal("95"),
        reason="Billed twice",
        refunded_on=DAY,
        actor=front_desk,
    )
    assert refund.method == PaymentMethod.CREDIT_CARD
    assert patient_account(patient).balance == 0


def test_nothing_more_than_is_left_can_be_credited(patient, location, front_desk):
    invoice = issued_invoice(patient, location, front_desk, prices=("95.00",))
    credit_note_issue(invoice=invoice, amounts=None, reason="Wrong service", actor=front_desk)
    with pytest.raises(BillingRefused):
        credit_note_issue(invoice=invoice, amounts=None, reason="Again", actor=front_desk)


def test_credit_notes_in_small_steps_take_back_each_share_exactly_to_the_cent(
    patient, location, front_desk
):
    # 182.09 split 80% with an insurer: 145.67 theirs, 36.42 the patient's. Two credits of
    # 0.03 and then the rest, each rounded on its own, would give the insurer back 145.66.
    insurer = payer()
    invoice = issued_invoice(
        patient, location, front_desk, prices=("182.09",), billed_to=insurer, payer_share="145.67"
    )
    line = invoice.lines.get()
    for _ in range(2):
        credit_note_issue(
            invoice=invoice, amounts={line.pk: Decimal("0.03")}, reason="Part", actor=front_desk
        )
    credit_note_issue(invoice=invoice, amounts=None, reason="The rest", actor=front_desk)

    figures = invoice_figures(invoice)
    assert figures.credited == Decimal("182.09")
    assert figures.credited_payer == Decimal("145.67")
    assert (figures.patient_due, figures.payer_due) == (Decimal("0.00"), Decimal("0.00"))


def test_account_credit_pays_a_later_invoice(patient, location, front_desk):
    payment_record(
        patient=patient,
        method=PaymentMethod.E_TRANSFER,
        amount=Decimal("50"),
        received_on=DAY,
        actor=front_desk,
    )
    invoice = issued_invoice(patient, location, front_desk, prices=("95.00",))
    credit_apply(invoice=invoice, amount=None, actor=front_desk)
    assert invoice_figures(invoice).patient_due == Decimal("45.00")
    assert patient_account(patient).credit == 0


def test_a_refund_cannot_take_back_money_already_paid_towards_an_invoice(
    patient, location, front_desk
):
    invoice = issued_invoice(patient, location, front_desk, prices=("95.00",))
    payment = payment_record(
        patient=patient,
        method=PaymentMethod.CASH,
        amount=Decimal("95"),
        received_on=DAY,
        actor=front_desk,
        allocations=[Apply(invoice, Decimal("95"))],
    )
    with pytest.raises(BillingRefused):
        refund_issue(
            payment=payment, amount=Decimal("10"), reason="x", refunded_on=DAY, actor=front_desk
        )


def test_the_services_refuse_a_practitioner_or_a_patient_whatever_calls_them(
    patient, patient_user, location, front_desk, physio
):
    from django.core.exceptions import PermissionDenied

    invoice = issued_invoice(patient, location, front_desk, prices=("95.00",))
    for someone in (physio, patient_user):
        with pytest.raises(PermissionDenied):
            payment_record(
                patient=patient,
                method=PaymentMethod.CASH,
                amount=Decimal("95"),
                received_on=DAY,
                actor=someone,
                allocations=[Apply(invoice, Decimal("95"))],
            )
        with pytest.raises(PermissionDenied):
            credit_note_issue(invoice=invoice, amounts=None, reason="Mine", actor=someone)
        with pytest.raises(PermissionDenied):
            invoice_create(patient=patient, location=location, actor=someone, service_date=DAY)
    assert not Payment.objects.exists()
    assert invoice_figures(invoice).outstanding == Decimal("95.00")


def test_a_balance_adds_up_to_the_cent_however_the_database_stores_amounts(
    patient, location, front_desk
):
    invoice = issued_invoice(patient, location, front_desk, prices=("0.30",))
    for part in ("0.10", "0.20"):
        payment_record(
            patient=patient,
            method=PaymentMethod.CASH,
            amount=Decimal(part),
            received_on=DAY,
            actor=front_desk,
            allocations=[Apply(invoice, Decimal(part))],
        )
    credit_note_issue(invoice=invoice, amounts=None, reason="Wrong patient", actor=front_desk)
    # The invoice's allocations now add up to 0.10 + 0.20 - 0.20 - 0.10, which SQLite's
    # binary floats make 2.8e-17 unless the sum is rounded to the cent.
    figures = invoice_figures(invoice)
    account = patient_account(patient)
    assert (figures.paid_by_patient, figures.outstanding) == (0, 0)
    assert (account.credit, account.balance) == (Decimal("0.30"), Decimal("-0.30"))
    assert balances_for([patient.pk])[patient.pk] == Decimal("-0.30")
