"""An issued invoice or credit note as the document the patient or payer is given, and its PDF.

The document names its issuer as the owner set it in the clinic's settings: the legal name
(or the clinic's name), the address on invoices (or, when none is set, the address of the
location of the visit) and the GST/HST business number; the owner's invoice footer closes
it. It shows the lines with their tax, the totals, who is billed what (a payer's share
under its claim number) and, for an invoice, what is still owed as of the moment it is made.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string

from imsclinic.billing.models import Invoice, InvoiceKind, InvoiceStatus
from imsclinic.billing.selectors import InvoiceFigures, figures_for
from imsclinic.clinic.models import Clinic, Location
from imsclinic.clinic.selectors import clinic_zone

# WeasyPrint reports each layout step at INFO; the logs need none of that.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Issuer:
    """Who issues the document, as the owner set it in the clinic's settings."""

    name: str
    address: tuple[str, ...]
    business_number: str
    footer: tuple[str, ...]
    currency: str


def location_address(location: Location) -> str:
    """Return a location's postal address on one line."""
    street = location.address_line1
    if location.address_line2:
        street = f"{street}, {location.address_line2}"
    return f"{street}, {location.city} {location.region} {location.postal_code}"


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def issuer_of(invoice: Invoice) -> Issuer:
    """Return the issuer printed on this invoice: the clinic's legal details, or its location's."""
    clinic = Clinic.current() or invoice.location.clinic
    address = _lines(clinic.legal_address) or (location_address(invoice.location),)
    return Issuer(
        name=clinic.legal_name or clinic.name,
        address=address,
        business_number=clinic.business_number,
        footer=_lines(clinic.invoice_footer),
        currency=clinic.currency,
    )


def invoice_document_context(invoice: Invoice) -> dict[str, Any]:
    """Return what the document shows; only issued invoices and credit notes are documents."""
    if invoice.status != InvoiceStatus.ISSUED:
        raise ValueError("only an issued invoice or credit note is given out as a document")
    figures: InvoiceFigures | None = None
    if invoice.kind == InvoiceKind.INVOICE:
        figures = figures_for([invoice])[invoice.pk]
    issued_at = invoice.issued_at
    assert issued_at is not None
    return {
        "invoice": invoice,
        "issuer": issuer_of(invoice),
        "issued_on": issued_at.astimezone(clinic_zone()).date(),
        "seen_at": location_address(invoice.location),
        "lines": list(invoice.lines.order_by("pk")),
        "figures": figures,
    }


def invoice_html(invoice: Invoice, *, as_of: dt.date) -> str:
    """Render the HTML the document's PDF is made from."""
    context = invoice_document_context(invoice)
    context["as_of"] = as_of
    return render_to_string("billing/pdf/invoice.html", context)


def _fetch_nothing(url: str, *args: Any, **kwargs: Any) -> Any:
    # The document is self-contained: making a record never reaches the network or the disk.
    raise ValueError(f"refused to fetch {url[:80]}")


def invoice_pdf(invoice: Invoice, *, as_of: dt.date) -> bytes:
    """Return the invoice or credit note as PDF bytes."""
    from weasyprint import HTML

    html = invoice_html(invoice, as_of=as_of)
    return HTML(string=html, url_fetcher=_fetch_nothing).write_pdf()  # type: ignore[no-any-return]


def invoice_pdf_filename(invoice: Invoice) -> str:
    kind = "credit-note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "invoice"
    return f"{kind}-{invoice.display_number}.pdf"


def invoice_pdf_response(invoice: Invoice) -> HttpResponse:
    """Send an issued invoice or credit note as a PDF download, with what is owed today."""
    today = dt.datetime.now(tz=clinic_zone()).date()
    response = HttpResponse(invoice_pdf(invoice, as_of=today), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice_pdf_filename(invoice)}"'
    response["Cache-Control"] = "no-store"
    return response
