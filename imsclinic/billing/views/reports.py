"""The owner's billing reports, and a practitioner's own sales: pages and their CSV files.

Each page turns its report (`billing.reports`) into tables once (`Table`); the page shows
them and `?export=<table>` downloads one of them as CSV, built from the very same rows, so
a file never says anything the page does not. Every look and every download is audited as
a billing report; a report naming patients also records, per patient, that they were shown.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from imsclinic.billing import money, reports
from imsclinic.clinic.models import Location, Practitioner
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.access import require_perm
from imsclinic.core.audit import audit_record, audit_record_per_patient
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import Action, ObjectType
from imsclinic.safety.forms import (
    REPORT_FIRST_DAY,
    REPORT_LAST_DAY,
    ReportPeriodForm,
    report_day_message,
)

NOTHING = "—"


class AsOfForm(forms.Form):
    """The day the receivables are seen at the end of (empty: today)."""

    as_of = forms.DateField(
        label=gettext_lazy("Owed at the end of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter a date, e.g. 2026-12-31.")},
    )

    def clean_as_of(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("as_of")
        if day is not None and not REPORT_FIRST_DAY <= day <= REPORT_LAST_DAY:
            raise forms.ValidationError(report_day_message())
        return day


class DaySheetForm(ReportPeriodForm):
    """The day sheet's period and the till it is for (every location's, or one's)."""

    location = forms.ModelChoiceField(
        label=gettext_lazy("Location"),
        queryset=Location.objects.order_by("order", "pk"),
        required=False,
        empty_label=gettext_lazy("All locations"),
    )


@dataclass(frozen=True)
class Table:
    """One table of a report, as shown and as exported: every cell already text."""

    key: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    totals: list[str] | None = None
    empty: str = ""

    @property
    def csv_rows(self) -> list[list[str]]:
        """The rows the page shows, totals last, under the headers (an empty table has none)."""
        return [self.headers, *self.rows, *([self.totals] if self.totals and self.rows else [])]


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _rate(value: Decimal | None) -> str:
    return NOTHING if value is None else f"{value}%"


def _safe(text: str) -> str:
    # A spreadsheet runs a cell starting with one of these as a formula; numbers are safe.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            Decimal(text)
        except InvalidOperation:
            return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(table: Table, filename: str) -> HttpResponse:
    writer = csv.writer(_Echo())
    body = "".join(writer.writerow([_safe(cell) for cell in row]) for row in table.csv_rows)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{table.key}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


def _this_month(zone: ZoneInfo) -> reports.Period:
    return reports.Period.month_of(timezone.now().astimezone(zone).date(), zone)


def _period(
    request: SignedInRequest, form_class: type[ReportPeriodForm] = ReportPeriodForm
) -> tuple[ReportPeriodForm, reports.Period | None]:
    """Read the period asked for; blank means this month in the clinic's zone."""
    zone = clinic_zone()
    form = form_class(request.GET or None)
    if not form.is_bound:
        period = _this_month(zone)
        return form_class(initial={"since": period.first, "until": period.last}), period
    if not form.is_valid():
        return form, None
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    if since is None and until is None:
        return form, _this_month(zone)
    if since is None:
        since = until.replace(day=1)
    if until is None:
        until = reports.Period.month_of(since, zone).last
    return form, reports.Period(first=since, last=until, zone=zone)


def _render(
    request: SignedInRequest,
    *,
    name: str,
    title: str,
    intro: str,
    form: forms.Form,
    build: Callable[[], tuple[list[Table], Sequence[int]]] | None,
    detail: dict[str, Any],
) -> HttpResponse:
    """Show a report's tables, or download one as CSV; audit either way."""
    if build is None:
        return render(
            request,
            "billing/report.html",
            {"name": name, "title": title, "intro": intro, "form": form, "tables": []},
            status=400,
        )
    tables, patient_ids = build()
    wanted = request.GET.get("export", "")
    exported = next((t for t in tables if t.key == wanted), None)
    action = Action.EXPORT if exported is not None else Action.VIEW
    record = {"report": name, **detail}
    if exported is not None:
        record["table"] = exported.key
    audit_record(
        actor=request.user,
        action=action,
        object_type=ObjectType.BILLING_REPORT,
        object_id=name,
        request=request,
        detail=record,
    )
    if patient_ids:
        audit_record_per_patient(
            actor=request.user,
            action=action,
            object_type=ObjectType.BILLING_REPORT,
            shown={pid: record for pid in patient_ids},
            request=request,
        )
    if exported is not None:
        dates = [str(detail[k]) for k in ("from", "to", "as_of") if k in detail]
        return _csv_response(exported, "-".join([name, *dates]))
    query = request.GET.copy()
    query.pop("export", None)
    return render(
        request,
        "billing/report.html",
        {
            "name": name,
            "title": title,
            "intro": intro,
            "form": form,
            "tables": tables,
            "query": query.urlencode(),
        },
    )


def _period_report(
    request: SignedInRequest,
    *,
    name: str,
    title: str,
    intro: str,
    tables: Callable[[reports.Period], tuple[list[Table], Sequence[int]]],
) -> HttpResponse:
    """Show (or export) the owner's report of a period: its tables and the patients named."""
    require_perm(request, "billing.view_reports", object_type=ObjectType.BILLING_REPORT)
    form, period = _period(request)
    return _render(
        request,
        name=name,
        title=title,
        intro=intro,
        form=form,
        build=(lambda: tables(period)) if period is not None else None,
        detail=_period_detail(period) if period is not None else {},
    )


def _period_detail(period: reports.Period) -> dict[str, Any]:
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


def _own_practitioner(request: SignedInRequest) -> Practitioner | None:
    return Practitioner.objects.filter(user_id=request.user.pk, is_active=True).first()


REPORTS = (
    ("billing_report_day_sheet", gettext_lazy("Day sheet")),
    ("billing_report_sales", gettext_lazy("Sales by practitioner and by service")),
    ("billing_report_receivables", gettext_lazy("Accounts receivable")),
    ("billing_report_utilisation", gettext_lazy("Utilisation")),
    ("billing_report_attendance", gettext_lazy("No-shows and late cancellations")),
    ("billing_report_compensation", gettext_lazy("Practitioner compensation")),
)


@login_required
@require_GET
def billing_reports(request: SignedInRequest) -> HttpResponse:
    """List the owner's reports."""
    require_perm(request, "billing.view_reports", object_type=ObjectType.BILLING_REPORT)
    return render(request, "billing/report_index.html", {"reports": REPORTS})


# --- 1. Day sheet ------------------------------------------------------------------------


def day_sheet_tables(sheet: reports.DaySheet) -> list[Table]:
    methods = Table(
        key="methods",
        title=_("By method"),
        headers=[
            _("Method"),
            _("Payments"),
            _("Received"),
            _("Refunds"),
            _("Refunded"),
            _("Net"),
        ],
        rows=[
            [
                row.label,
                str(row.payments),
                _amount(row.received),
                str(row.refunds),
                _amount(row.refunded),
                _amount(row.net),
            ]
            for row in sheet.methods
        ],
        totals=[
            _("Total"),
            str(sheet.total.payments),
            _amount(sheet.total.received),
            str(sheet.total.refunds),
            _amount(sheet.total.refunded),
            _amount(sheet.total.net),
        ],
        empty=_("No money came in or went out in this period."),
    )
    zone = sheet.period.zone
    entries = Table(
        key="payments",
        title=_("Each payment and refund"),
        headers=[
            _("Day"),
            _("Recorded at"),
            _("What"),
            _("From"),
            _("Method"),
            _("Reference"),
            _("Amount"),
            _("Recorded by"),
        ],
        rows=[
            [
                entry.day.isoformat(),
                entry.recorded_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                _("Payment") if entry.kind == "payment" else _("Refund"),
                entry.from_whom,
                entry.method_label,
                entry.reference,
                _amount(entry.amount),
                entry.recorded_by,
            ]
            for entry in sheet.entries
        ],
        totals=[_("Net"), "", "", "", "", "", _amount(sheet.total.net), ""],
        empty=_("No payments or refunds in this period."),
    )
    return [methods, entries]


@login_required
@require_GET
def billing_report_day_sheet(request: SignedInRequest) -> HttpResponse:
    """The payments received and refunds given, by method, for closing a location's till."""
    require_perm(request, "billing.view_day_sheet", object_type=ObjectType.BILLING_REPORT)
    form, period = _period(request, DaySheetForm)
    location = form.cleaned_data.get("location") if period is not None and form.is_bound else None

    def build() -> tuple[list[Table], list[int]]:
        assert period is not None
        sheet = reports.day_sheet(period, location=location)
        return day_sheet_tables(sheet), sheet.patient_ids

    detail = _period_detail(period) if period is not None else {}
    if location is not None:
        detail["location"] = location.pk
    return _render(
        request,
        name="day_sheet",
        title=_("Day sheet"),
        intro=_(
            "Payments by the day they were received and refunds by the day they were given, "
            "by method, at every location or at one: the net of each method is what that "
            "till or terminal should show."
        ),
        form=form,
        build=build if period is not None else None,
        detail=detail,
    )


# --- 2. Sales ----------------------------------------------------------------------------


def _sales_table(key: str, title: str, first: str, rows: list[reports.SalesRow]) -> Table:
    headers = [
        first,
        _("Invoices"),
        _("Credit notes"),
        _("Visits"),
        _("Before tax"),
        _("Tax"),
        _("Total"),
    ]

    def cells(row: reports.SalesRow) -> list[str]:
        return [
            row.label,
            str(row.invoices),
            str(row.credit_notes),
            str(row.visits),
            _amount(row.subtotal),
            _amount(row.tax),
            _amount(row.total),
        ]

    total = reports.SalesRow(
        label=_("Total"),
        invoices=sum(r.invoices for r in rows),
        credit_notes=sum(r.credit_notes for r in rows),
        visits=sum(r.visits for r in rows),
        subtotal=sum((r.subtotal for r in rows), money.ZERO),
        tax=sum((r.tax for r in rows), money.ZERO),
    )
    return Table(
        key=key,
        title=title,
        headers=headers,
        rows=[cells(r) for r in rows],
        totals=cells(total),
        empty=_("Nothing was invoiced or credited in this period."),
    )


def sales_tables(sold: reports.Sales, *, by_practitioner: bool = True) -> list[Table]:
    tables = []
    if by_practitioner:
        tables.append(
            _sales_table(
                "practitioners", _("By practitioner"), _("Practitioner"), sold.by_practitioner
            )
        )
    tables.append(_sales_table("services", _("By service or product"), _("Item"), sold.by_service))
    return tables


@login_required
@require_GET
def billing_report_sales(request: SignedInRequest) -> HttpResponse:
    """Net sales (issued less credited) by practitioner and by service."""
    return _period_report(
        request,
        name="sales",
        title=_("Sales by practitioner and by service"),
        intro=_(
            "Invoices by the day they were issued, less credit notes by the day they were "
            "issued. Visits counts the visit invoices issued."
        ),
        tables=lambda period: (sales_tables(reports.sales(period)), []),
    )


# --- 3. Receivables ----------------------------------------------------------------------


def _ageing_table(key: str, title: str, first: str, rows: list[reports.AgeingRow]) -> Table:
    headers = [
        first,
        *[_("%(bucket)s days") % {"bucket": name} for name in reports.BUCKETS],
        _("Total"),
    ]

    def cells(row: reports.AgeingRow) -> list[str]:
        return [row.label, *[_amount(v) for v in row.buckets], _amount(row.total)]

    total = reports.AgeingRow(
        label=_("Total"),
        buckets=tuple(
            sum((r.buckets[n] for r in rows), money.ZERO) for n in range(len(reports.BUCKETS))
        ),
    )
    return Table(
        key=key,
        title=title,
        headers=headers,
        rows=[cells(r) for r in rows],
        totals=cells(total),
        empty=_("Nothing is owed."),
    )


def receivables_tables(owed: reports.Receivables) -> list[Table]:
    return [
        _ageing_table(
            "patients", _("Owed by patients (their share)"), _("Patient"), owed.by_patient
        ),
        _ageing_table("payers", _("Owed by payers (their share)"), _("Payer"), owed.by_payer),
        Table(
            key="credit",
            title=_("Account credit held for patients"),
            headers=[_("Patient"), _("Credit")],
            rows=[[row.label, _amount(row.amount)] for row in owed.credits],
            totals=[_("Total"), _amount(owed.credit_total)],
            empty=_("No patient has account credit."),
        ),
        Table(
            key="net",
            title=_("Net owed"),
            headers=[_("What"), _("Amount")],
            rows=[
                [_("Owed by patients"), _amount(owed.patient_total.total)],
                [_("Owed by payers"), _amount(owed.payer_total.total)],
                [_("Less account credit held for patients"), _amount(-owed.credit_total)],
            ],
            totals=[_("Net owed (the sum of every patient's balance)"), _amount(owed.net)],
        ),
    ]


@login_required
@require_GET
def billing_report_receivables(request: SignedInRequest) -> HttpResponse:
    """What patients and payers owe at the end of a day, by the age of the invoice."""
    require_perm(request, "billing.view_reports", object_type=ObjectType.BILLING_REPORT)
    zone = clinic_zone()
    form = AsOfForm(request.GET or None)
    as_of: dt.date | None = timezone.now().astimezone(zone).date()
    if form.is_bound:
        as_of = form.cleaned_data["as_of"] or as_of if form.is_valid() else None
    else:
        form = AsOfForm(initial={"as_of": as_of})

    def build() -> tuple[list[Table], list[int]]:
        assert as_of is not None
        owed = reports.receivables(as_of, zone)
        return receivables_tables(owed), owed.patient_ids

    return _render(
        request,
        name="receivables",
        title=_("Accounts receivable"),
        intro=_(
            "What was still owed at the end of the day, in the patient's share and the "
            "payer's, aged from the day each invoice was issued (0 to 30, 31 to 60, 61 to 90 "
            "and over 90 days). Credit notes and payments count from the day they were "
            "recorded. Account credit is money received and not yet put towards an invoice "
            "or given back; the net owed takes it off."
        ),
        form=form,
        build=build if as_of is not None else None,
        detail={"as_of": as_of.isoformat()} if as_of is not None else {},
    )


# --- 4. Utilisation ----------------------------------------------------------------------


def utilisation_tables(used: reports.Utilisation) -> list[Table]:
    def cells(row: reports.UtilisationRow) -> list[str]:
        return [row.name, str(row.available), str(row.booked), _rate(row.rate)]

    return [
        Table(
            key="practitioners",
            title=_("By practitioner"),
            headers=[_("Practitioner"), _("Hours working"), _("Hours booked"), _("Booked")],
            rows=[cells(r) for r in used.rows],
            totals=cells(used.total),
            empty=_("Nobody worked or was booked in this period."),
        )
    ]


@login_required
@require_GET
def billing_report_utilisation(request: SignedInRequest) -> HttpResponse:
    """Booked hours against working hours, per practitioner."""
    return _period_report(
        request,
        name="utilisation",
        title=_("Utilisation"),
        intro=_(
            "Hours working are the shifts on the calendar less breaks, time off and "
            "closures; hours booked are the visits that were not cancelled (no-shows count)."
        ),
        tables=lambda period: (utilisation_tables(reports.utilisation(period)), []),
    )


# --- 5. No-shows and late cancellations --------------------------------------------------


def attendance_tables(kept: reports.Attendance) -> list[Table]:
    def cells(row: reports.AttendanceRow) -> list[str]:
        return [
            row.label,
            str(row.visits),
            str(row.no_shows),
            _rate(row.no_show_rate),
            str(row.late_cancellations),
            _rate(row.late_cancel_rate),
        ]

    return [
        Table(
            key="practitioners",
            title=_("By practitioner"),
            headers=[
                _("Practitioner"),
                _("Visits"),
                _("No-shows"),
                _("No-show rate"),
                _("Late cancellations"),
                _("Late-cancel rate"),
            ],
            rows=[cells(r) for r in kept.rows],
            totals=cells(kept.total),
            empty=_("No visits in this period."),
        )
    ]


@login_required
@require_GET
def billing_report_attendance(request: SignedInRequest) -> HttpResponse:
    """No-show and late-cancellation rates, per practitioner and overall."""
    return _period_report(
        request,
        name="attendance",
        title=_("No-shows and late cancellations"),
        intro=_(
            "Visits booked to start in the period, except those cancelled in good time; a "
            "visit moved inside the late-cancellation window counts as a late cancellation."
        ),
        tables=lambda period: (attendance_tables(reports.attendance(period)), []),
    )


# --- 6. Compensation ---------------------------------------------------------------------


def compensation_tables(paid: reports.CompensationReport) -> list[Table]:
    def cells(row: reports.CompensationRow) -> list[str]:
        return [
            row.name,
            row.basis,
            _amount(row.net_sales),
            str(row.completed_visits),
            _amount(row.amount),
        ]

    return [
        Table(
            key="compensation",
            title=_("By practitioner"),
            headers=[
                _("Practitioner"),
                _("Paid by"),
                _("Net sales before tax"),
                _("Completed visits"),
                _("Compensation"),
            ],
            rows=[cells(r) for r in paid.rows],
            totals=[_("Total"), "", "", "", _amount(paid.total)],
            empty=_("No practitioner has a compensation set."),
        )
    ]


@login_required
@require_GET
def billing_report_compensation(request: SignedInRequest) -> HttpResponse:
    """What each practitioner earned: a share of net sales or an amount per visit."""
    return _period_report(
        request,
        name="compensation",
        title=_("Practitioner compensation"),
        intro=_(
            "A share is of the practitioner's net sales before tax (their invoices issued in "
            "the period less credit notes); a fixed amount is per visit of theirs completed "
            "in the period."
        ),
        tables=lambda period: (compensation_tables(reports.compensation(period)), []),
    )


# --- 7. My sales -------------------------------------------------------------------------


@login_required
@require_GET
def billing_my_sales(request: SignedInRequest) -> HttpResponse:
    """A practitioner's own sales and compensation: never the clinic's or a colleague's."""
    require_perm(request, "billing.view_own_sales", object_type=ObjectType.BILLING_REPORT)
    practitioner = _own_practitioner(request)
    form, period = _period(request)

    def build() -> tuple[list[Table], list[int]]:
        assert period is not None
        if practitioner is None:
            return [], []
        sold = reports.sales(period, practitioner=practitioner)
        paid = reports.compensation(period, practitioner=practitioner, sold=sold)
        tables = sales_tables(sold, by_practitioner=False)
        if paid.rows:
            tables += compensation_tables(paid)
        return tables, []

    return _render(
        request,
        name="my_sales",
        title=_("My sales"),
        intro=(
            _(
                "Your invoices by the day they were issued, less credit notes, and what you "
                "earned from them in the period."
            )
            if practitioner is not None
            else _("You have no practitioner record, so there are no sales of yours to show.")
        ),
        form=form,
        build=build if period is not None else None,
        detail=(
            {**_period_detail(period), "practitioner": practitioner.pk if practitioner else None}
            if period is not None
            else {}
        ),
    )
