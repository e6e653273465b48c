"""The reports refuse far dates with a message, count only visits already decided, and the
receivables net what is owed against the account credit the clinic holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from imsclinic.billing.models import PaymentMethod
from imsclinic.billing.selectors import balances_for
from imsclinic.billing.services.invoices import credit_note_issue
from imsclinic.billing.services.payments import Apply, payment_record, refund_issue
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from tests.factories.billing import issued_invoice, payer
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("America/Vancouver")
PERIOD_PAGES = [
    "billing_report_day_sheet",
    "billing_report_sales",
    "billing_report_utilisation",
    "billing_report_attendance",
    "billing_report_compensation",
]


@pytest.mark.parametrize("name", PERIOD_PAGES)
def test_a_period_far_out_or_too_long_is_refused_with_a_message(name, owner, location):
    client = signed_in(owner)
    url = reverse(name)
    far = client.get(url, {"since": "2026-12-01", "until": "9999-12-31"})
    assert far.status_code == 400
    assert "Choose a day from 2000-01-01 to 2100-12-31." in far.text
    early = client.get(url, {"since": "0001-01-01"})
    assert early.status_code == 400
    long = client.get(url, {"since": "2001-01-01", "until": "2026-12-31"})
    assert long.status_code == 400
    assert "Choose a period of at most 10 years." in long.text
    assert client.get(url, {"since": "2017-01-01", "until": "2026-12-31"}).status_code == 200
    assert client.get(url, {"since": "2100-12-01"}).status_code == 200


def test_receivables_as_of_a_far_day_is_refused_with_a_message(owner, location):
    client = signed_in(owner)
    url = reverse("billing_report_receivables")
    far = client.get(url, {"as_of": "9999-12-31"})
    assert far.status_code == 400
    assert "Choose a day from 2000-01-01 to 2100-12-31." in far.text
    assert client.get(url, {"as_of": "2100-12-31"}).status_code == 200


def _visit(patient, physio, location, service, start: dt.datetime, status: str, **fields):
    return Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=service.duration_minutes),
        status=status,
        **fields,
    )


@pytest.mark.parametrize("today", [dt.date(2026, 12, 10), dt.date(2026, 12, 20)])
def test_no_show_rates_count_only_visits_that_have_started_or_are_closed(
    today, patient, physio, location, ims_service, owner
):
    def on(day: int) -> dt.datetime:
        return dt.datetime(2026, 12, day, 9, tzinfo=ZONE)

    _visit(patient, physio, location, ims_service, on(2), AppointmentStatus.COMPLETED)
    _visit(patient, physio, location, ims_service, on(3), AppointmentStatus.NO_SHOW)
    _visit(patient, physio, location, ims_service, on(4), AppointmentStatus.COMPLETED)
    # Booked for later in the month: not yet kept or missed.
    for day in (15, 16, 17, 22, 23):
        _visit(patient, physio, location, ims_service, on(day), AppointmentStatus.BOOKED)
    # Cancelled late for later in the month: the late cancellation has happened.
    _visit(
        patient,
        physio,
        location,
        ims_service,
        on(28),
        AppointmentStatus.CANCELLED,
        cancelled_late=True,
    )
    started = 3 + sum(1 for day in (15, 16, 17, 22, 23) if on(day).date() < today) + 1
    with time_machine.travel(dt.datetime.combine(today, dt.time(12), tzinfo=ZONE), tick=False):
        response = signed_in(owner).get(
            reverse("billing_report_attendance"), {"since": "2026-12-01", "until": "2026-12-31"}
        )
    total = {t.key: t for t in response.context["tables"]}["practitioners"].totals
    assert total == [
        "All practitioners",
        str(started),
        "1",
        f"{Decimal(100) / started:.1f}%",
        "1",
        f"{Decimal(100) / started:.1f}%",
    ]


def _rows(response, key: str) -> list[list[str]]:
    return {t.key: t for t in response.context["tables"]}[key].csv_rows


SCENARIOS = {
    "credit on account": [("pay", 0, "100.00", None)],
    "part paid and overpaid": [
        ("invoice", 0, "95.00", None),
        ("invoice", 1, "80.00", None),
        ("pay", 0, "150.00", 0),
        ("pay", 1, "30.00", 1),
    ],
    "refund and credit note": [
        ("invoice", 0, "95.00", None),
        ("pay", 0, "200.00", 0),
        ("refund", 0, "40.00", None),
        ("credit", 0, "20.00", None),
        ("pay", 1, "25.00", None),
    ],
    "payer share": [
        ("payer_invoice", 0, "120.00", None),
        ("pay", 0, "50.00", 0),
        ("insurer", 0, "60.00", 0),
    ],
}


@pytest.mark.parametrize("steps", SCENARIOS.values(), ids=list(SCENARIOS))
def test_receivables_less_account_credit_is_the_sum_of_every_patients_balance(
    steps, patient, other_patient, location, front_desk, owner
):
    people = [patient, other_patient]
    insurer = payer()
    invoices: list = []
    payments: dict[int, object] = {}
    for action, who, amount, towards in steps:
        person = people[who]
        if action in ("invoice", "payer_invoice"):
            is_payer = action == "payer_invoice"
            invoices.append(
                issued_invoice(
                    person,
                    location,
                    front_desk,
                    prices=(amount,),
                    day=dt.date(2026, 3, 2),
                    billed_to=insurer if is_payer else None,
                    payer_share="60" if is_payer else "0",
                )
            )
        elif action in ("pay", "insurer"):
            allocations = []
            if towards is not None:
                invoice = invoices[towards]
                due = min(Decimal(amount), Decimal(invoice.total) - Decimal(invoice.payer_share))
                allocations = [Apply(invoice=invoice, amount=due)]
            if action == "insurer":
                allocations = [Apply(invoice=invoices[towards], amount=Decimal(amount))]
            payments[who] = payment_record(
                patient=None if action == "insurer" else person,
                payer=insurer if action == "insurer" else None,
                method=PaymentMethod.INSURER if action == "insurer" else PaymentMethod.CASH,
                amount=Decimal(amount),
                received_on=dt.date(2026, 3, 3),
                allocations=allocations,
                actor=front_desk,
            )
        elif action == "refund":
            refund_issue(
                payment=payments[who],  # type: ignore[arg-type]
                amount=Decimal(amount),
                reason="Overpaid",
                refunded_on=dt.date(2026, 3, 4),
                actor=front_desk,
            )
        else:
            line = invoices[0].lines.get()
            credit_note_issue(
                invoice=invoices[0],
                amounts={line.pk: Decimal(amount)},
                reason="Shortened",
                actor=front_desk,
            )
    response = signed_in(owner).get(reverse("billing_report_receivables"))
    assert response.status_code == 200
    balances = balances_for(Patient.objects.values_list("pk", flat=True))
    net = {row[0]: row[1] for row in _rows(response, "net")}
    net_total = Decimal(_rows(response, "net")[-1][1])
    assert net_total == sum(balances.values(), Decimal(0))
    owed = (
        Decimal(net["Owed by patients"])
        + Decimal(net["Owed by payers"])
        + Decimal(net["Less account credit held for patients"])
    )
    assert owed == net_total
    credit_rows = {row[0]: Decimal(row[1]) for row in _rows(response, "credit")[1:-1]}
    for person in people:
        held = -min(balances[person.pk], Decimal(0))
        if person.display_name in credit_rows or held:
            assert credit_rows.get(person.display_name, Decimal(0)) >= held
    csv = signed_in(owner).get(reverse("billing_report_receivables"), {"export": "net"})
    assert csv.content.decode().splitlines()[-1].endswith(f"{net_total:.2f}")


def test_credit_on_account_shows_in_the_receivables_and_brings_the_net_down(
    patient, location, front_desk, owner
):
    client = signed_in(owner)
    issued_invoice(patient, location, front_desk, prices=("95.00",), day=dt.date(2026, 3, 2))
    before = _rows(client.get(reverse("billing_report_receivables")), "net")[-1][1]
    payment_record(
        patient=patient,
        method=PaymentMethod.CASH,
        amount=Decimal("100.00"),
        received_on=dt.date(2026, 3, 3),
        actor=front_desk,
    )
    response = client.get(reverse("billing_report_receivables"))
    assert _rows(response, "credit")[1] == ["Pat Ient", "100.00"]
    assert _rows(response, "patients")[1][-1] == "95.00"
    assert (before, _rows(response, "net")[-1][1]) == ("95.00", "-5.00")
    # Seen as of a day before the money was recorded, it was not yet held.
    earlier = client.get(reverse("billing_report_receivables"), {"as_of": "2020-01-01"})
    assert _rows(earlier, "credit")[1:] == []
