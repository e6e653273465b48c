"""The demo's practitioners have their pay set, and its refunds say how the money went back."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.billing.models import Compensation, PaymentMethod, Refund
from imsclinic.clinic.models import Practitioner
from imsclinic.core.roles import Role
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

FRIDAY = dt.datetime(2027, 5, 14, 15, 30, tzinfo=ZoneInfo("America/Vancouver"))


def test_the_demo_compensation_report_pays_every_practitioner_and_refunds_match_the_method():
    with time_machine.travel(FRIDAY, tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        practitioners = Practitioner.objects.count()
        assert practitioners and Compensation.objects.count() == practitioners
        owner = User.objects.filter(role=Role.OWNER).get()
        response = signed_in(owner).get(reverse("billing_report_compensation"))
    rows = {t.key: t for t in response.context["tables"]}["compensation"].rows
    assert len(rows) == practitioners
    assert all(row[1] != "Not set" for row in rows)
    assert any(row[-1] != "0.00" for row in rows)
    for refund in Refund.objects.select_related("payment"):
        if refund.method == PaymentMethod.CASH:
            assert "card" not in refund.reason
        if "card" in refund.reason:
            assert refund.method in (PaymentMethod.DEBIT, PaymentMethod.CREDIT_CARD)
