"""A patient's account through the API: who may read it, taking payments, money as strings."""

from __future__ import annotations

from decimal import Decimal

import pytest
import schemathesis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from imsclinic.accounts.models import User
from imsclinic.billing.models import Allocation, Invoice, Payment, PaymentMethod
from imsclinic.billing.services.invoices import (
    LineEntry,
    credit_note_issue,
    invoice_add_line,
    invoice_create,
)
from imsclinic.billing.services.payments import Apply, payment_record, refund_issue
from imsclinic.core.models import Action, AuditEvent, ObjectType, Outcome
from imsclinic.patients.models import Patient
from tests.factories.api import CHECKS, FUZZ, OPENAPI_URL
from tests.factories.billing import DAY, issued_invoice, payer

pytestmark = pytest.mark.django_db

READ = {
    "anonymous": 401,
    "patient": 200,
    "other_patient": 404,
    "front_desk": 200,
    "physio": 403,
    "other_physio": 404,
    "owner": 200,
}
WRITE = {**READ, "patient": 403, "other_patient": 403}


def invoices_url(patient: Patient) -> str:
    return f"/api/v1/patients/{patient.pk}/invoices"


def payments_url(patient: Patient) -> str:
    return f"/api/v1/patients/{patient.pk}/payments"


def balance_url(patient: Patient) -> str:
    return f"/api/v1/patients/{patient.pk}/balance"


def invoice_url(invoice: Invoice) -> str:
    return f"/api/v1/invoices/{invoice.pk}"


def draft(patient: Patient, location, actor: User, price: str = "60.00") -> Invoice:
    invoice = invoice_create(patient=patient, location=location, actor=actor, service_date=DAY)
    invoice_add_line(
        invoice=invoice,
        entry=LineEntry(description="Tape", unit_price=Decimal(price), item_kind="product"),
        actor=actor,
    )
    return invoice


def pay(client: Client, patient: Patient, **body: object):
    return client.post(payments_url(patient), body, content_type="application/json")


@pytest.fixture
def account(patient, location, front_desk):
    """An invoice split with an insurer and part paid, a credit note, a refunded payment."""
    insurer = payer()
    split = issued_invoice(
        patient, location, front_desk, prices=("100.00",), billed_to=insurer, payer_share="80.00"
    )
    corrected = issued_invoice(patient, location, front_desk, prices=("95.00",))
    note = credit_note_issue(
        invoice=corrected, amounts=None, reason="Billed twice", actor=front_desk
    )
    payment = payment_record(
        method=PaymentMethod.DEBIT,
        amount=Decimal("30.00"),
        received_on=DAY,
        patient=patient,
        allocations=[Apply(invoice=split, amount=Decimal("15.00"))],
        actor=front_desk,
    )
    refund_issue(
        payment=payment,
        amount=Decimal("5.00"),
        reason="Overpaid",
        refunded_on=DAY,
        actor=front_desk,
    )
    return {"split": split, "corrected": corrected, "note": note, "payment": payment}


# --- who may read ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", READ)
@pytest.mark.parametrize("url", [invoices_url, payments_url, balance_url])
def test_an_account_is_read_by_the_desk_the_owner_and_the_patient_alone(
    cast, patient, account, api_client, who, url
):
    response = api_client(cast[who]).get(url(patient))
    assert response.status_code == READ[who]
    if response.status_code != 200:
        assert set(response.json()) == {"detail"}
        assert "95.00" not in response.content.decode()


@pytest.mark.parametrize("who", READ)
def test_one_invoice_opens_for_the_same_people(cast, account, api_client, who):
    response = api_client(cast[who]).get(invoice_url(account["split"]))
    assert response.status_code == READ[who]
    if response.status_code == 200:
        assert response.json()["total"] == "100.00"


def test_a_patient_holds_a_token_and_reads_only_their_own_account(
    patient, other_patient, account, api_client
):
    client = api_client(patient.user)
    assert client.get(balance_url(patient)).json()["patient_id"] == patient.pk
    assert client.get(balance_url(other_patient)).status_code == 404


def test_an_invoice_that_does_not_exist_looks_like_one_that_is_hidden(cast, account, api_client):
    client = api_client(cast["other_physio"])
    hidden = client.get(invoice_url(account["split"]))
    missing = client.get("/api/v1/invoices/999999")
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


def test_the_patient_sees_no_drafts_but_the_front_desk_does(
    cast, patient, location, front_desk, account, api_client
):
    pending = draft(patient, location, front_desk)
    as_patient = api_client(cast["patient"])
    as_desk = api_client(front_desk)
    assert pending.pk not in [i["id"] for i in as_patient.get(invoices_url(patient)).json()]
    assert as_patient.get(invoice_url(pending)).status_code == 404
    listed = {i["id"]: i for i in as_desk.get(invoices_url(patient)).json()}
    assert listed[pending.pk]["status"] == "draft"
    assert listed[pending.pk]["number"] is None
    assert listed[pending.pk]["owed_by_patient"] is None


# --- what is read ------------------------------------------------------------------------------


def test_an_invoice_shows_its_lines_shares_payments_and_what_is_owed_as_strings(
    cast, account, api_client
):
    invoice = api_client(cast["front_desk"]).get(invoice_url(account["split"])).json()
    assert invoice["number"] == account["split"].display_number
    assert invoice["kind"] == "invoice"
    assert invoice["status"] == "issued"
    assert invoice["service_date"] == DAY.isoformat()
    assert invoice["currency"] == "CAD"
    assert invoice["payer"]["name"] == "Maple Life Extended Health"
    assert [
        (line["description"], line["quantity"], line["unit_price"], line["total"])
        for line in invoice["lines"]
    ] == [("Treatment", "1.00", "100.00", "100.00")]
    assert {
        key: invoice[key]
        for key in (
            "subtotal",
            "tax_total",
            "total",
            "payer_share",
            "patient_share",
            "credited",
            "paid_by_patient",
            "paid_by_payer",
            "owed_by_patient",
            "owed_by_payer",
        )
    } == {
        "subtotal": "100.00",
        "tax_total": "0.00",
        "total": "100.00",
        "payer_share": "80.00",
        "patient_share": "20.00",
        "credited": "0.00",
        "paid_by_patient": "15.00",
        "paid_by_payer": "0.00",
        "owed_by_patient": "5.00",
        "owed_by_payer": "80.00",
    }


def test_a_credit_note_names_the_invoice_it_corrects_and_the_invoice_shows_it_credited(
    cast, patient, account, api_client
):
    listed = {i["id"]: i for i in api_client(cast["patient"]).get(invoices_url(patient)).json()}
    note = listed[account["note"].pk]
    assert note["kind"] == "credit_note"
    assert note["number"].startswith("CN-")
    assert note["corrects"] == {
        "id": account["corrected"].pk,
        "number": account["corrected"].display_number,
    }
    assert note["reason"] == "Billed twice"
    assert note["owed_by_patient"] is None
    corrected = listed[account["corrected"].pk]
    assert (corrected["credited"], corrected["owed_by_patient"]) == ("95.00", "0.00")


def test_payments_list_their_allocations_refunds_and_what_is_left(
    cast, patient, account, api_client
):
    [payment] = api_client(cast["patient"]).get(payments_url(patient)).json()
    assert payment["method"] == "debit"
    assert payment["amount"] == "30.00"
    assert payment["allocations"][0]["invoice"]["number"] == account["split"].display_number
    assert payment["allocations"][0]["amount"] == "15.00"
    assert [(r["amount"], r["method"], r["reason"]) for r in payment["refunds"]] == [
        ("5.00", "debit", "Overpaid")
    ]
    assert (payment["allocated"], payment["refunded"], payment["unallocated"]) == (
        "15.00",
        "5.00",
        "10.00",
    )


def test_the_balance_is_the_account_figures_as_strings(cast, patient, account, api_client):
    balance = api_client(cast["owner"]).get(balance_url(patient)).json()
    # 195.00 invoiced - 95.00 credited - 30.00 paid + 5.00 refunded.
    assert balance == {
        "patient_id": patient.pk,
        "currency": "CAD",
        "invoiced": "195.00",
        "credited": "95.00",
        "paid": "30.00",
        "paid_by_payers": "0.00",
        "refunded": "5.00",
        "balance": "75.00",
        "patient_owes": "5.00",
        "payers_owe": "80.00",
        "credit": "10.00",
    }


def test_a_patient_with_nothing_billed_has_a_zero_balance(cast, other_patient, api_client):
    balance = api_client(cast["front_desk"]).get(balance_url(other_patient)).json()
    assert balance["balance"] == "0.00"
    assert balance["credit"] == "0.00"


# --- the audit log -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "object_type"),
    [
        (invoices_url, ObjectType.INVOICE),
        (payments_url, ObjectType.PAYMENT),
        (balance_url, ObjectType.ACCOUNT),
    ],
)
def test_each_read_of_an_account_is_audited_under_the_reader(
    cast, patient, account, api_client, url, object_type
):
    api_client(cast["front_desk"]).get(url(patient))
    row = AuditEvent.objects.filter(object_type=object_type, action=Action.VIEW).latest("pk")
    assert (row.actor, row.patient_id, row.outcome) == (cast["front_desk"], patient.pk, "allowed")
    assert row.detail["via"] == "api"


def test_reading_a_credit_note_is_audited_as_a_credit_note(cast, account, api_client):
    api_client(cast["patient"]).get(invoice_url(account["note"]))
    row = AuditEvent.objects.filter(action=Action.VIEW).latest("pk")
    assert (row.object_type, row.object_id) == (ObjectType.CREDIT_NOTE, str(account["note"].pk))


def test_a_practitioner_refused_an_account_leaves_a_denied_row(cast, patient, account, api_client):
    response = api_client(cast["physio"]).get(balance_url(patient))
    assert response.status_code == 403
    row = AuditEvent.objects.filter(object_type=ObjectType.ACCOUNT).latest("pk")
    assert (row.actor, row.outcome, row.patient_id) == (cast["physio"], Outcome.DENIED, patient.pk)


# --- queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [invoices_url, payments_url])
def test_a_long_account_takes_no_more_queries_than_a_short_one(
    cast, patient, location, front_desk, account, api_client, url
):
    client = api_client(front_desk)
    client.get(url(patient))  # the first call stamps the token's last use; later ones do not

    def run() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(patient)).status_code == 200
        return len(captured)

    few = run()
    for _ in range(4):
        invoice = issued_invoice(patient, location, front_desk, prices=("40.00", "12.50"))
        payment_record(
            method=PaymentMethod.CASH,
            amount=Decimal("60.00"),
            received_on=DAY,
            patient=patient,
            allocations=[Apply(invoice=invoice, amount=Decimal("52.50"))],
            actor=front_desk,
        )
    assert run() == few
    # Token, patient, invoices, their lines, the audit row, two for the figures and the
    # clinic's currency; payments: their allocations and refunds in place of the figures.
    assert few <= 8


# --- recording a payment -----------------------------------------------------------------------


def test_the_front_desk_records_a_payment_across_two_invoices_and_the_rest_is_credit(
    patient, location, front_desk, api_client
):
    first = issued_invoice(patient, location, front_desk, prices=("95.00",))
    second = issued_invoice(patient, location, front_desk, prices=("40.00",))
    response = pay(
        api_client(front_desk),
        patient,
        method="credit_card",
        amount="150.00",
        reference="AUTH 0042",
        allocations=[
            {"invoice": first.pk, "amount": "95.00"},
            {"invoice": second.pk, "amount": "20.00"},
        ],
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount"], body["allocated"], body["unallocated"]) == (
        "150.00",
        "115.00",
        "35.00",
    )
    payment = Payment.objects.get()
    assert (payment.patient, payment.amount, payment.reference, payment.recorded_by) == (
        patient,
        Decimal("150.00"),
        "AUTH 0042",
        front_desk,
    )
    assert sorted(a.amount for a in payment.allocations.all()) == [
        Decimal("20.00"),
        Decimal("95.00"),
    ]
    row = AuditEvent.objects.filter(object_type=ObjectType.PAYMENT, action=Action.CREATE).get()
    assert (row.actor, row.patient_id) == (front_desk, patient.pk)
    balance = api_client(front_desk).get(balance_url(patient)).json()
    assert (balance["patient_owes"], balance["credit"]) == ("20.00", "35.00")


@pytest.mark.parametrize("who", WRITE)
def test_only_the_desk_and_the_owner_take_payments(
    cast, patient, location, front_desk, api_client, who
):
    invoice = issued_invoice(patient, location, front_desk, prices=("95.00",))
    response = pay(
        api_client(cast[who]),
        patient,
        method="cash",
        amount="95.00",
        allocations=[{"invoice": invoice.pk, "amount": "95.00"}],
    )
    expected = 201 if WRITE[who] == 200 else WRITE[who]
    assert response.status_code == expected
    assert Payment.objects.exists() == (expected == 201)


def test_a_patients_refused_payment_is_audited_as_denied(cast, patient, api_client):
    pay(api_client(cast["patient"]), patient, method="cash", amount="10.00")
    row = AuditEvent.objects.filter(object_type=ObjectType.PAYMENT).latest("pk")
    assert (row.actor, row.outcome) == (cast["patient"], Outcome.DENIED)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"method": "cash", "amount": "-5.00"}, ["body", "payload", "amount"]),
        ({"method": "cash", "amount": 12.345}, ["body", "payload", "amount"]),
        ({"method": "cash", "amount": 12.5}, ["body", "payload", "amount"]),
        ({"method": "cash", "amount": "12.345"}, ["body", "payload", "amount"]),
        ({"method": "cash", "amount": "0.00"}, ["body", "payload", "amount"]),
        ({"method": "insurer", "amount": "10.00"}, ["body", "payload", "method"]),
    ],
)
def test_an_amount_that_is_not_money_is_refused_and_nothing_is_stored(
    patient, front_desk, api_client, body, loc
):
    response = pay(api_client(front_desk), patient, **body)
    assert response.status_code == 422
    assert [entry["loc"] for entry in response.json()["detail"]] == [loc]
    assert all(entry["msg"] for entry in response.json()["detail"])
    assert not Payment.objects.exists()


def test_a_negative_amount_says_so(patient, front_desk, api_client):
    response = pay(api_client(front_desk), patient, method="cash", amount="-5.00")
    assert "negative" in response.json()["detail"][0]["msg"]


def test_paying_an_invoice_more_than_it_owes_points_at_that_row_and_stores_nothing(
    patient, location, front_desk, api_client
):
    small = issued_invoice(patient, location, front_desk, prices=("20.00",))
    large = issued_invoice(patient, location, front_desk, prices=("95.00",))
    response = pay(
        api_client(front_desk),
        patient,
        method="cash",
        amount="200.00",
        allocations=[
            {"invoice": large.pk, "amount": "95.00"},
            {"invoice": small.pk, "amount": "25.00"},
        ],
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "payload", "allocations", 1, "amount"]
    assert small.display_number in problem["msg"]
    assert not Payment.objects.exists()
    assert not Allocation.objects.exists()


def test_allocating_more_than_the_payment_is_refused_and_nothing_is_stored(
    patient, location, front_desk, api_client
):
    invoice = issued_invoice(patient, location, front_desk, prices=("95.00",))
    response = pay(
        api_client(front_desk),
        patient,
        method="cash",
        amount="50.00",
        allocations=[{"invoice": invoice.pk, "amount": "95.00"}],
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload"]
    assert not Payment.objects.exists()


def test_another_patients_invoice_or_a_draft_cannot_be_paid(
    patient, other_patient, location, front_desk, api_client
):
    theirs = issued_invoice(other_patient, location, front_desk, prices=("95.00",))
    pending = draft(patient, location, front_desk)
    response = pay(
        api_client(front_desk),
        patient,
        method="cash",
        amount="100.00",
        allocations=[
            {"invoice": theirs.pk, "amount": "10.00"},
            {"invoice": pending.pk, "amount": "10.00"},
        ],
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "allocations", 0, "invoice"]
    assert not Payment.objects.exists()
    response = pay(
        api_client(front_desk),
        patient,
        method="cash",
        amount="100.00",
        allocations=[{"invoice": pending.pk, "amount": "10.00"}],
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "allocations", 0, "amount"]
    assert not Payment.objects.exists()


# --- issuing a draft ---------------------------------------------------------------------------


def test_the_front_desk_issues_a_draft_and_it_takes_a_number(
    patient, location, front_desk, api_client
):
    pending = draft(patient, location, front_desk)
    response = api_client(front_desk).post(f"{invoice_url(pending)}/issue")
    assert response.status_code == 200
    pending.refresh_from_db()
    assert response.json()["number"] == pending.display_number
    assert response.json()["owed_by_patient"] == "60.00"
    assert pending.status == "issued"
    assert pending.issued_by == front_desk


def test_issuing_twice_is_a_conflict_and_an_empty_draft_is_refused(
    patient, location, front_desk, api_client
):
    client = api_client(front_desk)
    issued = issued_invoice(patient, location, front_desk)
    again = client.post(f"{invoice_url(issued)}/issue")
    assert again.status_code == 409
    assert issued.display_number in again.json()["detail"]
    empty = invoice_create(patient=patient, location=location, actor=front_desk, service_date=DAY)
    response = client.post(f"{invoice_url(empty)}/issue")
    assert response.status_code == 422
    empty.refresh_from_db()
    assert empty.number is None


@pytest.mark.parametrize("who", WRITE)
def test_only_the_desk_and_the_owner_issue_invoices(
    cast, patient, location, front_desk, api_client, who
):
    pending = draft(patient, location, front_desk)
    response = api_client(cast[who]).post(f"{invoice_url(pending)}/issue")
    assert response.status_code == WRITE[who]
    pending.refresh_from_db()
    assert (pending.status == "issued") == (WRITE[who] == 200)


# --- the OpenAPI document ----------------------------------------------------------------------


def test_the_openapi_document_lists_the_billing_endpoints_with_money_as_strings(db):
    document = Client().get(OPENAPI_URL).json()
    paths = document["paths"]
    expected = {
        ("/api/v1/patients/{patient_id}/invoices", "get"): {"200", "401", "403", "404"},
        ("/api/v1/invoices/{invoice_id}", "get"): {"200", "401", "403", "404"},
        ("/api/v1/patients/{patient_id}/payments", "get"): {"200", "401", "403", "404"},
        ("/api/v1/patients/{patient_id}/balance", "get"): {"200", "401", "403", "404"},
        ("/api/v1/patients/{patient_id}/payments", "post"): {"201", "403", "404", "422"},
        ("/api/v1/invoices/{invoice_id}/issue", "post"): {"200", "403", "404", "409", "422"},
    }
    for (path, method), codes in expected.items():
        assert paths[path][method]["tags"] == ["billing"]
        assert codes <= set(paths[path][method]["responses"]), (path, method)
    schemas = document["components"]["schemas"]
    assert schemas["PaymentIn"]["properties"]["amount"]["type"] == "string"
    assert schemas["BalanceOut"]["properties"]["balance"]["type"] == "string"


@pytest.mark.parametrize("who", ["patient", "front_desk", "physio"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_billing_endpoints_keep_to_their_schema(
    api_schema, cast, patient, account, token_for, who, mode
):
    headers = {"Authorization": f"Bearer {token_for(cast[who])}"}
    ids = {"patient_id": patient.pk}
    strategy = st.one_of(
        *(
            api_schema[path][method].as_strategy(generation_mode=mode)
            for path, method in (
                ("/api/v1/patients/{patient_id}/invoices", "GET"),
                ("/api/v1/invoices/{invoice_id}", "GET"),
                ("/api/v1/patients/{patient_id}/payments", "POST"),
                ("/api/v1/invoices/{invoice_id}/issue", "POST"),
            )
        ),
        # Real records too, so the 200 shapes are checked, not only the 404s.
        *(
            api_schema[path]["GET"].as_strategy(generation_mode=mode, path_parameters=ids)
            for path in (
                "/api/v1/patients/{patient_id}/invoices",
                "/api/v1/patients/{patient_id}/payments",
                "/api/v1/patients/{patient_id}/balance",
            )
        ),
        api_schema["/api/v1/invoices/{invoice_id}"]["GET"].as_strategy(
            generation_mode=mode, path_parameters={"invoice_id": account["split"].pk}
        ),
        api_schema["/api/v1/patients/{patient_id}/payments"]["POST"].as_strategy(
            generation_mode=mode, path_parameters=ids
        ),
    )

    @FUZZ
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
