"""Each location closes its own till: a payment keeps where it was taken, and the front desk
reads the day sheet of every location or of one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from imsclinic.billing.models import Payment, PaymentMethod
from imsclinic.billing.services.payments import Apply, payment_record, refund_issue
from imsclinic.clinic.models import Location
from tests.factories.billing import issued_invoice
from tests.factories.clients import signed_in
from tests.factories.migrations import migrate_to, migrate_to_latest

BEFORE = ("billing", "0002_money_never_changes")
DAY = dt.date(2026, 3, 3)
ON_DAY = {"since": "2026-03-03", "until": "2026-03-03"}


@pytest.fixture
def other_location(location: Location) -> Location:
    return Location.objects.create(
        clinic=location.clinic,
        name="Commercial Drive",
        slug="commercial",
        address_line1="1800 Commercial Dr",
        city="Vancouver",
        region="BC",
        postal_code="V5N 4A5",
        phone="604-555-0102",
        time_zone="America/Vancouver",
    )


@pytest.mark.django_db
def test_the_desk_closes_each_locations_till_from_its_own_day_sheet(
    patient, other_patient, location, other_location, front_desk
):
    here = issued_invoice(patient, location, front_desk, prices=("95.00",), day=DAY)
    there = issued_invoice(other_patient, other_location, front_desk, prices=("80.00",), day=DAY)
    client = signed_in(front_desk)
    for who, invoice, amount in ((patient, here, "95.00"), (other_patient, there, "100.00")):
        response = client.post(
            reverse("billing_payment_new", args=[who.pk]),
            {
                "method": "cash",
                "amount": amount,
                "received_on": DAY.isoformat(),
                f"invoice_{invoice.pk}": str(invoice.total),
                "credit_shown": str(Decimal(amount) - invoice.total),
            },
        )
        assert response.status_code == 302, response.content
    taken_there = Payment.objects.get(patient=other_patient)
    assert Payment.objects.get(patient=patient).location == location
    assert taken_there.location == other_location
    refund_issue(
        payment=taken_there,
        amount=Decimal("20.00"),
        reason="Overpaid",
        refunded_on=DAY,
        actor=front_desk,
    )
    url = reverse("billing_report_day_sheet")
    every = client.get(url, ON_DAY)
    assert every.status_code == 200

    def cash(response) -> list[str]:
        rows = {t.key: t for t in response.context["tables"]}["methods"].csv_rows
        return next(row for row in rows if row[0] == "Cash")

    assert cash(every) == ["Cash", "2", "195.00", "1", "20.00", "175.00"]
    assert cash(client.get(url, {**ON_DAY, "location": location.pk})) == [
        "Cash",
        "1",
        "95.00",
        "0",
        "0.00",
        "95.00",
    ]
    there_sheet = client.get(url, {**ON_DAY, "location": other_location.pk})
    assert cash(there_sheet) == ["Cash", "1", "100.00", "1", "20.00", "80.00"]
    assert "Pat Ient" not in there_sheet.text
    exported = client.get(url, {**ON_DAY, "location": other_location.pk, "export": "methods"})
    assert "Cash,1,100.00,1,20.00,80.00" in exported.content.decode()
    # The desk reads the day sheet from its invoice list, and no other report.
    assert url in client.get(reverse("billing_invoices")).text
    for other in ("billing_report_sales", "billing_report_receivables", "billing_reports"):
        assert client.get(reverse(other)).status_code == 403


@pytest.mark.django_db
def test_a_payment_recorded_without_a_location_takes_its_first_invoices(
    patient, location, other_location, front_desk
):
    invoice = issued_invoice(patient, other_location, front_desk, day=DAY)
    payment = payment_record(
        patient=patient,
        method=PaymentMethod.DEBIT,
        amount=Decimal("95.00"),
        received_on=DAY,
        allocations=[Apply(invoice=invoice, amount=Decimal("95.00"))],
        actor=front_desk,
    )
    assert payment.location == other_location


@pytest.fixture
def billing_before_payment_locations(transactional_db: None) -> Iterator[MigrationExecutor]:
    executor = migrate_to([BEFORE])
    try:
        yield executor
    finally:
        migrate_to_latest()


def test_payments_recorded_without_a_location_take_their_first_invoices_on_migrating(
    billing_before_payment_locations: MigrationExecutor, patient, location, front_desk
):
    apps = billing_before_payment_locations.loader.project_state([BEFORE]).apps
    OldInvoice = apps.get_model("billing", "Invoice")
    OldPayment = apps.get_model("billing", "Payment")
    OldAllocation = apps.get_model("billing", "Allocation")
    invoice = OldInvoice.objects.create(
        patient_id=patient.pk, location_id=location.pk, service_date=DAY
    )

    def paid(amount: str, *, towards: bool) -> int:
        payment = OldPayment.objects.create(
            patient_id=patient.pk, method="cash", amount=Decimal(amount), received_on=DAY
        )
        if towards:
            OldAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal(amount))
        return payment.pk

    allocated, on_account = paid("40.00", towards=True), paid("15.00", towards=False)
    migrate_to_latest()
    assert Payment.objects.get(pk=allocated).location_id == location.pk
    assert Payment.objects.get(pk=on_account).location_id is None
    # Payments are still never changed.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE billing_payment SET amount = 1 WHERE id = %s", [allocated])
