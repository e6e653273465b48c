"""The front desk's billing forms: they check fields; the services check the rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from imsclinic.billing.models import (
    DESCRIPTION_MAX,
    MONEY_DIGITS,
    REASON_MAX,
    REFERENCE_MAX,
    Claim,
    Invoice,
    InvoiceLine,
    ItemKind,
    Payer,
    Product,
)
from imsclinic.billing.services.payments import DESK_METHODS
from imsclinic.clinic.models import Location, Service

QUANTITY_MAX = Decimal("9999")
MONEY_MIN = Decimal("0.01")


def money_input(
    label: Any, *, required: bool = True, min_value: Decimal | None = MONEY_MIN
) -> forms.DecimalField:
    """Return a field for an amount to the cent, typed without a currency sign."""
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=MONEY_DIGITS,
        decimal_places=2,
        min_value=min_value,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


def quantity_input() -> forms.DecimalField:
    return forms.DecimalField(
        label=_("Quantity"),
        initial=Decimal("1"),
        max_digits=8,
        decimal_places=2,
        min_value=MONEY_MIN,
        max_value=QUANTITY_MAX,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


class NewInvoiceForm(forms.Form):
    """Start a draft for products or packages, at the location selling them."""

    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.filter(is_active=True), empty_label=None
    )


class ProductLineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True)
    )
    quantity = quantity_input()


class ServiceLineForm(forms.Form):
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.filter(is_active=True)
    )
    quantity = quantity_input()


class ItemLineForm(forms.Form):
    """A described item at a price (a package, a report fee)."""

    description = forms.CharField(label=_("Description"), max_length=DESCRIPTION_MAX)
    item_kind = forms.ChoiceField(
        label=_("Item type"), choices=ItemKind.choices, initial=ItemKind.PRODUCT
    )
    unit_price = money_input(_("Unit price"), min_value=Decimal("0"))
    quantity = quantity_input()


class RemoveLineForm(forms.Form):
    line = forms.ModelChoiceField(label=_("Line"), queryset=InvoiceLine.objects.none())

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = invoice.lines.all()  # type: ignore[attr-defined]


class BillPayerForm(forms.Form):
    """Bill a share to a payer, or to the payer of one of the patient's open claims."""

    claim = forms.ModelChoiceField(
        label=_("Claim"),
        queryset=Claim.objects.none(),
        required=False,
        empty_label=_("No claim"),
    )
    payer = forms.ModelChoiceField(
        label=_("Payer"),
        queryset=Payer.objects.filter(is_active=True),
        required=False,
        empty_label=_("Nobody: the patient pays it all"),
    )
    payer_share = money_input(_("Payer's share"), required=False, min_value=Decimal("0"))

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["claim"].queryset = Claim.objects.filter(  # type: ignore[attr-defined]
            patient_id=invoice.patient_id, is_open=True
        ).select_related("payer")
        self.fields["payer_share"].help_text = _(
            "Empty with a claim: the claim's share. The patient pays the rest."
        )


class DiscardForm(forms.Form):
    reason = forms.CharField(label=_("Why is it discarded?"), max_length=REASON_MAX)


class CreditNoteForm(forms.Form):
    """How much of each line to take back (before tax), and why."""

    reason = forms.CharField(
        label=_("Reason"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args: Any, lines: Iterable[tuple[InvoiceLine, Decimal]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.line_fields: list[tuple[InvoiceLine, Decimal, str]] = []
        for line, left in lines:
            name = f"line_{line.pk}"
            field = money_input(line.description, required=False, min_value=Decimal("0"))
            field.help_text = _("At most %(left)s.") % {"left": left}
            self.fields[name] = field
            self.line_fields.append((line, left, name))
        # The reason comes after the lines.
        self.order_fields([name for _line, _left, name in self.line_fields] + ["reason"])

    def amounts(self) -> dict[int, Decimal]:
        return {
            line.pk: self.cleaned_data[name]
            for line, _left, name in self.line_fields
            if self.cleaned_data.get(name)
        }


class PaymentForm(forms.Form):
    """Money taken at the desk, and what of it goes towards which of the patient's invoices."""

    method = forms.ChoiceField(
        label=_("Method"),
        choices=[(m.value, m.label) for m in DESK_METHODS],
        widget=forms.RadioSelect,
    )
    amount = money_input(_("Amount received"))
    received_on = forms.DateField(
        label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=REFERENCE_MAX,
        required=False,
        help_text=_("Terminal authorisation, cheque or transfer number."),
    )
    note = forms.CharField(label=_("Note"), max_length=REASON_MAX, required=False)
    # The account credit the page last said this payment leaves; saved only once said.
    credit_shown = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        owed: Iterable[tuple[Invoice, Decimal]] = (),
        today: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if today is not None:
            self.fields["received_on"].initial = today
        self.invoice_fields: list[tuple[Invoice, Decimal, str]] = []
        for invoice, due in owed:
            name = f"invoice_{invoice.pk}"
            field = money_input(
                _("Towards %(number)s") % {"number": invoice.display_number},
                required=False,
                min_value=Decimal("0"),
            )
            field.widget.attrs["data-owed"] = str(due)
            field.help_text = _("Issued %(day)s; the patient still owes %(due)s.") % {
                "day": invoice.issued_at.astimezone(invoice.location.zone).date().isoformat()
                if invoice.issued_at
                else "",
                "due": due,
            }
            self.fields[name] = field
            self.invoice_fields.append((invoice, due, name))

    def typed_allocations(self) -> dict[int, Decimal]:
        """Return the amounts typed against invoices (none typed: an empty mapping)."""
        return {
            invoice.pk: self.cleaned_data[name]
            for invoice, _due, name in self.invoice_fields
            if self.cleaned_data.get(name) is not None
        }


class CheckoutPaymentForm(forms.Form):
    """The patient's share of the visit, paid at check-out."""

    method = PaymentForm.base_fields["method"]
    amount = money_input(_("Amount received"))
    reference = PaymentForm.base_fields["reference"]


class CreditApplyForm(forms.Form):
    amount = money_input(_("Amount of credit to use"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = _("Empty: as much as the credit covers.")


class RefundForm(forms.Form):
    amount = money_input(_("Amount to give back"))
    refunded_on = forms.DateField(
        label=_("Refunded on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX)
    reference = forms.CharField(label=_("Reference"), max_length=REFERENCE_MAX, required=False)


class InvoiceFilterForm(forms.Form):
    SHOW = (
        ("", _("All")),
        ("drafts", _("Drafts")),
        ("outstanding", _("Outstanding")),
    )
    show = forms.ChoiceField(label=_("Show"), choices=SHOW, required=False)
    patient = forms.CharField(label=_("Patient name"), max_length=100, required=False)
    issued_from = forms.DateField(
        label=_("Issued from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    issued_to = forms.DateField(
        label=_("Issued to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("issued_from"), data.get("issued_to")
        if start and end and end < start:
            self.add_error("issued_to", _("The end comes before the start."))
        return data
