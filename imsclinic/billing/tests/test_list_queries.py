"""Billing's staff lists read the same number of queries however many rows they show.

The owner's reports are pinned in test_reports.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.billing.services.receipts import receipt_issue
from imsclinic.clinic.models import Location
from imsclinic.patients.models import Patient
from tests.factories.billing import DAY, claim, issued_invoice, patient_pays, payer, policy
from tests.factories.clients import signed_in
from tests.factories.people import many_patients

pytestmark = pytest.mark.django_db

SIZES = [10, 100]


# Session, user, MFA, the clinic for the header, the role check, the locations for the
# filter, one page of invoices and its count, the figures of the page's invoices, the audit
# rows (one INSERT for every patient shown).
@pytest.mark.parametrize("count", SIZES)
def test_the_invoice_list_reads_the_same_number_of_queries_for_10_invoices_as_for_100(
    count: int, location: Location, front_desk: User, django_assert_num_queries
) -> None:
    for patient in many_patients(count, "Billed"):
        issued_invoice(patient, location, front_desk)
    client = signed_in(front_desk)
    with django_assert_num_queries(9):
        response = client.get(reverse("billing_invoices"))
    assert response.status_code == 200
    assert len(response.context["rows"]) == min(count, 25)


# Session, user, MFA, the clinic for the header, the patient, the audit row, the account's
# sums, the invoices, their figures, the payments with what they paid and refunded.
@pytest.mark.parametrize("count", SIZES)
def test_a_patients_account_reads_the_same_number_of_queries_for_10_invoices_as_for_100(
    count: int, patient: Patient, location: Location, front_desk: User, django_assert_num_queries
) -> None:
    for n in range(count):
        invoice = issued_invoice(patient, location, front_desk)
        if n % 2:
            patient_pays(patient, front_desk, (invoice, "50.00"))
    client = signed_in(front_desk)
    with django_assert_num_queries(22):
        response = client.get(reverse("billing_account", args=[patient.pk]))
    assert response.status_code == 200
    assert len(response.context["invoice_rows"]) == count


# Session, user, MFA, the clinic for the header, the role check, the payer, the invoices
# billed to it with their figures, the audit rows.
@pytest.mark.parametrize("count", SIZES)
def test_a_payer_statement_reads_the_same_number_of_queries_for_10_invoices_as_for_100(
    count: int, location: Location, front_desk: User, owner: User, django_assert_num_queries
) -> None:
    insurer = payer()
    for patient in many_patients(count, "Billed"):
        issued_invoice(patient, location, front_desk, billed_to=insurer, payer_share="60")
    client = signed_in(owner)
    period = {"start": DAY.isoformat(), "end": DAY.isoformat()}
    with django_assert_num_queries(11):
        response = client.get(reverse("billing_payer_statement", args=[insurer.pk]), period)
    assert response.status_code == 200
    assert len(response.context["rows"]) == count


# Session, user, MFA, the payers with their sums, the clinic for the header, the model
# permissions asked for the payment link (two), the session saved (three).
@pytest.mark.parametrize("count", SIZES)
def test_the_payers_page_reads_the_same_number_of_queries_for_10_payers_as_for_100(
    count: int, patient: Patient, location: Location, front_desk: User, django_assert_num_queries
) -> None:
    for n in range(count):
        insurer = payer(name=f"Insurer {n:03d}")
        issued_invoice(patient, location, front_desk, billed_to=insurer, payer_share="60")
    client = signed_in(front_desk)
    with django_assert_num_queries(5):
        response = client.get(reverse("billing_payers"))
    assert response.status_code == 200
    assert len(response.context["rows"]) == count
    assert {row.owed for row in response.context["rows"]} == {Decimal("60.00")}


# Session, user, MFA, the clinic for the header, the patient, the payments with their
# receipts, the receipts with their deliveries, what earlier receipts cover (the invoices,
# allocations and receipts, read once for every payment), the audit row.
@pytest.mark.parametrize("count", SIZES)
def test_a_patients_receipts_read_the_same_number_of_queries_for_10_payments_as_for_100(
    count: int, patient: Patient, location: Location, front_desk: User, django_assert_num_queries
) -> None:
    for n in range(count):
        invoice = issued_invoice(patient, location, front_desk)
        payment = patient_pays(patient, front_desk, (invoice, "20.00"))
        if n % 2:
            receipt_issue(patient=patient, payment=payment, actor=front_desk)
    client = signed_in(front_desk)
    with django_assert_num_queries(14):
        response = client.get(reverse("billing_patient_receipts", args=[patient.pk]))
    assert response.status_code == 200
    assert len(response.context["payments"]) == count


# Session, user, MFA, the clinic for the header, the patient, the policies, the claims, the
# payers every form offers (read once for the page: each form used to read the payers, and
# each claim's form the policies, again), what each claim used, the audit row.
@pytest.mark.parametrize("count", SIZES)
def test_a_patients_cover_reads_the_same_number_of_queries_for_10_policies_as_for_100(
    count: int, patient: Patient, front_desk: User, django_assert_num_queries
) -> None:
    insurers = [payer(name=f"Insurer {n}") for n in range(3)]
    for n in range(count // 2):
        under = policy(patient, insurers[n % 3], front_desk, member_number=f"MB-{n}")
        claim(patient, insurers[n % 3], front_desk, number=f"CL-{n}", under=under)
    client = signed_in(front_desk)
    with django_assert_num_queries(12):
        response = client.get(reverse("billing_patient_cover", args=[patient.pk]))
    assert response.status_code == 200
    assert response.content.decode().count("MB-") >= count // 2
