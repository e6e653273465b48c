"""The owner's reports add up: the till, sales, what is owed, hours, no-shows, compensation."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from imsclinic.billing.models import (
    Compensation,
    CompensationKind,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Refund,
)
from imsclinic.billing.selectors import patient_account
from imsclinic.billing.services.invoices import (
    LineEntry,
    credit_note_issue,
    invoice_add_line,
    invoice_bill_payer,
    invoice_create,
    invoice_for_visit,
    invoice_issue,
)
from imsclinic.billing.services.payments import Apply, payment_record, refund_issue
from imsclinic.core.models import AuditEvent
from imsclinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClinicClosure,
    Shift,
    ShiftBreak,
    TimeOff,
)
from tests.factories.billing import payer, product
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("America/Vancouver")
MARCH = {"since": "2026-03-01", "until": "2026-03-31"}


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE)


def sale(patient, location, actor, *, on: dt.date, price: str = "95.00", practitioner=None):
    """Issue an invoice for one described service line on a day."""
    draft = invoice_create(
        patient=patient,
        location=location,
        actor=actor,
        service_date=on,
        practitioner=practitioner,
        now=at(on),
    )
    invoice_add_line(
        invoice=draft,
        entry=LineEntry(description="Treatment", unit_price=Decimal(price), item_kind="service"),
        actor=actor,
    )
    return invoice_issue(invoice=draft, actor=actor, now=at(on, 11))


def visit(patient, physio, location, service, *, on: dt.date, hour: int = 9, **fields):
    start = at(on, hour)
    return Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=service.duration_minutes),
        status=fields.pop("status", AppointmentStatus.COMPLETED),
        **fields,
    )


def invoiced_visit(patient, physio, location, service, actor, *, on: dt.date, hour: int = 9):
    appointment = visit(patient, physio, location, service, on=on, hour=hour)
    draft = invoice_for_visit(appointment=appointment, actor=actor, now=at(on, hour))
    return invoice_issue(invoice=draft, actor=actor, now=at(on, hour + 1))


def tables(response) -> dict[str, list[list[str]]]:
    """Return each table the page shows as its rows (headers first, totals last)."""
    return {table.key: table.csv_rows for table in response.context["tables"]}


def csv_of(client, url: str, params: dict[str, str], table: str) -> list[list[str]]:
    response = client.get(url, {**params, "export": table})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def body(rows: list[list[str]]) -> dict[str, list[str]]:
    """Key the rows (without headers) by their first cell."""
    return {row[0]: row[1:] for row in rows[1:]}


def test_the_day_sheet_nets_payments_less_refunds_by_method_for_closing_the_till(
    patient, other_patient, location, front_desk, owner
):
    invoice = sale(patient, location, front_desk, on=dt.date(2026, 3, 2))
    cash = payment_record(
        patient=patient,
        method=PaymentMethod.CASH,
        amount=Decimal("50.00"),
        received_on=dt.date(2026, 3, 3),
        actor=front_desk,
        now=at(dt.date(2026, 3, 3)),
    )
    payment_record(
        patient=patient,
        method=PaymentMethod.DEBIT,
        amount=Decimal("95.00"),
        received_on=dt.date(2026, 3, 4),
        reference="AUTH-77",
        actor=front_desk,
        allocations=[Apply(invoice=invoice, amount=Decimal("95.00"))],
        now=at(dt.date(2026, 3, 4)),
    )
    payment_record(
        payer=payer(),
        method=PaymentMethod.INSURER,
        amount=Decimal("40.00"),
        received_on=dt.date(2026, 3, 5),
        actor=front_desk,
        now=at(dt.date(2026, 3, 5)),
    )
    refund_issue(
        payment=cash,
        amount=Decimal("10.00"),
        reason="Overpaid",
        refunded_on=dt.date(2026, 3, 6),
        actor=front_desk,
        now=at(dt.date(2026, 3, 6)),
    )
    payment_record(  # in April: not on March's sheet
        patient=other_patient,
        method=PaymentMethod.CASH,
        amount=Decimal("999.00"),
        received_on=dt.date(2026, 4, 1),
        actor=front_desk,
    )
    client = signed_in(owner)
    response = client.get(reverse("billing_report_day_sheet"), MARCH)
    assert response.status_code == 200
    shown = tables(response)
    methods = body(shown["methods"])
    assert methods["Cash"] == ["1", "50.00", "1", "10.00", "40.00"]
    assert methods["Debit card"] == ["1", "95.00", "0", "0.00", "95.00"]
    assert methods["Insurer or third-party payment"] == ["1", "40.00", "0", "0.00", "40.00"]
    assert methods["Total"] == ["3", "185.00", "1", "10.00", "175.00"]
    received = sum(
        p.amount
        for p in Payment.objects.filter(
            received_on__range=(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        )
    )
    refunded = sum(
        r.amount
        for r in Refund.objects.filter(
            refunded_on__range=(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        )
    )
    assert Decimal(methods["Total"][-1]) == received - refunded
    entries = shown["payments"]
    assert [row[2] for row in entries[1:-1]] == ["Payment", "Payment", "Payment", "Refund"]
    debit = entries[2]
    assert debit[3:] == ["Pat Ient", "Debit card", "AUTH-77", "95.00", "Frank Desk"]
    assert entries[3][3] == "Maple Life Extended Health"
    assert entries[4][6] == "-10.00"
    assert entries[-1][6] == "175.00"
    html = response.content.decode()
    assert "Pat Ient" in html and "Otto Osborne" not in html
    assert AuditEvent.objects.filter(
        object_type="billing_report", object_id="day_sheet", patient__isnull=True
    ).exists()
    assert AuditEvent.objects.filter(object_type="billing_report", patient=patient).exists()


def test_sales_are_invoices_issued_less_credit_notes_by_practitioner_and_by_service(
    patient, other_patient, location, front_desk, physio, other_physio, owner, ims_service
):
    first = invoiced_visit(
        patient, physio, location, ims_service, front_desk, on=dt.date(2026, 3, 2)
    )
    invoiced_visit(patient, physio, location, ims_service, front_desk, on=dt.date(2026, 3, 9))
    invoiced_visit(
        other_patient, other_physio, location, ims_service, front_desk, on=dt.date(2026, 3, 3)
    )
    february = invoiced_visit(
        other_patient, other_physio, location, ims_service, front_desk, on=dt.date(2026, 2, 20)
    )
    tape = product(price="12.50")
    draft = invoice_create(
        patient=patient,
        location=location,
        actor=front_desk,
        service_date=dt.date(2026, 3, 10),
        now=at(dt.date(2026, 3, 10)),
    )
    invoice_add_line(
        invoice=draft, entry=LineEntry(product=tape, quantity=Decimal("2")), actor=front_desk
    )
    invoice_issue(invoice=draft, actor=front_desk, now=at(dt.date(2026, 3, 10)))
    # A partial credit on a March visit and a full one on February's, issued in March.
    credit_note_issue(
        invoice=first,
        amounts={first.lines.get().pk: Decimal("20.00")},
        reason="Shorter visit",
        actor=owner,
        now=at(dt.date(2026, 3, 12)),
    )
    credit_note_issue(
        invoice=february,
        amounts=None,
        reason="Billed twice",
        actor=owner,
        now=at(dt.date(2026, 3, 13)),
    )

    response = signed_in(owner).get(reverse("billing_report_sales"), MARCH)
    assert response.status_code == 200
    shown = tables(response)
    people = body(shown["practitioners"])
    # Invoices, credit notes, visits, before tax, tax, total.
    assert people["Tara Treating"] == ["2", "1", "2", "170.00", "0.00", "170.00"]
    assert people["Oscar Other"] == ["1", "1", "1", "0.00", "0.00", "0.00"]
    assert people["No practitioner (sales at the desk)"] == [
        "1",
        "0",
        "0",
        "25.00",
        "0.00",
        "25.00",
    ]
    assert people["Total"] == ["4", "2", "3", "195.00", "0.00", "195.00"]
    services = body(shown["services"])
    assert services["IMS follow-up"] == ["3", "2", "3", "170.00", "0.00", "170.00"]
    assert services["Kinesiology tape"] == ["1", "0", "0", "25.00", "0.00", "25.00"]
    assert services["Total"][3:] == people["Total"][3:]
    in_march = Invoice.objects.filter(
        status=InvoiceStatus.ISSUED,
        issued_at__gte=at(dt.date(2026, 3, 1), 0),
        issued_at__lt=at(dt.date(2026, 4, 1), 0),
    )
    issued = sum(i.total for i in in_march.filter(kind=InvoiceKind.INVOICE))
    credited = sum(i.total for i in in_march.filter(kind=InvoiceKind.CREDIT_NOTE))
    assert Decimal(people["Total"][-1]) == issued - credited


def test_receivables_age_what_is_owed_from_the_issue_day_as_of_a_day(
    patient, other_patient, location, front_desk, owner
):
    as_of = dt.date(2026, 6, 30)
    sale(patient, location, front_desk, on=as_of - dt.timedelta(days=10))  # 0-30
    older = sale(patient, location, front_desk, on=as_of - dt.timedelta(days=45))  # 31-60
    sale(patient, location, front_desk, on=as_of - dt.timedelta(days=75), price="40.00")
    sale(other_patient, location, front_desk, on=as_of - dt.timedelta(days=120), price="60.00")
    payment_record(
        patient=patient,
        method=PaymentMethod.CASH,
        amount=Decimal("35.00"),
        received_on=as_of - dt.timedelta(days=40),
        actor=front_desk,
        allocations=[Apply(invoice=older, amount=Decimal("35.00"))],
        now=at(as_of - dt.timedelta(days=40)),
    )
    payment_record(  # paid after the day seen: still owed on it
        patient=other_patient,
        method=PaymentMethod.CASH,
        amount=Decimal("60.00"),
        received_on=as_of + dt.timedelta(days=2),
        actor=front_desk,
        allocations=[
            Apply(invoice=Invoice.objects.get(patient=other_patient), amount=Decimal("60"))
        ],
        now=at(as_of + dt.timedelta(days=2)),
    )
    response = signed_in(owner).get(reverse("billing_report_receivables"), {"as_of": "2026-06-30"})
    assert response.status_code == 200
    patients = body(tables(response)["patients"])
    # 0-30, 31-60, 61-90, 90+, total.
    assert patients["Pat Ient"] == ["95.00", "60.00", "40.00", "0.00", "195.00"]
    assert patients["Otto Osborne"] == ["0.00", "0.00", "0.00", "60.00", "60.00"]
    assert patients["Total"] == ["95.00", "60.00", "40.00", "60.00", "255.00"]
    assert AuditEvent.objects.filter(object_type="billing_report", patient=other_patient).exists()


def test_receivables_reconcile_with_each_patients_account_and_split_the_payers_share(
    patient, other_patient, location, front_desk, owner
):
    maple = payer()
    split = invoice_create(
        patient=patient,
        location=location,
        actor=front_desk,
        service_date=dt.date(2026, 5, 1),
        now=at(dt.date(2026, 5, 1)),
    )
    invoice_add_line(
        invoice=split,
        entry=LineEntry(description="IMS", unit_price=Decimal("100"), item_kind="service"),
        actor=front_desk,
    )
    invoice_bill_payer(invoice=split, payer=maple, payer_share=Decimal("80"), actor=front_desk)
    split = invoice_issue(invoice=split, actor=front_desk, now=at(dt.date(2026, 5, 1)))
    payment_record(
        payer=maple,
        method=PaymentMethod.INSURER,
        amount=Decimal("30.00"),
        received_on=dt.date(2026, 5, 20),
        actor=front_desk,
        allocations=[Apply(invoice=split, amount=Decimal("30.00"))],
    )
    paid = sale(patient, location, front_desk, on=dt.date(2026, 4, 1), price="50.00")
    payment_record(
        patient=patient,
        method=PaymentMethod.DEBIT,
        amount=Decimal("50.00"),
        received_on=dt.date(2026, 4, 1),
        actor=front_desk,
        allocations=[Apply(invoice=paid, amount=Decimal("50.00"))],
    )
    corrected = sale(other_patient, location, front_desk, on=dt.date(2026, 2, 1), price="80.00")
    credit_note_issue(
        invoice=corrected,
        amounts={corrected.lines.get().pk: Decimal("30.00")},
        reason="Discount",
        actor=owner,
    )
    client = signed_in(owner)
    response = client.get(reverse("billing_report_receivables"))
    assert response.status_code == 200
    owed = response.context["tables"]
    patients = body(owed[0].csv_rows)
    payers = body(owed[1].csv_rows)
    assert "Pat Ient" in patients and "Otto Osborne" in patients
    for record in (patient, other_patient):
        account = patient_account(record)
        assert Decimal(patients[record.full_name][-1]) == account.patient_owes
    assert Decimal(payers["Maple Life Extended Health"][-1]) == Decimal("50.00")
    total = sum(
        (patient_account(p).patient_owes + patient_account(p).payers_owe)
        for p in (patient, other_patient)
    )
    assert Decimal(patients["Total"][-1]) + Decimal(payers["Total"][-1]) == total


def test_utilisation_counts_shift_hours_less_breaks_time_off_and_closures(
    patient, location, physio, owner, ims_service, assessment
):
    monday = dt.date(2026, 3, 2)
    for weekday in (0, 1, 2):
        shift = Shift.objects.create(
            practitioner=physio.practitioner,
            location=location,
            weekday=weekday,
            start_time=dt.time(9),
            end_time=dt.time(17),
            valid_from=dt.date(2026, 1, 1),
        )
        ShiftBreak.objects.create(shift=shift, start_time=dt.time(12), end_time=dt.time(13))
    TimeOff.objects.create(
        practitioner=physio.practitioner,
        start=at(monday + dt.timedelta(days=1), 9),
        end=at(monday + dt.timedelta(days=1), 11),
    )
    ClinicClosure.objects.create(
        location=location,
        first_day=monday + dt.timedelta(days=2),
        last_day=monday + dt.timedelta(days=2),
    )
    visit(patient, physio, location, ims_service, on=monday, hour=9)
    visit(
        patient, physio, location, assessment, on=monday, hour=10, status=AppointmentStatus.NO_SHOW
    )
    visit(
        patient,
        physio,
        location,
        ims_service,
        on=monday,
        hour=14,
        status=AppointmentStatus.CANCELLED,
    )
    week = {"since": "2026-03-02", "until": "2026-03-08"}
    response = signed_in(owner).get(reverse("billing_report_utilisation"), week)
    assert response.status_code == 200
    rows = body(tables(response)["practitioners"])
    # Monday 7 h, Tuesday 7 - 2 h off, Wednesday closed: 12 h working; 1.5 h booked.
    assert rows["Tara Treating"] == ["12.00", "1.50", "12.5%"]
    assert rows["All practitioners"] == ["12.00", "1.50", "12.5%"]


def test_no_show_and_late_cancel_rates_count_visits_kept_on_the_books(
    patient, location, physio, other_physio, owner, ims_service
):
    day = dt.date(2026, 3, 2)
    for hour in (8, 9, 10, 11):
        visit(patient, physio, location, ims_service, on=day, hour=hour)
    visit(patient, physio, location, ims_service, on=day, hour=12, status=AppointmentStatus.NO_SHOW)
    visit(
        patient,
        physio,
        location,
        ims_service,
        on=day,
        hour=13,
        status=AppointmentStatus.CANCELLED,
        cancelled_late=True,
    )
    visit(
        patient, physio, location, ims_service, on=day, hour=14, status=AppointmentStatus.CANCELLED
    )
    visit(patient, other_physio, location, ims_service, on=day, hour=15)
    response = signed_in(owner).get(reverse("billing_report_attendance"), MARCH)
    rows = body(tables(response)["practitioners"])
    # Visits, no-shows, rate, late cancellations, rate.
    assert rows["Tara Treating"] == ["6", "1", "16.7%", "1", "16.7%"]
    assert rows["Oscar Other"] == ["1", "0", "0.0%", "0", "0.0%"]
    assert rows["All practitioners"] == ["7", "1", "14.3%", "1", "14.3%"]


def test_late_cancellations_by_the_clinic_are_not_counted_against_the_patients(
    patient, location, physio, owner, ims_service
):
    day = dt.date(2026, 3, 9)
    visit(patient, physio, location, ims_service, on=day, hour=9)
    visit(
        patient,
        physio,
        location,
        ims_service,
        on=day,
        hour=10,
        status=AppointmentStatus.CANCELLED,
        cancelled_late=True,
        cancelled_by="patient",
    )
    visit(
        patient,
        physio,
        location,
        ims_service,
        on=day,
        hour=11,
        status=AppointmentStatus.CANCELLED,
        cancelled_late=True,
        cancelled_by="clinic",
    )
    response = signed_in(owner).get(reverse("billing_report_attendance"), MARCH)
    rows = body(tables(response)["practitioners"])
    # Two visits kept (the clinic's cancellation is not the patient's), one cancelled late.
    assert rows["Tara Treating"] == ["2", "0", "0.0%", "1", "50.0%"]


def test_compensation_is_a_share_of_net_sales_or_an_amount_per_completed_visit(
    patient, location, physio, other_physio, owner, front_desk, ims_service
):
    Compensation.objects.create(
        practitioner=physio.practitioner, kind=CompensationKind.SHARE, share_percent=Decimal("40")
    )
    Compensation.objects.create(
        practitioner=other_physio.practitioner,
        kind=CompensationKind.PER_VISIT,
        per_visit=Decimal("30.00"),
    )
    invoiced_visit(patient, physio, location, ims_service, front_desk, on=dt.date(2026, 3, 2))
    invoiced_visit(patient, physio, location, ims_service, front_desk, on=dt.date(2026, 3, 3))
    for day in (4, 5, 6):
        invoiced_visit(
            patient, other_physio, location, ims_service, front_desk, on=dt.date(2026, 3, day)
        )
    visit(patient, other_physio, location, ims_service, on=dt.date(2026, 3, 9), status="no_show")
    response = signed_in(owner).get(reverse("billing_report_compensation"), MARCH)
    rows = body(tables(response)["compensation"])
    assert rows["Tara Treating"] == ["40.00% of net sales before tax", "190.00", "2", "76.00"]
    assert rows["Oscar Other"] == ["30.00 per completed visit", "285.00", "3", "90.00"]
    assert rows["Total"][-1] == "166.00"


def test_a_practitioner_sees_only_their_own_sales_and_compensation(
    patient,
    other_patient,
    location,
    physio,
    other_physio,
    front_desk,
    owner,
    ims_service,
    assessment,
):
    Compensation.objects.create(
        practitioner=physio.practitioner, kind=CompensationKind.SHARE, share_percent=Decimal("50")
    )
    Compensation.objects.create(
        practitioner=other_physio.practitioner,
        kind=CompensationKind.SHARE,
        share_percent=Decimal("35"),
    )
    invoiced_visit(patient, physio, location, ims_service, front_desk, on=dt.date(2026, 3, 2))
    invoiced_visit(
        other_patient, other_physio, location, assessment, front_desk, on=dt.date(2026, 3, 3)
    )
    response = signed_in(physio).get(reverse("billing_my_sales"), MARCH)
    assert response.status_code == 200
    shown = tables(response)
    assert set(shown) == {"services", "compensation"}
    assert body(shown["services"]) == {
        "IMS follow-up": ["1", "0", "1", "95.00", "0.00", "95.00"],
        "Total": ["1", "0", "1", "95.00", "0.00", "95.00"],
    }
    assert body(shown["compensation"]) == {
        "Tara Treating": ["50.00% of net sales before tax", "95.00", "1", "47.50"],
        "Total": ["", "", "", "47.50"],
    }
    html = response.content.decode()
    for theirs in ("Oscar Other", "IMS initial assessment", "150.00", "245.00", "Pat Ient"):
        assert theirs not in html
    assert signed_in(front_desk).get(reverse("billing_my_sales")).status_code == 403
    assert signed_in(physio).get(reverse("billing_report_sales")).status_code == 403


REPORTS = (
    ("billing_report_day_sheet", ("methods", "payments")),
    ("billing_report_sales", ("practitioners", "services")),
    ("billing_report_receivables", ("patients", "payers", "credit", "net")),
    ("billing_report_utilisation", ("practitioners",)),
    ("billing_report_attendance", ("practitioners",)),
    ("billing_report_compensation", ("compensation",)),
)


@pytest.mark.parametrize(("url_name", "keys"), REPORTS)
def test_each_csv_holds_exactly_the_rows_the_page_shows(
    url_name, keys, patient, location, physio, front_desk, owner, ims_service
):
    Compensation.objects.create(
        practitioner=physio.practitioner, kind=CompensationKind.SHARE, share_percent=Decimal("40")
    )
    invoice = invoiced_visit(
        patient, physio, location, ims_service, front_desk, on=dt.date(2026, 3, 2)
    )
    payment_record(
        patient=patient,
        method=PaymentMethod.CASH,
        amount=Decimal("45.00"),
        received_on=dt.date(2026, 3, 2),
        actor=front_desk,
        allocations=[Apply(invoice=invoice, amount=Decimal("45.00"))],
        now=at(dt.date(2026, 3, 2), 11),
    )
    payment_record(  # kept on account: the receivables' credit
        patient=patient,
        method=PaymentMethod.CASH,
        amount=Decimal("10.00"),
        received_on=dt.date(2026, 3, 2),
        actor=front_desk,
        now=at(dt.date(2026, 3, 2), 12),
    )
    split = invoice_create(
        patient=patient,
        location=location,
        actor=front_desk,
        service_date=dt.date(2026, 3, 3),
        now=at(dt.date(2026, 3, 3)),
    )
    invoice_add_line(
        invoice=split,
        entry=LineEntry(description="IMS", unit_price=Decimal("100"), item_kind="service"),
        actor=front_desk,
    )
    invoice_bill_payer(invoice=split, payer=payer(), payer_share=Decimal("80"), actor=front_desk)
    invoice_issue(invoice=split, actor=front_desk, now=at(dt.date(2026, 3, 3)))
    params = {"as_of": "2026-03-31"} if url_name == "billing_report_receivables" else MARCH
    client = signed_in(owner)
    url = reverse(url_name)
    shown = tables(client.get(url, params))
    assert tuple(shown) == keys
    for key in keys:
        assert csv_of(client, url, params, key) == shown[key]
        assert len(shown[key]) > 2  # headers, at least one row, totals
    assert AuditEvent.objects.filter(object_type="billing_report", action="export").count() >= len(
        keys
    )


def _busy_month(
    patient, location, physio, front_desk, ims_service, *, visits: int, first_hour: int
) -> None:
    for n in range(visits):
        day = dt.date(2026, 3, 2) + dt.timedelta(days=n % 20)
        invoice = invoiced_visit(
            patient, physio, location, ims_service, front_desk, on=day, hour=first_hour + n // 20
        )
        payment_record(
            patient=patient,
            method=PaymentMethod.DEBIT if n % 2 else PaymentMethod.CASH,
            amount=Decimal("50.00"),
            received_on=day,
            actor=front_desk,
            allocations=[Apply(invoice=invoice, amount=Decimal("50.00"))],
            now=at(day, 12),
        )


# The page's own queries: signing in, the clinic for the header and the audit rows come to
# ten; each report adds its reads (the day sheet and the receivables one more for the
# per-patient audit rows, the day sheet one for its locations to choose from, the
# receivables three for the account credit; utilisation five per open location).
@pytest.mark.parametrize(
    ("url_name", "params", "queries"),
    [
        ("billing_report_day_sheet", MARCH, 14),
        ("billing_report_sales", MARCH, 12),
        ("billing_report_receivables", {"as_of": "2026-03-31"}, 16),
        ("billing_report_attendance", MARCH, 11),
        ("billing_report_compensation", MARCH, 14),
        ("billing_report_utilisation", MARCH, 15),
    ],
)
def test_a_report_reads_a_fixed_number_of_queries_however_many_invoices(
    url_name,
    params,
    queries,
    patient,
    location,
    physio,
    front_desk,
    owner,
    ims_service,
    django_assert_max_num_queries,
):
    client = signed_in(owner)
    url = reverse(url_name)
    _busy_month(patient, location, physio, front_desk, ims_service, visits=3, first_hour=7)
    with django_assert_max_num_queries(queries):
        assert client.get(url, params).status_code == 200
    _busy_month(patient, location, physio, front_desk, ims_service, visits=40, first_hour=8)
    with django_assert_max_num_queries(queries):
        assert client.get(url, params).status_code == 200


def test_a_report_starts_as_this_month_in_the_clinics_zone_and_refuses_a_backwards_period(
    owner, location
):
    client = signed_in(owner)
    response = client.get(reverse("billing_report_sales"))
    form = response.context["form"]
    first = form.initial["since"]
    assert first.day == 1
    assert form.initial["until"].month == first.month
    refused = client.get(
        reverse("billing_report_sales"), {"since": "2026-03-02", "until": "2026-03-01"}
    )
    assert refused.status_code == 400
    assert "on or after its start" in refused.content.decode()


def test_the_reports_index_is_the_owners_and_links_every_report(owner, front_desk, physio):
    page = signed_in(owner).get(reverse("billing_reports")).content.decode()
    for name, _keys in REPORTS:
        assert f'href="{reverse(name)}"' in page
    assert signed_in(front_desk).get(reverse("billing_reports")).status_code == 403
    assert signed_in(physio).get(reverse("billing_reports")).status_code == 403


def test_my_sales_tells_someone_without_a_practitioner_record_there_is_nothing_of_theirs(
    owner, physio, location, front_desk, patient, ims_service
):
    invoiced_visit(patient, physio, location, ims_service, front_desk, on=dt.date(2026, 3, 2))
    response = signed_in(owner).get(reverse("billing_my_sales"), MARCH)
    assert response.status_code == 200
    assert response.context["tables"] == []
    html = response.content.decode()
    assert "You have no practitioner record" in html
    assert "95.00" not in html
