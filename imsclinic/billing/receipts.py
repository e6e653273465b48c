"""An official receipt's content, read from the rows it covers, and its PDF and email.

A receipt is what a patient sends their extended-health insurer: the clinic's legal name,
address and business number; the patient's name; for each visit (an invoice) its date of
service, the practitioner's full name, profession and college registration, the services,
what was charged and what the patient paid; the dates and methods of the patient's
payments; the receipt's number, the day it was issued and the currency. An insurer's own
payment on a visit is not the patient's expense: it is shown apart and never counted as paid.

The content is read as it stood when the receipt was issued (allocations and credit notes
recorded up to `issued_at`), so a copy printed next year says what the original said.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from imsclinic.billing.models import (
    ZERO,
    Allocation,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    Receipt,
)
from imsclinic.billing.selectors import money_sum
from imsclinic.clinic.models import Clinic, Location
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
    practitioner_name: str
    profession: str
    registration_number: str
    registration_body: str
    services: tuple[str, ...]
    charged: Decimal
    paid: Decimal
    paid_by_insurer: Decimal


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


def _address_of(location: Location) -> str:
    street = location.address_line1
    if location.address_line2:
        street = f"{street}, {location.address_line2}"
    return f"{street}, {location.city} {location.region} {location.postal_code}"


def covered_invoices(
    *,
    patient_id: int,
    payment: Payment | None,
    period: tuple[dt.date, dt.date] | None,
    as_of: dt.datetime | None = None,
) -> dict[int, Decimal]:
    """Return the invoices a receipt covers and what the patient paid on each (net).

    A payment's receipt: the invoices that payment paid, net of allocations taken back. A
    period's receipt: the patient's issued invoices with a date of service in the period, and
    all the patient's own payments on them. `as_of`: only allocations recorded by then.
    """
    allocations = Allocation.objects.filter(
        invoice__patient_id=patient_id,
        invoice__kind=InvoiceKind.INVOICE,
        invoice__status=InvoiceStatus.ISSUED,
        payment__patient_id=patient_id,
    )
    if as_of is not None:
        allocations = allocations.filter(created_at__lte=as_of)
    if payment is not None:
        allocations = allocations.filter(payment=payment)
    paid = dict(
        allocations.values("invoice_id")
        .annotate(net=money_sum("amount"))
        .values_list("invoice_id", "net")
    )
    if period is None:
        return {pk: amount for pk, amount in paid.items() if amount > 0}
    start, end = period
    in_period = Invoice.objects.filter(
        patient_id=patient_id,
        kind=InvoiceKind.INVOICE,
        status=InvoiceStatus.ISSUED,
        service_date__gte=start,
        service_date__lte=end,
    )
    if as_of is not None:
        in_period = in_period.filter(issued_at__lte=as_of)
    return {pk: max(paid.get(pk, ZERO), ZERO) for pk in in_period.values_list("pk", flat=True)}


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


def _payments(receipt: Receipt, invoice_ids: list[int]) -> tuple[ReceiptPayment, ...]:
    rows: QuerySet[Allocation] = Allocation.objects.filter(
        invoice_id__in=invoice_ids,
        payment__patient_id=receipt.patient_id,
        created_at__lte=receipt.issued_at,
    )
    if receipt.payment_id is not None:
        rows = rows.filter(payment_id=receipt.payment_id)
    sums = (
        rows.values("payment_id")
        .annotate(s=money_sum("amount"))
        .filter(~Q(s=0))
        .values_list("payment_id", "s")
    )
    amounts = dict(sums)
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


def receipt_content(receipt: Receipt) -> ReceiptContent:
    """Read what the receipt says, as it stood when it was issued."""
    covered = covered_invoices(
        patient_id=receipt.patient_id,
        payment=receipt.payment,
        period=(
            (receipt.period_start, receipt.period_end)
            if receipt.period_start is not None and receipt.period_end is not None
            else None
        ),
        as_of=receipt.issued_at,
    )
    invoices = list(
        Invoice.objects.filter(pk__in=covered)
        .select_related("practitioner", "location__clinic")
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
            )
        )
    clinic = Clinic.current()
    if clinic is not None and clinic.legal_address:
        address: tuple[str, ...] = tuple(
            line.strip() for line in clinic.legal_address.splitlines() if line.strip()
        )
    else:
        locations = {invoice.location_id: invoice.location for invoice in invoices}
        address = tuple(_address_of(location) for location in locations.values())
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
        payments=_payments(receipt, ids),
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
