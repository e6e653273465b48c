"""A patient's account: invoices, credit notes, payments and balance; taking a payment.

The same people as on the billing pages: the front desk and the owner any patient, the
patient their own account (read only), practitioners never. Money travels as strings with
two decimals ("45.00"), in and out, so no client rounds it through a float.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import P, PathEx, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from imsclinic.accounts.models import User
from imsclinic.api.auth import token_holder
from imsclinic.api.schemas import ErrorOut, SingleLine, ValidationErrorOut
from imsclinic.billing import money
from imsclinic.billing.errors import BillingRefused, InvoiceLocked
from imsclinic.billing.models import (
    REASON_MAX,
    REFERENCE_MAX,
    Allocation,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
)
from imsclinic.billing.selectors import InvoiceFigures, figures_for, local_today, patient_account
from imsclinic.billing.services.invoices import invoice_issue
from imsclinic.billing.services.payments import DESK_METHODS, Apply, payment_record
from imsclinic.clinic.models import Clinic, Location
from imsclinic.core.access import refuse
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.access import own_patient
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user

router = Router(tags=["billing"])

MAX_ID = 2**63 - 1
# A payment lists the invoices it pays; a front desk never spreads one over more.
MAX_ALLOCATIONS = 100
# Ten digits before the point keeps every amount below the services' ceiling (10^10).
MONEY_IN_PATTERN = r"^[0-9]{1,10}\.[0-9]{2}$"
MONEY_OUT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
_MONEY_IN = re.compile(MONEY_IN_PATTERN)


def _money_in(value: object) -> Decimal:
    """Accept "45.00" only: a string, two decimals, not negative; never a JSON number."""
    if isinstance(value, str) and value.startswith("-"):
        raise PydanticCustomError("money", str(_("An amount cannot be negative.")))
    if not isinstance(value, str) or not _MONEY_IN.match(value):
        raise PydanticCustomError(
            "money", str(_('Give the amount as a string with two decimals, e.g. "45.00".'))
        )
    return Decimal(value)


# An amount sent to the API: a JSON string such as "45.00", read as a Decimal.
MoneyIn = Annotated[
    Decimal,
    BeforeValidator(_money_in),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MONEY_IN_PATTERN,
            "examples": ["45.00"],
            "description": "An amount as a string with two decimals, not negative.",
        }
    ),
]
# An amount the API sends: a JSON string with two decimals; negative only where it says so.
MoneyOut = Annotated[
    str,
    Field(pattern=MONEY_OUT_PATTERN, examples=["95.00"]),
]

DeskMethod = Literal["cash", "debit", "credit_card", "e_transfer", "cheque"]
# The schema and the service must agree on how a patient may pay at the desk.
assert set(get_args(DeskMethod)) == {str(m) for m in DESK_METHODS}

READ_ERRORS: dict[int, Any] = {
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ValidationErrorOut,
}


# --- shapes ------------------------------------------------------------------------------------


class LineOut(Schema):
    position: int
    item_kind: str = Field(description='"service", "product" or "fee".')
    description: str
    quantity: str = Field(description='How many, as a string with two decimals ("1.00").')
    unit_price: MoneyOut
    amount: MoneyOut = Field(description="Quantity x unit price, rounded half-up to the cent.")
    tax_name: str = Field(description='As printed, e.g. "GST"; empty when untaxed.')
    tax_rate_percent: str = Field(description='The rate, e.g. "5.000".')
    tax_amount: MoneyOut
    total: MoneyOut


class PayerOut(Schema):
    id: int
    name: str


class InvoiceRefOut(Schema):
    id: int
    number: str


class InvoiceOut(Schema):
    id: int
    number: str | None = Field(description='"INV-000042" or "CN-000003"; null for a draft.')
    kind: str = Field(description='"invoice" or "credit_note".')
    purpose: str = Field(description='"visit", "fee", "sale" or "correction".')
    status: str = Field(description='"issued"; staff also see "draft" (and "discarded").')
    service_date: dt.date
    issued_at: dt.datetime | None
    created_at: dt.datetime
    location: str
    practitioner: str | None
    corrects: InvoiceRefOut | None = Field(description="A credit note: the invoice it corrects.")
    reason: str = Field(description="A credit note: why.")
    currency: str = Field(description="ISO 4217 code of the clinic's currency.")
    lines: list[LineOut]
    subtotal: MoneyOut
    tax_total: MoneyOut
    total: MoneyOut
    payer: PayerOut | None = Field(description="The insurer or third party billed a share.")
    payer_share: MoneyOut = Field(description="Of the total, what is billed to the payer.")
    patient_share: MoneyOut = Field(description="Of the total, what the patient pays.")
    credited: MoneyOut | None = Field(
        description="What issued credit notes took back; null on a credit note or a draft."
    )
    paid_by_patient: MoneyOut | None = Field(
        description="The patient's payments put towards it; null on a credit note or a draft."
    )
    paid_by_payer: MoneyOut | None = Field(
        description="The payer's payments put towards it; null on a credit note or a draft."
    )
    owed_by_patient: MoneyOut | None = Field(
        description="What the patient still owes on it; null on a credit note or a draft."
    )
    owed_by_payer: MoneyOut | None = Field(
        description="What the payer still owes on it; null on a credit note or a draft."
    )


class AllocationOut(Schema):
    invoice: InvoiceRefOut
    amount: MoneyOut = Field(description="Negative when part of an earlier one was taken back.")
    created_at: dt.datetime


class RefundOut(Schema):
    id: int
    amount: MoneyOut
    method: str = Field(description="Always the payment's own method.")
    refunded_on: dt.date
    reason: str
    reference: str


class PaymentOut(Schema):
    id: int
    method: str = Field(description='"cash", "debit", "credit_card", "e_transfer" or "cheque".')
    amount: MoneyOut
    received_on: dt.date
    reference: str
    note: str
    location: str | None
    recorded_at: dt.datetime
    currency: str
    allocations: list[AllocationOut] = Field(description="Oldest first.")
    refunds: list[RefundOut]
    allocated: MoneyOut = Field(description="Net of what was put towards invoices.")
    refunded: MoneyOut
    unallocated: MoneyOut = Field(description="Neither allocated nor refunded: account credit.")


class BalanceOut(Schema):
    patient_id: int
    currency: str
    invoiced: MoneyOut = Field(description="Issued invoices.")
    credited: MoneyOut = Field(description="Issued credit notes.")
    paid: MoneyOut = Field(description="The patient's own payments.")
    paid_by_payers: MoneyOut = Field(description="Payers' payments on the patient's invoices.")
    refunded: MoneyOut = Field(description="Refunds of the patient's payments.")
    balance: MoneyOut = Field(
        description=(
            "invoiced - credited - paid - paid_by_payers + refunded: positive, the patient "
            "or their payers owe the clinic; negative, the clinic holds the patient's money."
        )
    )
    patient_owes: MoneyOut = Field(description="The patient's share still owed on invoices.")
    payers_owe: MoneyOut = Field(description="Payers' shares still owed on invoices.")
    credit: MoneyOut = Field(description="The patient's money not yet put towards an invoice.")


class AllocationIn(Schema):
    invoice: int = Field(ge=1, le=MAX_ID, description="An issued invoice of this patient.")
    amount: MoneyIn


class PaymentIn(Schema):
    method: DeskMethod
    amount: MoneyIn
    received_on: dt.date | None = Field(
        default=None, description="The day the money came in; default today at the clinic."
    )
    allocations: list[AllocationIn] = Field(
        default_factory=list,
        max_length=MAX_ALLOCATIONS,
        description="What to put towards which invoice; the rest becomes account credit.",
    )
    reference: SingleLine = Field(
        default="", max_length=REFERENCE_MAX, description="Terminal, cheque or transfer number."
    )
    note: SingleLine = Field(default="", max_length=REASON_MAX)
    location: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The location where it was taken."
    )


# --- reading -----------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    cents = money.to_cents(value)
    return f"{cents if cents else money.ZERO:.2f}"


def _currency() -> str:
    clinic = Clinic.current()
    return clinic.currency if clinic is not None else ""


def _ref(invoice: Invoice) -> dict[str, Any]:
    return {"id": invoice.pk, "number": invoice.display_number}


def _invoices() -> QuerySet[Invoice]:
    """Invoices with all an answer shows, in a fixed number of queries however many."""
    return Invoice.objects.select_related(
        "location", "practitioner", "payer", "corrects"
    ).prefetch_related("lines")


def _invoice_out(invoice: Invoice, figures: InvoiceFigures | None, currency: str) -> dict[str, Any]:
    def figure(value: Decimal | None) -> str | None:
        return _money(value) if value is not None else None

    return {
        "id": invoice.pk,
        "number": invoice.display_number if invoice.number is not None else None,
        "kind": invoice.kind,
        "purpose": invoice.purpose,
        "status": invoice.status,
        "service_date": invoice.service_date,
        "issued_at": invoice.issued_at,
        "created_at": invoice.created_at,
        "location": invoice.location.name,
        "practitioner": (
            invoice.practitioner.display_name if invoice.practitioner is not None else None
        ),
        "corrects": _ref(invoice.corrects) if invoice.corrects is not None else None,
        "reason": invoice.reason,
        "currency": currency,
        "lines": [
            {
                "position": line.position,
                "item_kind": line.item_kind,
                "description": line.description,
                "quantity": f"{line.quantity:.2f}",
                "unit_price": _money(line.unit_price),
                "amount": _money(line.amount),
                "tax_name": line.tax_name,
                "tax_rate_percent": f"{line.tax_rate_percent:.3f}",
                "tax_amount": _money(line.tax_amount),
                "total": _money(line.total),
            }
            for line in invoice.lines.all()
        ],
        "subtotal": _money(invoice.subtotal),
        "tax_total": _money(invoice.tax_total),
        "total": _money(invoice.total),
        "payer": (
            {"id": invoice.payer.pk, "name": invoice.payer.name}
            if invoice.payer is not None
            else None
        ),
        "payer_share": _money(invoice.payer_share),
        "patient_share": _money(invoice.patient_share),
        "credited": figure(figures.credited if figures else None),
        "paid_by_patient": figure(figures.paid_by_patient if figures else None),
        "paid_by_payer": figure(figures.paid_by_payer if figures else None),
        "owed_by_patient": figure(figures.patient_due if figures else None),
        "owed_by_payer": figure(figures.payer_due if figures else None),
    }


def _invoices_out(invoices: list[Invoice]) -> list[dict[str, Any]]:
    """Return the invoices as the API sends them; the figures in two queries for all."""
    payable = [
        i for i in invoices if i.kind == InvoiceKind.INVOICE and i.status == InvoiceStatus.ISSUED
    ]
    figures = figures_for(payable)
    currency = _currency()
    return [_invoice_out(i, figures.get(i.pk), currency) for i in invoices]


def _forbidden() -> HttpError:
    return HttpError(403, _("A patient's account is for the front desk and the owner."))


def _reader(
    request: HttpRequest, user: User, patient_id: int, *, asked_for: str
) -> tuple[Patient, bool]:
    """Return the patient whose account is asked for, and whether the caller is that patient.

    The patient reads their own; the front desk and the owner any patient's; a practitioner
    who may open the record gets 403, anyone else 404, as for a patient that does not exist.
    """
    own = own_patient(user)
    if own is not None and own.pk == patient_id and user.has_perm("billing.view_own_account", own):
        return own, True
    try:
        return patient_for_user(
            request,
            user=user,
            patient_id=patient_id,
            perm="billing.view_account",
            asked_for=asked_for,
        ), False
    except PermissionDenied as error:
        raise _forbidden() from error


def _viewed(
    request: HttpRequest,
    user: User,
    object_type: str,
    *,
    patient_id: int,
    object_id: object = "",
    detail: dict[str, Any] | None = None,
) -> None:
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        request=request,
        detail={"via": "api", **(detail or {})},
    )


@router.get(
    "/patients/{patient_id}/invoices",
    response={200: list[InvoiceOut], **READ_ERRORS},
    summary="List a patient's invoices and credit notes",
    description=(
        "The patient's issued invoices and credit notes, newest date of service first, each "
        "with its lines, totals, the payer's and the patient's shares, what credit notes took "
        "back, what was paid and what is still owed. Staff also see drafts. The front desk "
        "and the owner read any patient's; the patient their own; a practitioner gets 403 "
        "(404 when the patient is not theirs), anyone else 404. Audited."
    ),
)
def list_invoices(
    request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> list[dict[str, Any]]:
    user = token_holder(request)
    patient, own = _reader(request, user, patient_id, asked_for=ObjectType.INVOICE)
    shown = [InvoiceStatus.ISSUED] if own else [InvoiceStatus.ISSUED, InvoiceStatus.DRAFT]
    invoices = list(
        _invoices().filter(patient=patient, status__in=shown).order_by("-service_date", "-pk")
    )
    _viewed(
        request,
        user,
        ObjectType.INVOICE,
        patient_id=patient.pk,
        detail={"invoices": [i.pk for i in invoices]},
    )
    return _invoices_out(invoices)


def _invoice_for(request: HttpRequest, user: User, invoice_id: int, *, perm: str) -> Invoice:
    """Return the invoice if the caller may see it (and do `perm` when staff); else refuse."""
    invoice = _invoices().filter(pk=invoice_id).first()
    if invoice is None:
        raise refuse(
            request, object_type=ObjectType.INVOICE, object_id=invoice_id, reason="no such invoice"
        )
    own = own_patient(user)
    if own is not None and own.pk == invoice.patient_id:
        if invoice.status != InvoiceStatus.ISSUED or not user.has_perm(
            "billing.view_own_account", own
        ):
            raise refuse(request, object_type=ObjectType.INVOICE, object_id=invoice_id, patient=own)
        return invoice
    try:
        patient_for_user(
            request,
            user=user,
            patient_id=invoice.patient_id,
            perm=perm,
            asked_for=ObjectType.INVOICE,
            asked_id=invoice_id,
        )
    except PermissionDenied as error:
        raise _forbidden() from error
    return invoice


@router.get(
    "/invoices/{invoice_id}",
    response={200: InvoiceOut, **READ_ERRORS},
    summary="Read one invoice or credit note",
    description=(
        "One invoice or credit note, as in the list. The patient reads their own issued ones; "
        "the front desk and the owner any, drafts and discarded drafts too. Anyone else gets "
        "404, as for one that does not exist (a practitioner who may open the patient's "
        "record, 403). Audited."
    ),
)
def get_invoice(
    request: HttpRequest, invoice_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> dict[str, Any]:
    user = token_holder(request)
    invoice = _invoice_for(request, user, invoice_id, perm="billing.view_account")
    _viewed(
        request,
        user,
        ObjectType.CREDIT_NOTE if invoice.is_credit_note else ObjectType.INVOICE,
        patient_id=invoice.patient_id,
        object_id=invoice.pk,
    )
    return _invoices_out([invoice])[0]


def _payments_of(patient: Patient) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(patient=patient)
        .select_related("location")
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=Allocation.objects.select_related("invoice").order_by("created_at", "pk"),
            ),
            "refunds",
        )
        .order_by("-received_on", "-pk")
    )


def _payment_out(payment: Payment, currency: str) -> dict[str, Any]:
    allocations = list(payment.allocations.all())
    refunds = sorted(payment.refunds.all(), key=lambda r: (r.refunded_on, r.pk))
    allocated = sum((a.amount for a in allocations), money.ZERO)
    refunded = sum((r.amount for r in refunds), money.ZERO)
    return {
        "id": payment.pk,
        "method": payment.method,
        "amount": _money(payment.amount),
        "received_on": payment.received_on,
        "reference": payment.reference,
        "note": payment.note,
        "location": payment.location.name if payment.location is not None else None,
        "recorded_at": payment.recorded_at,
        "currency": currency,
        "allocations": [
            {"invoice": _ref(a.invoice), "amount": _money(a.amount), "created_at": a.created_at}
            for a in allocations
        ],
        "refunds": [
            {
                "id": r.pk,
                "amount": _money(r.amount),
                "method": r.method,
                "refunded_on": r.refunded_on,
                "reason": r.reason,
                "reference": r.reference,
            }
            for r in refunds
        ],
        "allocated": _money(allocated),
        "refunded": _money(refunded),
        "unallocated": _money(payment.amount - allocated - refunded),
    }


@router.get(
    "/patients/{patient_id}/payments",
    response={200: list[PaymentOut], **READ_ERRORS},
    summary="List a patient's payments",
    description=(
        "The patient's own payments, newest first, each with what was put towards which "
        "invoice, its refunds and what is left as account credit. Payers' payments show on "
        "the invoices they paid (paid_by_payer). Who may read it: as for the invoices. "
        "Audited."
    ),
)
def list_payments(
    request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> list[dict[str, Any]]:
    user = token_holder(request)
    patient, _own = _reader(request, user, patient_id, asked_for=ObjectType.PAYMENT)
    payments = list(_payments_of(patient))
    _viewed(
        request,
        user,
        ObjectType.PAYMENT,
        patient_id=patient.pk,
        detail={"payments": [p.pk for p in payments]},
    )
    currency = _currency()
    return [_payment_out(p, currency) for p in payments]


@router.get(
    "/patients/{patient_id}/balance",
    response={200: BalanceOut, **READ_ERRORS},
    summary="Read a patient's balance",
    description=(
        "What the patient has been invoiced, credited, paid and refunded; the balance, what "
        "the patient and their payers still owe, and the patient's account credit. Who may "
        "read it: as for the invoices. Audited."
    ),
)
def get_balance(
    request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> dict[str, Any]:
    user = token_holder(request)
    patient, _own = _reader(request, user, patient_id, asked_for=ObjectType.ACCOUNT)
    account = patient_account(patient)
    _viewed(request, user, ObjectType.ACCOUNT, patient_id=patient.pk, object_id=patient.pk)
    return {
        "patient_id": patient.pk,
        "currency": _currency(),
        "invoiced": _money(account.invoiced),
        "credited": _money(account.credited),
        "paid": _money(account.paid),
        "paid_by_payers": _money(account.paid_by_payers),
        "refunded": _money(account.refunded),
        "balance": _money(account.balance),
        "patient_owes": _money(account.patient_owes),
        "payers_owe": _money(account.payers_owe),
        "credit": _money(account.credit),
    }


# --- changing ----------------------------------------------------------------------------------


def _staff_only(request: HttpRequest, user: User, *, object_type: str, object_id: object) -> None:
    """Refuse a patient's token on a change (403, audited): the account is theirs to read."""
    if not user.is_clinic_staff:
        raise refuse(
            request,
            object_type=object_type,
            object_id=object_id,
            error=HttpError(
                403, _("Patients read their account through the API; the clinic records changes.")
            ),
        )


def _problems(refusal: BillingRefused, payload: PaymentIn) -> list[dict[str, Any]]:
    """Return a refusal as 422 entries, each pointing at the part of the body at fault."""
    rows = {row.invoice: index for index, row in enumerate(payload.allocations)}
    detail: list[dict[str, Any]] = []
    for name, message in refusal.errors.items():
        loc: list[str | int] = ["body", "payload"]
        kind, _dot, invoice_id = name.partition(".")
        if kind == "invoice" and invoice_id.isdigit() and int(invoice_id) in rows:
            loc += ["allocations", rows[int(invoice_id)], "amount"]
        else:
            loc.append(name)
        detail.append({"loc": loc, "msg": message, "type": "billing"})
    if not detail:
        detail.append({"loc": ["body", "payload"], "msg": refusal.message, "type": "billing"})
    return detail


@router.post(
    "/patients/{patient_id}/payments",
    response={
        201: PaymentOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
        503: ErrorOut,
    },
    summary="Record a patient's payment",
    description=(
        "Record money the patient paid at the desk and put it towards their issued invoices "
        "(partly or in full, several at once); what is not allocated becomes their account "
        "credit. Amounts are strings with two decimals. 422 lists what is wrong, each entry "
        'pointing at its part of the body (["body", "payload", "allocations", 0, "amount"] for '
        "more than the first invoice still owes); nothing is stored. The front desk and the "
        "owner; a patient's token gets 403, a practitioner 403 (404 when the patient is not "
        "theirs). Audited."
    ),
)
def post_payment(
    request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)], payload: PaymentIn
) -> Status[dict[str, Any]]:
    user = token_holder(request)
    _staff_only(request, user, object_type=ObjectType.PAYMENT, object_id=patient_id)
    try:
        patient = patient_for_user(
            request,
            user=user,
            patient_id=patient_id,
            perm="billing.take_payment",
            asked_for=ObjectType.PAYMENT,
        )
    except PermissionDenied as error:
        raise _forbidden() from error
    wanted = {row.invoice for row in payload.allocations}
    invoices = {i.pk: i for i in Invoice.objects.filter(pk__in=wanted, patient=patient)}
    unknown = [
        {
            "loc": ["body", "payload", "allocations", index, "invoice"],
            "msg": _("This patient has no such invoice."),
            "type": "billing",
        }
        for index, row in enumerate(payload.allocations)
        if row.invoice not in invoices
    ]
    location = None
    if payload.location is not None:
        location = Location.objects.filter(pk=payload.location).first()
        if location is None:
            unknown.append(
                {
                    "loc": ["body", "payload", "location"],
                    "msg": _("There is no such location."),
                    "type": "billing",
                }
            )
    if unknown:
        return Status(422, {"detail": unknown})
    try:
        payment = payment_record(
            method=PaymentMethod(payload.method),
            amount=payload.amount,
            received_on=payload.received_on or local_today(location),
            patient=patient,
            allocations=[
                Apply(invoice=invoices[row.invoice], amount=row.amount)
                for row in payload.allocations
            ],
            reference=payload.reference,
            note=payload.note,
            location=location,
            actor=user,
            request=request,
        )
    except BillingRefused as refusal:
        return Status(422, {"detail": _problems(refusal, payload)})
    return Status(201, _payment_out(_payments_of(patient).get(pk=payment.pk), _currency()))


@router.post(
    "/invoices/{invoice_id}/issue",
    response={
        200: InvoiceOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ValidationErrorOut,
        503: ErrorOut,
    },
    summary="Issue a draft invoice",
    description=(
        "Give a draft the next invoice number; from then on it never changes (a mistake is "
        "corrected with a credit note). 409 when it is already issued or was discarded; 422 "
        "when it has no lines. The front desk and the owner; a patient's token gets 403, a "
        "practitioner 403 (404 when the patient is not theirs). Audited."
    ),
)
def post_issue(
    request: HttpRequest, invoice_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> Status[dict[str, Any]]:
    user = token_holder(request)
    _staff_only(request, user, object_type=ObjectType.INVOICE, object_id=invoice_id)
    invoice = _invoice_for(request, user, invoice_id, perm="billing.edit_invoice")
    try:
        invoice_issue(invoice=invoice, actor=user, request=request)
    except InvoiceLocked as refusal:
        raise HttpError(409, refusal.message) from refusal
    except BillingRefused as refusal:
        return Status(
            422,
            {
                "detail": [
                    {"loc": ["path", "invoice_id"], "msg": refusal.message, "type": "billing"}
                ]
            },
        )
    return Status(200, _invoices_out([_invoices().get(pk=invoice_id)])[0])
