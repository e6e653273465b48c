"""Billing's dates are the clinic's days: after 4 pm in Vancouver it is not yet tomorrow."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import Payment, PaymentMethod, Refund
from imsclinic.billing.services.payments import payment_record, refund_issue
from tests.factories.billing import issued_invoice, payer
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

VANCOUVER = ZoneInfo("America/Vancouver")
# 17:30 in Vancouver on 7 December is 01:30 UTC on the 8th: the server's day is a day ahead.
EVENING = dt.datetime(2026, 12, 7, 17, 30, tzinfo=VANCOUVER)
# A summer evening too (daylight time, UTC-7): 17:30 is 00:30 UTC the next day.
SUMMER_EVENING = dt.datetime(2027, 7, 14, 17, 30, tzinfo=VANCOUVER)


def _day(moment: dt.datetime) -> str:
    return moment.date().isoformat()


def _tomorrow(moment: dt.datetime) -> str:
    return (moment.date() + dt.timedelta(days=1)).isoformat()


@pytest.mark.parametrize("evening", [EVENING, SUMMER_EVENING], ids=["winter", "summer"])
def test_in_the_evening_every_desk_form_starts_on_the_clinics_day_not_the_servers(
    evening, patient, location, front_desk
):
    with time_machine.travel(evening, tick=False):
        invoice = issued_invoice(patient, location, front_desk, day=evening.date())
        payment = payment_record(
            patient=patient,
            method=PaymentMethod.CASH,
            amount=Decimal("120.00"),
            received_on=evening.date(),
            actor=front_desk,
            location=location,
        )
        insurer = payer()
        client = signed_in(front_desk)
        pages = [
            reverse("billing_payment_new", args=[patient.pk]),
            reverse("billing_refund", args=[payment.pk]),
            reverse("billing_payer_payment", args=[insurer.pk]),
            reverse("billing_payer_statement", args=[insurer.pk]),
        ]
        for url in pages:
            html = client.get(url).content.decode()
            assert f'value="{_day(evening)}"' in html, url
            assert _tomorrow(evening) not in html, url
        pay_form = client.get(pages[0]).content.decode()
        assert f"Issued {_day(evening)}; the patient still owes 95.00." in pay_form
        assert invoice.issued_at is not None


def test_an_invoice_shows_the_time_it_was_issued_in_its_locations_zone(
    patient, location, front_desk
):
    issued = dt.datetime(2026, 12, 7, 17, 38, tzinfo=dt.UTC)  # 09:38 in Vancouver
    with time_machine.travel(issued, tick=False):
        invoice = issued_invoice(patient, location, front_desk, day=dt.date(2026, 12, 7))
    with time_machine.travel(EVENING, tick=False):
        html = signed_in(front_desk).get(reverse("billing_invoice", args=[invoice.pk])).text
    assert "2026-12-07 09:38" in html
    assert "17:38" not in html


def test_a_payment_dated_after_the_clinics_today_is_refused_and_nothing_is_stored(
    patient, location, front_desk
):
    with time_machine.travel(EVENING, tick=False):
        client = signed_in(front_desk)
        url = reverse("billing_payment_new", args=[patient.pk])
        response = client.post(
            url,
            {
                "method": "cash",
                "amount": "20.00",
                "received_on": _tomorrow(EVENING),
                "credit_shown": "20.00",
            },
        )
        assert response.status_code == 200
        assert "A payment cannot be dated after today." in response.text
        assert not Payment.objects.exists()
        # The server's day (the 8th in UTC) is not the clinic's: the 7th is today, and taken.
        client.post(
            url,
            {
                "method": "cash",
                "amount": "20.00",
                "received_on": _day(EVENING),
                "credit_shown": "20.00",
            },
        )
        assert Payment.objects.get().received_on == EVENING.date()
        with pytest.raises(BillingRefused) as refused:
            payment_record(
                patient=patient,
                method=PaymentMethod.CASH,
                amount=Decimal("5.00"),
                received_on=dt.date(2031, 1, 1),
                actor=front_desk,
            )
        assert refused.value.errors == {"received_on": "A payment cannot be dated after today."}
    assert Payment.objects.count() == 1


def test_a_refund_is_dated_between_its_payment_and_today(patient, location, front_desk):
    with time_machine.travel(EVENING, tick=False):
        payment = payment_record(
            patient=patient,
            method=PaymentMethod.DEBIT,
            amount=Decimal("60.00"),
            received_on=dt.date(2026, 12, 3),
            actor=front_desk,
            location=location,
        )
        client = signed_in(front_desk)
        url = reverse("billing_refund", args=[payment.pk])
        form = {"amount": "10.00", "reason": "Overpaid"}
        before = client.post(url, {**form, "refunded_on": "2026-12-02"})
        assert "A refund cannot be dated before the payment it gives back (2026-12-03)." in (
            before.text
        )
        ahead = client.post(url, {**form, "refunded_on": _tomorrow(EVENING)})
        assert "A refund cannot be dated after today." in ahead.text
        with pytest.raises(BillingRefused):
            refund_issue(
                payment=payment,
                amount=Decimal("1.00"),
                reason="Old",
                refunded_on=dt.date(2020, 1, 1),
                actor=front_desk,
            )
        assert not Refund.objects.exists()
        done = client.post(url, {**form, "refunded_on": _day(EVENING)})
        assert done.status_code == 302
    assert Refund.objects.get().refunded_on == EVENING.date()
