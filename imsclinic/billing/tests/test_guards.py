"""The database itself refuses to change or delete money that is on the books.

Whatever goes around the services (a console, a raw statement, a bug), an issued invoice,
its lines, payments, allocations, refunds and receipts stay as they were written; a draft
is still worked on through the services. Both databases run these: their guards differ.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from imsclinic.billing.models import (
    Allocation,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    Receipt,
    Refund,
)
from imsclinic.billing.services.invoices import (
    LineEntry,
    credit_note_issue,
    invoice_add_line,
    invoice_create,
    invoice_discard,
    invoice_remove_line,
)
from imsclinic.billing.services.payments import Apply, payment_record, refund_issue
from tests.factories.billing import DAY, issued_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(patient, location, front_desk) -> dict[str, int]:
    """An issued invoice paid in part, a refund of the rest of its payment, and a receipt."""
    invoice = issued_invoice(patient, location, front_desk, prices=("95.00", "20.00"))
    payment = payment_record(
        patient=patient,
        method=PaymentMethod.DEBIT,
        amount=Decimal("100"),
        received_on=DAY,
        actor=front_desk,
        allocations=[Apply(invoice, Decimal("90"))],
    )
    refund = refund_issue(
        payment=payment, amount=Decimal("10"), reason="Overpaid", refunded_on=DAY, actor=front_desk
    )
    receipt = Receipt.objects.create(number=1, patient=patient, payment=payment)
    return {
        "billing_invoice": invoice.pk,
        "billing_invoiceline": invoice.lines.first().pk,  # type: ignore[union-attr]
        "billing_payment": payment.pk,
        "billing_allocation": Allocation.objects.get(payment=payment).pk,
        "billing_refund": refund.pk,
        "billing_receipt": receipt.pk,
    }


# (table, a column and a value to write over it)
CHANGES = [
    ("billing_invoice", "total", "1.00"),
    ("billing_invoice", "reason", "changed"),
    ("billing_invoiceline", "description", "changed"),
    ("billing_invoiceline", "amount", "0.01"),
    ("billing_payment", "amount", "1000.00"),
    ("billing_payment", "method", "cash"),
    ("billing_allocation", "amount", "1.00"),
    ("billing_refund", "amount", "1.00"),
    ("billing_receipt", "number", "99"),
]


def raw(sql: str, params: list[Any]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def snapshot(table: str, pk: int) -> tuple[object, ...]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        return tuple(cursor.fetchone())


@pytest.mark.parametrize(("table", "column", "value"), CHANGES)
def test_a_raw_update_of_money_on_the_books_is_refused(books, table, column, value):
    before = snapshot(table, books[table])
    with pytest.raises(IntegrityError):
        raw(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, books[table]])
    assert snapshot(table, books[table]) == before


@pytest.mark.parametrize("table", sorted({table for table, _c, _v in CHANGES}))
def test_a_raw_delete_of_money_on_the_books_is_refused(books, table):
    with pytest.raises(IntegrityError):
        raw(f"DELETE FROM {table} WHERE id = %s", [books[table]])
    assert snapshot(table, books[table])


def test_a_line_cannot_be_slipped_into_an_issued_invoice(books):
    line = InvoiceLine.objects.get(pk=books["billing_invoiceline"])
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(
            invoice_id=books["billing_invoice"],
            position=9,
            item_kind="service",
            description="Slipped in",
            unit_price=Decimal("5"),
            amount=Decimal("5"),
        )
    assert InvoiceLine.objects.filter(invoice_id=books["billing_invoice"]).count() == 2
    assert line.invoice.total == Decimal("115.00")


def test_the_orm_is_refused_the_same_as_raw_statements(books):
    for model, table in ((Invoice, "billing_invoice"), (Refund, "billing_refund")):
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.filter(pk=books[table]).delete()
        assert model.objects.filter(pk=books[table]).exists()


def test_a_credit_note_is_on_the_books_as_soon_as_it_is_issued(patient, location, front_desk):
    invoice = issued_invoice(patient, location, front_desk)
    note = credit_note_issue(
        invoice=invoice, amounts=None, reason="Wrong patient", actor=front_desk
    )
    with pytest.raises(IntegrityError):
        raw("UPDATE billing_invoice SET total = %s WHERE id = %s", ["0.00", note.pk])
    with pytest.raises(IntegrityError):
        raw("DELETE FROM billing_invoiceline WHERE invoice_id = %s", [note.pk])
    note.refresh_from_db()
    assert note.total == Decimal("95.00") and note.lines.count() == 1


def test_a_drafts_lines_still_change_through_the_services(patient, location, front_desk):
    draft = invoice_create(patient=patient, location=location, actor=front_desk, service_date=DAY)
    first = invoice_add_line(
        invoice=draft,
        entry=LineEntry(description="IMS", unit_price=Decimal("95"), item_kind="service"),
        actor=front_desk,
    )
    invoice_add_line(
        invoice=draft,
        entry=LineEntry(description="Tape", unit_price=Decimal("12.50"), item_kind="product"),
        actor=front_desk,
    )
    invoice_remove_line(line=first, actor=front_desk)
    draft.refresh_from_db()
    assert list(draft.lines.values_list("description", flat=True)) == ["Tape"]
    assert draft.total == Decimal("12.50")


def test_a_discarded_draft_never_changes_again(patient, location, front_desk):
    draft = invoice_create(patient=patient, location=location, actor=front_desk, service_date=DAY)
    line = invoice_add_line(
        invoice=draft,
        entry=LineEntry(description="IMS", unit_price=Decimal("95"), item_kind="service"),
        actor=front_desk,
    )
    invoice_discard(invoice=draft, reason="Opened by mistake", actor=front_desk)
    with pytest.raises(IntegrityError):
        raw("UPDATE billing_invoice SET status = 'draft' WHERE id = %s", [draft.pk])
    with pytest.raises(IntegrityError):
        raw("DELETE FROM billing_invoiceline WHERE id = %s", [line.pk])
    draft.refresh_from_db()
    assert draft.status == "discarded"
