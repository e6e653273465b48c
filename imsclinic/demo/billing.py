"""The demo clinic's last month of billing, written through billing's services.

The owner's settings come first: the clinic's legal name, business number and invoice
footer, a price for each service at each location, the tax on products at each location
(its province's), late-cancellation and no-show fees for the IMS services, the products on
sale, the insurers and third parties. Then every visit completed in the last month gets its
invoice (`invoice_for_visit`), issued at checkout and mostly paid there, the ways patients
pay. The demo patient's extended-health plan is billed its share of each visit and pays
later, in one payment across several invoices; one patient's visits go to an auto insurance
claim and another's to a workers' compensation claim, each with authorised visits. One
patient part-pays, another leaves a visit unpaid; one invoice is corrected by a credit note
whose money pays the patient's next visit (or goes back to their card); the demo patient
buys tape, taxed, and returns a roll. Each step is dated when it would have happened.

Idempotent: settings are found by their natural keys and never changed once there; a visit
is invoiced once, and its checkout is written when its invoice is drafted; the payers'
payments, the correction and the sale are each written once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.forms import modelform_factory
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.billing import money
from imsclinic.billing.claims import UPCOMING_STATUSES
from imsclinic.billing.models import (
    CancellationFeePolicy,
    Claim,
    Compensation,
    CompensationKind,
    FeeEvent,
    FeeWaiver,
    Invoice,
    InvoiceKind,
    InvoicePurpose,
    InvoiceStatus,
    ItemKind,
    Payer,
    PayerKind,
    Payment,
    PaymentMethod,
    Policy,
    Product,
    ServiceFee,
    TaxRate,
)
from imsclinic.billing.selectors import figures_for, invoice_figures, patient_account
from imsclinic.billing.services.cover import ClaimDetails, PolicyDetails, claim_open, policy_add
from imsclinic.billing.services.fees import fee_waive
from imsclinic.billing.services.invoices import (
    LineEntry,
    credit_note_issue,
    invoice_add_line,
    invoice_bill_payer,
    invoice_create,
    invoice_for_visit,
    invoice_issue,
)
from imsclinic.billing.services.payments import (
    Apply,
    credit_apply,
    payment_record,
    refund_issue,
)
from imsclinic.clinic.models import Clinic, Location, Practitioner, Service
from imsclinic.core.errors import Refused
from imsclinic.demo.scheduling import days_back_from, demo_book_near
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus, CancelledBy
from imsclinic.scheduling.services.booking import appointment_cancel, appointment_set_status

MONTH = dt.timedelta(days=31)
# How the demo practitioners are paid, in turn: a share of net sales, or an amount a visit.
COMPENSATION = (
    (CompensationKind.SHARE, "45", ""),
    (CompensationKind.PER_VISIT, "", "60.00"),
)
# Checkout at the desk, this long after the visit ends.
CHECKOUT = dt.timedelta(minutes=8)
LEGAL_NAME = "Cedar IMS Physiotherapy Ltd."
BUSINESS_NUMBER = "812345670 RT0001"
INVOICE_FOOTER = (
    "Payment is due at each visit. E-transfers to billing@cedarims.test; put the invoice "
    "number in the message. Physiotherapy and IMS are exempt from GST/HST. Thank you!"
)
# The tax on products by province: BC charges GST 5% and PST 7%, printed as one rate.
PRODUCT_TAX = {
    "BC": ("GST+PST", Decimal("12")),
    "ON": ("HST", Decimal("13")),
    "AB": ("GST", Decimal("5")),
    "QC": ("GST+QST", Decimal("14.975")),
    "MB": ("GST+PST", Decimal("12")),
    "SK": ("GST+PST", Decimal("11")),
    "NS": ("HST", Decimal("14")),
    "NB": ("HST", Decimal("15")),
}
DEFAULT_TAX = ("GST", Decimal("5"))
# Toronto's prices; elsewhere each service's own price is the location's.
PRICES = {
    "leslieville": {
        "ims-initial-assessment": "165.00",
        "ims-follow-up": "105.00",
        "physiotherapy-assessment": "130.00",
    },
}
# (service slug, event, fixed amount or None, share % or None)
FEE_POLICIES = (
    ("ims-initial-assessment", FeeEvent.LATE_CANCEL, None, "50"),
    ("ims-initial-assessment", FeeEvent.NO_SHOW, "100.00", None),
    ("ims-follow-up", FeeEvent.LATE_CANCEL, None, "50"),
    ("ims-follow-up", FeeEvent.NO_SHOW, "75.00", None),
)
# (code, name, price)
PRODUCTS = (
    ("TAPE-5M", "Kinesiology tape, 5 m roll", "12.50"),
    ("BALL-6", "Massage ball, 6 cm", "9.50"),
    ("ROLL-L", "Lumbar support roll", "29.00"),
)


@dataclass(frozen=True)
class PayerSpec:
    name: str
    kind: str
    address: str
    phone: str
    notes: str


EXTENDED_HEALTH = PayerSpec(
    "Evergreen Mutual Extended Health (demo)",
    PayerKind.EXTENDED_HEALTH,
    "PO Box 4410, Station Terminal, Vancouver BC V6B 0A1",
    "1-800-555-0191",
    "Direct billing: the plan pays 80% of each visit; we send the claim the same day.",
)
AUTO = PayerSpec(
    "Coastline Auto Insurance (demo)",
    PayerKind.AUTO,
    "1200 Harbour Row, Vancouver BC V6C 0B2",
    "1-800-555-0192",
    "Quote the claim number on every invoice; they pay by cheque twice a month.",
)
WORKERS_COMP = PayerSpec(
    "WorkWell Compensation Board (demo)",
    PayerKind.WORKERS_COMP,
    "PO Box 5350, Station Terminal, Vancouver BC V6B 5L5",
    "1-800-555-0193",
    "Visits beyond the authorised number need a new authorisation first.",
)
EXTENDED_HEALTH_SHARE = Decimal("80")
MEMBER_NUMBER = "EVM-20931-0042"
AUTO_CLAIM = "CL-DEMO-58213"
WORKERS_CLAIM = "WC-DEMO-770341"
DESK_CYCLE = (
    PaymentMethod.DEBIT,
    PaymentMethod.CREDIT_CARD,
    PaymentMethod.E_TRANSFER,
    PaymentMethod.CASH,
    PaymentMethod.DEBIT,
    PaymentMethod.CHEQUE,
)
CORRECTION = Decimal("30.00")
LATE_CANCEL_REASON = "Phoned three hours before: childcare fell through."
# A refund goes back the way the money came: what the desk says for each method.
_REFUND_REASON: dict[str, str] = {
    PaymentMethod.CASH: "The credit for the shortened visit, given back in cash.",
    PaymentMethod.DEBIT: "The credit for the shortened visit, back to the debit card it came from.",
    PaymentMethod.CREDIT_CARD: "The credit for the shortened visit, back to the card it came from.",
    PaymentMethod.E_TRANSFER: "The credit for the shortened visit, sent back by e-transfer.",
    PaymentMethod.CHEQUE: "The credit for the shortened visit, given back by cheque.",
}


def seed_billing(*, owner: User, desk: User, demo_patient: Patient | None) -> dict[str, int]:
    """Set the clinic's billing up and write its last month of billing; idempotent."""
    made: Counter[str] = Counter()
    made += _settings(owner=owner, desk=desk, demo_patient=demo_patient)
    now = timezone.now()
    made += _month(desk=desk, demo_patient=demo_patient, now=now)
    made += _fees(desk=desk, demo_patient=demo_patient, now=now)
    return {kind: count for kind, count in made.items() if count}


# -- the owner's settings ------------------------------------------------------------------


def seed_fee_policies() -> int:
    """Set the IMS services' late-cancellation and no-show fees; return how many were new."""
    services = {service.slug: service for service in Service.objects.all()}
    made = 0
    for slug, event, amount, share in FEE_POLICIES:
        if slug not in services:
            continue
        _, created = CancellationFeePolicy.objects.get_or_create(
            service=services[slug],
            event=event,
            defaults={
                "amount": Decimal(amount) if amount else None,
                "share_percent": Decimal(share) if share else None,
            },
        )
        made += created
    return made


def _settings(*, owner: User, desk: User, demo_patient: Patient | None) -> Counter[str]:
    made: Counter[str] = Counter()
    clinic = Clinic.current()
    if clinic is not None and not clinic.legal_name:
        Clinic.objects.filter(pk=clinic.pk, legal_name="").update(
            legal_name=LEGAL_NAME,
            business_number=clinic.business_number or BUSINESS_NUMBER,
            invoice_footer=clinic.invoice_footer or INVOICE_FOOTER,
        )
        made["clinic legal details"] += 1
    services = {service.slug: service for service in Service.objects.all()}
    for location in Location.objects.order_by("order", "pk"):
        name, rate = PRODUCT_TAX.get(location.region.upper(), DEFAULT_TAX)
        _, created = TaxRate.objects.get_or_create(
            location=location,
            item_kind=ItemKind.PRODUCT,
            defaults={"name": name, "rate_percent": rate},
        )
        made["tax rates"] += created
        prices = PRICES.get(location.slug, {})
        for slug, service in services.items():
            _, created = ServiceFee.objects.get_or_create(
                service=service,
                location=location,
                defaults={"price": Decimal(prices.get(slug, service.price))},
            )
            made["prices at locations"] += created
    made["cancellation fees"] += seed_fee_policies()
    for code, name, price in PRODUCTS:
        _, created = Product.objects.get_or_create(
            code=code, defaults={"name": name, "price": Decimal(price)}
        )
        made["products"] += created
    for spec in (EXTENDED_HEALTH, AUTO, WORKERS_COMP):
        _, created = Payer.objects.get_or_create(
            name=spec.name,
            defaults={
                "kind": spec.kind,
                "address": spec.address,
                "phone": spec.phone,
                "billing_notes": spec.notes,
            },
        )
        made["payers"] += created
    if demo_patient is not None and not Policy.objects.filter(patient=demo_patient).exists():
        policy_add(
            patient=demo_patient,
            details=PolicyDetails(
                payer=Payer.objects.get(name=EXTENDED_HEALTH.name),
                plan_name="Group 20931 (demo employer plan)",
                member_number=MEMBER_NUMBER,
                coverage_notes="80% of physiotherapy and IMS, up to $1,500 a year.",
            ),
            actor=desk,
        )
        made["insurance policies"] += 1
    made["compensation plans"] += _compensation_plans()
    return made


def _compensation_plans() -> int:
    """Set how each practitioner without a plan is paid, through the owner's own form.

    The owner's site (`billing.admin.CompensationAdmin`) saves a model form of these fields,
    which checks the share is 0-100% and that the plan has its figure; so does this.
    """
    plan_form = modelform_factory(
        Compensation, fields=("practitioner", "kind", "share_percent", "per_visit")
    )
    made = 0
    unplanned = Practitioner.objects.filter(compensation__isnull=True).order_by("pk")
    for index, practitioner in enumerate(unplanned):
        kind, share, per_visit = COMPENSATION[index % len(COMPENSATION)]
        form = plan_form(
            {
                "practitioner": practitioner.pk,
                "kind": kind,
                "share_percent": share,
                "per_visit": per_visit,
            }
        )
        if not form.is_valid():
            raise ValueError(f"The demo compensation plan is refused: {form.errors.as_text()}")
        form.save()
        made += 1
    return made


# -- the month -----------------------------------------------------------------------------


def _at(location: Location, day: dt.date, hour: int, now: dt.datetime) -> dt.datetime:
    """Return a moment of that local day, never later than now."""
    return min(dt.datetime.combine(day, dt.time(hour), tzinfo=location.zone), now)


def _local_day(moment: dt.datetime, location: Location) -> dt.date:
    return moment.astimezone(location.zone).date()


def _uninvoiced(now: dt.datetime) -> list[Appointment]:
    """Return the visits completed in the last month that have no invoice yet, oldest first."""
    return list(
        Appointment.objects.filter(
            status=AppointmentStatus.COMPLETED, start__gte=now - MONTH, end__lte=now
        )
        .exclude(invoices__purpose=InvoicePurpose.VISIT)
        .select_related("patient", "location", "service", "practitioner")
        .order_by("start", "pk")
    )


def _booked_until(patient: Patient, until: dt.date, now: dt.datetime) -> int:
    """Count the patient's visits still to come, from today to `until` (local days)."""
    ahead = Appointment.objects.filter(
        patient=patient, status__in=UPCOMING_STATUSES, start__gte=now - dt.timedelta(days=1)
    ).select_related("location")
    today = timezone.localdate(now)
    return sum(1 for visit in ahead if today <= _local_day(visit.start, visit.location) <= until)


def _open_claims(
    visits: Sequence[Appointment], demo_patient: Patient | None, desk: User, now: dt.datetime
) -> Counter[str]:
    """Open the auto and workers' compensation claims, for the two busiest other patients.

    Each authorises the visits its patient had this month and has booked within its dates,
    and a few more: the auto claim four, the workers' compensation claim one, so the front
    desk booking that patient is told the claim's last visit is near. A claim is found by its
    number: once opened, it stays with its patient.
    """
    made: Counter[str] = Counter()
    by_patient: dict[int, list[Appointment]] = defaultdict(list)
    for visit in visits:
        if demo_patient is None or visit.patient_id != demo_patient.pk:
            by_patient[visit.patient_id].append(visit)
    taken = set(Claim.objects.values_list("patient_id", flat=True))
    busiest = sorted(
        (pk for pk, rows in by_patient.items() if len(rows) >= 2 and pk not in taken),
        key=lambda pk: (-len(by_patient[pk]), pk),
    )
    for spec, number, spare, injury in (
        (AUTO, AUTO_CLAIM, 4, "Low-back pain after a rear-end collision."),
        (WORKERS_COMP, WORKERS_CLAIM, 1, "Neck and shoulder strain lifting stock at work."),
    ):
        payer = Payer.objects.get(name=spec.name)
        if Claim.objects.filter(payer=payer, claim_number=number).exists() or not busiest:
            continue
        had = by_patient[busiest.pop(0)]
        first = had[0]
        start = _local_day(first.start, first.location)
        until = start + dt.timedelta(weeks=12)
        claim_open(
            patient=first.patient,
            details=ClaimDetails(
                payer=payer,
                claim_number=number,
                authorised_visits=len(had) + _booked_until(first.patient, until, now) + spare,
                authorised_from=start,
                authorised_until=until,
                notes=injury,
            ),
            actor=desk,
        )
        made["claims"] += 1
    return made


def _checkout(
    visit: Appointment,
    invoice: Invoice,
    *,
    desk: User,
    method: str,
    amount: Decimal | None,
    now: dt.datetime,
) -> Payment | None:
    """Pay the patient's share at the desk (amount None: all of it); None if nothing is owed."""
    due = invoice_figures(invoice).patient_due
    paying = due if amount is None else min(amount, due)
    if paying <= 0:
        return None
    return payment_record(
        patient=invoice.patient,
        method=method,
        amount=paying,
        received_on=_local_day(visit.end, visit.location),
        actor=desk,
        allocations=[Apply(invoice=invoice, amount=paying)],
        location=visit.location,
        now=min(visit.end + CHECKOUT + dt.timedelta(minutes=2), now),
    )


def _month(*, desk: User, demo_patient: Patient | None, now: dt.datetime) -> Counter[str]:
    """Invoice each visit of the month not yet invoiced, and check it out as its patient would.

    Which patient does what is decided when their visits are invoiced, from who came this
    month; a reload finds every visit invoiced and decides nothing again.
    """
    made: Counter[str] = Counter()
    visits = _uninvoiced(now)
    made += _open_claims(visits, demo_patient, desk, now)
    policy = (
        Policy.objects.filter(patient=demo_patient, is_active=True).select_related("payer").first()
        if demo_patient is not None
        else None
    )
    ordinary = sorted(
        {
            visit.patient_id
            for visit in visits
            if visit.patient_id != getattr(demo_patient, "pk", None)
        }
    )
    claimed = set(Claim.objects.values_list("patient_id", flat=True))
    ordinary = [pk for pk in ordinary if pk not in claimed]
    last_visit = {visit.patient_id: visit.pk for visit in visits}
    corrected = Invoice.objects.filter(
        kind=InvoiceKind.CREDIT_NOTE, purpose=InvoicePurpose.CORRECTION, corrects__purpose="visit"
    ).exists()
    for visit in visits:
        checkout = min(visit.end + CHECKOUT, now)
        invoice = invoice_for_visit(appointment=visit, actor=desk, now=checkout)
        if invoice.status != InvoiceStatus.DRAFT:
            continue
        if policy is not None and visit.patient_id == policy.patient_id and not invoice.claim_id:
            invoice = invoice_bill_payer(
                invoice=invoice,
                payer=policy.payer,
                payer_share=money.share_of(invoice.total, EXTENDED_HEALTH_SHARE),
                actor=desk,
            )
        invoice = invoice_issue(invoice=invoice, actor=desk, now=checkout)
        made["invoices"] += 1
        method = DESK_CYCLE[visit.pk % len(DESK_CYCLE)]
        if visit.patient_id not in ordinary:
            # The demo patient pays the plan's remainder; a claim's payer pays it all.
            made["payments"] += (
                _checkout(visit, invoice, desk=desk, method=method, amount=None, now=now)
                is not None
            )
            continue
        # The first ordinary patient's visit is corrected; after that, every third patient
        # part-pays their last visit and every third leaves it unpaid.
        index = ordinary.index(visit.patient_id)
        role = 0 if index == 0 else 1 + (index - 1) % 3
        last = last_visit[visit.patient_id] == visit.pk
        if role == 0 and not corrected:
            # Paid, then corrected: the visit was cut short, so part of its fee comes back as
            # account credit, which pays the patient's next visit (or goes back to the card).
            payment = _checkout(visit, invoice, desk=desk, method=method, amount=None, now=now)
            line = invoice.lines.get()
            credit_note_issue(
                invoice=invoice,
                amounts={line.pk: min(CORRECTION, line.amount)},
                reason="Visit cut short (the patient felt faint); part of the fee taken back.",
                actor=desk,
                now=min(checkout + dt.timedelta(hours=1), now),
            )
            made["credit notes"] += 1
            corrected = True
            if last and payment is not None:
                refund_issue(
                    payment=payment,
                    amount=min(CORRECTION, payment.amount),
                    reason=_REFUND_REASON.get(
                        payment.method,
                        "The credit for the shortened visit, given back the way it was paid.",
                    ),
                    refunded_on=_local_day(
                        min(checkout + dt.timedelta(hours=1), now), visit.location
                    ),
                    actor=desk,
                    now=min(checkout + dt.timedelta(hours=1, minutes=5), now),
                )
                made["refunds"] += 1
            made["payments"] += payment is not None
            continue
        if role == 0 and patient_account(invoice.patient).credit > 0:
            # The corrected visit's credit pays this one first; the desk takes the rest.
            credit_apply(invoice=invoice, amount=None, actor=desk, now=checkout)
            made["credit used"] += 1
        if role == 1 and last:
            # Part-paid: the patient paid what they had on them.
            made["payments"] += (
                _checkout(
                    visit,
                    invoice,
                    desk=desk,
                    method=PaymentMethod.CASH,
                    amount=money.to_cents(invoice.total * Decimal("0.4")),
                    now=now,
                )
                is not None
            )
            continue
        if role == 2 and last:
            continue  # unpaid: the card was at home; the patient pays next visit
        made["payments"] += (
            _checkout(visit, invoice, desk=desk, method=method, amount=None, now=now) is not None
        )
    made += _payers_pay(desk=desk, now=now)
    made += _sale(desk=desk, demo_patient=demo_patient, now=now)
    return made


def _payers_pay(*, desk: User, now: dt.datetime) -> Counter[str]:
    """The extended-health plan and the auto insurer each pay once, across their invoices.

    Each pays what it owes on the invoices older than its turnaround; the newer ones stay
    owed. The workers' compensation board has not paid yet.
    """
    made: Counter[str] = Counter()
    for spec, older_than, paid_after, method, reference in (
        (EXTENDED_HEALTH, 7, 3, PaymentMethod.INSURER, "EFT 4471-0093"),
        (AUTO, 14, 5, PaymentMethod.CHEQUE, "Cheque 0028814"),
    ):
        payer = Payer.objects.filter(name=spec.name).first()
        if payer is None or Payment.objects.filter(payer=payer).exists():
            continue
        invoices = list(
            Invoice.objects.filter(
                payer=payer, kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED
            )
            .select_related("location")
            .order_by("service_date", "pk")
        )
        if not invoices:
            continue
        location = invoices[0].location
        today = _local_day(now, location)
        figures = figures_for(invoices)
        owed = [
            Apply(invoice=invoice, amount=figures[invoice.pk].payer_due)
            for invoice in invoices
            if invoice.service_date <= today - dt.timedelta(days=older_than)
            and figures[invoice.pk].payer_due > 0
        ]
        if len(owed) < 2:
            continue
        day = today - dt.timedelta(days=paid_after)
        payment_record(
            payer=payer,
            method=method,
            amount=sum((apply.amount for apply in owed), money.ZERO),
            received_on=day,
            actor=desk,
            allocations=owed,
            reference=reference,
            note=f"Pays {len(owed)} invoices.",
            now=_at(location, day, 10, now),
        )
        made["payer payments"] += 1
    return made


def _sale(*, desk: User, demo_patient: Patient | None, now: dt.datetime) -> Counter[str]:
    """The demo patient buys two rolls of tape after a visit and returns one, unopened."""
    made: Counter[str] = Counter()
    tape = Product.objects.filter(code=PRODUCTS[0][0]).first()
    if demo_patient is None or tape is None:
        return made
    if Invoice.objects.filter(patient=demo_patient, purpose=InvoicePurpose.SALE).exists():
        return made
    visit = (
        Appointment.objects.filter(
            patient=demo_patient,
            status=AppointmentStatus.COMPLETED,
            start__gte=now - MONTH,
            end__lte=now - dt.timedelta(days=3),
        )
        .select_related("location", "practitioner")
        .order_by("-start")
        .first()
    )
    if visit is None:
        return made
    at = visit.end + CHECKOUT + dt.timedelta(minutes=3)
    day = _local_day(at, visit.location)
    invoice = invoice_create(
        patient=demo_patient,
        location=visit.location,
        practitioner=visit.practitioner,
        service_date=day,
        actor=desk,
        now=at,
    )
    line = invoice_add_line(
        invoice=invoice, entry=LineEntry(product=tape, quantity=Decimal("2")), actor=desk
    )
    invoice = invoice_issue(invoice=invoice, actor=desk, now=at)
    payment = payment_record(
        patient=demo_patient,
        method=PaymentMethod.CREDIT_CARD,
        amount=invoice.total,
        received_on=day,
        actor=desk,
        allocations=[Apply(invoice=invoice, amount=invoice.total)],
        location=visit.location,
        now=at,
    )
    returned = min(at + dt.timedelta(days=2), now)
    note = credit_note_issue(
        invoice=invoice,
        amounts={line.pk: tape.price},
        reason="One roll returned unopened.",
        actor=desk,
        now=returned,
    )
    refund_issue(
        payment=payment,
        amount=note.total,
        reason="One roll of tape returned unopened.",
        refunded_on=_local_day(returned, visit.location),
        actor=desk,
        now=returned,
    )
    made.update({"product sales": 1, "credit notes": 1, "payments": 1, "refunds": 1})
    return made


# -- late cancellations and no-shows -------------------------------------------------------


def _fees(*, desk: User, demo_patient: Patient | None, now: dt.datetime) -> Counter[str]:
    """A missed visit and a late cancellation this month, each charged its fee; one waived.

    Both visits are booked, missed and cancelled through scheduling's services, which charge
    the fees (`billing.receivers`); the front desk waives the no-show fee with its reason.
    """
    made: Counter[str] = Counter()
    # The calendar's own no-shows and late cancellations are charged too: each of these two
    # is looked for by what marks it (the waiver, the reason), so a rerun adds neither again.
    events = [
        (days_ago, event)
        for days_ago, event in ((12, FeeEvent.NO_SHOW), (6, FeeEvent.LATE_CANCEL))
        if not (
            FeeWaiver.objects.exists()
            if event == FeeEvent.NO_SHOW
            else Appointment.objects.filter(cancellation_reason=LATE_CANCEL_REASON).exists()
        )
    ]
    if not events:
        return made
    regulars = [
        visit
        for visit in Appointment.objects.filter(
            status=AppointmentStatus.COMPLETED,
            start__gte=now - MONTH,
            service__cancellation_fees__isnull=False,
        )
        .exclude(patient=demo_patient)
        .select_related("patient", "practitioner", "service", "location")
        .order_by("-start")
        .distinct()
    ]
    seen: set[int] = set()
    chosen: list[Appointment] = []
    for visit in regulars:
        if visit.patient_id not in seen:
            seen.add(visit.patient_id)
            chosen.append(visit)
    for template in chosen:
        if not events:
            break
        days_ago, event = events[0]
        today = _local_day(now, template.location)
        try:
            lost = demo_book_near(
                days=days_back_from(today - dt.timedelta(days=days_ago)),
                patient=template.patient,
                practitioner=template.practitioner,
                service=template.service,
                location=template.location,
                actor=desk,
                ends_by=now - dt.timedelta(hours=1),
            )
        except Refused:
            continue  # e.g. that day would come before the patient's assessment
        if lost is None:
            continue
        events.pop(0)
        if event == FeeEvent.NO_SHOW:
            appointment_set_status(
                appointment=lost,
                status=AppointmentStatus.NO_SHOW,
                actor=desk,
                now=lost.start + dt.timedelta(minutes=20),
            )
        else:
            appointment_cancel(
                appointment=lost,
                actor=desk,
                reason=LATE_CANCEL_REASON,
                cancelled_by=CancelledBy.PATIENT,
                now=lost.start - dt.timedelta(hours=3),
                notify=False,
            )
        fee = Invoice.objects.filter(appointment=lost, purpose=InvoicePurpose.FEE).first()
        if fee is None:
            continue
        made["fee invoices"] += 1
        if event == FeeEvent.NO_SHOW:
            fee_waive(
                fee_invoice=fee,
                reason="First missed visit in two years; the patient's car broke down.",
                actor=desk,
                now=min(lost.start + dt.timedelta(days=1), now),
            )
            made["waived fees"] += 1
    return made
