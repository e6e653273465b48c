"""The front desk's invoice pages: the desk list, one invoice (editing a draft), credit notes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from imsclinic.billing.documents import invoice_pdf_response
from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.forms import (
    BillPayerForm,
    CreditApplyForm,
    CreditNoteForm,
    DiscardForm,
    InvoiceFilterForm,
    ItemLineForm,
    NewInvoiceForm,
    ProductLineForm,
    RemoveLineForm,
    ServiceLineForm,
)
from imsclinic.billing.models import (
    ZERO,
    Allocation,
    FeeWaiver,
    Invoice,
    InvoiceKind,
    InvoicePurpose,
    InvoiceStatus,
    ItemKind,
)
from imsclinic.billing.selectors import figures_for, owing, patient_account
from imsclinic.billing.services.invoices import (
    LineEntry,
    credit_note_issue,
    credited_by_line,
    invoice_add_line,
    invoice_bill_payer,
    invoice_create,
    invoice_discard,
    invoice_issue,
    invoice_remove_line,
)
from imsclinic.clinic.models import Location
from imsclinic.core.access import refuse, require_perm
from imsclinic.core.audit import audit_record_per_patient, audit_view
from imsclinic.core.form_errors import error_summary, refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.selectors import patient_for_user

PAGE_SIZE = 25


class IssueForm(forms.Form):
    """Issuing asks for nothing; the form carries the refusal, if any."""


def invoice_for_user(
    request: SignedInRequest,
    invoice_id: int,
    *,
    perm: str = "billing.view_account",
    asked_for: str = ObjectType.INVOICE,
) -> Invoice:
    """Return the invoice if this user may see the patient's account and do `perm`.

    As for a patient's record: someone who may not open the patient learns nothing (404),
    someone who may open it but not do this is refused (403); both are audited.
    """
    invoice = (
        Invoice.objects.select_related(
            "patient", "location", "payer", "claim", "practitioner", "corrects", "appointment"
        )
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise refuse(request, object_type=asked_for, object_id=invoice_id, reason="no such invoice")
    patient_for_user(
        request,
        user=request.user,
        patient_id=invoice.patient_id,
        perm=perm,
        asked_for=asked_for,
        asked_id=invoice_id,
    )
    return invoice


def draft_forms(invoice: Invoice, *, bound: str = "", data: Any = None) -> dict[str, forms.Form]:
    """Return the forms that change a draft, the one named `bound` filled with `data`."""

    def given(name: str) -> Any:
        return data if name == bound else None

    return {
        "product": ProductLineForm(given("product"), prefix="product"),
        "service": ServiceLineForm(given("service"), prefix="service"),
        "item": ItemLineForm(given("item"), prefix="item"),
        "remove": RemoveLineForm(given("remove"), prefix="remove", invoice=invoice),
        "payer": BillPayerForm(given("payer"), prefix="payer", invoice=invoice),
        "issue": IssueForm(given("issue"), prefix="issue"),
        "discard": DiscardForm(given("discard"), prefix="discard"),
    }


def apply_draft_change(
    request: SignedInRequest, invoice: Invoice, action: str, form: forms.Form
) -> str | None:
    """Make the change a valid draft form asks for; return what was done, or None if refused.

    A refusal is put on the form, beside its field where it names one.
    """
    data = form.cleaned_data
    actor = request.user
    try:
        if action == "product":
            invoice_add_line(
                invoice=invoice,
                entry=LineEntry(product=data["product"], quantity=data["quantity"]),
                actor=actor,
                request=request,
            )
            return _("Added %(name)s.") % {"name": data["product"].name}
        if action == "service":
            invoice_add_line(
                invoice=invoice,
                entry=LineEntry(
                    service=data["service"], quantity=data["quantity"], item_kind=ItemKind.SERVICE
                ),
                actor=actor,
                request=request,
            )
            return _("Added %(name)s.") % {"name": data["service"].name}
        if action == "item":
            invoice_add_line(
                invoice=invoice,
                entry=LineEntry(
                    description=data["description"],
                    unit_price=data["unit_price"],
                    quantity=data["quantity"],
                    item_kind=data["item_kind"],
                ),
                actor=actor,
                request=request,
            )
            return _("Added %(name)s.") % {"name": data["description"]}
        if action == "remove":
            invoice_remove_line(line=data["line"], actor=actor, request=request)
            return _("Removed %(name)s.") % {"name": data["line"].description}
        if action == "payer":
            return _bill_payer(request, invoice, form)
        if action == "issue":
            invoice_issue(invoice=invoice, actor=actor, request=request)
            return _("Issued %(number)s.") % {"number": invoice.display_number}
        if action == "discard":
            invoice_discard(invoice=invoice, reason=data["reason"], actor=actor, request=request)
            return _("The draft was discarded.")
    except BillingRefused as refusal:
        refusal_to_form(form, refusal)
    return None


def _bill_payer(request: SignedInRequest, invoice: Invoice, form: forms.Form) -> str | None:
    claim = form.cleaned_data["claim"]
    invoice_bill_payer(
        invoice=invoice,
        payer=form.cleaned_data["payer"],
        payer_share=form.cleaned_data["payer_share"],
        claim=claim,
        actor=request.user,
        request=request,
    )
    if invoice.payer is None:
        return _("The patient pays the whole invoice.")
    return _("%(share)s is billed to %(payer)s.") % {
        "share": invoice.payer_share,
        "payer": invoice.payer,
    }


def invoice_parts(invoice: Invoice) -> dict[str, Any]:
    """Return what an invoice page shows: lines, figures, credit notes, payments on it."""
    lines = list(invoice.lines.select_related("product", "service"))
    parts: dict[str, Any] = {"invoice": invoice, "lines": lines}
    if invoice.status == InvoiceStatus.ISSUED and invoice.kind == InvoiceKind.INVOICE:
        parts["figures"] = figures_for([invoice])[invoice.pk]
        parts["credit_notes"] = list(
            invoice.credit_notes.filter(status=InvoiceStatus.ISSUED).order_by("issued_at", "pk")
        )
        parts["allocations"] = list(
            Allocation.objects.filter(invoice=invoice)
            .select_related("payment", "payment__payer")
            .order_by("created_at", "pk")
        )
    return parts


def render_invoice(
    request: SignedInRequest,
    invoice: Invoice,
    *,
    forms_: dict[str, forms.Form] | None = None,
    credit_form: CreditApplyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    audit_view(request, ObjectType.INVOICE, patient=invoice.patient, object_id=invoice.pk)
    context = invoice_parts(invoice)
    if invoice.status == InvoiceStatus.DRAFT:
        context["forms"] = forms_ or draft_forms(invoice)
    figures = context.get("figures")
    if figures is not None and figures.patient_due > 0:
        credit = patient_account(invoice.patient).credit
        if credit > 0:
            context["account_credit"] = credit
            context["credit_form"] = credit_form or CreditApplyForm(prefix="credit")
    context["can_correct"] = (
        figures is not None
        and figures.net_total > 0
        and request.user.has_perm("billing.issue_credit_note", invoice.patient)
    )
    context["can_waive"] = (
        invoice.purpose == InvoicePurpose.FEE
        and invoice.status == InvoiceStatus.ISSUED
        and not FeeWaiver.objects.filter(fee_invoice=invoice).exists()
        and request.user.has_perm("billing.waive_fee", invoice.patient)
    )
    return render(request, "billing/invoice_detail.html", context, status=status)


@require_GET
@login_required
def invoice_document(request: SignedInRequest, invoice_id: int) -> HttpResponse:
    """Download an issued invoice or credit note as a PDF, to print or send."""
    invoice = invoice_for_user(request, invoice_id)
    if invoice.status != InvoiceStatus.ISSUED:
        raise Http404("A draft or discarded invoice is not given out.")
    audit_view(
        request,
        ObjectType.INVOICE,
        patient=invoice.patient,
        object_id=invoice.pk,
        detail={"document": "pdf"},
    )
    return invoice_pdf_response(invoice)


@login_required
def invoice_detail(request: SignedInRequest, invoice_id: int) -> HttpResponse:
    invoice = invoice_for_user(request, invoice_id)
    if request.method != "POST":
        return render_invoice(request, invoice)
    require_perm(
        request, "billing.edit_invoice", object_type=ObjectType.INVOICE, patient=invoice.patient
    )
    action = request.POST.get("action", "")
    all_forms = draft_forms(invoice, bound=action, data=request.POST)
    form = all_forms.get(action)
    if form is None:
        return redirect("billing_invoice", invoice_id=invoice.pk)
    if form.is_valid():
        done = apply_draft_change(request, invoice, action, form)
        if done is not None:
            messages.success(request, done)
            return redirect("billing_invoice", invoice_id=invoice.pk)
    invoice.refresh_from_db()
    if invoice.status != InvoiceStatus.DRAFT:
        # An issued invoice shows no edit controls: the refusal goes at the top.
        for message in _all_messages(form):
            messages.error(request, message)
        return render_invoice(request, invoice, status=409)
    return render_invoice(request, invoice, forms_=all_forms)


def _all_messages(form: forms.Form) -> list[str]:
    return [str(message) for messages_ in form.errors.values() for message in messages_]


@require_POST
@login_required
def invoice_new(request: SignedInRequest, patient_id: int) -> HttpResponse:
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm="billing.edit_invoice",
        asked_for=ObjectType.INVOICE,
    )
    form = NewInvoiceForm(request.POST)
    if not form.is_valid():
        for message in _all_messages(form):
            messages.error(request, message)
        return redirect("billing_account", patient_id=patient.pk)
    location = form.cleaned_data["location"]
    invoice = invoice_create(
        patient=patient,
        location=location,
        actor=request.user,
        service_date=_today_at(location),
        request=request,
    )
    messages.success(request, _("Started a draft invoice. Add what is sold, then issue it."))
    return redirect("billing_invoice", invoice_id=invoice.pk)


def _today_at(location: Location) -> dt.date:
    return timezone.now().astimezone(location.zone).date()


@login_required
def credit_note_new(request: SignedInRequest, invoice_id: int) -> HttpResponse:
    invoice = invoice_for_user(
        request, invoice_id, perm="billing.issue_credit_note", asked_for=ObjectType.CREDIT_NOTE
    )
    if invoice.status != InvoiceStatus.ISSUED or invoice.kind != InvoiceKind.INVOICE:
        messages.error(request, _("Only an issued invoice can be corrected by a credit note."))
        return redirect("billing_invoice", invoice_id=invoice.pk)
    taken = credited_by_line(invoice)
    lines = [
        (line, line.amount - taken.get(line.pk, ZERO))
        for line in invoice.lines.all()
        if line.amount - taken.get(line.pk, ZERO) > 0
    ]
    if request.method == "POST":
        form = CreditNoteForm(request.POST, lines=lines)
        if form.is_valid():
            try:
                note = credit_note_issue(
                    invoice=invoice,
                    amounts=form.amounts(),
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    request=request,
                )
            except BillingRefused as refusal:
                refusal_to_form(
                    form,
                    refusal,
                    field_map=lambda key: (
                        "line_" + key.split(".", 1)[1] if key.startswith("lines.") else key
                    ),
                )
            else:
                messages.success(
                    request,
                    _("Issued credit note %(number)s for %(total)s.")
                    % {"number": note.display_number, "total": note.total},
                )
                return redirect("billing_invoice", invoice_id=invoice.pk)
    else:
        form = CreditNoteForm(
            lines=lines, initial={f"line_{line.pk}": left for line, left in lines}
        )
    audit_view(request, ObjectType.INVOICE, patient=invoice.patient, object_id=invoice.pk)
    return render(
        request,
        "billing/credit_note_form.html",
        {
            "invoice": invoice,
            "form": form,
            "nothing_left": not lines,
            "errors": error_summary(form),
        },
    )


def filtered_invoices(data: dict[str, Any]) -> QuerySet[Invoice]:
    """Return the desk list's invoices for the filter's cleaned data, newest first."""
    invoices = Invoice.objects.filter(kind=InvoiceKind.INVOICE).select_related(
        "patient", "location", "payer"
    )
    show = data.get("show") or ""
    if show == "drafts":
        invoices = invoices.filter(status=InvoiceStatus.DRAFT)
    elif show == "outstanding":
        invoices = invoices.filter(status=InvoiceStatus.ISSUED).alias(owing=owing())
        invoices = invoices.filter(owing__gt=0)
    if data.get("issued_from"):
        invoices = invoices.filter(issued_at__date__gte=data["issued_from"])
    if data.get("issued_to"):
        invoices = invoices.filter(issued_at__date__lte=data["issued_to"])
    for word in (data.get("patient") or "").split():
        invoices = invoices.filter(
            Q(patient__given_name__icontains=word)
            | Q(patient__family_name__icontains=word)
            | Q(patient__preferred_name__icontains=word)
        )
    return invoices.order_by("-created_at", "-pk")


@login_required
def invoice_list(request: SignedInRequest) -> HttpResponse:
    require_perm(request, "billing.view_account", object_type=ObjectType.INVOICE)
    form = InvoiceFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = Paginator(filtered_invoices(data), PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    figures = figures_for([i for i in shown if i.status == InvoiceStatus.ISSUED])
    rows = [(invoice, figures.get(invoice.pk)) for invoice in shown]
    if shown:
        audit_record_per_patient(
            actor=request.user,
            action=Action.VIEW,
            object_type=ObjectType.INVOICE,
            shown={
                patient_id: {"page": "invoices", "page_number": page.number}
                for patient_id in sorted({i.patient_id for i in shown})
            },
            request=request,
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "billing/invoice_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "owed_total": sum((f.outstanding for f in figures.values()), ZERO),
            "query": query.urlencode(),
        },
    )


def owed_by_patient(invoices: list[Invoice]) -> list[tuple[Invoice, Decimal]]:
    """Return the issued invoices with something the patient still owes, oldest first."""
    figures = figures_for(invoices)
    owed = [(i, figures[i.pk].patient_due) for i in invoices]
    owed = [(i, due) for i, due in owed if due > 0]
    owed.sort(key=lambda pair: (pair[0].issued_at, pair[0].number or 0))
    return owed
