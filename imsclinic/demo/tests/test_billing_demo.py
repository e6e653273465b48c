"""The demo clinic has a month of billing that adds up, in every state, and reloads idle."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone

from imsclinic.billing.claims import claim_usages
from imsclinic.billing.models import (
    Allocation,
    CancellationFeePolicy,
    Claim,
    FeeEvent,
    Invoice,
    InvoiceKind,
    InvoicePurpose,
    InvoiceStatus,
    PayerKind,
    Payment,
    Refund,
    ServiceFee,
    TaxRate,
)
from imsclinic.billing.selectors import balances_for, figures_for, invoice_figures, patient_account
from imsclinic.clinic.models import Clinic, Location
from imsclinic.demo.billing import LATE_CANCEL_REASON
from imsclinic.demo.logins import DEMO_PATIENT_EMAIL
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus

pytestmark = pytest.mark.django_db


def load_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def friday() -> dt.datetime:
    """A Friday afternoon: both locations have a week of seen visits behind them."""
    return dt.datetime(2027, 5, 14, 15, 30, tzinfo=ZoneInfo("America/Vancouver"))


def assert_the_books_add_up() -> None:
    """Every patient's balance is the same read both ways, and no share is overpaid."""
    patients = list(Patient.objects.filter(invoices__isnull=False).distinct())
    balances = balances_for([p.pk for p in patients])
    for patient in patients:
        account = patient_account(patient)
        assert account.balance == balances[patient.pk]
        assert account.balance == account.patient_owes + account.payers_owe - account.credit
    issued = Invoice.objects.filter(kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED)
    for figures in figures_for(issued).values():
        assert figures.patient_due >= 0 and figures.payer_due >= 0
    for payment in Payment.objects.all():
        allocated = sum((a.amount for a in payment.allocations.all()), Decimal("0"))
        refunded = sum((r.amount for r in payment.refunds.all()), Decimal("0"))
        assert allocated + refunded <= payment.amount


def assert_the_claims_cover_what_is_booked() -> None:
    """Both claims authorise every visit their patient had and booked; one has one left."""
    left = {}
    for claim in Claim.objects.select_related("payer", "patient"):
        usage = claim_usages(claim.patient, claims=[claim])[0]
        assert usage.visits_over == 0, f"{claim.claim_number}: {usage.visits_over} beyond"
        left[claim.payer.kind] = usage.visits_left
        # Every visit of the claim's patient seen within its dates is billed to it.
        assert not Invoice.objects.filter(
            patient=claim.patient,
            purpose=InvoicePurpose.VISIT,
            claim__isnull=True,
            service_date__gte=claim.authorised_from,
        ).exists()
    assert left == {PayerKind.AUTO: 4, PayerKind.WORKERS_COMP: 1}


def test_a_friday_shows_a_month_of_billing_in_every_state() -> None:
    with time_machine.travel(friday(), tick=True):
        load_demo()
        now = timezone.now()
        month = Appointment.objects.filter(
            status=AppointmentStatus.COMPLETED,
            start__gte=now - dt.timedelta(days=31),
            end__lte=now,
        )
        invoiced = Invoice.objects.filter(purpose=InvoicePurpose.VISIT, status=InvoiceStatus.ISSUED)
        assert month.count() >= 15
        assert set(invoiced.values_list("appointment_id", flat=True)) == set(
            month.values_list("pk", flat=True)
        ), "every visit seen in the last month has its issued invoice"
        assert not invoiced.filter(issued_at__gt=now).exists()
        # The clinic's own details and the owner's settings.
        clinic = Clinic.current()
        assert clinic is not None
        assert clinic.legal_name and clinic.business_number and clinic.invoice_footer
        kitsilano = Location.objects.get(slug="kitsilano")
        assert TaxRate.objects.get(location=kitsilano, item_kind="product").rate_percent == 12
        assert TaxRate.objects.get(location__slug="leslieville", item_kind="product").name == "HST"
        assert ServiceFee.objects.filter(location__slug="leslieville").count() == 3
        assert set(
            CancellationFeePolicy.objects.filter(service__requires_ims_credential=True)
            .values_list("event", flat=True)
            .distinct()
        ) == {FeeEvent.LATE_CANCEL, FeeEvent.NO_SHOW}
        # Paid at the desk in several ways.
        methods = set(
            Payment.objects.filter(patient__isnull=False).values_list("method", flat=True)
        )
        assert {"debit", "credit_card", "cash", "e_transfer"} <= methods
        figures = figures_for(invoiced)
        # Part-paid, and owed.
        assert any(0 < f.patient_due < f.total - f.payer_share for f in figures.values())
        assert any(f.patient_due == f.total - f.payer_share > 0 for f in figures.values())
        # The demo patient's extended-health plan: split, paid later in one payment.
        demo = Patient.objects.get(email=DEMO_PATIENT_EMAIL)
        split = invoiced.filter(patient=demo, payer__kind=PayerKind.EXTENDED_HEALTH)
        assert split.exists() and all(0 < i.payer_share < i.total for i in split)
        plan_payment = Payment.objects.get(payer__kind=PayerKind.EXTENDED_HEALTH)
        assert plan_payment.allocations.values("invoice").distinct().count() >= 2
        assert plan_payment.received_on <= timezone.localdate()
        # Two third-party claims with authorised visits, their invoices billed to them.
        for kind in (PayerKind.AUTO, PayerKind.WORKERS_COMP):
            claim = Claim.objects.get(payer__kind=kind)
            assert claim.authorised_visits
            billed = list(invoiced.filter(claim=claim))
            assert billed and all(i.payer_share == i.total for i in billed)
        assert_the_claims_cover_what_is_booked()
        # A correction, its credit used or given back; a sale of tape, taxed, one roll returned.
        assert Invoice.objects.filter(
            kind=InvoiceKind.CREDIT_NOTE, corrects__purpose=InvoicePurpose.VISIT
        ).exists()
        sale = Invoice.objects.get(patient=demo, purpose=InvoicePurpose.SALE)
        line = sale.lines.get()
        assert (line.tax_name, line.tax_amount) == ("GST+PST", Decimal("3.00"))
        assert sale.credit_notes.get().total == Decimal("14.00")
        assert Refund.objects.filter(payment__allocations__invoice=sale).exists()
        assert Allocation.objects.filter(amount__lt=0).exists()
        # A no-show charged and then waived with a reason; a late cancellation charged, owed.
        fees = Invoice.objects.filter(purpose=InvoicePurpose.FEE, status="issued")
        waived = fees.select_related("appointment", "waiver__credit_note").get(
            fee_event="no_show", waiver__isnull=False
        )
        assert waived.appointment is not None and waived.appointment.status == "no_show"
        credit_note = waived.waiver.credit_note
        assert waived.waiver.reason and credit_note is not None
        assert credit_note.total == waived.total
        owed = fees.select_related("appointment").get(
            fee_event="late_cancel", appointment__cancellation_reason=LATE_CANCEL_REASON
        )
        assert owed.appointment is not None and owed.appointment.cancelled_late
        assert invoice_figures(owed).patient_due == owed.total > 0
        # The calendar's no-shows this week were marked through the desk's service too, so
        # each one whose service has a no-show fee is charged it, as it would be for real.
        missed = Appointment.objects.filter(
            status=AppointmentStatus.NO_SHOW,
            service__cancellation_fees__event=FeeEvent.NO_SHOW,
        ).distinct()
        assert missed.count() >= 2, "the billing month's no-show and the calendar's"
        assert list(missed.exclude(invoices__fee_event=FeeEvent.NO_SHOW)) == []
        assert_the_books_add_up()
        # Nothing is billed ahead of its day.
        assert not Invoice.objects.filter(issued_at__gt=now).exists()
        assert not Payment.objects.filter(received_on__gt=timezone.localdate()).exists()


def test_the_billing_demo_loads_today_adds_up_and_reloads_idle() -> None:
    load_demo()
    assert_the_books_add_up()
    counts = (
        Invoice.objects.count(),
        Payment.objects.count(),
        Allocation.objects.count(),
        Refund.objects.count(),
    )
    again = load_demo()
    assert "nothing new to create" in again
    assert (
        Invoice.objects.count(),
        Payment.objects.count(),
        Allocation.objects.count(),
        Refund.objects.count(),
    ) == counts
    assert not Invoice.objects.filter(status=InvoiceStatus.DRAFT).exists()
    drafts_per_visit = (
        Invoice.objects.values("appointment")
        .annotate(n=Count("pk"))
        .filter(~Q(appointment=None), n__gt=1)
    )
    assert not drafts_per_visit.exists(), "one invoice per visit"


AWKWARD = [
    # The night the clocks go back, a year's first minute in Toronto, a leap day.
    dt.datetime.fromisoformat("2026-11-01T09:30:00+00:00"),
    dt.datetime.fromisoformat("2027-01-01T00:01:00-05:00"),
    dt.datetime.fromisoformat("2028-02-29T09:00:00-08:00"),
]


@pytest.mark.parametrize("moment", AWKWARD, ids=lambda moment: moment.isoformat())
def test_on_an_awkward_day_every_visit_of_the_month_is_billed_and_nothing_ahead(
    moment: dt.datetime,
) -> None:
    with time_machine.travel(moment, tick=True):
        load_demo()
        now = timezone.now()
        seen = set(
            Appointment.objects.filter(
                status=AppointmentStatus.COMPLETED,
                start__gte=now - dt.timedelta(days=31),
                end__lte=now,
            ).values_list("pk", flat=True)
        )
        billed = set(
            Invoice.objects.filter(
                purpose=InvoicePurpose.VISIT, status=InvoiceStatus.ISSUED
            ).values_list("appointment_id", flat=True)
        )
        assert seen and seen == billed
        assert_the_claims_cover_what_is_booked()
        assert not Invoice.objects.filter(issued_at__gt=now).exists()
        assert not Payment.objects.filter(recorded_at__gt=now).exists()
        for payment in Payment.objects.select_related("location"):
            zone = (payment.location or Location.objects.order_by("pk")[0]).zone
            assert payment.received_on <= now.astimezone(zone).date()
        assert_the_books_add_up()
