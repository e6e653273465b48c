"""On PostgreSQL, desks issuing at the same moment share no number and skip none.

Each thread is a front-desk computer with its own connection; a barrier lets them all issue
at once. Invoices and credit notes are each numbered 1, 2, 3 ... in their own series, even
when the series' counter does not exist yet, and a number taken by a transaction that then
fails goes to the next desk instead of leaving a gap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection, transaction

from imsclinic.accounts.models import User
from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import (
    DocumentSeries,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    NumberCounter,
)
from imsclinic.billing.services.invoices import (
    LineEntry,
    credit_note_issue,
    invoice_add_line,
    invoice_create,
    invoice_issue,
)
from imsclinic.clinic.models import Location
from imsclinic.patients.models import Patient
from tests.factories.billing import DAY, issued_invoice

DESKS = 8


class Failed(Exception):
    """What went wrong after the number was taken, so the whole transaction rolls back."""


def at_once(work: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    """Run each piece of work in its own thread and connection, all released together."""
    barrier = threading.Barrier(len(work))
    done: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            result = job()
            with lock:
                done.append(result)
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done, errors


def draft(patient: Patient, location: Location, desk: User, price: str = "95.00") -> Invoice:
    invoice = invoice_create(patient=patient, location=location, actor=desk, service_date=DAY)
    invoice_add_line(
        invoice=invoice,
        entry=LineEntry(
            description="IMS follow-up", unit_price=Decimal(price), item_kind="service"
        ),
        actor=desk,
    )
    return invoice


def numbers(kind: str) -> list[int]:
    issued = Invoice.objects.filter(kind=kind, status=InvoiceStatus.ISSUED)
    return sorted(number for number in issued.values_list("number", flat=True) if number)


def last_number(series: str) -> int:
    counter = NumberCounter.objects.filter(series=series).first()
    return counter.last_number if counter is not None else 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_desks_issuing_at_once_take_numbers_one_to_eight(
    patient: Patient, location: Location, front_desk: User
) -> None:
    # The transactional test starts from empty tables: no counter row yet, so the first
    # issues also race to create it.
    NumberCounter.objects.filter(series=DocumentSeries.INVOICE).delete()
    drafts = [draft(patient, location, front_desk) for _ in range(DESKS)]
    done, errors = at_once([partial(invoice_issue, invoice=d, actor=front_desk) for d in drafts])
    assert errors == []
    assert len(done) == DESKS
    assert numbers(InvoiceKind.INVOICE) == list(range(1, DESKS + 1))
    assert last_number(DocumentSeries.INVOICE) == DESKS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_number_taken_by_a_desk_whose_transaction_fails_goes_to_the_next_desk(
    patient: Patient, location: Location, front_desk: User
) -> None:
    before = issued_invoice(patient, location, front_desk)
    start = before.number
    assert start is not None
    drafts = [draft(patient, location, front_desk) for _ in range(DESKS)]

    def issue_then_fail(invoice: Invoice) -> Invoice:
        with transaction.atomic():
            issued = invoice_issue(invoice=invoice, actor=front_desk)
            raise Failed(f"the card reader failed after {issued.display_number}")

    work: list[Callable[[], object]] = [
        partial(issue_then_fail, d)
        if n % 3 == 0
        else partial(invoice_issue, invoice=d, actor=front_desk)
        for n, d in enumerate(drafts)
    ]
    done, errors = at_once(work)
    failed = sum(1 for n in range(DESKS) if n % 3 == 0)
    assert len(errors) == failed and all(isinstance(e, Failed) for e in errors)
    assert numbers(InvoiceKind.INVOICE) == list(range(start, start + len(done) + 1))
    assert Invoice.objects.filter(status=InvoiceStatus.DRAFT).count() == failed
    assert last_number(DocumentSeries.INVOICE) == start + len(done)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_desks_crediting_at_once_take_credit_note_numbers_one_to_eight(
    patient: Patient, location: Location, front_desk: User
) -> None:
    NumberCounter.objects.filter(series=DocumentSeries.CREDIT_NOTE).delete()
    invoices = [issued_invoice(patient, location, front_desk) for _ in range(DESKS)]
    done, errors = at_once(
        [
            partial(
                credit_note_issue,
                invoice=i,
                amounts=None,
                reason="Billed twice",
                actor=front_desk,
            )
            for i in invoices
        ]
    )
    assert errors == []
    assert len(done) == DESKS
    assert numbers(InvoiceKind.CREDIT_NOTE) == list(range(1, DESKS + 1))
    # The invoice series is untouched by credit notes.
    assert numbers(InvoiceKind.INVOICE) == list(range(1, DESKS + 1))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_desks_crediting_the_same_invoice_in_full_at_once_credit_it_once(
    patient: Patient, location: Location, front_desk: User
) -> None:
    invoice = issued_invoice(patient, location, front_desk, prices=("95.00", "20.00"))
    done, errors = at_once(
        [
            lambda: credit_note_issue(
                invoice=invoice, amounts=None, reason="Wrong patient", actor=front_desk
            )
            for _ in range(DESKS)
        ]
    )
    assert len(done) == 1
    assert len(errors) == DESKS - 1 and all(isinstance(e, BillingRefused) for e in errors)
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.total == Decimal("115.00")
    assert numbers(InvoiceKind.CREDIT_NOTE) == [note.number]
    assert last_number(DocumentSeries.CREDIT_NOTE) == note.number
