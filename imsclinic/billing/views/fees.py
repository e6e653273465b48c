"""The front desk's page for waiving a late-cancellation or no-show fee, with the reason."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import (
    REASON_MAX,
    FeeWaiver,
    Invoice,
    InvoiceKind,
    InvoicePurpose,
    InvoiceStatus,
)
from imsclinic.billing.selectors import invoice_figures
from imsclinic.billing.services.fees import fee_waive
from imsclinic.core.access import refuse, require_perm
from imsclinic.core.audit import audit_view
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType


class FeeWaiveForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is the fee waived?"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept with the credit note, e.g. “Patient was in hospital”."),
    )


@login_required
def fee_waive_page(request: SignedInRequest, invoice_id: int) -> HttpResponse:
    """Show a fee and what was paid on it; POST waives it with a credit note for all of it."""
    require_perm(request, "billing.waive_fee", object_type=ObjectType.FEE_WAIVER)
    fee = (
        Invoice.objects.filter(
            pk=invoice_id,
            kind=InvoiceKind.INVOICE,
            purpose=InvoicePurpose.FEE,
            status=InvoiceStatus.ISSUED,
        )
        .select_related("patient", "location", "appointment__service")
        .first()
    )
    if fee is None:
        raise refuse(
            request,
            object_type=ObjectType.INVOICE,
            object_id=invoice_id,
            reason="no such fee",
            error=Http404("No such fee."),
        )
    waiver = FeeWaiver.objects.filter(fee_invoice=fee).select_related("credit_note").first()
    form = FeeWaiveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and waiver is None and form.is_valid():
        try:
            fee_waive(
                fee_invoice=fee,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                request=request,
            )
        except BillingRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            messages.success(
                request,
                _("Fee %(number)s is waived; a credit note takes it back.")
                % {"number": fee.display_number},
            )
            return redirect("billing_fee_waive", invoice_id=fee.pk)
    audit_view(request, ObjectType.INVOICE, patient=fee.patient, object_id=fee.pk)
    context = {
        "fee": fee,
        "lines": list(fee.lines.all()),
        "figures": invoice_figures(fee),
        "waiver": waiver,
        "form": form,
    }
    return render(
        request,
        "billing/fee_waive.html",
        context,
        status=400 if request.method == "POST" and form.errors else 200,
    )
