"""A patient's account at the desk: balance, invoices, credit notes, payments and refunds."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import render

from imsclinic.billing.forms import CreditApplyForm, NewInvoiceForm
from imsclinic.billing.models import (
    ZERO,
    Allocation,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    Refund,
)
from imsclinic.billing.selectors import figures_for, patient_account
from imsclinic.core.audit import audit_view
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.patients.selectors import patient_for_user


@login_required
def account(request: SignedInRequest, patient_id: int) -> HttpResponse:
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm="billing.view_account",
        asked_for=ObjectType.ACCOUNT,
    )
    audit_view(request, ObjectType.ACCOUNT, patient=patient, object_id=patient.pk)
    summary = patient_account(patient)
    documents = list(
        Invoice.objects.filter(patient=patient)
        .select_related("location", "payer", "corrects")
        .order_by("-created_at", "-pk")
    )
    invoices = [d for d in documents if d.kind == InvoiceKind.INVOICE]
    figures = figures_for([i for i in invoices if i.status == InvoiceStatus.ISSUED])
    payments = list(
        Payment.objects.filter(patient=patient)
        .prefetch_related(
            Prefetch(
                "allocations", queryset=Allocation.objects.select_related("invoice").order_by("pk")
            ),
            "refunds",
        )
        .order_by("-received_on", "-pk")
    )
    payment_rows = []
    for payment in payments:
        allocated = sum((a.amount for a in payment.allocations.all()), ZERO)
        refunded = sum((r.amount for r in payment.refunds.all()), ZERO)
        payment_rows.append((payment, payment.amount - allocated - refunded))
    context = {
        "patient": patient,
        "account": summary,
        "invoice_rows": [(i, figures.get(i.pk)) for i in invoices],
        "credit_notes": [
            d for d in documents if d.kind == InvoiceKind.CREDIT_NOTE and d.number is not None
        ],
        "payment_rows": payment_rows,
        "refunds": list(
            Refund.objects.filter(payment__patient=patient).order_by("-refunded_on", "-pk")
        ),
        "new_invoice_form": NewInvoiceForm(),
        "credit_form": CreditApplyForm(prefix="credit") if summary.credit > 0 else None,
        "can_take_payment": request.user.has_perm("billing.take_payment", patient),
        "can_refund": request.user.has_perm("billing.refund", patient),
    }
    return render(request, "billing/account.html", context)
