"""Taking a payment at the desk, using account credit on an invoice, and giving money back."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from imsclinic.billing import money
from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.forms import CreditApplyForm, PaymentForm, RefundForm
from imsclinic.billing.models import ZERO, Invoice, InvoiceKind, InvoiceStatus, Payment
from imsclinic.billing.selectors import local_today, payment_left
from imsclinic.billing.services.payments import Apply, credit_apply, payment_record, refund_issue
from imsclinic.billing.views.invoices import invoice_for_user, owed_by_patient, render_invoice
from imsclinic.clinic.models import Location
from imsclinic.core.access import refuse, require_perm
from imsclinic.core.audit import audit_view
from imsclinic.core.form_errors import error_summary, refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.patients.selectors import patient_for_user


def _desk_location() -> Location | None:
    """The location the money was taken at: the first open one (a clinic has one till each)."""
    return Location.objects.filter(is_active=True).order_by("pk").first()


@login_required
def payment_new(request: SignedInRequest, patient_id: int) -> HttpResponse:
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm="billing.take_payment",
        asked_for=ObjectType.PAYMENT,
    )
    location = _desk_location()
    today = local_today(location)
    issued = list(
        Invoice.objects.filter(
            patient=patient, kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED
        ).select_related("location")
    )
    owed = owed_by_patient(issued)
    credit_note = ""
    if request.method == "POST":
        form = PaymentForm(request.POST, owed=owed, today=today)
        if form.is_valid():
            amount = form.cleaned_data["amount"]
            typed = form.typed_allocations()
            if any(typed.values()):
                spread = {pk: value for pk, value in typed.items() if value}
            else:
                spread = money.spread_oldest_first(amount, [(i.pk, due) for i, due in owed])
            left = amount - sum(spread.values(), ZERO)
            if left > 0 and form.cleaned_data["credit_shown"] != str(left):
                # Say what becomes credit before saving; the boxes show where the rest goes.
                data = request.POST.copy()
                for invoice, _due, name in form.invoice_fields:
                    data[name] = str(spread.get(invoice.pk, "")) if spread.get(invoice.pk) else ""
                data["credit_shown"] = str(left)
                form = PaymentForm(data, owed=owed, today=today)
                form.is_valid()
                credit_note = _(
                    "%(left)s is not put towards an invoice and will be kept as the patient's "
                    "account credit. Save again to record the payment."
                ) % {"left": left}
            else:
                by_pk = {invoice.pk: invoice for invoice, _due in owed}
                try:
                    payment = payment_record(
                        patient=patient,
                        method=form.cleaned_data["method"],
                        amount=amount,
                        received_on=form.cleaned_data["received_on"],
                        reference=form.cleaned_data["reference"],
                        note=form.cleaned_data["note"],
                        allocations=[
                            Apply(invoice=by_pk[pk], amount=value) for pk, value in spread.items()
                        ],
                        # Money towards invoices was taken where the first was billed.
                        location=None if spread else location,
                        actor=request.user,
                        request=request,
                    )
                except BillingRefused as refusal:
                    refusal_to_form(
                        form,
                        refusal,
                        field_map=lambda key: (
                            "invoice_" + key.split(".", 1)[1] if key.startswith("invoice.") else key
                        ),
                    )
                else:
                    messages.success(
                        request,
                        _("Recorded %(amount)s by %(method)s.")
                        % {"amount": payment.amount, "method": payment.get_method_display()},
                    )
                    return redirect("billing_account", patient_id=patient.pk)
    else:
        form = PaymentForm(owed=owed, today=today)
    audit_view(request, ObjectType.ACCOUNT, patient=patient, object_id=patient.pk)
    return render(
        request,
        "billing/payment_form.html",
        {
            "patient": patient,
            "form": form,
            "credit_note": credit_note,
            "errors": [] if credit_note else error_summary(form),
        },
    )


@require_POST
@login_required
def credit_use(request: SignedInRequest, invoice_id: int) -> HttpResponse:
    invoice = invoice_for_user(
        request, invoice_id, perm="billing.take_payment", asked_for=ObjectType.PAYMENT
    )
    form = CreditApplyForm(request.POST, prefix="credit")
    if form.is_valid():
        try:
            written = credit_apply(
                invoice=invoice,
                amount=form.cleaned_data["amount"],
                actor=request.user,
                request=request,
            )
        except BillingRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            messages.success(
                request,
                _("Put %(amount)s of account credit towards %(number)s.")
                % {
                    "amount": sum((a.amount for a in written), ZERO),
                    "number": invoice.display_number,
                },
            )
            return redirect("billing_invoice", invoice_id=invoice.pk)
    return render_invoice(request, invoice, credit_form=form)


@login_required
def refund_new(request: SignedInRequest, payment_id: int) -> HttpResponse:
    """Give back money of a payment not put towards an invoice, the way it came.

    A patient's payment is reached through the patient (whoever may not open them learns
    nothing); an insurer's or third party's overpayment by whoever keeps the accounts.
    """
    payment = Payment.objects.select_related("patient", "payer").filter(pk=payment_id).first()
    if payment is None:
        raise refuse(
            request, object_type=ObjectType.REFUND, object_id=payment_id, reason="no such payment"
        )
    patient = None
    if payment.patient is not None:
        patient = patient_for_user(
            request,
            user=request.user,
            patient_id=payment.patient.pk,
            perm="billing.refund",
            asked_for=ObjectType.REFUND,
            asked_id=payment_id,
        )
        back = redirect("billing_account", patient_id=patient.pk)
    else:
        require_perm(request, "billing.refund", object_type=ObjectType.REFUND)
        back = redirect("billing_payer_payment", payer_id=payment.payer_id)
    left = payment_left(payment)
    today = local_today(payment.location)
    if request.method == "POST":
        form = RefundForm(request.POST)
        if form.is_valid():
            try:
                refund = refund_issue(
                    payment=payment,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    reference=form.cleaned_data["reference"],
                    refunded_on=form.cleaned_data["refunded_on"],
                    actor=request.user,
                    request=request,
                )
            except BillingRefused as refusal:
                refusal_to_form(form, refusal)
            else:
                messages.success(
                    request,
                    _("Gave back %(amount)s by %(method)s.")
                    % {"amount": refund.amount, "method": refund.get_method_display()},
                )
                return back
    else:
        form = RefundForm(initial={"refunded_on": today, "amount": left if left > 0 else None})
    audit_view(request, ObjectType.PAYMENT, patient=patient, object_id=payment.pk)
    return render(
        request,
        "billing/refund_form.html",
        {
            "patient": patient,
            "payer": payment.payer,
            "payment": payment,
            "left": left,
            "form": form,
            "errors": error_summary(form),
        },
    )
