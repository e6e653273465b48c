"""Invoices and credit notes: draft, price, split, issue with the next number, correct.

Locks, after the visit chain of `core.locking`: the claim a visit is billed to (when it has
a number of authorised visits), the invoice (and, for a credit note, the invoice it
corrects) in primary-key order, then the payments whose allocations move, then
the number counter last of all, so that the counter row is held for as short a time as
possible and two issues queue on it rather than on each other's invoices.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.billing import money
from imsclinic.billing.access import require_actor
from imsclinic.billing.claims import billed_visits, covering_claim
from imsclinic.billing.errors import BillingRefused, InvoiceLocked
from imsclinic.billing.models import (
    DESCRIPTION_MAX,
    REASON_MAX,
    Claim,
    DocumentSeries,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoicePurpose,
    InvoiceStatus,
    ItemKind,
    NumberCounter,
    Payer,
    Product,
    ServiceFee,
    TaxRate,
)
from imsclinic.core.audit import audit_record
from imsclinic.core.locking import lock_rows
from imsclinic.core.models import Action, ObjectType

if TYPE_CHECKING:
    from django.http import HttpRequest

    from imsclinic.accounts.models import User
    from imsclinic.clinic.models import Location, Practitioner, Service
    from imsclinic.patients.models import Patient
    from imsclinic.scheduling.models import Appointment


def price_of(service: Service, location: Location) -> Decimal:
    """Return the service's price at this location (its own price where none is set)."""
    fee = ServiceFee.objects.filter(service=service, location=location).first()
    return fee.price if fee is not None else service.price


def tax_of(location: Location, item_kind: str) -> tuple[str, Decimal]:
    """Return the tax name and rate (%) on this kind of item here; no rate set means none."""
    rate = TaxRate.objects.filter(location=location, item_kind=item_kind).first()
    if rate is None:
        return "", Decimal("0")
    return rate.name, rate.rate_percent


def next_number(series: DocumentSeries) -> int:
    """Take the next number of a series under a row lock: never shared, never skipped.

    Inside the caller's transaction: the number is taken only if that transaction commits,
    and a rival waits on the counter row until it does.
    """
    NumberCounter.objects.get_or_create(series=series)
    counter = NumberCounter.objects.select_for_update().get(series=series)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def _locked_invoice(invoice_id: int) -> Invoice:
    lock_rows(Invoice, invoice_id)
    return Invoice.objects.select_related("location", "patient").get(pk=invoice_id)


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceLocked(
            _("Invoice %(number)s is issued and cannot change; correct it with a credit note.")
            % {"number": invoice.display_number}
            if invoice.status == InvoiceStatus.ISSUED
            else _("This draft was discarded and cannot change.")
        )


def draft_recompute(invoice: Invoice) -> None:
    """Store the draft's totals as sums of its rounded lines; keep the payer's share in it.

    For the services of this package only, on an invoice they have locked and drafted.
    """
    figures = money.totals(
        money.LineFigures(amount=line.amount, tax=line.tax_amount) for line in invoice.lines.all()
    )
    invoice.subtotal = figures.subtotal
    invoice.tax_total = figures.tax
    invoice.total = figures.total
    if invoice.claim is not None:
        invoice.payer_share = money.share_of(invoice.total, invoice.claim.payer_share_percent)
    invoice.payer_share = min(invoice.payer_share, invoice.total)
    invoice.save(update_fields=["subtotal", "tax_total", "total", "payer_share"])


def draft_add_line(
    invoice: Invoice,
    *,
    item_kind: str,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    service: Service | None = None,
    product: Product | None = None,
) -> InvoiceLine:
    description = description.strip()
    if not description:
        raise BillingRefused(_("Say what the line is for."), field="description")
    if len(description) > DESCRIPTION_MAX:
        raise BillingRefused(
            _("Keep the description under %(n)d characters.") % {"n": DESCRIPTION_MAX},
            field="description",
        )
    if quantity <= 0:
        raise BillingRefused(_("The quantity must be more than zero."), field="quantity")
    if unit_price < 0:
        raise BillingRefused(_("A price cannot be negative."), field="unit_price")
    tax_name, tax_rate = tax_of(invoice.location, item_kind)
    figures = money.line_figures(quantity, unit_price, tax_rate)
    position = (invoice.lines.aggregate(last=Max("position"))["last"] or 0) + 1
    return InvoiceLine.objects.create(
        invoice=invoice,
        position=position,
        item_kind=item_kind,
        description=description,
        service=service,
        product=product,
        quantity=quantity,
        unit_price=money.to_cents(unit_price),
        amount=figures.amount,
        tax_name=tax_name if figures.tax or tax_rate else "",
        tax_rate_percent=tax_rate,
        tax_amount=figures.tax,
    )


def _covering_claim(patient: Patient, day: dt.date) -> Claim | None:
    """Return the patient's open claim that bills a visit on this day, if any.

    The newest open claim whose authorisation covers the day, while it has authorised visits
    left (`claims.billed_visits`); its row is locked so that two visits drafted at once do
    not both take its last visit.
    """
    claim = covering_claim(
        list(Claim.objects.filter(patient=patient, is_open=True).select_related("payer")), day
    )
    if claim is None or claim.authorised_visits is None:
        return claim
    lock_rows(Claim, claim.pk)
    claim.refresh_from_db(fields=["authorised_visits"])
    if claim.authorised_visits is not None and billed_visits(claim) >= claim.authorised_visits:
        return None
    return claim


def invoice_for_visit(
    *,
    appointment: Appointment,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Invoice:
    """Return the visit's invoice, drafting it (the service at this location's price) if none.

    An open claim whose authorisation covers the visit's day bills its share to the payer,
    unless its authorised visits are all invoiced already: then the patient is billed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        existing = (
            Invoice.objects.filter(appointment=appointment, purpose=InvoicePurpose.VISIT)
            .exclude(status=InvoiceStatus.DISCARDED)
            .first()
        )
        if existing is not None:
            return existing
        location = appointment.location
        day = appointment.start.astimezone(location.zone).date()
        claim = _covering_claim(appointment.patient, day)
        invoice = Invoice.objects.create(
            kind=InvoiceKind.INVOICE,
            purpose=InvoicePurpose.VISIT,
            patient=appointment.patient,
            location=location,
            practitioner=appointment.practitioner,
            appointment=appointment,
            service_date=day,
            claim=claim,
            payer=claim.payer if claim is not None else None,
            created_at=now,
            created_by=actor,
        )
        draft_add_line(
            invoice,
            item_kind=ItemKind.SERVICE,
            description=appointment.service.name,
            quantity=Decimal("1"),
            unit_price=price_of(appointment.service, location),
            service=appointment.service,
        )
        draft_recompute(invoice)
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.INVOICE,
            object_id=invoice.pk,
            patient=invoice.patient,
            request=request,
            detail={"purpose": "visit", "appointment": appointment.pk},
        )
    return invoice


def invoice_create(
    *,
    patient: Patient,
    location: Location,
    actor: User | None,
    service_date: dt.date,
    practitioner: Practitioner | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Invoice:
    """Start a draft invoice by hand (products, packages), to which lines are then added."""
    require_actor(actor, "billing.edit_invoice", patient)
    now = now or timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.create(
            kind=InvoiceKind.INVOICE,
            purpose=InvoicePurpose.SALE,
            patient=patient,
            location=location,
            practitioner=practitioner,
            service_date=service_date,
            created_at=now,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.INVOICE,
            object_id=invoice.pk,
            patient=patient,
            request=request,
            detail={"purpose": "sale"},
        )
    return invoice


@dataclass(frozen=True)
class LineEntry:
    """A line to add: a product, a service, or a described item at a price."""

    quantity: Decimal = Decimal("1")
    product: Product | None = None
    service: Service | None = None
    description: str = ""
    unit_price: Decimal | None = None
    item_kind: str = ItemKind.PRODUCT


def invoice_add_line(
    *,
    invoice: Invoice,
    entry: LineEntry,
    actor: User | None,
    request: HttpRequest | None = None,
) -> InvoiceLine:
    """Add a line to a draft: a product at its price, a service at this location's price."""
    require_actor(actor, "billing.edit_invoice", invoice.patient)
    with transaction.atomic():
        locked = _locked_invoice(invoice.pk)
        _require_draft(locked)
        if entry.product is not None:
            line = draft_add_line(
                locked,
                item_kind=ItemKind.PRODUCT,
                description=entry.description or entry.product.name,
                quantity=entry.quantity,
                unit_price=entry.unit_price
                if entry.unit_price is not None
                else entry.product.price,
                product=entry.product,
            )
        elif entry.service is not None:
            line = draft_add_line(
                locked,
                item_kind=ItemKind.SERVICE,
                description=entry.description or entry.service.name,
                quantity=entry.quantity,
                unit_price=(
                    entry.unit_price
                    if entry.unit_price is not None
                    else price_of(entry.service, locked.location)
                ),
                service=entry.service,
            )
        else:
            if entry.unit_price is None:
                raise BillingRefused(_("Give the line's price."), field="unit_price")
            line = draft_add_line(
                locked,
                item_kind=entry.item_kind,
                description=entry.description,
                quantity=entry.quantity,
                unit_price=entry.unit_price,
            )
        draft_recompute(locked)
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.INVOICE,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={"line_added": line.pk, **_line_detail(line)},
        )
    invoice.refresh_from_db()
    return line


def _line_detail(line: InvoiceLine) -> dict[str, str]:
    """What an invoice line charges, for the audit log."""
    return {
        "description": line.description,
        "quantity": str(line.quantity),
        "unit_price": str(line.unit_price),
        "amount": str(line.total),
    }


def invoice_remove_line(
    *, line: InvoiceLine, actor: User | None, request: HttpRequest | None = None
) -> None:
    """Take a line off a draft (a draft is not yet a financial record)."""
    require_actor(actor, "billing.edit_invoice", line.invoice.patient)
    with transaction.atomic():
        locked = _locked_invoice(line.invoice_id)
        _require_draft(locked)
        removed = InvoiceLine.objects.filter(pk=line.pk, invoice=locked).first()
        if removed is None:
            return  # already taken off (a second click): nothing changes
        removed.delete()
        draft_recompute(locked)
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.INVOICE,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            # What the line was, since the line itself is gone.
            detail={"line_removed": line.pk, **_line_detail(removed)},
        )


def invoice_bill_payer(
    *,
    invoice: Invoice,
    payer: Payer | None,
    payer_share: Decimal | None,
    actor: User | None,
    claim: Claim | None = None,
    request: HttpRequest | None = None,
) -> Invoice:
    """Split a draft between a payer (their share) and the patient (the rest); None: patient.

    Billed to a claim, the payer is the claim's, and a share left out is the claim's own
    percentage of the total.
    """
    require_actor(actor, "billing.edit_invoice", invoice.patient)
    with transaction.atomic():
        locked = _locked_invoice(invoice.pk)
        _require_draft(locked)
        if claim is not None:
            if claim.patient_id != locked.patient_id:
                raise BillingRefused(_("That claim is another patient's."), field="claim")
            payer = claim.payer
            if payer_share is None:
                payer_share = money.share_of(locked.total, claim.payer_share_percent)
        if payer is not None and payer_share is None:
            raise BillingRefused(_("Give the payer's share."), field="payer_share")
        payer_share = money.to_cents(payer_share) if payer_share is not None else money.ZERO
        if payer is None:
            payer_share = money.ZERO
        if payer_share < 0 or payer_share > locked.total:
            raise BillingRefused(
                _("The payer's share must be between 0.00 and the invoice's total, %(total)s.")
                % {"total": locked.total},
                field="payer_share",
            )
        locked.payer = payer
        locked.claim = claim
        locked.payer_share = payer_share
        locked.save(update_fields=["payer", "claim", "payer_share"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.INVOICE,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={"payer": payer.pk if payer else None, "payer_share": str(payer_share)},
        )
    invoice.refresh_from_db()
    return invoice


def invoice_issue(
    *,
    invoice: Invoice,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Invoice:
    """Issue a draft: it takes the next invoice number and never changes again."""
    require_actor(actor, "billing.edit_invoice", invoice.patient)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_invoice(invoice.pk)
        _require_draft(locked)
        if not locked.lines.exists():
            raise BillingRefused(_("Add at least one line before issuing the invoice."))
        locked.status = InvoiceStatus.ISSUED
        locked.issued_at = now
        locked.issued_by = actor
        locked.number = next_number(DocumentSeries.INVOICE)
        locked.save(update_fields=["status", "issued_at", "issued_by", "number"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.INVOICE,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={"issued": locked.number, "total": str(locked.total)},
        )
    invoice.refresh_from_db()
    return invoice


def invoice_discard(
    *,
    invoice: Invoice,
    reason: str,
    actor: User | None,
    request: HttpRequest | None = None,
) -> Invoice:
    """Set a draft aside for good (it keeps no number); an issued invoice needs a credit note."""
    require_actor(actor, "billing.edit_invoice", invoice.patient)
    reason = reason.strip()
    if not reason:
        raise BillingRefused(_("Say why the draft is discarded."), field="reason")
    if len(reason) > REASON_MAX:
        raise BillingRefused(
            _("Keep the reason under %(n)d characters.") % {"n": REASON_MAX}, field="reason"
        )
    with transaction.atomic():
        locked = _locked_invoice(invoice.pk)
        _require_draft(locked)
        locked.status = InvoiceStatus.DISCARDED
        locked.reason = reason
        locked.save(update_fields=["status", "reason"])
        audit_record(
            actor=actor,
            action=Action.DELETE,
            object_type=ObjectType.INVOICE,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={"discarded": True},
        )
    invoice.refresh_from_db()
    return invoice


def credited_lines(invoice: Invoice) -> dict[int, money.LineFigures]:
    """Return what issued credit notes already took back of each line: amount and tax."""
    taken: dict[int, money.LineFigures] = {}
    notes = InvoiceLine.objects.filter(
        invoice__corrects=invoice,
        invoice__status=InvoiceStatus.ISSUED,
        invoice__kind=InvoiceKind.CREDIT_NOTE,
        credited_line__isnull=False,
    ).values_list("credited_line_id", "amount", "tax_amount")
    for line_id, amount, tax in notes:
        before = taken.get(line_id, money.LineFigures(amount=money.ZERO, tax=money.ZERO))
        taken[line_id] = money.LineFigures(amount=before.amount + amount, tax=before.tax + tax)
    return taken


def credited_by_line(invoice: Invoice) -> dict[int, Decimal]:
    """Return how much of each of the invoice's lines issued credit notes already took back."""
    return {line_id: figures.amount for line_id, figures in credited_lines(invoice).items()}


def credit_note_issue(
    *,
    invoice: Invoice,
    amounts: dict[int, Decimal] | None,
    reason: str,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Invoice:
    """Correct an issued invoice with a numbered credit note taking back some or all of it.

    `amounts` maps a line's id to the amount before tax to take back (None: everything still
    creditable). Tax comes back at the line's own rate, rounded once. The payer's and the
    patient's shares are taken back in the invoice's own proportion. Money already paid
    beyond what is now owed returns to the payer's account credit (a negative allocation).
    """
    from imsclinic.billing.services.payments import release_overpaid

    require_actor(actor, "billing.issue_credit_note", invoice.patient)
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise BillingRefused(_("Say why the invoice is corrected."), field="reason")
    if len(reason) > REASON_MAX:
        raise BillingRefused(
            _("Keep the reason under %(n)d characters.") % {"n": REASON_MAX}, field="reason"
        )
    with transaction.atomic():
        original = _locked_invoice(invoice.pk)
        if original.status != InvoiceStatus.ISSUED or original.kind != InvoiceKind.INVOICE:
            raise BillingRefused(_("Only an issued invoice can be corrected by a credit note."))
        credited = credited_lines(original)
        taken = {line_id: figures.amount for line_id, figures in credited.items()}
        lines = list(original.lines.all())
        wanted: list[tuple[InvoiceLine, Decimal]] = []
        for line in lines:
            left = line.amount - taken.get(line.pk, money.ZERO)
            asked = left if amounts is None else money.to_cents(amounts.get(line.pk, money.ZERO))
            if asked < 0 or asked > left:
                raise BillingRefused(
                    _("At most %(left)s of “%(line)s” can still be credited.")
                    % {"left": left, "line": line.description},
                    field=f"lines.{line.pk}",
                )
            if asked > 0:
                wanted.append((line, asked))
        if not wanted:
            raise BillingRefused(_("Nothing is left to credit on this invoice."))
        note = Invoice.objects.create(
            kind=InvoiceKind.CREDIT_NOTE,
            purpose=InvoicePurpose.CORRECTION,
            patient=original.patient,
            location=original.location,
            practitioner=original.practitioner,
            corrects=original,
            payer=original.payer,
            claim=original.claim,
            service_date=original.service_date,
            reason=reason,
            created_at=now,
            created_by=actor,
        )
        for position, (line, amount) in enumerate(wanted, start=1):
            InvoiceLine.objects.create(
                invoice=note,
                position=position,
                item_kind=line.item_kind,
                description=line.description,
                service=line.service,
                product=line.product,
                credited_line=line,
                quantity=Decimal("1"),
                unit_price=amount,
                amount=amount,
                tax_name=line.tax_name,
                tax_rate_percent=line.tax_rate_percent,
                tax_amount=_tax_back(line, amount, credited.get(line.pk)),
            )
        figures = money.totals(
            money.LineFigures(amount=line.amount, tax=line.tax_amount) for line in note.lines.all()
        )
        note.subtotal = figures.subtotal
        note.tax_total = figures.tax
        note.total = figures.total
        note.payer_share = _payer_part(original, note.total)
        note.status = InvoiceStatus.ISSUED
        note.issued_at = now
        note.issued_by = actor
        note.number = next_number(DocumentSeries.CREDIT_NOTE)
        note.save(
            update_fields=[
                "subtotal",
                "tax_total",
                "total",
                "payer_share",
                "status",
                "issued_at",
                "issued_by",
                "number",
            ]
        )
        release_overpaid(original, actor=actor, now=now)
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.CREDIT_NOTE,
            object_id=note.pk,
            patient=original.patient,
            request=request,
            detail={"corrects": original.number, "number": note.number, "total": str(note.total)},
        )
    return note


def _tax_back(line: InvoiceLine, amount: Decimal, earlier: money.LineFigures | None) -> Decimal:
    """Return the tax a credit of `amount` on this line gives back, rounded once.

    The last of a line brings back all of its tax that earlier credits left, so the tax
    credited never differs from the tax charged by a rounding.
    """
    left = line.amount - (earlier.amount if earlier else money.ZERO)
    if amount == left:
        return line.tax_amount - (earlier.tax if earlier else money.ZERO)
    return money.share_of(amount, line.tax_rate_percent)


def _payer_part(original: Invoice, credit_total: Decimal) -> Decimal:
    """Return the payer's part of a credit, in the invoice's proportion, within what is left.

    The proportion is taken of everything credited so far, this credit included, less what
    earlier credit notes gave the payer: rounding each note on its own could leave the two
    shares a cent apart once the whole invoice is taken back. Neither share is ever taken
    back beyond what is left of it.
    """
    if original.payer_share == 0 or original.total == 0:
        return money.ZERO
    earlier_total = money.ZERO
    earlier_payer = money.ZERO
    for note in original.credit_notes.filter(status=InvoiceStatus.ISSUED):
        earlier_total += note.total
        earlier_payer += note.payer_share
    payer_left = original.payer_share - earlier_payer
    patient_left = (original.total - original.payer_share) - (earlier_total - earlier_payer)
    so_far = money.to_cents((earlier_total + credit_total) * original.payer_share / original.total)
    part = max(so_far - earlier_payer, credit_total - patient_left)
    return max(money.ZERO, min(part, payer_left, credit_total))
