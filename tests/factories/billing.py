"""Invoices, payments and payers to test billing with, made through billing's services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from imsclinic.accounts.models import User
from imsclinic.billing.models import (
    CancellationFeePolicy,
    FeeEvent,
    Invoice,
    Payer,
    PayerKind,
    Payment,
    PaymentMethod,
    Product,
)
from imsclinic.billing.services.invoices import (
    LineEntry,
    invoice_add_line,
    invoice_bill_payer,
    invoice_create,
    invoice_issue,
)
from imsclinic.billing.services.payments import Apply, payment_record
from imsclinic.clinic.models import Location, Practitioner, Service
from imsclinic.patients.models import Patient

DAY = dt.date(2025, 3, 3)  # a Monday, as 3 March 2031 is; a day gone by, as money is dated


def product(name: str = "Kinesiology tape", price: str = "12.50") -> Product:
    return Product.objects.create(name=name, price=Decimal(price))


def payer(name: str = "Maple Life Extended Health", kind: str = PayerKind.EXTENDED_HEALTH) -> Payer:
    return Payer.objects.create(name=name, kind=kind)


def issued_invoice(
    patient: Patient,
    location: Location,
    actor: User,
    *,
    service: Service | None = None,
    prices: tuple[str, ...] = ("95.00",),
    billed_to: Payer | None = None,
    payer_share: str = "0",
    day: dt.date = DAY,
) -> Invoice:
    """Draft an invoice with one line per price (the service's, or described items), issue it."""
    invoice = invoice_create(patient=patient, location=location, actor=actor, service_date=day)
    for price in prices:
        invoice_add_line(
            invoice=invoice,
            entry=LineEntry(
                service=service,
                description="" if service else "Treatment",
                unit_price=Decimal(price),
                item_kind="service",
            ),
            actor=actor,
        )
    if billed_to is not None:
        invoice_bill_payer(
            invoice=invoice, payer=billed_to, payer_share=Decimal(payer_share), actor=actor
        )
    return invoice_issue(invoice=invoice, actor=actor)


def fee_policy(
    service: Service,
    event: str = FeeEvent.LATE_CANCEL,
    *,
    amount: str | None = None,
    share: str | None = None,
) -> CancellationFeePolicy:
    """The owner's late-cancellation or no-show fee for a service: an amount or a share (%)."""
    return CancellationFeePolicy.objects.create(
        service=service,
        event=event,
        amount=Decimal(amount) if amount is not None else None,
        share_percent=Decimal(share) if share is not None else None,
    )


def policy(patient: Patient, to: Payer, actor: User, *, member_number: str = "MB-1001"):
    """Record the patient's cover with a payer, through the front desk's service."""
    from imsclinic.billing.services.cover import PolicyDetails, policy_add

    return policy_add(
        patient=patient, details=PolicyDetails(payer=to, member_number=member_number), actor=actor
    )


def claim(
    patient: Patient,
    to: Payer,
    actor: User,
    *,
    number: str = "AUTO-77-1234",
    visits: int | None = 10,
    start: dt.date | None = None,
    until: dt.date | None = None,
    share: str = "100",
    under=None,
):
    """Open a third-party claim for the patient, through the front desk's service."""
    from imsclinic.billing.services.cover import ClaimDetails, claim_open

    return claim_open(
        patient=patient,
        details=ClaimDetails(
            payer=to,
            claim_number=number,
            policy=under,
            authorised_visits=visits,
            authorised_from=start,
            authorised_until=until,
            payer_share_percent=Decimal(share),
        ),
        actor=actor,
    )


def treatment_invoice(
    patient: Patient,
    location: Location,
    actor: User,
    practitioner: Practitioner,
    *,
    description: str = "IMS follow-up",
    price: str = "95.00",
    day: dt.date = DAY,
    billed_to: Payer | None = None,
    payer_share: str = "0",
) -> Invoice:
    """Issue an invoice for one treatment given by this practitioner on this day."""
    invoice = invoice_create(
        patient=patient,
        location=location,
        actor=actor,
        service_date=day,
        practitioner=practitioner,
    )
    invoice_add_line(
        invoice=invoice,
        entry=LineEntry(description=description, unit_price=Decimal(price), item_kind="service"),
        actor=actor,
    )
    if billed_to is not None:
        invoice_bill_payer(
            invoice=invoice, payer=billed_to, payer_share=Decimal(payer_share), actor=actor
        )
    return invoice_issue(invoice=invoice, actor=actor)


def patient_pays(
    patient: Patient,
    actor: User,
    *towards: tuple[Invoice, str],
    amount: str | None = None,
    method: str = PaymentMethod.DEBIT,
    day: dt.date = DAY,
) -> Payment:
    """Record the patient's payment, put towards these (invoice, amount) pairs."""
    applies = [Apply(invoice=invoice, amount=Decimal(part)) for invoice, part in towards]
    total = Decimal(amount) if amount is not None else sum((a.amount for a in applies), Decimal(0))
    return payment_record(
        method=method,
        amount=total,
        received_on=day,
        actor=actor,
        patient=patient,
        allocations=applies,
    )


def payer_pays(
    payer: Payer, actor: User, *towards: tuple[Invoice, str], day: dt.date = DAY
) -> Payment:
    """Record an insurer's direct payment towards its share of these invoices."""
    applies = [Apply(invoice=invoice, amount=Decimal(part)) for invoice, part in towards]
    return payment_record(
        method=PaymentMethod.INSURER,
        amount=sum((a.amount for a in applies), Decimal(0)),
        received_on=day,
        actor=actor,
        payer=payer,
        allocations=applies,
    )
