"""An official receipt's content, read from the rows it covers, and its PDF and email.

A receipt is what a patient sends their extended-health insurer: the clinic's legal name,
address and business number; the patient's name; for each visit (an invoice) its date of
service, the location where it was given, the practitioner's full name, profession and
college registration, the services, what was charged and what the patient paid; the dates
and methods of the patient's payments; the receipt's number, the day it was issued and the
currency. An insurer's own payment on a visit is not the patient's expense: it is shown
apart and never counted as paid. Missed-visit fees are not treatment and are left out.

Each dollar the patient paid is on one receipt only, so a visit cannot be claimed twice: a
receipt covers what its payment or period held less what the patient's earlier receipts
covered, per (invoice, payment) (`ReceiptLedger`). The content is read as it stood when the
receipt was issued (allocations and credit notes recorded up to `issued_at`, receipts
numbered before it), so a copy printed next year says what the original said.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from imsclinic.billing.documents import location_address
from imsclinic.billing.models import (
    ZERO,
    Allocation,
    Invoice,
    InvoiceKind,
    InvoicePurpose,
    InvoiceStatus,
    Payment,
    Receipt,
)
from imsclinic.billing.selectors import money_sum
from imsclinic.clinic.models import Clinic
from imsclinic.clinic.selectors import clinic_zone

if TYPE_CHECKING:
    from imsclinic.billing.models import ReceiptDelivery

# WeasyPrint reports each layout step at INFO; the logs need none of that.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


@dataclass(frozen=True)
class ReceiptRow:
    """One visit or sale on the receipt: when, by whom, what, charged and paid."""

    invoice_number: str
    service_date: dt.date
    location_name: str
    location_address: str
    practitioner_name: str
    profession: str
    registration_number: str
    registration_body: str
    services: tuple[str, ...]
    charged: Decimal
    paid: Decimal
    paid_by_insurer: Decimal
    paid_earlier: Decimal
    paid_earlier_on: tuple[str, ...]


@dataclass(frozen=True)
class ReceiptPayment:
    """One of the patient's payments: when, how, and how much of it these services took."""

    received_on: dt.date
    method: str
    reference: str
    amount: Decimal


@dataclass(frozen=True)
class ReceiptContent:
    number: str
    issued_on: dt.date
    clinic_name: str
    clinic_address: tuple[str, ...]
    business_number: str
    currency: str
    patient_name: str
    period_start: dt.date | None
    period_end: dt.date | None
    rows: tuple[ReceiptRow, ...]
    payments: tuple[ReceiptPayment, ...]

    @property
    def total_charged(self) -> Decimal:
        return sum((row.charged for row in self.rows), ZERO)

    @property
    def total_paid(self) -> Decimal:
        return sum((row.paid for row in self.rows), ZERO)

    @property
    def total_paid_by_insurer(self) -> Decimal:
        return sum((row.paid_by_insurer for row in self.rows), ZERO)

    @property
    def service_locations(self) -> tuple[tuple[str, str], ...]:
        """Return the (name, address) of each location where these services were given."""
        return tuple(dict.fromkeys((row.location_name, row.location_address) for row in self.rows))

    @property
    def location_apart(self) -> tuple[str, str] | None:
        """Return the one location of every service when the issuer's address is another."""
        locations = self.service_locations
        if len(locations) == 1 and locations[0][1] not in self.clinic_address:
            return locations[0]
        return None


Pair = tuple[int, int]
"""An (invoice id, payment id): how much of one payment went towards one visit."""


@dataclass(frozen=True)
class _Paid:
    invoice_id: int
    payment_id: int
    amount: Decimal
    created_at: dt.datetime


@dataclass(frozen=True)
class ReceiptCover:
    """What a receipt covers: what it receipts for the first time, and what earlier ones did.

    `paid` is, per (invoice, payment), what no earlier receipt of the patient covered;
    `invoices` its rows: each invoice with what it newly receipts (a period's unpaid visits
    with 0.00); `paid_earlier` and `earlier_on`, per invoice, what earlier receipts already
    covered of it and their numbers; `earlier` those receipts, in issue order.
    """

    paid: dict[Pair, Decimal]
    invoices: dict[int, Decimal]
    paid_earlier: dict[int, Decimal]
    earlier_on: dict[int, tuple[str, ...]]
    earlier: tuple[Receipt, ...]

    @property
    def total(self) -> Decimal:
        return sum(self.paid.values(), ZERO)


class ReceiptLedger:
    """A patient's own payments towards their visits, read once, and what receipts covered.

    Each dollar is receipted as an original once: walking the patient's receipts in issue
    order (their numbers), each one covers what its payment or period held when it was
    issued, less what the receipts before it covered, per (invoice, payment). `before`: only
    the receipts numbered below it count (reading an existing receipt as it was issued);
    `as_of`: only the payments and invoices recorded by then.
    """

    def __init__(self, *, patient_id: int, as_of: dt.datetime, before: int | None = None) -> None:
        self.as_of = as_of
        invoices = Invoice.objects.filter(
            patient_id=patient_id,
            kind=InvoiceKind.INVOICE,
            status=InvoiceStatus.ISSUED,
            issued_at__lte=as_of,
        ).exclude(purpose=InvoicePurpose.FEE)  # a missed visit's fee is not treatment
        self._invoices: dict[int, tuple[dt.date, dt.datetime | None]] = {
            pk: (service_date, issued_at)
            for pk, service_date, issued_at in invoices.values_list(
                "pk", "service_date", "issued_at"
            )
        }
        self._paid = [
            _Paid(invoice_id, payment_id, amount, created_at)
            for invoice_id, payment_id, amount, created_at in Allocation.objects.filter(
                invoice_id__in=invoices.values("pk"),
                payment__patient_id=patient_id,
                created_at__lte=as_of,
            )
            .order_by("created_at", "pk")
            .values_list("invoice_id", "payment_id", "amount", "created_at")
        ]
        earlier = Receipt.objects.filter(patient_id=patient_id).order_by("number")
        if before is not None:
            earlier = earlier.filter(number__lt=before)
        # What receipts covered so far per pair, and which receipts: with each receipt
        # covering its amount less what came before, the running total is the largest
        # amount any one of them held.
        self._covered: dict[Pair, Decimal] = {}
        self._covered_on: dict[Pair, list[Receipt]] = {}
        for receipt in earlier:
            held = self._held(
                payment_id=receipt.payment_id,
                period=(
                    (receipt.period_start, receipt.period_end)
                    if receipt.period_start is not None and receipt.period_end is not None
                    else None
                ),
                as_of=receipt.issued_at,
            )
            for pair, amount in held.items():
                if amount > self._covered.get(pair, ZERO):
                    self._covered[pair] = amount
                    self._covered_on.setdefault(pair, []).append(receipt)

    def _in_period(
        self, invoice_id: int, period: tuple[dt.date, dt.date] | None, as_of: dt.datetime
    ) -> bool:
        if period is None:
            return True
        service_date, issued_at = self._invoices[invoice_id]
        return (
            period[0] <= service_date <= period[1] and issued_at is not None and issued_at <= as_of
        )

    def _held(
        self,
        *,
        payment_id: int | None,
        period: tuple[dt.date, dt.date] | None,
        as_of: dt.datetime,
    ) -> dict[Pair, Decimal]:
        """Return what the payment (or the period's visits) held per pair, net, at `as_of`."""
        held: dict[Pair, Decimal] = {}
        for paid in self._paid:
            if paid.created_at > as_of:
                continue
            if payment_id is not None and paid.payment_id != payment_id:
                continue
            if not self._in_period(paid.invoice_id, period, as_of):
                continue
            pair = (paid.invoice_id, paid.payment_id)
            held[pair] = held.get(pair, ZERO) + paid.amount
        return held

    def cover(
        self,
        *,
        payment_id: int | None = None,
        period: tuple[dt.date, dt.date] | None = None,
    ) -> ReceiptCover:
        """Return what a receipt for this payment or period covers at the ledger's `as_of`."""
        held = self._held(payment_id=payment_id, period=period, as_of=self.as_of)
        paid: dict[Pair, Decimal] = {}
        invoices: dict[int, Decimal] = {}
        paid_earlier: dict[int, Decimal] = {}
        earlier_on: dict[int, list[str]] = {}
        earlier: dict[int, Receipt] = {}
        for pair, amount in held.items():
            if amount <= 0:
                continue
            before = min(self._covered.get(pair, ZERO), amount)
            invoice_id = pair[0]
            if before > 0:
                paid_earlier[invoice_id] = paid_earlier.get(invoice_id, ZERO) + before
                for receipt in self._covered_on[pair]:
                    earlier[receipt.number] = receipt
                    if receipt.display_number not in earlier_on.setdefault(invoice_id, []):
                        earlier_on[invoice_id].append(receipt.display_number)
            if amount > before:
                paid[pair] = amount - before
                invoices[invoice_id] = invoices.get(invoice_id, ZERO) + amount - before
        if period is not None:
            # A visit of the period nothing was paid for is listed with what it charged.
            for invoice_id in self._invoices:
                if (
                    invoice_id not in invoices
                    and invoice_id not in paid_earlier
                    and self._in_period(invoice_id, period, self.as_of)
                ):
                    invoices[invoice_id] = ZERO
        return ReceiptCover(
            paid=paid,
            invoices=invoices,
            paid_earlier=paid_earlier,
            earlier_on={pk: tuple(numbers) for pk, numbers in earlier_on.items()},
            earlier=tuple(earlier[number] for number in sorted(earlier)),
        )


def _credited(invoice_ids: list[int], as_of: dt.datetime) -> dict[int, Decimal]:
    return dict(
        Invoice.objects.filter(
            corrects_id__in=invoice_ids,
            kind=InvoiceKind.CREDIT_NOTE,
            status=InvoiceStatus.ISSUED,
            issued_at__lte=as_of,
        )
        .values("corrects_id")
        .annotate(s=money_sum("total"))
        .values_list("corrects_id", "s")
    )


def _paid_by_insurers(invoice_ids: list[int], as_of: dt.datetime) -> dict[int, Decimal]:
    return dict(
        Allocation.objects.filter(
            invoice_id__in=invoice_ids, payment__payer__isnull=False, created_at__lte=as_of
        )
        .values("invoice_id")
        .annotate(s=money_sum("amount"))
        .values_list("invoice_id", "s")
    )


def _payments(paid: dict[Pair, Decimal], invoice_ids: set[int]) -> tuple[ReceiptPayment, ...]:
    amounts: dict[int, Decimal] = {}
    for (invoice_id, payment_id), amount in paid.items():
        if invoice_id in invoice_ids:
            amounts[payment_id] = amounts.get(payment_id, ZERO) + amount
    payments = Payment.objects.filter(pk__in=amounts).order_by("received_on", "pk")
    return tuple(
        ReceiptPayment(
            received_on=payment.received_on,
            method=payment.get_method_display(),
            reference=payment.reference,
            amount=amounts[payment.pk],
        )
        for payment in payments
        if amounts[payment.pk] > 0
    )


def receipt_period(receipt: Receipt) -> tuple[dt.date, dt.date] | None:
    if receipt.period_start is not None and receipt.period_end is not None:
        return (receipt.period_start, receipt.period_end)
    return None


def receipt_content(receipt: Receipt) -> ReceiptContent:
    """Read what the receipt says, as it stood when it was issued.

    It depends only on rows recorded by `issued_at` and on the receipts numbered before it,
    so nothing issued later changes it.
    """
    cover = ReceiptLedger(
        patient_id=receipt.patient_id, as_of=receipt.issued_at, before=receipt.number
    ).cover(payment_id=receipt.payment_id, period=receipt_period(receipt))
    covered = cover.invoices
    invoices = list(
        Invoice.objects.filter(pk__in=covered)
        .select_related("practitioner", "location")
        .prefetch_related("lines")
        .order_by("service_date", "number")
    )
    ids = [invoice.pk for invoice in invoices]
    credited = _credited(ids, receipt.issued_at)
    insurers = _paid_by_insurers(ids, receipt.issued_at)
    rows = []
    for invoice in invoices:
        practitioner = invoice.practitioner
        charged = invoice.total - credited.get(invoice.pk, ZERO)
        if charged <= 0 and covered[invoice.pk] <= 0:
            # Wholly taken back by credit notes and nothing paid: nothing to claim.
            continue
        rows.append(
            ReceiptRow(
                invoice_number=invoice.display_number,
                service_date=invoice.service_date,
                location_name=invoice.location.name,
                location_address=location_address(invoice.location),
                practitioner_name=(
                    f"{practitioner.first_name} {practitioner.last_name}" if practitioner else ""
                ),
                profession=str(practitioner.get_profession_display()) if practitioner else "",
                registration_number=practitioner.registration_number if practitioner else "",
                registration_body=practitioner.registration_body if practitioner else "",
                services=tuple(line.description for line in invoice.lines.all()),
                charged=charged,
                paid=covered[invoice.pk],
                paid_by_insurer=insurers.get(invoice.pk, ZERO),
                paid_earlier=cover.paid_earlier.get(invoice.pk, ZERO),
                paid_earlier_on=cover.earlier_on.get(invoice.pk, ()),
            )
        )
    clinic = Clinic.current()
    if clinic is not None and clinic.legal_address:
        address: tuple[str, ...] = tuple(
            line.strip() for line in clinic.legal_address.splitlines() if line.strip()
        )
    else:
        # Without a legal address, the clinic is where it gave these services.
        address = tuple(dict.fromkeys(row.location_address for row in rows))
    patient = receipt.patient
    zone = clinic_zone()
    return ReceiptContent(
        number=receipt.display_number,
        issued_on=receipt.issued_at.astimezone(zone).date(),
        clinic_name=(clinic.legal_name or clinic.name) if clinic is not None else "",
        clinic_address=address,
        business_number=clinic.business_number if clinic is not None else "",
        currency=clinic.currency if clinic is not None else "CAD",
        patient_name=patient.full_name,
        period_start=receipt.period_start,
        period_end=receipt.period_end,
        rows=tuple(rows),
        payments=_payments(cover.paid, set(ids)),
    )


def receipt_html(content: ReceiptContent, *, is_copy: bool) -> str:
    """Render the HTML the receipt's PDF is made from."""
    return render_to_string("billing/pdf/receipt.html", {"receipt": content, "is_copy": is_copy})


def _local_fetcher() -> Any:
    """Return a WeasyPrint fetcher that reads data: URLs and files under static/, nothing else."""
    from weasyprint.urls import URLFetcher

    static_root = (settings.BASE_DIR / "static").as_uri() + "/"

    class LocalOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            if not (url.startswith("data:") or url.startswith(static_root)) or ".." in url:
                # Never reach the network (or elsewhere on disk) while making a record.
                raise ValueError(f"refused to fetch {url[:80]}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher(allowed_protocols=("data", "file"), timeout=2)


def receipt_pdf(content: ReceiptContent, *, is_copy: bool) -> bytes:
    """Return the receipt as PDF bytes, fetching nothing from outside static/."""
    from weasyprint import HTML

    base = (settings.BASE_DIR / "static").as_uri() + "/"
    html = receipt_html(content, is_copy=is_copy)
    return HTML(string=html, base_url=base, url_fetcher=_local_fetcher()).write_pdf()  # type: ignore[no-any-return]


def pdf_filename(receipt: Receipt, *, is_copy: bool) -> str:
    suffix = "-copy" if is_copy else ""
    return f"receipt-{receipt.display_number}{suffix}.pdf"


def receipt_email_message(delivery: ReceiptDelivery) -> EmailMultiAlternatives | None:
    """Compose the email carrying a delivered receipt; None when the patient has no address."""
    receipt = delivery.receipt
    patient = receipt.patient
    recipient = patient.contact_email
    if not recipient:
        return None
    clinic = Clinic.current()
    with translation.override(settings.LANGUAGE_CODE):
        content = receipt_content(receipt)
        context = {
            "name": patient.preferred_name or patient.given_name,
            "receipt": content,
            "is_copy": delivery.is_copy,
            "clinic": clinic,
        }
        message = EmailMultiAlternatives(
            subject=_("Your receipt %(number)s from %(clinic)s")
            % {"number": content.number, "clinic": content.clinic_name},
            body=render_to_string("billing/email/receipt.txt", context),
            to=[recipient],
            reply_to=[clinic.email] if clinic is not None and clinic.email else [],
        )
        message.attach_alternative(
            render_to_string("billing/email/receipt.html", context), "text/html"
        )
        message.attach(
            pdf_filename(receipt, is_copy=delivery.is_copy),
            receipt_pdf(content, is_copy=delivery.is_copy),
            "application/pdf",
        )
    return message
