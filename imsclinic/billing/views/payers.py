"""Insurers and third parties: what each owes, its statement, its payment against many invoices."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import DecimalField, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imsclinic.billing import money
from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import (
    MONEY_DIGITS,
    REFERENCE_MAX,
    ZERO,
    Allocation,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payer,
    Payment,
    PaymentMethod,
    Policy,
)
from imsclinic.billing.selectors import (
    InvoiceFigures,
    figures_for,
    local_today,
    payments_with_money_left,
)
from imsclinic.billing.services.payments import (
    PAYER_METHODS,
    Apply,
    payment_allocate,
    payment_record,
)
from imsclinic.core.access import require_perm
from imsclinic.core.audit import audit_record_per_patient
from imsclinic.core.errors import Refused
from imsclinic.core.form_errors import error_summary, refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import Action, ObjectType

NEW = "new"


def _payer(payer_id: int) -> Payer:
    payer = Payer.objects.filter(pk=payer_id).first()
    if payer is None:
        raise Http404("No such payer.")
    return payer


@dataclass(frozen=True)
class PayerRow:
    """One payer with what it was billed, credited and paid on issued invoices, and owes now."""

    payer: Payer
    billed: Decimal
    credited: Decimal
    paid: Decimal
    first_service: dt.date | None
    last_service: dt.date | None

    @property
    def owed(self) -> Decimal:
        return money.to_cents(self.billed - self.credited - self.paid)


def _payer_sum(rows: Any, group: str, field: str) -> Coalesce:
    amount = DecimalField(max_digits=MONEY_DIGITS, decimal_places=2)
    summed = rows.values(group).annotate(s=Sum(field)).values("s")
    return Coalesce(Subquery(summed, output_field=amount), ZERO, output_field=amount)


def payer_rows() -> list[PayerRow]:
    """Every payer in use, and any out of use still owing, with its sums: one query.

    The sums are those of the payer's statement over all time: payer shares of issued
    invoices, less what credit notes took back from them and what payers paid on them.
    """
    issued = {"kind": InvoiceKind.INVOICE, "status": InvoiceStatus.ISSUED}
    billed = _payer_sum(
        Invoice.objects.filter(payer=OuterRef("pk"), **issued), "payer", "payer_share"
    )
    credited = _payer_sum(
        Invoice.objects.filter(
            corrects__payer=OuterRef("pk"),
            corrects__kind=InvoiceKind.INVOICE,
            corrects__status=InvoiceStatus.ISSUED,
            kind=InvoiceKind.CREDIT_NOTE,
            status=InvoiceStatus.ISSUED,
        ),
        "corrects__payer",
        "payer_share",
    )
    paid = _payer_sum(
        Allocation.objects.filter(
            invoice__payer=OuterRef("pk"),
            invoice__kind=InvoiceKind.INVOICE,
            invoice__status=InvoiceStatus.ISSUED,
            payment__payer__isnull=False,
        ),
        "invoice__payer",
        "amount",
    )
    dates = Invoice.objects.filter(payer=OuterRef("pk"), **issued).values("payer")
    payers = Payer.objects.annotate(
        billed=billed,
        credited=credited,
        paid=paid,
        first_service=Subquery(dates.annotate(day=Min("service_date")).values("day")),
        last_service=Subquery(dates.annotate(day=Max("service_date")).values("day")),
    ).order_by("name")
    rows = [
        PayerRow(
            payer=payer,
            billed=money.to_cents(payer.billed),
            credited=money.to_cents(payer.credited),
            paid=money.to_cents(payer.paid),
            first_service=payer.first_service,
            last_service=payer.last_service,
        )
        for payer in payers.filter(Q(is_active=True) | ~Q(billed=0))
    ]
    return [row for row in rows if row.payer.is_active or row.owed]


@login_required
def billing_payers(request: SignedInRequest) -> HttpResponse:
    """Every insurer and third party with what it owes now, linking to its statement."""
    require_perm(request, "billing.view_payer_statement", object_type=ObjectType.PAYER)
    rows = payer_rows()
    context = {
        "rows": rows,
        "total_owed": sum((row.owed for row in rows), ZERO),
        "can_take_payment": request.user.has_perm("billing.take_payment"),
    }
    return render(request, "billing/payers.html", context)


class DateInput(forms.DateInput):
    input_type = "date"


class PeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From (date of service)"), widget=DateInput)
    end = forms.DateField(label=gettext_lazy("To"), widget=DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end of the period cannot be before its start."))
        return data


@dataclass(frozen=True)
class StatementRow:
    invoice: Invoice
    claim_number: str
    member_number: str
    figures: InvoiceFigures

    # Sums read back from SQLite lose their places ("95"); shown, they are always to the cent.
    @property
    def billed(self) -> Decimal:
        return money.to_cents(self.invoice.payer_share)

    @property
    def credited(self) -> Decimal:
        return money.to_cents(self.figures.credited_payer)

    @property
    def paid(self) -> Decimal:
        return money.to_cents(self.figures.paid_by_payer)

    @property
    def owed(self) -> Decimal:
        return money.to_cents(self.figures.payer_due)


@dataclass(frozen=True)
class StatementTotals:
    billed: Decimal
    credited: Decimal
    paid: Decimal
    owed: Decimal


def _member_numbers(payer: Payer, patient_ids: set[int]) -> dict[int, str]:
    """Each patient's member number with this payer (the policy in force first)."""
    found: dict[int, str] = {}
    policies = Policy.objects.filter(payer=payer, patient_id__in=patient_ids).order_by(
        "-is_active", "-created_at"
    )
    for policy in policies:
        found.setdefault(policy.patient_id, policy.member_number)
    return found


def statement_rows(payer: Payer, start: dt.date, end: dt.date) -> list[StatementRow]:
    """Every issued invoice billed to the payer for services in the period, oldest first."""
    invoices = list(
        Invoice.objects.filter(
            payer=payer,
            kind=InvoiceKind.INVOICE,
            status=InvoiceStatus.ISSUED,
            service_date__gte=start,
            service_date__lte=end,
        )
        .select_related("patient", "claim__policy")
        .order_by("service_date", "number")
    )
    figures = figures_for(invoices)
    members = _member_numbers(payer, {invoice.patient_id for invoice in invoices})
    rows = []
    for invoice in invoices:
        claim = invoice.claim
        member = claim.policy.member_number if claim is not None and claim.policy else ""
        rows.append(
            StatementRow(
                invoice=invoice,
                claim_number=claim.claim_number if claim is not None else "",
                member_number=member or members.get(invoice.patient_id, ""),
                figures=figures[invoice.pk],
            )
        )
    return rows


def statement_totals(rows: list[StatementRow]) -> StatementTotals:
    return StatementTotals(
        billed=sum((row.billed for row in rows), ZERO),
        credited=sum((row.credited for row in rows), ZERO),
        paid=sum((row.paid for row in rows), ZERO),
        owed=sum((row.owed for row in rows), ZERO),
    )


def _statement_csv(payer: Payer, rows: list[StatementRow], totals: StatementTotals) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payer-{payer.pk}-statement.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Patient"),
            _("Claim number"),
            _("Member number"),
            _("Date of service"),
            _("Invoice"),
            _("Billed to the payer"),
            _("Credited"),
            _("Paid"),
            _("Owed"),
        ]
    )
    for row in rows:
        writer.writerow(
            [
                row.invoice.patient.full_name,
                row.claim_number,
                row.member_number,
                row.invoice.service_date.isoformat(),
                row.invoice.display_number,
                row.billed,
                row.credited,
                row.paid,
                row.owed,
            ]
        )
    writer.writerow(
        [_("Total"), "", "", "", "", totals.billed, totals.credited, totals.paid, totals.owed]
    )
    return response


def _audit_shown(
    request: SignedInRequest, payer: Payer, invoices: list[Invoice], *, action: Action, page: str
) -> None:
    shown: dict[int, dict[str, Any]] = {}
    for invoice in invoices:
        entry = shown.setdefault(
            invoice.patient_id, {"page": page, "payer": payer.pk, "invoices": []}
        )
        entry["invoices"].append(invoice.pk)
    if shown:
        audit_record_per_patient(
            actor=request.user,
            action=action,
            object_type=ObjectType.PAYER_STATEMENT,
            shown=shown,
            request=request,
        )


@login_required
def billing_payer_statement(request: SignedInRequest, payer_id: int) -> HttpResponse:
    """What was billed to a payer for a period, what they were credited, paid and still owe."""
    require_perm(request, "billing.view_payer_statement", object_type=ObjectType.PAYER_STATEMENT)
    payer = _payer(payer_id)
    if request.GET:
        form = PeriodForm(request.GET)
    else:
        today = local_today()
        form = PeriodForm({"start": today.replace(month=1, day=1), "end": today})
    if not form.is_valid():
        context = {"payer": payer, "form": form, "errors": error_summary(form), "rows": None}
        return render(request, "billing/payer_statement.html", context, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    rows = statement_rows(payer, start, end)
    totals = statement_totals(rows)
    as_csv = request.GET.get("format") == "csv"
    _audit_shown(
        request,
        payer,
        [row.invoice for row in rows],
        action=Action.EXPORT if as_csv else Action.VIEW,
        page="payer_statement",
    )
    if as_csv:
        return _statement_csv(payer, rows, totals)
    context = {
        "payer": payer,
        "form": form,
        "rows": rows,
        "totals": totals,
        "start": start,
        "end": end,
        "csv_query": f"start={start.isoformat()}&end={end.isoformat()}&format=csv",
        "can_take_payment": request.user.has_perm("billing.take_payment"),
    }
    return render(request, "billing/payer_statement.html", context)


class PayerPaymentForm(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("Money from"), widget=forms.RadioSelect)
    method = forms.ChoiceField(label=gettext_lazy("Paid by"), required=False)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount received"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
    )
    received_on = forms.DateField(
        label=gettext_lazy("Received on"), required=False, widget=DateInput
    )
    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=REFERENCE_MAX,
        required=False,
        help_text=gettext_lazy("The cheque or EFT number."),
    )

    def __init__(self, *args: Any, leftovers: list[tuple[Payment, Decimal]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(NEW, _("A new payment"))]
        for payment, left in leftovers:
            choices.append(
                (
                    str(payment.pk),
                    _("%(left)s left of %(method)s %(amount)s received %(day)s %(ref)s")
                    % {
                        "left": money.to_cents(left),
                        "method": payment.get_method_display(),
                        "amount": payment.amount,
                        "day": payment.received_on.isoformat(),
                        "ref": payment.reference,
                    },
                )
            )
        self.fields["source"].choices = choices  # type: ignore[attr-defined]
        if not leftovers:
            # No earlier money to spend: the payment is a new one; nothing to choose.
            self.fields["source"].widget = forms.HiddenInput()
        self.fields["method"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (method.value, method.label) for method in PAYER_METHODS
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("source") == NEW:
            for name, message in (
                ("method", _("Choose how the payer paid.")),
                ("amount", _("Give the amount received.")),
                ("received_on", _("Give the day the money was received.")),
            ):
                if data.get(name) in (None, "") and name not in self.errors:
                    self.add_error(name, message)
        return data


@dataclass
class OwedRow:
    invoice: Invoice
    owed: Decimal
    typed: str = ""
    error: str = ""


def _owed_rows(payer: Payer) -> list[OwedRow]:
    invoices = list(
        Invoice.objects.filter(payer=payer, kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED)
        .select_related("patient", "claim")
        .order_by("service_date", "number")
    )
    figures = figures_for(invoices)
    return [
        OwedRow(invoice=invoice, owed=money.to_cents(figures[invoice.pk].payer_due))
        for invoice in invoices
        if figures[invoice.pk].payer_due > 0
    ]


def _read_amounts(request: SignedInRequest, rows: list[OwedRow]) -> list[Apply] | None:
    """Read each row's amount box; None (errors on the rows) if one is not an amount."""
    applies: list[Apply] = []
    ok = True
    for row in rows:
        row.typed = request.POST.get(f"invoice-{row.invoice.pk}", "").strip()
        if not row.typed:
            continue
        try:
            amount = Decimal(row.typed.replace(",", ""))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0 or amount != money.to_cents(amount):
            row.error = _("Give an amount in dollars and cents, such as 45.00.")
            ok = False
            continue
        if amount > 0:
            applies.append(Apply(invoice=row.invoice, amount=amount))
    return applies if ok else None


@login_required
def billing_payer_payment(request: SignedInRequest, payer_id: int) -> HttpResponse:
    """Record a payer's payment (cheque, EFT) and put it towards many invoices at once.

    What is not put towards an invoice stays as the payer's credit, which this page puts
    towards invoices later.
    """
    require_perm(request, "billing.take_payment", object_type=ObjectType.PAYMENT)
    payer = _payer(payer_id)
    leftovers = payments_with_money_left(payer_id=payer.pk)
    rows = _owed_rows(payer)
    status = 200
    if request.method == "POST":
        form = PayerPaymentForm(request.POST, leftovers=leftovers)
        applies = _read_amounts(request, rows)
        if form.is_valid() and applies is not None:
            data = form.cleaned_data
            try:
                if data["source"] == NEW:
                    payment = payment_record(
                        payer=payer,
                        method=data["method"],
                        amount=data["amount"],
                        received_on=data["received_on"],
                        reference=data["reference"],
                        allocations=applies,
                        actor=request.user,
                        request=request,
                    )
                else:
                    payment = next(p for p, _left in leftovers if str(p.pk) == data["source"])
                    payment_allocate(
                        payment=payment, allocations=applies, actor=request.user, request=request
                    )
            except BillingRefused as refusal:
                _refusal_to_page(refusal, form, rows)
            else:
                put = sum((a.amount for a in applies), ZERO)
                left = [
                    rest
                    for other, rest in payments_with_money_left(payer_id=payer.pk)
                    if other.pk == payment.pk
                ]
                messages.success(
                    request,
                    _(
                        "Recorded: %(put)s put towards %(count)d invoices; %(left)s of this "
                        "payment stays as %(payer)s's credit."
                    )
                    % {
                        "put": put,
                        "count": len(applies),
                        "left": money.to_cents(left[0]) if left else ZERO,
                        "payer": payer.name,
                    },
                )
                return redirect("billing_payer_payment", payer_id=payer.pk)
        status = 400
    else:
        form = PayerPaymentForm(
            initial={"source": NEW, "received_on": local_today()}, leftovers=leftovers
        )
    _audit_shown(
        request, payer, [row.invoice for row in rows], action=Action.VIEW, page="payer_payment"
    )
    context = {
        "payer": payer,
        "form": form,
        "rows": rows,
        "owed_total": money.to_cents(sum((row.owed for row in rows), ZERO)),
        "row_errors": any(row.error for row in rows),
        "errors": error_summary(form) if form.is_bound else [],
        "method_insurer": PaymentMethod.INSURER,
        "leftovers": leftovers,
        "can_refund": request.user.has_perm("billing.refund"),
    }
    return render(request, "billing/payer_payment.html", context, status=status)


def _refusal_to_page(refusal: BillingRefused, form: PayerPaymentForm, rows: list[OwedRow]) -> None:
    """Put a refusal's messages beside the invoice rows they name, the rest on the form."""
    by_row = {f"invoice.{row.invoice.pk}": row for row in rows}
    rest = {key: message for key, message in refusal.errors.items() if key not in by_row}
    for key, message in refusal.errors.items():
        if key in by_row:
            by_row[key].error = message
    if rest:
        refusal_to_form(form, Refused(errors=rest))
    elif not refusal.errors:
        form.add_error(None, refusal.message)
