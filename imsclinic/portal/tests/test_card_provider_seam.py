"""A card provider plugged in at `billing.online` is used as written: paid once, owed no more.

The provider here is the tests' own class answering as a provider would; the product ships
none, and with none configured the portal offers no card payment (test_billing_pages.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from imsclinic.billing.models import Invoice, Payment, PaymentMethod
from imsclinic.billing.online import CardCharge
from imsclinic.billing.selectors import invoice_figures, local_today
from tests.factories.billing import treatment_invoice
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

PROVIDER = "imsclinic.portal.tests.test_card_provider_seam.ProviderAnsweringFromItsLedger"
# What the provider itself knows was charged, by its reference: the only thing `confirm`
# believes. A return's parameters alone prove nothing.
LEDGER: dict[str, CardCharge] = {}


class ProviderAnsweringFromItsLedger:
    def start_payment(
        self, *, invoice: Invoice, amount: Decimal, currency: str, return_url: str
    ) -> str:
        reference = f"ch_{invoice.pk}_{len(LEDGER) + 1}"
        LEDGER[reference] = CardCharge(
            invoice_id=invoice.pk, amount=amount, reference=reference, paid_on=dt.date.today()
        )
        return "https://pay.example/checkout?" + urlencode(
            {"ref": reference, "currency": currency, "back": return_url}
        )

    def confirm(self, data: Mapping[str, str]) -> CardCharge | None:
        return LEDGER.get(data.get("ref", ""))


@pytest.fixture
def with_provider(settings):
    LEDGER.clear()
    settings.BILLING_CARD_PROVIDER = PROVIDER


def test_a_patient_pays_what_they_owe_by_card_and_a_second_callback_records_nothing_more(
    with_provider, clinic, patient, patient_user, location, front_desk, physio
):
    invoice = treatment_invoice(patient, location, front_desk, physio.practitioner)
    client = signed_in(patient_user)

    sent = client.post(reverse("portal_card_pay", kwargs={"invoice_id": invoice.pk}))
    assert sent.status_code == 302
    assert sent["Location"].startswith("https://pay.example/checkout?")
    assert "currency=CAD" in sent["Location"]
    (reference,) = LEDGER

    back = client.get(reverse("portal_card_return"), {"ref": reference}, follow=True)
    client.get(reverse("portal_card_return"), {"ref": reference})

    assert "your card payment of 95.00 is recorded" in back.text
    payment = Payment.objects.get()
    assert (payment.method, payment.amount, payment.reference) == (
        PaymentMethod.ONLINE_CARD,
        Decimal("95.00"),
        reference,
    )
    assert invoice_figures(invoice).patient_due == 0


def test_a_charge_the_provider_dates_tomorrow_in_its_own_zone_is_recorded_as_paid_today(
    with_provider, clinic, patient, patient_user, location, front_desk, physio
):
    # An evening in Vancouver is already tomorrow in UTC, where providers often date charges.
    invoice = treatment_invoice(patient, location, front_desk, physio.practitioner)
    client = signed_in(patient_user)
    client.post(reverse("portal_card_pay", kwargs={"invoice_id": invoice.pk}))
    (reference,) = LEDGER
    charge = LEDGER[reference]
    today = local_today(location)
    LEDGER[reference] = dataclasses.replace(charge, paid_on=today + dt.timedelta(days=1))

    back = client.get(reverse("portal_card_return"), {"ref": reference}, follow=True)

    assert "your card payment of 95.00 is recorded" in back.text
    assert Payment.objects.get().received_on == today
    assert invoice_figures(invoice).patient_due == 0


def test_a_return_the_provider_does_not_confirm_records_nothing(
    with_provider, clinic, patient, patient_user, location, front_desk, physio
):
    treatment_invoice(patient, location, front_desk, physio.practitioner)

    back = signed_in(patient_user).get(
        reverse("portal_card_return"), {"ref": "ch_forged"}, follow=True
    )

    assert "was not confirmed" in back.text
    assert not Payment.objects.exists()


def test_a_patient_cannot_start_paying_another_patients_invoice(
    with_provider, clinic, patient, other_patient, other_patient_user, location, front_desk, physio
):
    theirs = treatment_invoice(patient, location, front_desk, physio.practitioner)

    answer = signed_in(other_patient_user).post(
        reverse("portal_card_pay", kwargs={"invoice_id": theirs.pk})
    )

    assert answer.status_code == 404
    assert not LEDGER
