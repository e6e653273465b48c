"""The patient's billing: what they owe, their invoices, payments and receipts for insurers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from imsclinic.billing.documents import invoice_pdf_response
from imsclinic.billing.errors import AlreadyReceipted, BillingRefused
from imsclinic.billing.models import (
    ZERO,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    Receipt,
    ReceiptDelivery,
)
from imsclinic.billing.online import card_payment_record, card_payment_start, card_provider
from imsclinic.billing.receipts import (
    ReceiptLedger,
    pdf_filename,
    receipt_content,
    receipt_pdf,
)
from imsclinic.billing.selectors import figures_for, patient_account
from imsclinic.billing.services.receipts import receipt_deliver, receipt_email, receipt_issue
from imsclinic.clinic.models import Clinic
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.access import require_perm
from imsclinic.core.audit import audit_view
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.patients.access import patient_page, patients_own
from imsclinic.patients.models import Patient

PERM = "billing.view_own_account"


def _allowed(request: SignedInRequest, patient: Patient, object_type: str) -> None:
    require_perm(request, PERM, obj=patient, object_type=object_type, patient=patient)


def _invoices(patient: Patient) -> list[dict[str, Any]]:
    issued = list(
        Invoice.objects.filter(patient=patient, status=InvoiceStatus.ISSUED)
        .select_related("corrects")
        .order_by("-issued_at", "-pk")
    )
    figures = figures_for(i for i in issued if i.kind == InvoiceKind.INVOICE)
    rows = []
    for invoice in issued:
        owed = figures[invoice.pk].patient_due if invoice.pk in figures else ZERO
        rows.append({"invoice": invoice, "owed": max(owed, ZERO)})
    return rows


@require_GET
@patient_page
def portal_billing(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Show the patient what they owe, their invoices, payments and receipts, in plain words."""
    _allowed(request, patient, ObjectType.ACCOUNT)
    account = patient_account(patient)
    invoices = _invoices(patient)
    provider = card_provider()
    zone = clinic_zone()
    audit_view(request, ObjectType.ACCOUNT, patient=patient, object_id=patient.pk)
    context: dict[str, Any] = {
        "patient": patient,
        "account": account,
        "owes": max(account.patient_owes, ZERO),
        "insurer_owes": max(account.payers_owe, ZERO),
        "credit": max(account.credit, ZERO),
        "invoices": invoices,
        "payments": list(
            Payment.objects.filter(patient=patient)
            .prefetch_related("refunds")
            .order_by("-received_on", "-pk")
        ),
        "receipts": list(Receipt.objects.filter(patient=patient).order_by("-number")),
        "zone": zone,
        "clinic": Clinic.current(),
        "card_payments": provider is not None,
        "has_email": bool(patient.contact_email),
        "receipt_years": _receipt_years(patient, timezone.localdate(timezone=zone)),
    }
    return render(request, "portal/billing.html", context)


@require_GET
@patient_page
def portal_invoice_pdf(request: SignedInRequest, patient: Patient, invoice_id: int) -> HttpResponse:
    """Download one of the patient's own issued invoices or credit notes."""
    _allowed(request, patient, ObjectType.INVOICE)
    invoice = patients_own(
        request,
        patient,
        Invoice.objects.filter(status=InvoiceStatus.ISSUED).select_related(
            "location", "payer", "claim", "practitioner", "corrects", "patient"
        ),
        invoice_id,
        object_type=ObjectType.INVOICE,
    )
    audit_view(
        request,
        ObjectType.INVOICE,
        patient=patient,
        object_id=invoice.pk,
        detail={"document": "pdf"},
    )
    return invoice_pdf_response(invoice)


@require_GET
@patient_page
def portal_receipt_pdf(request: SignedInRequest, patient: Patient, receipt_id: int) -> HttpResponse:
    """Download one of the patient's own receipts; a second download says COPY."""
    _allowed(request, patient, ObjectType.RECEIPT)
    receipt = patients_own(
        request, patient, Receipt.objects.all(), receipt_id, object_type=ObjectType.RECEIPT
    )
    delivery = receipt_deliver(
        receipt=receipt,
        channel=ReceiptDelivery.Channel.DOWNLOAD,
        actor=request.user,
        request=request,
    )
    response = HttpResponse(
        receipt_pdf(receipt_content(receipt), is_copy=delivery.is_copy),
        content_type="application/pdf",
    )
    filename = pdf_filename(receipt, is_copy=delivery.is_copy)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _year_period(year: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """This year's visits up to today, or all of an earlier year's."""
    end = today if year == today.year else dt.date(year, 12, 31)
    return (dt.date(year, 1, 1), end)


def _receipt_years(patient: Patient, today: dt.date) -> list[dict[str, Any]]:
    """Say, for this year and last, whether a receipt would hold anything new, or which do."""
    ledger = ReceiptLedger(patient_id=patient.pk, as_of=timezone.now())
    years = []
    for year in (today.year, today.year - 1):
        cover = ledger.cover(period=_year_period(year, today))
        if cover.total > 0 or cover.earlier:
            years.append(
                {
                    "year": year,
                    "this_year": year == today.year,
                    "ready": cover.total > 0,
                    "earlier": cover.earlier,
                }
            )
    return years


@require_POST
@patient_page
def portal_receipt_year(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Issue a receipt for this year's services so far, or last year's (what no receipt has).

    Asking again for the same days gives the same receipt.
    """
    _allowed(request, patient, ObjectType.RECEIPT)
    today = timezone.localdate(timezone=clinic_zone())
    try:
        year = int(request.POST.get("year") or today.year)
    except ValueError:
        year = today.year
    if year not in (today.year, today.year - 1):
        messages.info(request, _("Ask the front desk for a receipt for an earlier year."))
        return redirect("portal_billing")
    start, end = _year_period(year, today)
    receipt = Receipt.objects.filter(patient=patient, period_start=start, period_end=end).first()
    if receipt is None:
        try:
            receipt = receipt_issue(
                patient=patient, period=(start, end), actor=request.user, request=request
            )
        except AlreadyReceipted as refusal:
            earlier = refusal.receipts
            messages.info(
                request,
                ngettext(
                    "Everything you paid for visits in %(year)s is on receipt %(numbers)s "
                    "already: download it below.",
                    "Everything you paid for visits in %(year)s is on receipts %(numbers)s "
                    "already: download them below.",
                    len(earlier),
                )
                % {
                    "year": year,
                    "numbers": ", ".join(r.display_number for r in earlier),
                },
            )
            return redirect(reverse("portal_billing") + f"#receipt-{earlier[-1].pk}")
        except BillingRefused:
            messages.info(
                request,
                _(
                    "You have paid nothing for visits this year yet, so there is no receipt to "
                    "make. Receipts for earlier years are in the list below, or ask the front desk."
                )
                if year == today.year
                else _(
                    "You paid nothing for visits in %(year)s, so there is no receipt to make. "
                    "Your receipts are in the list below, or ask the front desk."
                )
                % {"year": year},
            )
            return redirect("portal_billing")
    messages.success(
        request,
        _("Your receipt %(number)s is ready: download it below, or have it emailed to you.")
        % {"number": receipt.display_number},
    )
    return redirect(reverse("portal_billing") + f"#receipt-{receipt.pk}")


@require_POST
@patient_page
def portal_receipt_email(
    request: SignedInRequest, patient: Patient, receipt_id: int
) -> HttpResponse:
    """Email one of the patient's own receipts to them, the PDF attached."""
    _allowed(request, patient, ObjectType.RECEIPT)
    receipt = patients_own(
        request, patient, Receipt.objects.all(), receipt_id, object_type=ObjectType.RECEIPT
    )
    try:
        receipt_email(receipt=receipt, actor=request.user, request=request)
    except BillingRefused:
        messages.info(
            request,
            _(
                "We have no email address for you. Download the receipt instead, or ask us to "
                "add one."
            ),
        )
    else:
        messages.success(
            request,
            _(
                "We are emailing receipt %(number)s to %(email)s. It should arrive within a few "
                "minutes; check your junk folder if it does not."
            )
            % {"number": receipt.display_number, "email": patient.contact_email},
        )
    return redirect("portal_billing")


@require_POST
@patient_page
def portal_card_pay(request: SignedInRequest, patient: Patient, invoice_id: int) -> HttpResponse:
    """Send the patient to the clinic's card provider to pay what they owe on an invoice."""
    provider = card_provider()
    if provider is None:
        raise Http404("No card payments here.")
    _allowed(request, patient, ObjectType.INVOICE)
    invoice = patients_own(
        request, patient, Invoice.objects.all(), invoice_id, object_type=ObjectType.INVOICE
    )
    clinic = Clinic.current()
    try:
        url = card_payment_start(
            provider=provider,
            invoice=invoice,
            currency=clinic.currency if clinic is not None else "CAD",
            return_url=request.build_absolute_uri(reverse("portal_card_return")),
        )
    except BillingRefused as refusal:
        messages.info(request, refusal.message)
        return redirect("portal_billing")
    return redirect(url)


@require_GET
@patient_page
def portal_card_return(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Where the card provider sends the patient back: confirm with it and record the payment."""
    provider = card_provider()
    if provider is None:
        raise Http404("No card payments here.")
    _allowed(request, patient, ObjectType.PAYMENT)
    try:
        payment = card_payment_record(
            provider=provider,
            data=request.GET.dict(),
            patient=patient,
            actor=request.user,
            request=request,
        )
    except BillingRefused as refusal:
        messages.info(request, refusal.message)
    else:
        messages.success(
            request,
            _("Thank you: your card payment of %(amount)s is recorded.")
            % {"amount": f"{payment.amount:.2f}"},
        )
    return redirect("portal_billing")
