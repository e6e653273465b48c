"""Reads about third-party claims: visits used and left, what the payer was billed and paid.

A claim's used visits are the visits invoiced against it (drafts and issued invoices, not
discarded drafts nor invoices wholly taken back by credit notes) and the patient's booked
visits still to come on the days it covers and not yet invoiced. A booked visit counts
against the claim that `invoice_for_visit` would bill it to: the newest open claim whose
authorisation covers its day. A visit invoiced once the claim's authorised visits are all
invoiced is billed to the patient (`billed_visits`, `why_patient_billed`). Nothing here
writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from imsclinic.billing.models import (
    ZERO,
    Claim,
    Invoice,
    InvoiceKind,
    InvoicePurpose,
    InvoiceStatus,
)
from imsclinic.billing.money import to_cents
from imsclinic.billing.selectors import figures_for
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus

# Visits still to happen (or happening now): booked, or arrived and not yet completed.
UPCOMING_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.IN_TREATMENT,
)


@dataclass(frozen=True)
class ClaimUsage:
    """One claim's visits and money."""

    claim: Claim
    invoiced_visits: int
    booked_visits: int
    billed: Decimal = ZERO
    credited: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def used_visits(self) -> int:
        return self.invoiced_visits + self.booked_visits

    @property
    def visits_left(self) -> int | None:
        """Authorised visits not yet used (negative: booked beyond them); None: no limit."""
        if self.claim.authorised_visits is None:
            return None
        return self.claim.authorised_visits - self.used_visits

    @property
    def visits_over(self) -> int:
        """Visits used beyond the authorised ones (0 when within them or with no limit)."""
        left = self.visits_left
        return -left if left is not None and left < 0 else 0

    @property
    def owed(self) -> Decimal:
        return self.billed - self.credited - self.paid


def covers(claim: Claim, day: dt.date) -> bool:
    """Whether the claim's authorisation covers this day (an open end covers everything)."""
    if claim.authorised_from is not None and day < claim.authorised_from:
        return False
    return not (claim.authorised_until is not None and day > claim.authorised_until)


def covering_claim(open_claims: Sequence[Claim], day: dt.date) -> Claim | None:
    """Return the claim a visit on this day is billed to, as `invoice_for_visit` picks it."""
    for claim in open_claims:
        if covers(claim, day):
            return claim
    return None


def _open_claims(patient: Patient) -> list[Claim]:
    # The same order `invoice_for_visit` reads them in: the model's (newest first).
    return list(Claim.objects.filter(patient=patient, is_open=True).select_related("payer"))


def _visit_day(visit: Appointment) -> dt.date:
    return visit.start.astimezone(visit.location.zone).date()


def _upcoming_by_claim(
    patient: Patient, open_claims: Sequence[Claim], *, today: dt.date
) -> dict[int, int]:
    """Count the patient's uninvoiced upcoming visits against the claim each would bill."""
    counts: dict[int, int] = {}
    if not open_claims:
        return counts
    # A day's margin in UTC for every time zone; the local day is checked below.
    since = dt.datetime.combine(today, dt.time.min, tzinfo=dt.UTC) - dt.timedelta(days=1)
    invoiced = Invoice.objects.filter(
        patient=patient, purpose=InvoicePurpose.VISIT, appointment__isnull=False
    ).exclude(status=InvoiceStatus.DISCARDED)
    visits = (
        Appointment.objects.filter(patient=patient, status__in=UPCOMING_STATUSES, start__gte=since)
        .exclude(pk__in=invoiced.values("appointment_id"))
        .select_related("location")
    )
    for visit in visits:
        day = _visit_day(visit)
        if day < today:
            continue
        claim = covering_claim(open_claims, day)
        if claim is not None:
            counts[claim.pk] = counts.get(claim.pk, 0) + 1
    return counts


def _taken_back(invoice: Invoice, credited: Decimal) -> bool:
    """Whether credit notes took back the whole invoice: the visit no longer counts."""
    return credited > 0 and to_cents(credited) >= invoice.total


def billed_visits(claim: Claim) -> int:
    """Count the visits invoiced to this claim: drafts and issued, not discarded or taken back.

    `invoice_for_visit` bills a visit to the claim only while this is below its authorised
    visits; the visit after them is billed to the patient.
    """
    money = DecimalField(max_digits=12, decimal_places=2)
    credited = (
        Invoice.objects.filter(
            corrects=OuterRef("pk"), kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED
        )
        .values("corrects")
        .annotate(s=Sum("total"))
        .values("s")
    )
    visits = (
        Invoice.objects.filter(claim=claim, kind=InvoiceKind.INVOICE, purpose=InvoicePurpose.VISIT)
        .exclude(status=InvoiceStatus.DISCARDED)
        .annotate(credited=Coalesce(Subquery(credited, output_field=money), ZERO))
        .only("pk", "total")
    )
    return sum(1 for visit in visits if not _taken_back(visit, visit.credited))


def claim_usages(
    patient: Patient, *, claims: Iterable[Claim] | None = None, today: dt.date | None = None
) -> list[ClaimUsage]:
    """Return each of the patient's claims (or these of theirs) with its visits and money."""
    today = today or timezone.localdate()
    rows = (
        list(claims)
        if claims is not None
        else list(Claim.objects.filter(patient=patient).select_related("payer", "policy"))
    )
    if not rows:
        return []
    ids = [claim.pk for claim in rows]
    billed = list(
        Invoice.objects.filter(claim_id__in=ids, kind=InvoiceKind.INVOICE).exclude(
            status=InvoiceStatus.DISCARDED
        )
    )
    figures = figures_for(invoice for invoice in billed if invoice.status == InvoiceStatus.ISSUED)
    invoiced: dict[int, set[int]] = {}
    issued: dict[int, list[Invoice]] = {}
    for invoice in billed:
        assert invoice.claim_id is not None
        mine = figures.get(invoice.pk)
        if (
            invoice.purpose == InvoicePurpose.VISIT
            and invoice.appointment_id is not None
            and not (mine is not None and _taken_back(invoice, mine.credited))
        ):
            invoiced.setdefault(invoice.claim_id, set()).add(invoice.appointment_id)
        if mine is not None:
            issued.setdefault(invoice.claim_id, []).append(invoice)
    upcoming = _upcoming_by_claim(patient, _open_claims(patient), today=today)
    result = []
    for claim in rows:
        mine_figures = [figures[invoice.pk] for invoice in issued.get(claim.pk, [])]
        result.append(
            ClaimUsage(
                claim=claim,
                invoiced_visits=len(invoiced.get(claim.pk, ())),
                booked_visits=upcoming.get(claim.pk, 0) if claim.is_open else 0,
                billed=to_cents(sum((f.payer_share for f in mine_figures), ZERO)),
                credited=to_cents(sum((f.credited_payer for f in mine_figures), ZERO)),
                paid=to_cents(sum((f.paid_by_payer for f in mine_figures), ZERO)),
            )
        )
    return result


def why_patient_billed(invoice: Invoice) -> str:
    """Say why a visit's invoice bills the patient although an open claim of theirs exists.

    Its claim had no authorised visit left when it was drafted, or the visit's day is outside
    the claim's authorised dates. Empty when neither: no open claim, or the desk chose so.
    """
    if (
        invoice.kind != InvoiceKind.INVOICE
        or invoice.purpose != InvoicePurpose.VISIT
        or invoice.claim_id is not None
        or invoice.status == InvoiceStatus.DISCARDED
    ):
        return ""
    open_claims = _open_claims(invoice.patient)
    if not open_claims:
        return ""
    day = invoice.service_date
    draft = invoice.status == InvoiceStatus.DRAFT
    claim = covering_claim(open_claims, day)
    if claim is None:
        claim = open_claims[0]
        names: dict[str, object] = {
            "number": claim.claim_number,
            "payer": claim.payer.name,
            "day": day.isoformat(),
        }
        if claim.authorised_until is not None and day > claim.authorised_until:
            names["date"] = claim.authorised_until.isoformat()
            message = _(
                "This visit on %(day)s is after claim %(number)s (%(payer)s) stopped being "
                "authorised on %(date)s: billed to the patient."
            )
        else:
            names["date"] = claim.authorised_from.isoformat() if claim.authorised_from else ""
            message = _(
                "This visit on %(day)s is before claim %(number)s (%(payer)s) is authorised "
                "from %(date)s: billed to the patient."
            )
        remedy = (
            _(
                "Ask the payer to authorise this day, then change the claim's dates on the "
                "patient's cover page and choose the claim under “Bill a payer” on the "
                "invoice's page."
            )
            if draft
            else _(
                "The invoice is issued: ask the payer to extend the authorisation before the "
                "patient's next visit, and change the claim's dates on the patient's cover page."
            )
        )
        return f"{message % names} {remedy}"
    if claim.authorised_visits is None:
        return ""
    used = billed_visits(claim)
    if used < claim.authorised_visits:
        return ""
    names = {
        "visit": used + 1,
        "authorised": claim.authorised_visits,
        "number": claim.claim_number,
        "payer": claim.payer.name,
    }
    message = _(
        "Visit %(visit)d of %(authorised)d authorised on claim %(number)s (%(payer)s): "
        "billed to the patient."
    )
    remedy = (
        _(
            "Ask the payer for more visits, then raise the claim's authorised visits on the "
            "patient's cover page and choose the claim under “Bill a payer” on the invoice's "
            "page; or issue it for the patient to pay."
        )
        if draft
        else _(
            "The invoice is issued: ask the payer for more visits before the patient's next "
            "visit, and raise the claim's authorised visits on the patient's cover page."
        )
    )
    return f"{message % names} {remedy}"


@dataclass(frozen=True)
class ClaimWarning:
    """Why a visit being booked needs the front desk's attention about a claim."""

    claim: Claim
    message: str
    beyond: bool  # True: outside what the claim authorises; False: close to its limit


def _date_warnings(claim: Claim, days: Sequence[dt.date], booking: int) -> list[ClaimWarning]:
    """Warn about the days outside this claim's authorised dates, of `booking` being booked."""
    warnings = []
    names: dict[str, object] = {"number": claim.claim_number, "payer": claim.payer.name}
    until, since = claim.authorised_until, claim.authorised_from
    after = [day for day in days if until is not None and day > until]
    before = [day for day in days if since is not None and day < since]
    if after:
        assert until is not None
        names.update(date=until.isoformat(), count=len(after))
        if booking == 1:
            message = _(
                "This visit is after claim %(number)s (%(payer)s) stopped being authorised on "
                "%(date)s; the payer will not be billed for it."
            )
        else:
            message = ngettext(
                "%(count)d of these visits is after claim %(number)s (%(payer)s) stopped being "
                "authorised on %(date)s; the payer will not be billed for it.",
                "%(count)d of these visits are after claim %(number)s (%(payer)s) stopped being "
                "authorised on %(date)s; the payer will not be billed for them.",
                len(after),
            )
        warnings.append(ClaimWarning(claim=claim, message=message % names, beyond=True))
    if before:
        assert since is not None
        names.update(date=since.isoformat(), count=len(before))
        if booking == 1:
            message = _(
                "This visit is before claim %(number)s (%(payer)s) is authorised from "
                "%(date)s; the payer will not be billed for it."
            )
        else:
            message = ngettext(
                "%(count)d of these visits is before claim %(number)s (%(payer)s) is "
                "authorised from %(date)s; the payer will not be billed for it.",
                "%(count)d of these visits are before claim %(number)s (%(payer)s) is "
                "authorised from %(date)s; the payer will not be billed for them.",
                len(before),
            )
        warnings.append(ClaimWarning(claim=claim, message=message % names, beyond=True))
    return warnings


def _count_warning(usage: ClaimUsage, booking: int) -> ClaimWarning | None:
    """Warn when `booking` more visits go beyond the claim's limit or come within one of it."""
    claim = usage.claim
    if claim.authorised_visits is None:
        return None
    left_after = claim.authorised_visits - usage.used_visits - booking
    # Of the visits being booked; those booked before were warned about then.
    over = min(-left_after, booking)
    names = {
        "number": claim.claim_number,
        "payer": claim.payer.name,
        "authorised": claim.authorised_visits,
        "used": usage.used_visits,
        "over": over,
    }
    if left_after < 0:
        if booking == 1:
            message = ngettext(
                "This visit is beyond the %(authorised)d visit authorised on claim %(number)s "
                "(%(payer)s): %(used)d already invoiced or booked.",
                "This visit is beyond the %(authorised)d visits authorised on claim %(number)s "
                "(%(payer)s): %(used)d already invoiced or booked.",
                claim.authorised_visits,
            )
        else:
            message = ngettext(
                "%(over)d of these visits is beyond those authorised on claim %(number)s "
                "(%(payer)s): %(authorised)d authorised, %(used)d already invoiced or booked.",
                "%(over)d of these visits are beyond those authorised on claim %(number)s "
                "(%(payer)s): %(authorised)d authorised, %(used)d already invoiced or booked.",
                over,
            )
        then = ngettext(
            "Unless the payer authorises more visits, the patient is billed for it.",
            "Unless the payer authorises more visits, the patient is billed for them.",
            over,
        )
        return ClaimWarning(claim=claim, message=f"{message % names} {then}", beyond=True)
    if left_after == 0:
        if booking == 1:
            message = _(
                "This is the last visit authorised on claim %(number)s (%(payer)s): "
                "ask the payer for more visits."
            )
        else:
            message = _(
                "The last of these visits is the last authorised on claim %(number)s "
                "(%(payer)s): ask the payer for more visits."
            )
        return ClaimWarning(claim=claim, message=message % names, beyond=False)
    if left_after == 1:
        if booking == 1:
            message = _(
                "After this visit, one visit is left of those authorised on claim %(number)s "
                "(%(payer)s)."
            )
        else:
            message = _(
                "After these visits, one visit is left of those authorised on claim "
                "%(number)s (%(payer)s)."
            )
        return ClaimWarning(claim=claim, message=message % names, beyond=False)
    return None


def booking_warnings(
    patient: Patient, *, days: Sequence[dt.date], today: dt.date | None = None
) -> list[ClaimWarning]:
    """Warn about the patient's open claims before visits on these days are booked.

    Beyond the authorised visits, outside the authorised dates, or within one visit of the
    limit. A warning, not a refusal: the patient may pay for the visits themselves.
    """
    open_claims = _open_claims(patient)
    if not open_claims or not days:
        return []
    covered: dict[int, list[dt.date]] = {}
    uncovered: list[dt.date] = []
    for day in days:
        claim = covering_claim(open_claims, day)
        if claim is None:
            uncovered.append(day)
        else:
            covered.setdefault(claim.pk, []).append(day)
    warnings: list[ClaimWarning] = []
    if uncovered:
        for claim in open_claims:
            warnings += _date_warnings(claim, uncovered, len(days))
    limited = [claim for claim in open_claims if claim.pk in covered and claim.authorised_visits]
    for usage in claim_usages(patient, claims=limited, today=today) if limited else []:
        warning = _count_warning(usage, len(covered[usage.claim.pk]))
        if warning is not None:
            warnings.append(warning)
    return warnings
