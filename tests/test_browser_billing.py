"""In Chromium: the patient's bills on a phone, and the front desk taking a payment.

Screenshots go to SCREENSHOT_DIR (default /tmp/shots).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from imsclinic.billing.models import Payment
from imsclinic.billing.selectors import patient_account
from tests.factories.billing import patient_pays, payer, treatment_invoice
from tests.factories.browser import staff_tab
from tests.factories.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/shots"))
PHONE = {"width": 390, "height": 844}


def watch(page: Any) -> list[str]:
    """Collect console errors and uncaught page errors (a CSP refusal shows up here too)."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def assert_accessible(page: Any, what: str) -> None:
    violations = [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"]])
        for v in Axe().run(page).response["violations"]
    ]
    assert violations == [], f"{what} has accessibility problems: {violations}"


def test_the_patient_reads_their_bills_on_a_phone(
    chromium, live_server, clinic, patient, patient_user, physio, location, front_desk
) -> None:
    insurer = payer()
    first = treatment_invoice(
        patient,
        location,
        front_desk,
        physio.practitioner,
        price="120.00",
        billed_to=insurer,
        payer_share="96.00",
    )
    patient_pays(patient, front_desk, (first, "24.00"))
    treatment_invoice(patient, location, front_desk, physio.practitioner)
    context = chromium.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    problems = watch(page)
    page.goto("/accounts/login/")
    page.locator("input[name='login']").fill(patient_user.email)
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("input[name='password']").press("Enter")
    page.wait_for_url("**/portal/")
    page.get_by_role("link", name="See your bills and receipts").click()
    page.wait_for_url("**/portal/billing/")
    assert page.get_by_text("You owe $95.00.").is_visible()
    assert page.get_by_text("Your insurer is billed $96.00.").is_visible()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, "the bills page is wider than a phone"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "billing-portal-390.png"), full_page=True)
    assert_accessible(page, "The portal's bills page")
    assert problems == []
    context.close()


def test_the_front_desk_types_an_amount_and_the_oldest_invoices_fill_first(
    chromium, live_server, clinic, patient, physio, location, front_desk
) -> None:
    older = treatment_invoice(patient, location, front_desk, physio.practitioner, price="95.00")
    newer = treatment_invoice(patient, location, front_desk, physio.practitioner, price="60.00")
    tab = staff_tab(chromium, live_server, front_desk.email)
    problems = watch(tab)
    tab.goto(f"/staff/billing/patients/{patient.pk}/")
    assert_accessible(tab, "A patient's account")
    tab.get_by_role("button", name="Take a payment").click()
    tab.get_by_label("Debit card").check()
    amount = tab.locator("input[name='amount']")
    amount.fill("200")
    assert tab.locator(f"input[name='invoice_{older.pk}']").input_value() == "95.00"
    assert tab.locator(f"input[name='invoice_{newer.pk}']").input_value() == "60.00"
    assert tab.get_by_text("45.00 will be kept as account credit.").is_visible()
    amount.fill("155.00")
    assert tab.locator("#payment-credit").inner_text() == ""
    assert_accessible(tab, "The take-a-payment page")
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / "billing-payment-1280.png"), full_page=True)
    tab.get_by_role("button", name="Record the payment").click()
    tab.wait_for_load_state()
    payment = Payment.objects.get()
    assert (payment.method, payment.amount) == ("debit", Decimal("155.00"))
    assert patient_account(patient).balance == 0
    assert problems == []
    tab.context.close()
