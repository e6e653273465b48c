"""Check-out from the calendar: the visit's invoice, products added, issued, paid, in one page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.billing.claims import why_patient_billed
from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.forms import CheckoutPaymentForm, ProductLineForm
from imsclinic.billing.models import Invoice, InvoicePurpose, InvoiceStatus
from imsclinic.billing.selectors import invoice_figures
from imsclinic.billing.services.invoices import invoice_for_visit
from imsclinic.billing.services.payments import Apply, payment_record
from imsclinic.billing.views.invoices import IssueForm, apply_draft_change, invoice_parts
from imsclinic.core.access import refuse, require_perm
from imsclinic.core.audit import audit_view
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.scheduling.models import Appointment, AppointmentStatus

# A visit is checked out once the patient is there.
CHECKOUT_STATUSES = (
    AppointmentStatus.ARRIVED,
    AppointmentStatus.IN_TREATMENT,
    AppointmentStatus.COMPLETED,
)


def _visit(request: SignedInRequest, appointment_id: int) -> Appointment:
    require_perm(request, "billing.take_payment", object_type=ObjectType.APPOINTMENT)
    visit = (
        Appointment.objects.select_related("patient", "practitioner", "location", "service")
        .filter(pk=appointment_id)
        .first()
    )
    if visit is None or not request.user.has_perm("scheduling.act_on_visit", visit):
        raise refuse(
            request,
            object_type=ObjectType.APPOINTMENT,
            object_id=appointment_id,
            patient_id=visit.patient_id if visit is not None else None,
            reason="" if visit is not None else "no such visit",
        )
    return visit


def _visit_invoice(visit: Appointment) -> Invoice | None:
    return (
        Invoice.objects.select_related("patient", "location", "payer", "claim")
        .filter(appointment=visit, purpose=InvoicePurpose.VISIT)
        .exclude(status=InvoiceStatus.DISCARDED)
        .first()
    )


class StartForm(forms.Form):
    """Drafting the visit's invoice asks for nothing."""


@login_required
def checkout(request: SignedInRequest, appointment_id: int) -> HttpResponse:
    visit = _visit(request, appointment_id)
    invoice = _visit_invoice(visit)
    can_check_out = visit.status in CHECKOUT_STATUSES
    product_form: forms.Form = ProductLineForm(prefix="product")
    issue_form: forms.Form = IssueForm(prefix="issue")
    pay_form: CheckoutPaymentForm | None = None
    start_form = StartForm()
    if request.method == "POST" and can_check_out:
        action = request.POST.get("action", "")
        if action == "start" and invoice is None:
            try:
                invoice_for_visit(appointment=visit, actor=request.user, request=request)
            except BillingRefused as refusal:
                refusal_to_form(start_form, refusal)
            else:
                return redirect("billing_checkout", appointment_id=visit.pk)
        elif action in ("product", "issue") and invoice is not None:
            form: forms.Form = (
                ProductLineForm(request.POST, prefix="product")
                if action == "product"
                else IssueForm(request.POST, prefix="issue")
            )
            if form.is_valid():
                done = apply_draft_change(request, invoice, action, form)
                if done is not None:
                    messages.success(request, done)
                    return redirect("billing_checkout", appointment_id=visit.pk)
            if action == "product":
                product_form = form
            else:
                issue_form = form
        elif action == "pay" and invoice is not None:
            pay_form = CheckoutPaymentForm(request.POST, prefix="pay")
            if pay_form.is_valid() and _take_payment(request, visit, invoice, pay_form):
                return redirect("billing_checkout", appointment_id=visit.pk)
        if invoice is not None:
            invoice.refresh_from_db()
    context: dict[str, Any] = {
        "visit": visit,
        "can_check_out": can_check_out,
        "start_form": start_form,
        "product_form": product_form,
        "issue_form": issue_form,
    }
    if invoice is not None:
        audit_view(request, ObjectType.INVOICE, patient=visit.patient, object_id=invoice.pk)
        parts = invoice_parts(invoice)
        context.update(parts)
        figures = parts.get("figures")
        if figures is not None and figures.patient_due > 0:
            context["pay_form"] = pay_form or CheckoutPaymentForm(
                prefix="pay", initial={"amount": figures.patient_due}
            )
        context["paid_up"] = figures is not None and figures.patient_due <= 0
        # Billed wholly to a payer, the patient paid nothing: there is no receipt to give.
        context["payer_pays_all"] = (
            invoice.payer is not None and invoice.total > 0 and invoice.payer_share >= invoice.total
        )
        context["patient_billed_because"] = why_patient_billed(invoice)
    else:
        audit_view(request, ObjectType.APPOINTMENT, patient=visit.patient, object_id=visit.pk)
    return render(request, "billing/checkout.html", context)


def _take_payment(
    request: SignedInRequest, visit: Appointment, invoice: Invoice, form: CheckoutPaymentForm
) -> bool:
    """Record the patient's payment towards this visit's invoice; any rest is their credit."""
    amount = form.cleaned_data["amount"]
    due = invoice_figures(invoice).patient_due
    towards = min(amount, due)
    try:
        payment = payment_record(
            patient=visit.patient,
            method=form.cleaned_data["method"],
            amount=amount,
            received_on=timezone.now().astimezone(visit.location.zone).date(),
            reference=form.cleaned_data["reference"],
            allocations=[Apply(invoice=invoice, amount=towards)] if towards > 0 else [],
            location=visit.location,
            actor=request.user,
            request=request,
        )
    except BillingRefused as refusal:
        refusal_to_form(form, refusal, field_map=lambda key: None if "." in key else key)
        return False
    messages.success(
        request,
        _("Recorded %(amount)s by %(method)s.")
        % {"amount": payment.amount, "method": payment.get_method_display()},
    )
    if amount > towards:
        messages.info(
            request,
            _("%(rest)s more than the invoice asked for is kept as account credit.")
            % {"rest": amount - towards},
        )
    return True
