"""The owner's reports: each one function that reads, returning plain rows and their totals.

Every report takes a `Period` (local days in the clinic's zone, both inclusive) or, for the
receivables, a day "as of". Each reads a fixed number of queries however many invoices,
payments or visits there are, and every total is the sum of the rows it heads, so the
reports reconcile with each other and with `billing.selectors`:

- day sheet: payments received (by their day) less refunds (by theirs), by method;
- sales: invoices issued in the period (by the day they were issued) less credit notes
  issued in it (by theirs), by practitioner and by service, before and after tax;
- receivables: what each issued invoice still owes as of a day, in the patient's share and
  the payer's (`selectors.InvoiceFigures`), aged from the invoice's issue day;
- utilisation: hours booked (visits not cancelled) against hours worked (shifts less
  breaks, time off and closures: the calendar's own `calendar_grid` rule);
- attendance: no-shows and late cancellations among the visits kept on the books;
- compensation: a share of each practitioner's net sales before tax, or a fixed amount per
  completed visit.

Passing `practitioner=` narrows sales and compensation to one practitioner's own: the
figures are computed from their invoices alone, never from the clinic's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.billing import money
from imsclinic.billing.models import (
    Allocation,
    Compensation,
    CompensationKind,
    FeeEvent,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoicePurpose,
    InvoiceStatus,
    ItemKind,
    Payment,
    PaymentMethod,
    Refund,
)
from imsclinic.billing.selectors import InvoiceFigures, money_sum
from imsclinic.clinic.models import Location
from imsclinic.scheduling.calendar_grid import location_hours
from imsclinic.scheduling.models import Appointment, AppointmentStatus, CancelledBy

if TYPE_CHECKING:
    from imsclinic.clinic.models import Practitioner

ZERO = money.ZERO
# A sum computed by the database may carry a float's residue on SQLite; anything under half
# a cent is nothing owed (the exact figure is then worked out in Decimal from the sums).
HALF_CENT = Decimal("0.005")
BUCKETS = tuple(name for name, _low, _high in money.AGEING_BUCKETS)
HOUR = Decimal(3600)


def _local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


@dataclass(frozen=True)
class Period:
    """Local days first..last (inclusive) in the clinic's zone."""

    first: dt.date
    last: dt.date
    zone: ZoneInfo

    @property
    def start(self) -> dt.datetime:
        """The first day's first instant (UTC)."""
        return _local_midnight(self.first, self.zone)

    @property
    def end(self) -> dt.datetime:
        """The instant the day after the last begins (UTC): the period is [start, end)."""
        return _local_midnight(self.last + dt.timedelta(days=1), self.zone)

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @classmethod
    def month_of(cls, day: dt.date, zone: ZoneInfo) -> Period:
        first = day.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return cls(first=first, last=following - dt.timedelta(days=1), zone=zone)


def _person(first: str | None, last: str | None, fallback: str = "") -> str:
    name = f"{first or ''} {last or ''}".strip()
    return name or fallback


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """Return part as a percentage of whole, to one place (None when whole is nothing)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


# --- 1. Day sheet ------------------------------------------------------------------------


@dataclass(frozen=True)
class MoneyEntry:
    """A payment received (positive) or a refund given (negative), as the till sees it."""

    kind: str  # "payment" or "refund"
    day: dt.date
    recorded_at: dt.datetime
    patient_id: int | None
    patient_name: str
    payer_name: str
    method: str
    reference: str
    amount: Decimal
    recorded_by: str

    @property
    def from_whom(self) -> str:
        return self.patient_name or self.payer_name

    @property
    def method_label(self) -> str:
        return str(PaymentMethod(self.method).label)


@dataclass(frozen=True)
class MethodTotals:
    method: str
    payments: int = 0
    received: Decimal = ZERO
    refunds: int = 0
    refunded: Decimal = ZERO

    @property
    def label(self) -> str:
        return str(PaymentMethod(self.method).label) if self.method else _("All methods")

    @property
    def net(self) -> Decimal:
        return self.received - self.refunded


@dataclass(frozen=True)
class DaySheet:
    period: Period
    methods: list[MethodTotals]
    entries: list[MoneyEntry]
    total: MethodTotals

    @property
    def patient_ids(self) -> list[int]:
        return sorted({e.patient_id for e in self.entries if e.patient_id is not None})


def day_sheet(period: Period, *, location: Location | None = None) -> DaySheet:
    """Return the payments received and refunds given in the period, by method (two queries).

    With a location, only the money taken at its till (a payment's location) and given back
    from it (a refund of such a payment).
    """
    entries: list[MoneyEntry] = []
    payments = Payment.objects.filter(received_on__gte=period.first, received_on__lte=period.last)
    refunds = Refund.objects.filter(refunded_on__gte=period.first, refunded_on__lte=period.last)
    if location is not None:
        payments = payments.filter(location=location)
        refunds = refunds.filter(payment__location=location)
    for row in payments.order_by().values(
        "received_on",
        "recorded_at",
        "patient_id",
        "patient__given_name",
        "patient__family_name",
        "payer__name",
        "method",
        "reference",
        "amount",
        "recorded_by__first_name",
        "recorded_by__last_name",
        "recorded_by__email",
    ):
        entries.append(
            MoneyEntry(
                kind="payment",
                day=row["received_on"],
                recorded_at=row["recorded_at"],
                patient_id=row["patient_id"],
                patient_name=_person(row["patient__given_name"], row["patient__family_name"]),
                payer_name=row["payer__name"] or "",
                method=row["method"],
                reference=row["reference"],
                amount=row["amount"],
                recorded_by=_person(
                    row["recorded_by__first_name"],
                    row["recorded_by__last_name"],
                    row["recorded_by__email"] or "",
                ),
            )
        )
    for back in refunds.order_by().values(
        "refunded_on",
        "recorded_at",
        "payment__patient_id",
        "payment__patient__given_name",
        "payment__patient__family_name",
        "payment__payer__name",
        "method",
        "reference",
        "amount",
        "recorded_by__first_name",
        "recorded_by__last_name",
        "recorded_by__email",
    ):
        entries.append(
            MoneyEntry(
                kind="refund",
                day=back["refunded_on"],
                recorded_at=back["recorded_at"],
                patient_id=back["payment__patient_id"],
                patient_name=_person(
                    back["payment__patient__given_name"], back["payment__patient__family_name"]
                ),
                payer_name=back["payment__payer__name"] or "",
                method=back["method"],
                reference=back["reference"],
                amount=-back["amount"],
                recorded_by=_person(
                    back["recorded_by__first_name"],
                    back["recorded_by__last_name"],
                    back["recorded_by__email"] or "",
                ),
            )
        )
    entries.sort(key=lambda e: (e.day, e.recorded_at, e.kind))
    by_method: dict[str, MethodTotals] = {}
    for entry in entries:
        seen = by_method.get(entry.method, MethodTotals(method=entry.method))
        if entry.kind == "payment":
            seen = MethodTotals(
                entry.method,
                seen.payments + 1,
                seen.received + entry.amount,
                seen.refunds,
                seen.refunded,
            )
        else:
            seen = MethodTotals(
                entry.method,
                seen.payments,
                seen.received,
                seen.refunds + 1,
                seen.refunded - entry.amount,
            )
        by_method[entry.method] = seen
    order = list(PaymentMethod.values)
    methods = sorted(by_method.values(), key=lambda m: order.index(m.method))
    total = MethodTotals(
        method="",
        payments=sum(m.payments for m in methods),
        received=sum((m.received for m in methods), ZERO),
        refunds=sum(m.refunds for m in methods),
        refunded=sum((m.refunded for m in methods), ZERO),
    )
    return DaySheet(period=period, methods=methods, entries=entries, total=total)


# --- 2. Sales ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesRow:
    """Issued invoices less credit notes, before tax (subtotal), tax, and after (total)."""

    label: str
    key: object = None
    invoices: int = 0
    credit_notes: int = 0
    visits: int = 0
    subtotal: Decimal = ZERO
    tax: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


@dataclass(frozen=True)
class Sales:
    period: Period
    by_practitioner: list[SalesRow]
    by_service: list[SalesRow]
    total: SalesRow


def _add_up(rows: Iterable[SalesRow], label: str) -> SalesRow:
    listed = list(rows)
    return SalesRow(
        label=label,
        invoices=sum(r.invoices for r in listed),
        credit_notes=sum(r.credit_notes for r in listed),
        visits=sum(r.visits for r in listed),
        subtotal=sum((r.subtotal for r in listed), ZERO),
        tax=sum((r.tax for r in listed), ZERO),
    )


def _issued_in(period: Period, prefix: str = "") -> Q:
    return Q(
        **{
            f"{prefix}status": InvoiceStatus.ISSUED,
            f"{prefix}issued_at__gte": period.start,
            f"{prefix}issued_at__lt": period.end,
        }
    )


def _sales_by_practitioner(period: Period, practitioner: Practitioner | None) -> list[SalesRow]:
    invoices: QuerySet[Invoice] = Invoice.objects.filter(_issued_in(period))
    if practitioner is not None:
        invoices = invoices.filter(practitioner=practitioner)
    rows = []
    for row in (
        invoices.order_by()
        .values("practitioner_id", "practitioner__first_name", "practitioner__last_name")
        .annotate(
            sub_sold=money_sum("subtotal", filter=Q(kind=InvoiceKind.INVOICE)),
            sub_credited=money_sum("subtotal", filter=Q(kind=InvoiceKind.CREDIT_NOTE)),
            tax_sold=money_sum("tax_total", filter=Q(kind=InvoiceKind.INVOICE)),
            tax_credited=money_sum("tax_total", filter=Q(kind=InvoiceKind.CREDIT_NOTE)),
            invoices=Count("pk", filter=Q(kind=InvoiceKind.INVOICE)),
            notes=Count("pk", filter=Q(kind=InvoiceKind.CREDIT_NOTE)),
            visits=Count("pk", filter=Q(kind=InvoiceKind.INVOICE, purpose=InvoicePurpose.VISIT)),
        )
    ):
        rows.append(
            SalesRow(
                label=_person(
                    row["practitioner__first_name"],
                    row["practitioner__last_name"],
                    _("No practitioner (sales at the desk)"),
                ),
                key=row["practitioner_id"],
                invoices=row["invoices"],
                credit_notes=row["notes"],
                visits=row["visits"],
                subtotal=row["sub_sold"] - row["sub_credited"],
                tax=row["tax_sold"] - row["tax_credited"],
            )
        )
    return sorted(rows, key=lambda r: (r.key is None, r.label))


def _fee_label(event: str | None) -> str:
    if event == FeeEvent.LATE_CANCEL:
        return _("Late-cancellation fee: %(service)s")
    if event == FeeEvent.NO_SHOW:
        return _("No-show fee: %(service)s")
    return _("Fee: %(service)s")


def _sales_by_service(period: Period, practitioner: Practitioner | None) -> list[SalesRow]:
    lines: QuerySet[InvoiceLine] = InvoiceLine.objects.filter(_issued_in(period, "invoice__"))
    if practitioner is not None:
        lines = lines.filter(invoice__practitioner=practitioner)
    kind = "invoice__kind"
    rows = []
    for row in (
        lines.order_by()
        .values(
            "item_kind",
            "service_id",
            "service__name",
            "product_id",
            "product__name",
            # A fee's credit note (a waiver) is grouped under the fee it takes back.
            fee_for=Case(
                When(invoice__kind=InvoiceKind.CREDIT_NOTE, then=F("invoice__corrects__fee_event")),
                default=F("invoice__fee_event"),
            ),
        )
        .annotate(
            sub_sold=money_sum("amount", filter=Q(**{kind: InvoiceKind.INVOICE})),
            sub_credited=money_sum("amount", filter=Q(**{kind: InvoiceKind.CREDIT_NOTE})),
            tax_sold=money_sum("tax_amount", filter=Q(**{kind: InvoiceKind.INVOICE})),
            tax_credited=money_sum("tax_amount", filter=Q(**{kind: InvoiceKind.CREDIT_NOTE})),
            invoices=Count("invoice", distinct=True, filter=Q(**{kind: InvoiceKind.INVOICE})),
            notes=Count("invoice", distinct=True, filter=Q(**{kind: InvoiceKind.CREDIT_NOTE})),
            visits=Count(
                "invoice",
                distinct=True,
                filter=Q(**{kind: InvoiceKind.INVOICE, "invoice__purpose": InvoicePurpose.VISIT}),
            ),
        )
    ):
        if row["item_kind"] == ItemKind.FEE and row["service_id"] is not None:
            label = _fee_label(row["fee_for"]) % {"service": row["service__name"]}
            key: tuple[object, ...] = ("fee", row["service_id"], row["fee_for"] or "")
        elif row["service_id"] is not None:
            label, key = row["service__name"], ("service", row["service_id"])
        elif row["product_id"] is not None:
            label, key = row["product__name"], ("product", row["product_id"])
        else:
            label = _("Other: %(kind)s") % {"kind": ItemKind(row["item_kind"]).label}
            key = ("other", row["item_kind"])
        rows.append(
            SalesRow(
                label=label,
                key=key,
                invoices=row["invoices"],
                credit_notes=row["notes"],
                visits=row["visits"],
                subtotal=row["sub_sold"] - row["sub_credited"],
                tax=row["tax_sold"] - row["tax_credited"],
            )
        )
    # Rows of the same name (a service and a product both called "Tape") stay apart.
    return sorted(rows, key=lambda r: (str(r.key[0]) != "service", r.label, str(r.key)))  # type: ignore[index]


def sales(period: Period, *, practitioner: Practitioner | None = None) -> Sales:
    """Return net sales (issued less credited) by practitioner and by service (two queries)."""
    by_practitioner = _sales_by_practitioner(period, practitioner)
    by_service = _sales_by_service(period, practitioner)
    return Sales(
        period=period,
        by_practitioner=by_practitioner,
        by_service=by_service,
        total=_add_up(by_practitioner, _("Total")),
    )


# --- 3. Accounts receivable --------------------------------------------------------------


@dataclass(frozen=True)
class AgeingRow:
    """What one patient (their share) or one payer (theirs) owes, by age of the invoice."""

    label: str
    key: int | None = None
    buckets: tuple[Decimal, ...] = tuple(ZERO for _name in BUCKETS)
    invoices: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)

    def plus(self, bucket: str, amount: Decimal) -> AgeingRow:
        index = BUCKETS.index(bucket)
        buckets = tuple(
            value + amount if n == index else value for n, value in enumerate(self.buckets)
        )
        return AgeingRow(self.label, self.key, buckets, self.invoices + 1)


@dataclass(frozen=True)
class CreditRow:
    """A patient's account credit: money received and not put towards an invoice or refunded."""

    label: str
    key: int
    amount: Decimal


@dataclass(frozen=True)
class Receivables:
    as_of: dt.date
    by_patient: list[AgeingRow]
    by_payer: list[AgeingRow]
    patient_total: AgeingRow
    payer_total: AgeingRow
    credits: list[CreditRow] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.patient_total.total + self.payer_total.total

    @property
    def credit_total(self) -> Decimal:
        return sum((row.amount for row in self.credits), ZERO)

    @property
    def net(self) -> Decimal:
        """What is owed less the patients' credit: the sum of every patient's balance."""
        return self.total - self.credit_total

    @property
    def patient_ids(self) -> list[int]:
        owing = [row.key for row in self.by_patient if row.key is not None]
        return sorted({*owing, *(row.key for row in self.credits)})


def _sum_total(rows: list[AgeingRow], label: str) -> AgeingRow:
    buckets = tuple(sum((row.buckets[n] for row in rows), ZERO) for n in range(len(BUCKETS)))
    return AgeingRow(label, None, buckets, sum(row.invoices for row in rows))


def receivables(as_of: dt.date, zone: ZoneInfo) -> Receivables:
    """Return what is owed at the end of `as_of`, by patient and by payer, aged (two queries).

    Only what had happened by then counts: invoices and credit notes issued, and payments
    allocated, before the next day began in the clinic's zone. Seen today, the figures are
    `selectors.figures_for`'s, so each patient's row is their `patient_account().patient_owes`.
    """
    cutoff = _local_midnight(as_of + dt.timedelta(days=1), zone)
    notes = Invoice.objects.filter(
        kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED, issued_at__lt=cutoff
    ).order_by()
    # Credit notes are few: summed per invoice they correct, apart. Payments are joined and
    # summed per invoice in the database, which returns only the invoices still owing (or
    # credited: their credit is taken off below).
    credited: dict[int, tuple[Decimal, Decimal]] = {
        row["corrects_id"]: (row["s"], row["p"])
        for row in notes.values("corrects_id").annotate(s=Sum("total"), p=Sum("payer_share"))
    }
    in_time = Q(allocations__created_at__lt=cutoff)
    from_payer = Q(allocations__payment__payer__isnull=False)
    rows = (
        Invoice.objects.filter(
            kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED, issued_at__lt=cutoff
        )
        .order_by()
        .values(
            "pk",
            "issued_at",
            "total",
            "payer_share",
            "patient_id",
            "patient__given_name",
            "patient__family_name",
            "payer_id",
            "payer__name",
        )
        .annotate(
            paid_patient=money_sum("allocations__amount", filter=in_time & ~from_payer),
            paid_payer=money_sum("allocations__amount", filter=in_time & from_payer),
        )
        .annotate(
            patient_due=F("total") - F("payer_share") - F("paid_patient"),
            payer_due=F("payer_share") - F("paid_payer"),
        )
        .filter(
            Q(patient_due__gt=HALF_CENT)
            | Q(patient_due__lt=-HALF_CENT)
            | Q(payer_due__gt=HALF_CENT)
            | Q(payer_due__lt=-HALF_CENT)
            | Q(pk__in=notes.values("corrects_id"))
        )
    )
    patients: dict[int, AgeingRow] = {}
    payers: dict[int, AgeingRow] = {}
    for row in rows:
        credit, credit_payer = credited.get(row["pk"], (ZERO, ZERO))
        figures = InvoiceFigures(
            total=row["total"],
            payer_share=row["payer_share"],
            credited=money.to_cents(credit),
            credited_payer=money.to_cents(credit_payer),
            paid_by_patient=money.to_cents(row["paid_patient"]),
            paid_by_payer=money.to_cents(row["paid_payer"]),
        )
        issued_at = row["issued_at"]
        if issued_at is None:  # an issued invoice always has its moment (a constraint)
            continue
        bucket = money.ageing_bucket(issued_at.astimezone(zone).date(), as_of)
        if figures.patient_due:
            pid = row["patient_id"]
            seen = patients.get(pid) or AgeingRow(
                _person(row["patient__given_name"], row["patient__family_name"]), pid
            )
            patients[pid] = seen.plus(bucket, figures.patient_due)
        if figures.payer_due and row["payer_id"] is not None:
            payer_id = row["payer_id"]
            seen = payers.get(payer_id) or AgeingRow(row["payer__name"], payer_id)
            payers[payer_id] = seen.plus(bucket, figures.payer_due)
    by_patient = sorted(patients.values(), key=lambda r: (r.label, r.key or 0))
    by_payer = sorted(payers.values(), key=lambda r: (r.label, r.key or 0))
    return Receivables(
        as_of=as_of,
        by_patient=by_patient,
        by_payer=by_payer,
        patient_total=_sum_total(by_patient, _("Patients")),
        payer_total=_sum_total(by_payer, _("Payers")),
        credits=_account_credits(cutoff),
    )


def _account_credits(cutoff: dt.datetime) -> list[CreditRow]:
    """Return each patient's account credit as recorded before `cutoff` (three queries)."""
    names: dict[int, str] = {}
    left: dict[int, Decimal] = {}
    for row in (
        Payment.objects.filter(patient__isnull=False, recorded_at__lt=cutoff)
        .order_by()
        .values("patient_id", "patient__given_name", "patient__family_name")
        .annotate(s=money_sum("amount"))
    ):
        names[row["patient_id"]] = _person(row["patient__given_name"], row["patient__family_name"])
        left[row["patient_id"]] = row["s"]
    spent = (
        Allocation.objects.filter(
            payment__patient__isnull=False, payment__recorded_at__lt=cutoff, created_at__lt=cutoff
        )
        .order_by()
        .values("payment__patient_id")
        .annotate(s=money_sum("amount"))
        .values_list("payment__patient_id", "s")
    )
    given_back = (
        Refund.objects.filter(
            payment__patient__isnull=False, payment__recorded_at__lt=cutoff, recorded_at__lt=cutoff
        )
        .order_by()
        .values("payment__patient_id")
        .annotate(s=money_sum("amount"))
        .values_list("payment__patient_id", "s")
    )
    for rows in (spent, given_back):
        for patient_id, amount in rows:
            left[patient_id] = left.get(patient_id, ZERO) - amount
    credits = [
        CreditRow(label=names[pid], key=pid, amount=money.to_cents(amount))
        for pid, amount in left.items()
        if amount > HALF_CENT
    ]
    return sorted(credits, key=lambda r: (r.label, r.key))


# --- 4. Utilisation ----------------------------------------------------------------------


@dataclass
class UtilisationRow:
    practitioner_id: int
    name: str
    available: Decimal = ZERO  # hours
    booked: Decimal = ZERO  # hours

    @property
    def rate(self) -> Decimal | None:
        return percent(self.booked, self.available)


@dataclass(frozen=True)
class Utilisation:
    period: Period
    rows: list[UtilisationRow]
    total: UtilisationRow


def _hours(seconds: float) -> Decimal:
    return (Decimal(str(seconds)) / HOUR).quantize(Decimal("0.01"))


def utilisation(period: Period) -> Utilisation:
    """Return each practitioner's booked and working hours (five queries per open location).

    Working hours are the calendar's (`scheduling.calendar_grid`): shifts less their breaks,
    time off and closures, day by day in each location's own zone. Booked hours are the
    lengths of the visits that start on those days and were not cancelled (no-shows kept
    their time and count).
    """
    available: dict[int, float] = {}
    booked: dict[int, float] = {}
    names: dict[int, str] = {}
    for location in Location.objects.filter(is_active=True).order_by("order", "pk"):
        zone = location.zone
        hours = location_hours(location, period.first, period.last)
        for practitioner_id, practitioner in hours.practitioners.items():
            names[practitioner_id] = _person(practitioner.first_name, practitioner.last_name)
        for practitioner_id, seconds in hours.working_seconds.items():
            available[practitioner_id] = available.get(practitioner_id, 0.0) + seconds
        for visit in hours.visits:
            if visit.status == AppointmentStatus.CANCELLED:
                continue
            if not period.first <= visit.start.astimezone(zone).date() <= period.last:
                continue
            seconds = (visit.end - visit.start).total_seconds()
            booked[visit.practitioner_id] = booked.get(visit.practitioner_id, 0.0) + seconds
    rows = [
        UtilisationRow(
            practitioner_id=pid,
            name=names[pid],
            available=_hours(available.get(pid, 0.0)),
            booked=_hours(booked.get(pid, 0.0)),
        )
        for pid in names
        if available.get(pid) or booked.get(pid)
    ]
    rows.sort(key=lambda r: (r.name, r.practitioner_id))
    total = UtilisationRow(
        practitioner_id=0,
        name=_("All practitioners"),
        available=sum((r.available for r in rows), ZERO),
        booked=sum((r.booked for r in rows), ZERO),
    )
    return Utilisation(period=period, rows=rows, total=total)


# --- 5. No-shows and late cancellations --------------------------------------------------


@dataclass(frozen=True)
class AttendanceRow:
    label: str
    key: int | None = None
    visits: int = 0
    no_shows: int = 0
    late_cancellations: int = 0

    @property
    def no_show_rate(self) -> Decimal | None:
        return percent(self.no_shows, self.visits)

    @property
    def late_cancel_rate(self) -> Decimal | None:
        return percent(self.late_cancellations, self.visits)


@dataclass(frozen=True)
class Attendance:
    period: Period
    rows: list[AttendanceRow]
    total: AttendanceRow


def attendance(period: Period, *, now: dt.datetime | None = None) -> Attendance:
    """Return no-show and late-cancellation rates per practitioner (one query).

    The visits counted are those booked to start in the period and kept on the books: every
    visit but those cancelled in good time and those the clinic cancelled, which are not the
    patient's doing (a visit moved to another time counts as a cancellation of the old one,
    late if it was moved inside the window). A visit still ahead at `now` counts only once
    it is closed (completed, a no-show or cancelled late): one still booked could yet be
    kept or missed.
    """
    now = now or timezone.now()
    closed = (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED)
    kept = (
        Appointment.objects.filter(start__gte=period.start, start__lt=period.end)
        .filter(Q(start__lte=now) | Q(status__in=closed))
        .exclude(status=AppointmentStatus.CANCELLED, cancelled_late=False)
        .exclude(status=AppointmentStatus.CANCELLED, cancelled_by=CancelledBy.CLINIC)
    )
    rows = [
        AttendanceRow(
            label=_person(row["practitioner__first_name"], row["practitioner__last_name"]),
            key=row["practitioner_id"],
            visits=row["visits"],
            no_shows=row["no_shows"],
            late_cancellations=row["late"],
        )
        for row in kept.order_by()
        .values("practitioner_id", "practitioner__first_name", "practitioner__last_name")
        .annotate(
            visits=Count("pk"),
            no_shows=Count("pk", filter=Q(status=AppointmentStatus.NO_SHOW)),
            late=Count("pk", filter=Q(status=AppointmentStatus.CANCELLED)),
        )
    ]
    rows.sort(key=lambda r: (r.label, r.key or 0))
    total = AttendanceRow(
        label=_("All practitioners"),
        visits=sum(r.visits for r in rows),
        no_shows=sum(r.no_shows for r in rows),
        late_cancellations=sum(r.late_cancellations for r in rows),
    )
    return Attendance(period=period, rows=rows, total=total)


# --- 6. Compensation ---------------------------------------------------------------------


@dataclass(frozen=True)
class CompensationRow:
    practitioner_id: int
    name: str
    kind: str  # a CompensationKind, or "" when none is set
    net_sales: Decimal = ZERO  # before tax
    completed_visits: int = 0
    share_percent: Decimal | None = None
    per_visit: Decimal | None = None
    amount: Decimal = ZERO

    @property
    def basis(self) -> str:
        if self.kind == CompensationKind.SHARE:
            return _("%(share)s%% of net sales before tax") % {"share": self.share_percent}
        if self.kind == CompensationKind.PER_VISIT:
            return _("%(amount)s per completed visit") % {"amount": self.per_visit}
        return _("Not set")


@dataclass(frozen=True)
class CompensationReport:
    period: Period
    rows: list[CompensationRow] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((row.amount for row in self.rows), ZERO)


def compensation(
    period: Period, *, practitioner: Practitioner | None = None, sold: Sales | None = None
) -> CompensationReport:
    """Return what each practitioner with a compensation set earned in the period.

    A share is of their net sales before tax (issued less credited, by issue day); a fixed
    amount is per visit of theirs completed in the period. Three queries (two when the
    period's `sales` are given).
    """
    plans = Compensation.objects.select_related("practitioner").order_by(
        "practitioner__last_name", "practitioner__first_name", "pk"
    )
    if practitioner is not None:
        plans = plans.filter(practitioner=practitioner)
    sold = sold or sales(period, practitioner=practitioner)
    net = {row.key: row.subtotal for row in sold.by_practitioner}
    visits = Appointment.objects.filter(
        start__gte=period.start, start__lt=period.end, status=AppointmentStatus.COMPLETED
    )
    if practitioner is not None:
        visits = visits.filter(practitioner=practitioner)
    completed = dict(
        visits.order_by()
        .values("practitioner_id")
        .annotate(n=Count("pk"))
        .values_list("practitioner_id", "n")
    )
    rows = []
    for plan in plans:
        pid = plan.practitioner_id
        net_sales = net.get(pid, ZERO)
        done = completed.get(pid, 0)
        if plan.kind == CompensationKind.SHARE:
            amount = money.share_of(net_sales, plan.share_percent or ZERO)
        else:
            amount = money.to_cents((plan.per_visit or ZERO) * done)
        rows.append(
            CompensationRow(
                practitioner_id=pid,
                name=_person(plan.practitioner.first_name, plan.practitioner.last_name),
                kind=plan.kind,
                net_sales=net_sales,
                completed_visits=done,
                share_percent=plan.share_percent,
                per_visit=plan.per_visit,
                amount=amount,
            )
        )
    return CompensationReport(period=period, rows=rows)
