"""The front desk's receipts page for a patient: issue, download (print) and email receipts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import Payment, Receipt, ReceiptDelivery
from imsclinic.billing.receipts import (
    ReceiptLedger,
    pdf_filename,
    receipt_content,
    receipt_pdf,
)
from imsclinic.billing.services.receipts import receipt_deliver, receipt_email, receipt_issue
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.access import refuse
from imsclinic.core.audit import audit_view
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user

PERM = "billing.view_account"


class ReceiptPeriodForm(forms.Form):
    """The services of which days a period receipt covers."""

    start = forms.DateField(
        label=gettext_lazy("From"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def receipt_pdf_response(receipt: Receipt, delivery: ReceiptDelivery) -> HttpResponse:
    """Send a delivered receipt as a PDF download, "COPY" on it unless it is the first."""
    content = receipt_pdf(receipt_content(receipt), is_copy=delivery.is_copy)
    response = HttpResponse(content, content_type="application/pdf")
    filename = pdf_filename(receipt, is_copy=delivery.is_copy)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _patient(request: SignedInRequest, patient_id: int, asked_id: object = None) -> Patient:
    return patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm=PERM,
        asked_for=ObjectType.RECEIPT,
        asked_id=asked_id,
    )


def _receipt(request: SignedInRequest, patient: Patient, receipt_id: int) -> Receipt:
    receipt = Receipt.objects.filter(pk=receipt_id, patient=patient).first()
    if receipt is None:
        raise refuse(
            request,
            object_type=ObjectType.RECEIPT,
            object_id=receipt_id,
            patient=patient,
            reason="no such receipt for this patient",
        )
    return receipt


def _this_year(zone: zoneinfo.ZoneInfo) -> dict[str, dt.date]:
    today = timezone.localdate(timezone=zone)
    return {"start": today.replace(month=1, day=1), "end": today}


def _page(
    request: SignedInRequest, patient: Patient, form: ReceiptPeriodForm | None = None
) -> HttpResponse:
    payments = list(
        Payment.objects.filter(patient=patient)
        .prefetch_related(Prefetch("receipts", queryset=Receipt.objects.order_by("pk")))
        .order_by("-received_on", "-pk")
    )
    receipts = list(
        Receipt.objects.filter(patient=patient)
        .select_related("payment")
        .prefetch_related("deliveries")
        .order_by("-number")
    )
    ledger = ReceiptLedger(patient_id=patient.pk, as_of=timezone.now())
    rows = []
    for payment in payments:
        receipt = next(iter(payment.receipts.all()), None)
        # A payment whose every dollar is on period receipts already has nothing left to receipt.
        earlier = ledger.cover(payment_id=payment.pk) if receipt is None else None
        rows.append(
            {
                "payment": payment,
                "receipt": receipt,
                "on": earlier.earlier if earlier is not None and earlier.total <= 0 else (),
            }
        )
    audit_view(request, ObjectType.RECEIPT, patient=patient, detail={"page": "receipts"})
    zone = clinic_zone()
    context: dict[str, Any] = {
        "patient": patient,
        "payments": rows,
        "receipts": receipts,
        "form": form or ReceiptPeriodForm(initial=_this_year(zone)),
        "has_email": bool(patient.contact_email),
        "zone": zone,
    }
    return render(request, "billing/receipts.html", context)


@login_required
@require_GET
def billing_patient_receipts(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """List a patient's payments and receipts; issue, print and email receipts from here."""
    return _page(request, _patient(request, patient_id))


@login_required
@require_POST
def billing_receipt_issue(
    request: SignedInRequest, patient_id: int, payment_id: int
) -> HttpResponse:
    """Issue the receipt of one of the patient's payments, then offer it to print."""
    patient = _patient(request, patient_id, asked_id=payment_id)
    payment = Payment.objects.filter(pk=payment_id, patient=patient).first()
    if payment is None:
        raise refuse(
            request,
            object_type=ObjectType.PAYMENT,
            object_id=payment_id,
            patient=patient,
            reason="no such payment for this patient",
        )
    try:
        receipt = receipt_issue(
            patient=patient, payment=payment, actor=request.user, request=request
        )
    except BillingRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("Receipt %(number)s is issued. Download it to print or email it.")
            % {"number": receipt.display_number},
        )
    return redirect("billing_patient_receipts", patient_id=patient.pk)


@login_required
@require_POST
def billing_receipt_period(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Issue a receipt for the services of a period (the form says which days)."""
    patient = _patient(request, patient_id)
    form = ReceiptPeriodForm(request.POST)
    if form.is_valid():
        try:
            receipt = receipt_issue(
                patient=patient,
                period=(form.cleaned_data["start"], form.cleaned_data["end"]),
                actor=request.user,
                request=request,
            )
        except BillingRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            messages.success(
                request,
                _("Receipt %(number)s is issued. Download it to print or email it.")
                % {"number": receipt.display_number},
            )
            return redirect("billing_patient_receipts", patient_id=patient.pk)
    return _page(request, patient, form)


@login_required
@require_GET
def billing_receipt_pdf(request: SignedInRequest, patient_id: int, receipt_id: int) -> HttpResponse:
    """Download (to print or hand over) a receipt; every download after the first is a copy."""
    patient = _patient(request, patient_id, asked_id=receipt_id)
    receipt = _receipt(request, patient, receipt_id)
    delivery = receipt_deliver(
        receipt=receipt,
        channel=ReceiptDelivery.Channel.DOWNLOAD,
        actor=request.user,
        request=request,
    )
    return receipt_pdf_response(receipt, delivery)


@login_required
@require_POST
def billing_receipt_email(
    request: SignedInRequest, patient_id: int, receipt_id: int
) -> HttpResponse:
    """Queue the receipt to the patient's email address, as a PDF attachment."""
    patient = _patient(request, patient_id, asked_id=receipt_id)
    receipt = _receipt(request, patient, receipt_id)
    try:
        receipt_email(receipt=receipt, actor=request.user, request=request)
    except BillingRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("Receipt %(number)s is on its way to the patient's email address.")
            % {"number": receipt.display_number},
        )
    return redirect("billing_patient_receipts", patient_id=patient.pk)
