"""Time the owner's day sheet and receivables pages over a clinic with five years of invoices.

Called from `python -m bench` after Django is set up on the bench's throwaway database.
`seed_billing` lays the history down in bulk (invoices drafted with their line, then issued
in one statement, as the services would leave them; payments, allocations, a few refunds and
credit notes), so the figures are the reports' cost, not the seeding's. Six practitioners
see about 25 patients a week each: BENCH_BILLING_INVOICES (39,000 by default) invoices over
BENCH_BILLING_YEARS years. Most are paid on the day; a payer's share three weeks later;
recent ones, and a few old ones, are still owed, so the receivables have every age.

Prints `billing_day_sheet_ms` and `billing_receivables_ms` (medians of BENCH_BILLING_REQUESTS
requests of the page as the owner opens it: this month's day sheet, today's receivables),
their `_queries`, and whether each met the goal of a second.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from decimal import Decimal
from typing import Any

INVOICES = int(os.environ.get("BENCH_BILLING_INVOICES", "39000"))
YEARS = float(os.environ.get("BENCH_BILLING_YEARS", "5"))
REQUESTS = int(os.environ.get("BENCH_BILLING_REQUESTS", "7"))
PRACTITIONERS = 6
VISITS_PER_PATIENT = 13
BATCH = 2_000
# The owner opens these at the end of a day; a second is the most that still feels like a page.
PAGE_MS_GOAL = 1000.0
# A fixed number however long the history: the page's own ten (session, user, second factor,
# clinic, audit rows) and a few for the report (receivables: the invoices owed, their credit
# notes, the payers, and three for the patients' account credit).
QUERIES_GOAL = 20


def _weekdays(first: dt.date, last: dt.date) -> list[dt.date]:
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def seed_billing(today: dt.date, zone: Any, *, invoices: int, years: float) -> dict[str, Any]:
    """Lay down `invoices` issued invoices over `years` up to today, paid the way clinics are."""
    from allauth.mfa.models import Authenticator
    from django.db.models import F

    from imsclinic.accounts.models import User
    from imsclinic.billing.models import (
        Allocation,
        Invoice,
        InvoiceKind,
        InvoiceLine,
        InvoicePurpose,
        InvoiceStatus,
        ItemKind,
        Payer,
        PayerKind,
        Payment,
        PaymentMethod,
        Refund,
    )
    from imsclinic.clinic.models import Clinic, Location, Practitioner, Service
    from imsclinic.core.roles import Role
    from imsclinic.patients.models import Patient

    owner = User.objects.create_user(
        "bench.owner@example.com", None, role=Role.OWNER, first_name="Bo", last_name="Owner"
    )
    Authenticator.objects.create(
        user=owner, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    desk = User.objects.create_user(
        "bench.billing.desk@example.com", None, role=Role.FRONT_DESK, first_name="Di"
    )
    location = Location.objects.filter(is_active=True).order_by("order", "pk").first()
    if location is None:
        location = Location.objects.create(
            clinic=Clinic.current() or Clinic.objects.create(name="Bench clinic"),
            name="Billing bench",
            slug="billing-bench",
            time_zone=str(zone),
        )
    follow_up = Service.objects.create(
        name="Billing bench IMS", slug="billing-bench-ims", duration_minutes=30, price=95
    )
    practitioners = Practitioner.objects.bulk_create(
        Practitioner(
            first_name=f"Bill{n}",
            last_name="Bench",
            slug=f"billing-bench-{n}",
            registration_body="College of Physical Therapists of BC",
            registration_number=f"BB-{n}",
        )
        for n in range(PRACTITIONERS)
    )
    payers = Payer.objects.bulk_create(
        Payer(name=f"Bench payer {n}", kind=PayerKind.EXTENDED_HEALTH) for n in range(3)
    )
    patients = Patient.objects.bulk_create(
        (
            Patient(
                given_name=f"Bill{n}",
                family_name="Patient",
                date_of_birth=dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                email=f"billing{n}@example.com",
            )
            for n in range(max(20, invoices // VISITS_PER_PATIENT))
        ),
        batch_size=BATCH,
    )

    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)

    days = _weekdays(today - dt.timedelta(days=round(365.25 * years)), today)
    rows = []
    for i in range(invoices):
        day = days[i * len(days) // invoices]
        price = Decimal("150.00") if i % 5 == 0 else Decimal("95.00")
        payer = payers[i % 3] if i % 7 == 0 else None
        rows.append(
            Invoice(
                kind=InvoiceKind.INVOICE,
                purpose=InvoicePurpose.VISIT,
                patient=patients[(i * 7) % len(patients)],
                location=location,
                practitioner=practitioners[i % PRACTITIONERS],
                payer=payer,
                payer_share=(price * Decimal("0.8")).quantize(Decimal("0.01")) if payer else 0,
                subtotal=price,
                tax_total=Decimal("0.00"),
                total=price,
                service_date=day,
                # The moment it is issued; copied to issued_at below.
                created_at=at(day, 9 + i % 8, (i * 13) % 60),
                created_by=desk,
            )
        )
    drafted = Invoice.objects.bulk_create(rows, batch_size=BATCH)
    InvoiceLine.objects.bulk_create(
        (
            InvoiceLine(
                invoice=invoice,
                position=1,
                item_kind=ItemKind.SERVICE,
                description=follow_up.name,
                service=follow_up,
                unit_price=invoice.total,
                amount=invoice.total,
            )
            for invoice in drafted
        ),
        batch_size=BATCH,
    )
    base = min(invoice.pk for invoice in drafted) - 1
    Invoice.objects.filter(pk__in=[invoice.pk for invoice in drafted]).update(
        status=InvoiceStatus.ISSUED,
        number=F("pk") - base,
        issued_at=F("created_at"),
        issued_by=desk,
    )

    notes: list[Any] = []
    payments: list[Any] = []
    allocations: list[tuple[int, int, Decimal]] = []  # payment index, invoice id, amount
    refunds: list[tuple[int, Decimal, dt.date]] = []
    methods = (
        PaymentMethod.DEBIT,
        PaymentMethod.CREDIT_CARD,
        PaymentMethod.CASH,
        PaymentMethod.E_TRANSFER,
    )
    for i, invoice in enumerate(drafted):
        day = invoice.service_date
        age = (today - day).days
        if i % 311 == 0 and day + dt.timedelta(days=7) <= today:
            notes.append(
                Invoice(
                    kind=InvoiceKind.CREDIT_NOTE,
                    purpose=InvoicePurpose.CORRECTION,
                    status=InvoiceStatus.ISSUED,
                    number=len(notes) + 1,
                    patient_id=invoice.patient_id,
                    location=location,
                    practitioner_id=invoice.practitioner_id,
                    corrects=invoice,
                    payer=invoice.payer,
                    payer_share=invoice.payer_share,
                    subtotal=invoice.subtotal,
                    tax_total=invoice.tax_total,
                    total=invoice.total,
                    service_date=day,
                    reason="Billed in error",
                    created_at=at(day + dt.timedelta(days=7), 12),
                    issued_at=at(day + dt.timedelta(days=7), 12),
                    issued_by=owner,
                )
            )
            continue
        share = invoice.total - invoice.payer_share
        owed_still = (age <= 45 and i % 5 == 0) or i % 97 == 0
        if not owed_still:
            extra = Decimal("10.00") if i % 211 == 0 else Decimal("0.00")
            payments.append(
                Payment(
                    patient_id=invoice.patient_id,
                    method=methods[i % len(methods)],
                    amount=share + extra,
                    received_on=day,
                    reference=f"AUTH-{i:06d}" if i % 4 != 2 else "",
                    location=location,
                    recorded_at=at(day, 17, i % 60),
                    recorded_by=desk,
                )
            )
            allocations.append((len(payments) - 1, invoice.pk, share))
            if extra and day < today:
                refunds.append((len(payments) - 1, extra, day + dt.timedelta(days=1)))
        paid_on = day + dt.timedelta(days=21)
        if invoice.payer_id is not None and paid_on <= today and i % 53 != 0:
            payments.append(
                Payment(
                    payer_id=invoice.payer_id,
                    method=PaymentMethod.INSURER,
                    amount=invoice.payer_share,
                    received_on=paid_on,
                    reference=f"EFT-{i:06d}",
                    location=location,
                    recorded_at=at(paid_on, 11),
                    recorded_by=desk,
                )
            )
            allocations.append((len(payments) - 1, invoice.pk, invoice.payer_share))
    Invoice.objects.bulk_create(notes, batch_size=BATCH)
    saved = Payment.objects.bulk_create(payments, batch_size=BATCH)
    Allocation.objects.bulk_create(
        (
            Allocation(
                payment=saved[index],
                invoice_id=invoice_id,
                amount=amount,
                created_at=saved[index].recorded_at,
                created_by=desk,
            )
            for index, invoice_id, amount in allocations
        ),
        batch_size=BATCH,
    )
    Refund.objects.bulk_create(
        (
            Refund(
                payment=saved[index],
                amount=amount,
                method=saved[index].method,
                refunded_on=on,
                reason="Paid twice at the terminal",
                recorded_at=at(on, 10),
                recorded_by=desk,
            )
            for index, amount, on in refunds
        ),
        batch_size=BATCH,
    )
    # A live database's statistics know its tables (autovacuum analyses them after a load
    # like this); without it the planner takes five years of invoices for a handful of rows.
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            "billing_invoice",
            "billing_invoiceline",
            "billing_payment",
            "billing_allocation",
            "billing_refund",
            "patients_patient",
        ):
            cursor.execute(f"ANALYZE {table}")
    return {
        "owner": owner,
        "invoices": len(drafted),
        "credit_notes": len(notes),
        "payments": len(saved),
        "patients": len(patients),
    }


def time_page(client: Any, url: str, requests: int) -> tuple[float, int]:
    """Return the median wall time (ms) of `requests` GETs after a warm-up, and most queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    millis: list[float] = []
    queries: list[int] = []
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url)
            millis.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"bench: {url} answered {response.status_code}")
        queries.append(len(captured))
    return statistics.median(millis), max(queries)


def run_billing(console: Any) -> list[tuple[str, str]]:
    """Seed the billing history, time the two pages; return figure lines."""
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from imsclinic.accounts.middleware import SESSION_MFA_PROVEN
    from imsclinic.clinic.selectors import clinic_zone

    zone = clinic_zone()
    today = timezone.now().astimezone(zone).date()
    with console.status(f"Invoicing {INVOICES} visits over {YEARS:g} years…"):
        began = time.perf_counter()
        seeded = seed_billing(today, zone, invoices=INVOICES, years=YEARS)
        seed_s = time.perf_counter() - began
    client = Client()
    client.force_login(seeded["owner"])
    session = client.session
    session[SESSION_MFA_PROVEN] = True
    session.save()
    with console.status("Timing the day sheet and the receivables…"):
        sheet_ms, sheet_queries = time_page(client, reverse("billing_report_day_sheet"), REQUESTS)
        owed_ms, owed_queries = time_page(client, reverse("billing_report_receivables"), REQUESTS)
    return [
        ("billing_invoices_seeded", str(seeded["invoices"])),
        ("billing_payments_seeded", str(seeded["payments"])),
        ("billing_seed_s", f"{seed_s:.2f}"),
        ("billing_day_sheet_ms", f"{sheet_ms:.2f}"),
        ("billing_day_sheet_queries", str(sheet_queries)),
        (
            "billing_day_sheet_goal",
            "met" if sheet_ms <= PAGE_MS_GOAL and sheet_queries <= QUERIES_GOAL else "missed",
        ),
        ("billing_receivables_ms", f"{owed_ms:.2f}"),
        ("billing_receivables_queries", str(owed_queries)),
        (
            "billing_receivables_goal",
            "met" if owed_ms <= PAGE_MS_GOAL and owed_queries <= QUERIES_GOAL else "missed",
        ),
    ]


if __name__ == "__main__":
    # Only the billing part, on a throwaway SQLite database (or BENCH_DATABASE_URL).
    import shutil
    import sys

    from bench.__main__ import prepare_environment

    folder = prepare_environment()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.test.utils import setup_test_environment
        from rich.console import Console

        setup_test_environment()
        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
        for name, value in run_billing(Console(highlight=False)):
            print(f"{name}: {value}")
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    sys.exit(0)
