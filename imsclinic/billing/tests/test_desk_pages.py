"""The front desk keeps accounts: invoices drafted and issued, payments, credit and refunds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from imsclinic.billing.models import (
    Allocation,
    Claim,
    Invoice,
    InvoiceLine,
    Payment,
    Refund,
)
from imsclinic.billing.money import spread_oldest_first
from imsclinic.billing.selectors import invoice_figures, patient_account
from imsclinic.billing.services.invoices import invoice_create
from imsclinic.billing.services.payments import Apply, payment_record, refund_issue
from imsclinic.core.models import AuditEvent
from tests.factories.billing import DAY, issued_invoice, payer, product

pytestmark = pytest.mark.django_db

CAST = ("patient_user", "other_patient_user", "front_desk", "physio", "other_physio", "owner")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def statuses(request, url: str, method: str = "get", data: dict | None = None) -> dict[str, int]:
    got = {}
    for who in CAST:
        client = signed_in(request.getfixturevalue(who))
        got[who] = getattr(client, method)(url, data or {}).status_code
    return got


def draft(patient, location, actor) -> Invoice:
    return invoice_create(patient=patient, location=location, actor=actor, service_date=DAY)


def paid_in_cash(patient, actor, amount: str, applies=()) -> Payment:
    return payment_record(
        patient=patient,
        method="cash",
        amount=Decimal(amount),
        received_on=DAY,
        allocations=list(applies),
        actor=actor,
    )


# -- who may see and do what ---------------------------------------------------------------


def test_only_the_front_desk_and_the_owner_open_a_patients_account(request, patient):
    got = statuses(request, reverse("billing_account", args=[patient.pk]))
    assert got == {
        "patient_user": 404,
        "other_patient_user": 404,
        "front_desk": 200,
        "physio": 403,
        "other_physio": 404,
        "owner": 200,
    }


def test_an_invoice_page_follows_the_patients_account(request, patient, location, front_desk):
    invoice = issued_invoice(patient, location, front_desk)
    got = statuses(request, reverse("billing_invoice", args=[invoice.pk]))
    assert got == {
        "patient_user": 404,
        "other_patient_user": 404,
        "front_desk": 200,
        "physio": 403,
        "other_physio": 404,
        "owner": 200,
    }
    assert signed_in(front_desk).get(reverse("billing_invoice", args=[99999])).status_code == 404


def test_a_treating_physio_cannot_take_a_payment_or_add_to_an_invoice(
    patient, location, front_desk, physio
):
    invoice = draft(patient, location, front_desk)
    client = signed_in(physio)
    response = client.post(
        reverse("billing_invoice", args=[invoice.pk]),
        {
            "action": "item",
            "item-description": "Tape",
            "item-unit_price": "5",
            "item-quantity": "1",
            "item-item_kind": "product",
        },
    )
    assert response.status_code == 403
    response = client.post(
        reverse("billing_payment_new", args=[patient.pk]),
        {"method": "cash", "amount": "20", "received_on": "2025-03-03"},
    )
    assert response.status_code == 403
    assert not InvoiceLine.objects.exists()
    assert not Payment.objects.exists()
    assert AuditEvent.objects.filter(actor=physio, outcome="denied").count() == 2


def test_every_look_at_an_account_is_audited(patient, front_desk):
    signed_in(front_desk).get(reverse("billing_account", args=[patient.pk]))
    assert AuditEvent.objects.filter(
        actor=front_desk, object_type="account", patient_id=patient.pk, action="view"
    ).exists()


# -- the account page ----------------------------------------------------------------------


def test_the_account_shows_balance_invoices_payments_and_refunds(patient, location, front_desk):
    first = issued_invoice(patient, location, front_desk, prices=("95.00",))
    issued_invoice(patient, location, front_desk, prices=("60.00",))
    payment = paid_in_cash(patient, front_desk, "120.00", [Apply(first, Decimal("95.00"))])
    refund_issue(
        payment=payment,
        amount=Decimal("5.00"),
        reason="Overpaid",
        refunded_on=DAY,
        actor=front_desk,
    )
    page = signed_in(front_desk).get(reverse("billing_account", args=[patient.pk]))
    html = page.content.decode()
    assert page.context["account"].balance == Decimal("40.00")
    assert "Owes 40.00" in html
    assert first.display_number in html
    assert "95.00 towards " + first.display_number in html
    assert "20.00 of it is account credit." in html
    assert "Overpaid" in html
    assert reverse("billing_refund", args=[payment.pk]) in html
    assert reverse("billing_payment_new", args=[patient.pk]) in html


def test_a_new_invoice_for_products_starts_a_draft(patient, location, front_desk):
    response = signed_in(front_desk).post(
        reverse("billing_invoice_new", args=[patient.pk]), {"location": location.pk}
    )
    invoice = Invoice.objects.get(patient=patient)
    assert response["Location"] == reverse("billing_invoice", args=[invoice.pk])
    assert (invoice.status, invoice.purpose) == ("draft", "sale")


# -- a draft invoice -----------------------------------------------------------------------


def test_a_drafts_lines_are_added_and_removed(patient, location, front_desk, ims_service):
    invoice = draft(patient, location, front_desk)
    tape = product(price="12.50")
    client = signed_in(front_desk)
    url = reverse("billing_invoice", args=[invoice.pk])

    client.post(url, {"action": "product", "product-product": tape.pk, "product-quantity": "2"})
    client.post(
        url, {"action": "service", "service-service": ims_service.pk, "service-quantity": "1"}
    )
    client.post(
        url,
        {
            "action": "item",
            "item-description": "Home exercise booklet",
            "item-unit_price": "8.00",
            "item-quantity": "1",
            "item-item_kind": "product",
        },
    )
    invoice.refresh_from_db()
    assert [line.description for line in invoice.lines.all()] == [
        "Kinesiology tape",
        "IMS follow-up",
        "Home exercise booklet",
    ]
    assert invoice.total == Decimal("128.00")

    booklet = invoice.lines.get(description="Home exercise booklet")
    response = client.post(url, {"action": "remove", "remove-line": booklet.pk})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.lines.count() == 2
    assert invoice.total == Decimal("120.00")
    page = client.get(url).content.decode()
    assert "Remove Kinesiology tape" in page
    # The line is gone from the draft, but the audit log still says what it charged.
    removal = AuditEvent.objects.get(detail__line_removed=booklet.pk)
    assert removal.detail["description"] == "Home exercise booklet"
    assert removal.detail["amount"] == "8.00"


def test_a_line_without_a_price_is_refused_beside_the_field_and_nothing_changes(
    patient, location, front_desk
):
    invoice = draft(patient, location, front_desk)
    response = signed_in(front_desk).post(
        reverse("billing_invoice", args=[invoice.pk]),
        {
            "action": "item",
            "item-description": "Brace",
            "item-unit_price": "-4",
            "item-quantity": "1",
            "item-item_kind": "product",
        },
    )
    assert response.status_code == 200
    form = response.context["forms"]["item"]
    assert form.errors["unit_price"]
    assert 'value="Brace"' in response.content.decode()
    assert not InvoiceLine.objects.exists()


def test_billing_a_payer_splits_the_draft(patient, location, front_desk):
    invoice = draft(patient, location, front_desk)
    insurer = payer()
    client = signed_in(front_desk)
    url = reverse("billing_invoice", args=[invoice.pk])
    client.post(
        url,
        {
            "action": "item",
            "item-description": "Treatment",
            "item-unit_price": "100",
            "item-quantity": "1",
            "item-item_kind": "service",
        },
    )

    too_much = client.post(
        url, {"action": "payer", "payer-payer": insurer.pk, "payer-payer_share": "150"}
    )
    assert too_much.context["forms"]["payer"].errors["payer_share"]
    client.post(url, {"action": "payer", "payer-payer": insurer.pk, "payer-payer_share": "80"})
    invoice.refresh_from_db()
    assert (invoice.payer, invoice.payer_share, invoice.patient_share) == (
        insurer,
        Decimal("80.00"),
        Decimal("20.00"),
    )


def test_billing_a_claim_takes_the_claims_share(patient, location, front_desk):
    invoice = draft(patient, location, front_desk)
    claim = Claim.objects.create(
        patient=patient,
        payer=payer("ICBC", "auto"),
        claim_number="C-1",
        payer_share_percent=Decimal("75"),
    )
    client = signed_in(front_desk)
    url = reverse("billing_invoice", args=[invoice.pk])
    client.post(
        url,
        {
            "action": "item",
            "item-description": "Treatment",
            "item-unit_price": "100",
            "item-quantity": "1",
            "item-item_kind": "service",
        },
    )
    client.post(url, {"action": "payer", "payer-claim": claim.pk})
    invoice.refresh_from_db()
    assert (invoice.claim, invoice.payer_share) == (claim, Decimal("75.00"))


def test_a_draft_is_issued_or_discarded_with_a_reason(patient, location, front_desk):
    empty = draft(patient, location, front_desk)
    client = signed_in(front_desk)
    url = reverse("billing_invoice", args=[empty.pk])
    refused = client.post(url, {"action": "issue"})
    assert "Add at least one line" in refused.content.decode()
    no_reason = client.post(url, {"action": "discard", "discard-reason": ""})
    assert no_reason.context["forms"]["discard"].errors["reason"]
    client.post(url, {"action": "discard", "discard-reason": "Started by mistake"})
    empty.refresh_from_db()
    assert (empty.status, empty.reason) == ("discarded", "Started by mistake")

    other = draft(patient, location, front_desk)
    url = reverse("billing_invoice", args=[other.pk])
    client.post(
        url,
        {
            "action": "item",
            "item-description": "Treatment",
            "item-unit_price": "95",
            "item-quantity": "1",
            "item-item_kind": "service",
        },
    )
    client.post(url, {"action": "issue"})
    other.refresh_from_db()
    assert other.status == "issued" and other.number is not None


def test_an_issued_invoice_shows_no_edit_controls_and_refuses_edits(patient, location, front_desk):
    invoice = issued_invoice(patient, location, front_desk)
    client = signed_in(front_desk)
    url = reverse("billing_invoice", args=[invoice.pk])
    page = client.get(url).content.decode()
    assert "Add to the draft" not in page
    assert "Remove" not in page
    assert "Correct with a credit note" in page

    line = invoice.lines.get()
    response = client.post(url, {"action": "remove", "remove-line": line.pk})
    assert response.status_code == 409
    assert "cannot change" in response.content.decode()
    response = client.post(
        url,
        {
            "action": "item",
            "item-description": "More",
            "item-unit_price": "5",
            "item-quantity": "1",
            "item-item_kind": "product",
        },
    )
    assert response.status_code == 409
    invoice.refresh_from_db()
    assert invoice.lines.count() == 1 and invoice.total == Decimal("95.00")


# -- credit notes --------------------------------------------------------------------------


def test_a_credit_note_takes_back_part_of_an_issued_invoice(patient, location, front_desk):
    invoice = issued_invoice(patient, location, front_desk, prices=("95.00", "40.00"))
    first, second = invoice.lines.all()
    client = signed_in(front_desk)
    url = reverse("billing_credit_note", args=[invoice.pk])

    page = client.get(url)
    assert page.context["form"][f"line_{first.pk}"].value() == Decimal("95.00")

    too_much = client.post(
        url, {f"line_{first.pk}": "0", f"line_{second.pk}": "50", "reason": "Wrong price"}
    )
    assert too_much.context["form"].errors[f"line_{second.pk}"]
    assert not Invoice.objects.filter(kind="credit_note").exists()

    client.post(
        url, {f"line_{first.pk}": "0", f"line_{second.pk}": "40", "reason": "Booklet not given"}
    )
    note = Invoice.objects.get(kind="credit_note")
    assert (note.corrects, note.total, note.reason) == (
        invoice,
        Decimal("40.00"),
        "Booklet not given",
    )
    assert invoice_figures(invoice).patient_due == Decimal("95.00")


# -- payments ------------------------------------------------------------------------------


def test_spreading_a_payment_pays_the_oldest_first_and_keeps_the_rest():
    owed = [("old", Decimal("50.00")), ("new", Decimal("30.00"))]
    assert spread_oldest_first(Decimal("60.00"), owed) == {
        "old": Decimal("50.00"),
        "new": Decimal("10.00"),
    }
    assert spread_oldest_first(Decimal("100.00"), owed) == {
        "old": Decimal("50.00"),
        "new": Decimal("30.00"),
    }
    assert spread_oldest_first(Decimal("20.00"), owed) == {"old": Decimal("20.00")}
    assert spread_oldest_first(Decimal("20.00"), []) == {}


def test_a_payment_with_empty_boxes_pays_two_invoices_oldest_first(patient, location, front_desk):
    older = issued_invoice(patient, location, front_desk, prices=("50.00",))
    newer = issued_invoice(patient, location, front_desk, prices=("30.00",))
    client = signed_in(front_desk)
    url = reverse("billing_payment_new", args=[patient.pk])
    page = client.get(url)
    assert page.context["form"]["received_on"].value() is not None

    response = client.post(
        url,
        {"method": "debit", "amount": "80.00", "received_on": "2025-03-03", "reference": "AUTH 1"},
    )
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert {(a.invoice_id, a.amount) for a in payment.allocations.all()} == {
        (older.pk, Decimal("50.00")),
        (newer.pk, Decimal("30.00")),
    }
    assert patient_account(patient).balance == Decimal("0.00")


def test_the_page_says_what_becomes_credit_before_saving(patient, location, front_desk):
    invoice = issued_invoice(patient, location, front_desk, prices=("50.00",))
    client = signed_in(front_desk)
    url = reverse("billing_payment_new", args=[patient.pk])
    data = {"method": "cash", "amount": "70.00", "received_on": "2025-03-03"}

    first = client.post(url, data)
    assert first.status_code == 200
    assert "20.00 is not put towards an invoice" in first.content.decode()
    assert first.context["form"][f"invoice_{invoice.pk}"].value() == "50.00"
    assert not Payment.objects.exists()

    again = client.post(url, {**data, f"invoice_{invoice.pk}": "50.00", "credit_shown": "20.00"})
    assert again.status_code == 302
    assert patient_account(patient).credit == Decimal("20.00")


def test_a_payment_typed_beyond_what_an_invoice_owes_is_refused_beside_it(
    patient, location, front_desk
):
    invoice = issued_invoice(patient, location, front_desk, prices=("50.00",))
    response = signed_in(front_desk).post(
        reverse("billing_payment_new", args=[patient.pk]),
        {
            "method": "cash",
            "amount": "60.00",
            "received_on": "2025-03-03",
            f"invoice_{invoice.pk}": "60.00",
            "credit_shown": "0.00",
        },
    )
    assert response.context["form"].errors[f"invoice_{invoice.pk}"]
    assert not Payment.objects.exists()


def test_a_payment_without_a_method_or_amount_is_refused_and_nothing_is_stored(patient, front_desk):
    response = signed_in(front_desk).post(
        reverse("billing_payment_new", args=[patient.pk]),
        {"amount": "", "received_on": "2025-03-03"},
    )
    form = response.context["form"]
    assert form.errors["method"] and form.errors["amount"]
    assert 'href="#id_amount"' in response.content.decode()  # the summary links to the field
    assert not Payment.objects.exists()


def test_account_credit_pays_an_invoice(patient, location, front_desk):
    paid_in_cash(patient, front_desk, "30.00")
    invoice = issued_invoice(patient, location, front_desk, prices=("50.00",))
    client = signed_in(front_desk)
    page = client.get(reverse("billing_invoice", args=[invoice.pk])).content.decode()
    assert "The patient has 30.00 of account credit." in page

    too_much = client.post(
        reverse("billing_credit_apply", args=[invoice.pk]), {"credit-amount": "45"}
    )
    assert too_much.context["credit_form"].non_field_errors()
    assert not Allocation.objects.exists()

    client.post(reverse("billing_credit_apply", args=[invoice.pk]), {})
    assert invoice_figures(invoice).patient_due == Decimal("20.00")
    assert patient_account(patient).credit == Decimal("0.00")


def test_a_refund_goes_back_by_the_payments_own_method(patient, front_desk):
    payment = payment_record(
        patient=patient,
        method="credit_card",
        amount=Decimal("40.00"),
        received_on=DAY,
        actor=front_desk,
    )
    client = signed_in(front_desk)
    url = reverse("billing_refund", args=[payment.pk])
    page = client.get(url).content.decode()
    assert "Credit card" in page
    assert 'name="method"' not in page

    too_much = client.post(
        url, {"amount": "50", "reason": "Moved away", "refunded_on": "2025-03-04"}
    )
    assert too_much.context["form"].errors["amount"]
    client.post(url, {"amount": "40", "reason": "Moved away", "refunded_on": "2025-03-04"})
    refund = Refund.objects.get()
    assert (refund.method, refund.amount) == ("credit_card", Decimal("40.00"))
    assert patient_account(patient).credit == Decimal("0.00")


def test_only_the_front_desk_and_owner_give_money_back(request, patient, front_desk):
    payment = paid_in_cash(patient, front_desk, "10.00")
    got = statuses(request, reverse("billing_refund", args=[payment.pk]))
    assert got == {
        "patient_user": 404,
        "other_patient_user": 404,
        "front_desk": 200,
        "physio": 403,
        "other_physio": 404,
        "owner": 200,
    }


# -- the desk's list -----------------------------------------------------------------------


def test_the_list_filters_drafts_outstanding_and_names(
    patient, other_patient, location, front_desk
):
    paid = issued_invoice(patient, location, front_desk, prices=("40.00",))
    paid_in_cash(patient, front_desk, "40.00", [Apply(paid, Decimal("40.00"))])
    owing = issued_invoice(other_patient, location, front_desk, prices=("70.00",))
    drafted = draft(patient, location, front_desk)
    client = signed_in(front_desk)
    url = reverse("billing_invoices")

    def shown(query: str) -> set[int]:
        return {invoice.pk for invoice, _f in client.get(f"{url}?{query}").context["rows"]}

    assert shown("") == {paid.pk, owing.pk, drafted.pk}
    assert shown("show=drafts") == {drafted.pk}
    assert shown("show=outstanding") == {owing.pk}
    assert shown("patient=osb") == {owing.pk}
    today = dt.date.today().isoformat()
    assert shown(f"issued_from={today}&issued_to={today}") >= {paid.pk, owing.pk}
    assert shown("issued_from=2001-01-01&issued_to=2001-01-02") == set()
    bad = client.get(f"{url}?issued_from=2025-03-05&issued_to=2025-03-01")
    assert bad.context["form"].errors["issued_to"]


def test_the_list_takes_the_same_few_queries_however_many_invoices(
    patient, other_patient, location, front_desk, django_assert_max_num_queries
):
    client = signed_in(front_desk)
    url = reverse("billing_invoices")
    client.get(url)  # warm the session
    for n in range(6):
        issued_invoice(patient if n % 2 else other_patient, location, front_desk)
    # Ten for every signed-in staff page; count, page, two for the figures, one audit insert.
    with django_assert_max_num_queries(10 + 5):
        response = client.get(url)
    assert len(response.context["rows"]) == 6


def test_the_list_comes_in_pages_that_keep_the_filter(patient, location, front_desk):
    for _n in range(26):
        draft(patient, location, front_desk)
    client = signed_in(front_desk)
    first = client.get(f"{reverse('billing_invoices')}?show=drafts")
    assert len(first.context["rows"]) == 25
    assert "?show=drafts&amp;page=2" in first.content.decode()
    second = client.get(f"{reverse('billing_invoices')}?show=drafts&page=2")
    assert len(second.context["rows"]) == 1


def test_the_list_is_the_front_desks_and_the_owners(request):
    got = statuses(request, reverse("billing_invoices"))
    assert got == {
        "patient_user": 403,
        "other_patient_user": 403,
        "front_desk": 200,
        "physio": 403,
        "other_physio": 403,
        "owner": 200,
    }


# -- where people already are --------------------------------------------------------------


def test_the_patient_page_shows_the_balance_to_the_desk_and_nothing_to_a_physio(
    patient, location, front_desk, physio
):
    issued_invoice(patient, location, front_desk, prices=("95.00",))
    url = reverse("patient_detail", args=[patient.pk])
    desk_page = signed_in(front_desk).get(url).content.decode()
    assert "Owes 95.00" in desk_page
    assert reverse("billing_account", args=[patient.pk]) in desk_page
    physio_page = signed_in(physio).get(url).content.decode()
    assert "Owes 95.00" not in physio_page
    assert reverse("billing_account", args=[patient.pk]) not in physio_page


def test_the_staff_navigation_offers_billing_to_the_desk_and_owner_only(front_desk, owner, physio):
    link = f'href="{reverse("billing_invoices")}"'
    assert link in signed_in(front_desk).get(reverse("patient_list")).content.decode()
    assert link in signed_in(owner).get(reverse("patient_list")).content.decode()
    assert link not in signed_in(physio).get(reverse("patient_list")).content.decode()


def test_a_practitioner_is_offered_their_own_sales_and_the_owner_the_reports(
    front_desk, owner, physio
):
    own_sales = f'href="{reverse("billing_my_sales")}"'
    reports = f'href="{reverse("billing_reports")}"'
    physio_page = signed_in(physio).get(reverse("patient_list")).content.decode()
    owner_page = signed_in(owner).get(reverse("patient_list")).content.decode()
    desk_page = signed_in(front_desk).get(reverse("patient_list")).content.decode()
    assert own_sales in physio_page and reports not in physio_page
    assert reports in owner_page
    assert own_sales not in desk_page and reports not in desk_page
