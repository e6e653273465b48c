"""The clinic's money, kept the way a bookkeeper expects.

An invoice is drafted, then issued with the next number of its series; once issued it never
changes (the services refuse, and triggers in the database refuse what goes around them). A
mistake is corrected by a credit note that names the invoice. Money comes in as payments,
which are allocated to invoices (several at once, or partly) and whose unallocated rest is
the payer's account credit; money goes back as refunds, to the payment's own method. Nothing
here is ever deleted: an allocation taken back is a second, negative allocation row.

Amounts are `Decimal` in the clinic's currency, two places; each line is rounded once,
half-up to the cent (`billing.money`), and every total is a sum of rounded lines.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Field limits, declared once: the models, the forms, the services and the API read them.
MONEY_DIGITS = 12
REFERENCE_MAX = 120
REASON_MAX = 500
NOTE_MAX = 2000
DESCRIPTION_MAX = 200
ZERO = Decimal("0.00")


def money_field(verbose_name: str | object, **kwargs: object) -> models.DecimalField:
    """Return a field holding an amount of the clinic's currency, to the cent."""
    return models.DecimalField(
        verbose_name,  # type: ignore[arg-type]
        max_digits=MONEY_DIGITS,
        decimal_places=2,
        **kwargs,  # type: ignore[arg-type]
    )


class ItemKind(models.TextChoices):
    """What a line sells; the owner sets a tax rate per kind and location."""

    SERVICE = "service", _("Health service (physiotherapy, IMS)")
    PRODUCT = "product", _("Product (braces, tape, supplies)")
    FEE = "fee", _("Late-cancellation or no-show fee")


class TaxRate(models.Model):
    """The tax charged on one kind of item at one location (e.g. GST 5% on products in BC)."""

    location = models.ForeignKey(
        "clinic.Location", on_delete=models.CASCADE, related_name="tax_rates"
    )
    item_kind = models.CharField(_("item type"), max_length=20, choices=ItemKind.choices)
    name = models.CharField(
        _("tax name"), max_length=40, help_text=_("As printed on invoices, e.g. GST or HST.")
    )
    rate_percent = models.DecimalField(
        _("rate (%)"),
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Physiotherapy services are exempt from GST/HST in Canada: leave them out."),
    )

    class Meta:
        verbose_name = _("tax rate")
        ordering = ("location", "item_kind")
        constraints = [
            models.UniqueConstraint(
                fields=("location", "item_kind"), name="billing_one_tax_per_kind_and_location"
            ),
            models.CheckConstraint(
                condition=Q(rate_percent__gte=0) & Q(rate_percent__lte=100),
                name="billing_tax_rate_between_0_and_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.rate_percent}% · {self.get_item_kind_display()}"


class ServiceFee(models.Model):
    """A service's price at one location; without one, the service's own price applies."""

    service = models.ForeignKey("clinic.Service", on_delete=models.CASCADE, related_name="fees")
    location = models.ForeignKey(
        "clinic.Location", on_delete=models.CASCADE, related_name="service_fees"
    )
    price = money_field(_("price"), validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        verbose_name = _("price at a location")
        verbose_name_plural = _("prices at locations")
        constraints = [
            models.UniqueConstraint(
                fields=("service", "location"), name="billing_one_fee_per_service_and_location"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="billing_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.service} at {self.location}: {self.price}"


class Product(models.Model):
    """Something the clinic sells over the counter (a brace, tape)."""

    name = models.CharField(_("name"), max_length=DESCRIPTION_MAX)
    code = models.CharField(_("code"), max_length=40, blank=True)
    price = money_field(_("price"), validators=[MinValueValidator(Decimal("0"))])
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("product")
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="billing_product_price_ok"),
        ]

    def __str__(self) -> str:
        return self.name


class FeeEvent(models.TextChoices):
    LATE_CANCEL = "late_cancel", _("Late cancellation")
    NO_SHOW = "no_show", _("No-show")


class CancellationFeePolicy(models.Model):
    """What a late cancellation or a no-show of one service costs: an amount or a share."""

    service = models.ForeignKey(
        "clinic.Service", on_delete=models.CASCADE, related_name="cancellation_fees"
    )
    event = models.CharField(_("when"), max_length=20, choices=FeeEvent.choices)
    amount = money_field(
        _("fixed amount"),
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    share_percent = models.DecimalField(
        _("share of the visit's fee (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        verbose_name = _("late-cancellation or no-show fee")
        constraints = [
            models.UniqueConstraint(
                fields=("service", "event"), name="billing_one_fee_policy_per_event"
            ),
            models.CheckConstraint(
                condition=(Q(amount__isnull=False, share_percent__isnull=True))
                | (Q(amount__isnull=True, share_percent__isnull=False)),
                name="billing_fee_policy_amount_or_share",
            ),
        ]

    def __str__(self) -> str:
        how = f"{self.amount}" if self.amount is not None else f"{self.share_percent}%"
        return f"{self.service}: {self.get_event_display()} {how}"


class PayerKind(models.TextChoices):
    EXTENDED_HEALTH = "extended_health", _("Extended health insurer")
    AUTO = "auto", _("Auto insurance")
    WORKERS_COMP = "workers_comp", _("Workers' compensation")
    OTHER = "other", _("Other third party")


class Payer(models.Model):
    """An insurer or third party the clinic bills or issues receipts for."""

    name = models.CharField(_("name"), max_length=DESCRIPTION_MAX, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=PayerKind.choices)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    billing_notes = models.TextField(_("how to bill them"), blank=True, max_length=NOTE_MAX)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("insurer or third party")
        verbose_name_plural = _("insurers and third parties")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Policy(models.Model):
    """A patient's cover with a payer: plan, member number, who holds it."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="policies"
    )
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="policies")
    plan_name = models.CharField(_("plan or group"), max_length=DESCRIPTION_MAX, blank=True)
    member_number = models.CharField(_("member or policy number"), max_length=REFERENCE_MAX)
    holder_name = models.CharField(
        _("policy holder"),
        max_length=DESCRIPTION_MAX,
        blank=True,
        help_text=_("Leave empty when the patient holds it."),
    )
    holder_relationship = models.CharField(_("holder is the patient's"), max_length=60, blank=True)
    coverage_notes = models.TextField(_("coverage notes"), blank=True, max_length=NOTE_MAX)
    is_active = models.BooleanField(_("in force"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("insurance policy")
        verbose_name_plural = _("insurance policies")
        ordering = ("-is_active", "payer__name")

    def __str__(self) -> str:
        return f"{self.payer} · {self.member_number}"


class Claim(models.Model):
    """A third-party case (auto, workers' compensation): claim number and authorised visits."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="claims")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="claims")
    policy = models.ForeignKey(
        Policy, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    claim_number = models.CharField(_("claim number"), max_length=REFERENCE_MAX)
    authorised_visits = models.PositiveSmallIntegerField(
        _("authorised visits"), null=True, blank=True, help_text=_("Empty: no limit given.")
    )
    authorised_from = models.DateField(_("authorised from"), null=True, blank=True)
    authorised_until = models.DateField(_("authorised until"), null=True, blank=True)
    payer_share_percent = models.DecimalField(
        _("payer pays (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("100"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "The share of each visit's invoice billed to the payer; the patient pays the rest."
        ),
    )
    notes = models.TextField(_("notes"), blank=True, max_length=NOTE_MAX)
    is_open = models.BooleanField(_("open"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("claim")
        ordering = ("-is_open", "-created_at")
        constraints = [
            models.UniqueConstraint(
                fields=("payer", "claim_number"), name="billing_claim_number_unique_per_payer"
            ),
            models.CheckConstraint(
                condition=Q(authorised_until__isnull=True)
                | Q(authorised_from__isnull=True)
                | Q(authorised_until__gte=F("authorised_from")),
                name="billing_claim_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(payer_share_percent__gte=0) & Q(payer_share_percent__lte=100),
                name="billing_claim_share_between_0_and_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payer} · {self.claim_number}"


class DocumentSeries(models.TextChoices):
    INVOICE = "invoice", _("Invoices")
    CREDIT_NOTE = "credit_note", _("Credit notes")
    RECEIPT = "receipt", _("Receipts")


class NumberCounter(models.Model):
    """The last number given in a series; taken under a row lock, so never shared or skipped."""

    series = models.CharField(max_length=20, choices=DocumentSeries.choices, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("number series")

    def __str__(self) -> str:
        return f"{self.series}: {self.last_number}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoicePurpose(models.TextChoices):
    VISIT = "visit", _("Visit")
    FEE = "fee", _("Late-cancellation or no-show fee")
    SALE = "sale", _("Products or packages")
    CORRECTION = "correction", _("Correction")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    DISCARDED = "discarded", _("Discarded draft")


class Invoice(models.Model):
    """An invoice or a credit note; a credit note names the invoice it corrects."""

    kind = models.CharField(
        _("kind"), max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    purpose = models.CharField(_("for"), max_length=20, choices=InvoicePurpose.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="invoices"
    )
    location = models.ForeignKey("clinic.Location", on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        "clinic.Practitioner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    fee_event = models.CharField(_("fee for"), max_length=20, choices=FeeEvent.choices, blank=True)
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("corrects invoice"),
    )
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    payer = models.ForeignKey(
        Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    payer_share = money_field(_("billed to the payer"), default=ZERO)
    subtotal = money_field(_("subtotal"), default=ZERO)
    tax_total = money_field(_("tax"), default=ZERO)
    total = money_field(_("total"), default=ZERO)
    service_date = models.DateField(_("date of service"))
    reason = models.CharField(_("reason"), max_length=REASON_MAX, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("invoice")
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("patient", "status"), name="billing_invoice_patient"),
            models.Index(fields=("status", "issued_at"), name="billing_invoice_issued"),
            models.Index(fields=("payer", "status"), name="billing_invoice_payer"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("kind", "number"),
                condition=Q(number__isnull=False),
                name="billing_invoice_number_unique_per_series",
            ),
            # One live invoice per visit and one live fee per visit.
            models.UniqueConstraint(
                fields=("appointment", "purpose"),
                condition=Q(appointment__isnull=False, kind="invoice") & ~Q(status="discarded"),
                name="billing_one_invoice_per_visit_and_purpose",
            ),
            models.CheckConstraint(
                condition=Q(status="issued", number__isnull=False, issued_at__isnull=False)
                | (~Q(status="issued") & Q(number__isnull=True)),
                name="billing_issued_has_number",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", corrects__isnull=True)
                | Q(kind="credit_note", corrects__isnull=False),
                name="billing_credit_note_corrects_an_invoice",
            ),
            # In whole cents: SQLite keeps these amounts as binary floats, in which 29.90 +
            # 3.59 is not 33.49.
            models.CheckConstraint(
                condition=Exact(
                    Round(F("total") * 100), Round((F("subtotal") + F("tax_total")) * 100)
                ),
                name="billing_total_adds_up",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="billing_total_not_negative"),
            models.CheckConstraint(
                condition=Q(payer_share__gte=0) & Q(payer_share__lte=F("total")),
                name="billing_payer_share_within_total",
            ),
            models.CheckConstraint(
                condition=Q(payer_share=0) | Q(payer__isnull=False),
                name="billing_payer_share_has_payer",
            ),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        """Return the number as printed ("INV-000042", "CN-000003"), or "Draft"."""
        if self.number is None:
            return str(_("Draft"))
        prefix = "CN" if self.kind == InvoiceKind.CREDIT_NOTE else "INV"
        return f"{prefix}-{self.number:06d}"

    @property
    def patient_share(self) -> Decimal:
        return self.total - self.payer_share

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE


class InvoiceLine(models.Model):
    """One line: what, how many, at what price, its tax; rounded once, half-up to the cent."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    item_kind = models.CharField(_("item type"), max_length=20, choices=ItemKind.choices)
    description = models.CharField(_("description"), max_length=DESCRIPTION_MAX)
    service = models.ForeignKey(
        "clinic.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    credited_line = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credits",
        help_text=_("On a credit note: the invoice line this takes back."),
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=8, decimal_places=2, default=Decimal("1")
    )
    unit_price = money_field(_("unit price"))
    amount = money_field(_("amount"))
    tax_name = models.CharField(_("tax"), max_length=40, blank=True)
    tax_rate_percent = models.DecimalField(
        _("tax rate (%)"), max_digits=6, decimal_places=3, default=Decimal("0")
    )
    tax_amount = money_field(_("tax amount"), default=ZERO)

    class Meta:
        verbose_name = _("invoice line")
        ordering = ("invoice", "position", "pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="billing_line_quantity_positive"
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="billing_line_price_ok"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="billing_line_amount_ok"),
            models.CheckConstraint(condition=Q(tax_amount__gte=0), name="billing_line_tax_ok"),
        ]

    def __str__(self) -> str:
        return f"{self.description} x {self.quantity}"

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax_amount


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    DEBIT = "debit", _("Debit card")
    CREDIT_CARD = "credit_card", _("Credit card")
    E_TRANSFER = "e_transfer", _("E-transfer")
    CHEQUE = "cheque", _("Cheque")
    INSURER = "insurer", _("Insurer or third-party payment")
    ONLINE_CARD = "online_card", _("Card online")


class Payment(models.Model):
    """Money received from a patient or a payer; what is not allocated is their credit."""

    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    payer = models.ForeignKey(
        Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    amount = money_field(_("amount"))
    received_on = models.DateField(_("received on"))
    reference = models.CharField(
        _("reference"),
        max_length=REFERENCE_MAX,
        blank=True,
        help_text=_("Terminal authorisation, cheque or transfer number."),
    )
    note = models.CharField(_("note"), max_length=REASON_MAX, blank=True)
    location = models.ForeignKey(
        "clinic.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("payment")
        ordering = ("-recorded_at",)
        indexes = [
            models.Index(fields=("received_on", "method"), name="billing_payment_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_payment_positive"),
            models.CheckConstraint(
                condition=Q(patient__isnull=False, payer__isnull=True)
                | Q(patient__isnull=True, payer__isnull=False),
                name="billing_payment_from_patient_or_payer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount} on {self.received_on}"


class Allocation(models.Model):
    """Part of a payment put towards an invoice; a negative row takes some of it back."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = money_field(_("amount"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("allocation")
        ordering = ("created_at", "pk")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="billing_allocation_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of payment {self.payment_id} to invoice {self.invoice_id}"


class Refund(models.Model):
    """Money given back from a payment, to the payment's own method."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = money_field(_("amount"))
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    refunded_on = models.DateField(_("refunded on"))
    reason = models.CharField(_("reason"), max_length=REASON_MAX)
    reference = models.CharField(_("reference"), max_length=REFERENCE_MAX, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("refund")
        ordering = ("-recorded_at",)
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_refund_positive"),
        ]

    def __str__(self) -> str:
        return f"Refund of {self.amount} from payment {self.payment_id}"


class FeeWaiver(models.Model):
    """Why a late-cancellation or no-show fee was waived, and by whom."""

    fee_invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="waiver")
    credit_note = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=REASON_MAX)
    waived_at = models.DateTimeField(default=timezone.now, editable=False)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"Fee {self.fee_invoice_id} waived"


class Receipt(models.Model):
    """An official receipt for insurers: for one payment, or for the services of a period."""

    number = models.PositiveIntegerField(_("number"), unique=True)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="receipts"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="receipts"
    )
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("to"), null=True, blank=True)
    issued_at = models.DateTimeField(default=timezone.now, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("official receipt")
        ordering = ("-issued_at",)
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    payment__isnull=False, period_start__isnull=True, period_end__isnull=True
                )
                | Q(
                    payment__isnull=True,
                    period_start__isnull=False,
                    period_end__isnull=False,
                    period_end__gte=F("period_start"),
                ),
                name="billing_receipt_for_a_payment_or_a_period",
            ),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"R-{self.number:06d}"


class ReceiptDelivery(models.Model):
    """Each time a receipt was downloaded, printed or emailed; all but the first are copies."""

    class Channel(models.TextChoices):
        DOWNLOAD = "download", _("Downloaded")
        EMAIL = "email", _("Emailed")

    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    is_copy = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now, editable=False)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.receipt_id} at {self.at:%Y-%m-%d %H:%M}"


class CompensationKind(models.TextChoices):
    SHARE = "share", _("Share of sales")
    PER_VISIT = "per_visit", _("Fixed amount per visit")


class Compensation(models.Model):
    """How a practitioner is paid: a share of what they sold, or a fixed amount per visit."""

    practitioner = models.OneToOneField(
        "clinic.Practitioner", on_delete=models.CASCADE, related_name="compensation"
    )
    kind = models.CharField(_("paid by"), max_length=20, choices=CompensationKind.choices)
    share_percent = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    per_visit = money_field(_("per completed visit"), null=True, blank=True)

    class Meta:
        verbose_name = _("practitioner compensation")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="share", share_percent__isnull=False)
                | Q(kind="per_visit", per_visit__isnull=False),
                name="billing_compensation_has_its_figure",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner}: {self.get_kind_display()}"
