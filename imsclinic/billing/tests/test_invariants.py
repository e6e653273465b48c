"""Random sequences of invoices, splits, payments, credit notes, credit use and refunds.

Whatever hypothesis does to three patients and one insurer, every patient's balance, added
up here from the rows themselves and kept by hand as the operations succeed, is the balance
the pages show (`patient_account`) and the lists show (`balances_for`); no payment gives
out more than it has; no share of an invoice is paid beyond what it owes; and an operation
the services refuse leaves every row as it was. The same test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from imsclinic.accounts.models import User
from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import (
    Allocation,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    ItemKind,
    NumberCounter,
    Payer,
    Payment,
    PaymentMethod,
    Refund,
    TaxRate,
)
from imsclinic.billing.money import share_of
from imsclinic.billing.selectors import (
    balances_for,
    dues_for,
    figures_for,
    patient_account,
    payment_left,
)
from imsclinic.billing.services.invoices import (
    LineEntry,
    credit_note_issue,
    invoice_add_line,
    invoice_bill_payer,
    invoice_create,
    invoice_issue,
)
from imsclinic.billing.services.payments import (
    Apply,
    credit_apply,
    payment_allocate,
    payment_record,
    refund_issue,
)
from imsclinic.clinic.models import Location
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from tests.factories.billing import DAY, payer

ZERO = Decimal("0.00")
CENTS = st.integers(min_value=1, max_value=30_000).map(lambda c: Decimal(c) / 100)
# An index into whatever list of rows a rule picks from (taken modulo its length).
PICK = st.integers(min_value=0, max_value=50)
# Which invoices a payment goes to, and how much of what each owes: all of it, half, a cent
# too much (refused), or any amount (mostly refused).
HOW = st.sampled_from(["all", "all", "all", "all", "half", "half", "over", "any"])
PICKS = st.lists(st.tuples(PICK, HOW, CENTS), min_size=1, max_size=3)
# How a payment's amount compares with what it is put towards: the same, more (the rest is
# credit) or less (refused).
AMOUNT = st.tuples(st.sampled_from(["same", "same", "same", "more", "more", "less"]), CENTS)


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def snapshot() -> tuple[object, ...]:
    """Every row a change of money could touch, counted and summed."""

    def total(model: type, field: str = "amount") -> object:
        return model.objects.aggregate(s=Sum(field))["s"]  # type: ignore[attr-defined]

    return (
        tuple(Invoice.objects.order_by("pk").values_list("pk", "status", "number", "total")),
        InvoiceLine.objects.count(),
        Payment.objects.count(),
        total(Payment),
        Allocation.objects.count(),
        total(Allocation),
        Refund.objects.count(),
        total(Refund),
        tuple(NumberCounter.objects.order_by("series").values_list("series", "last_number")),
        AuditEvent.objects.count(),
    )


def balance_from_rows(patient: Patient) -> Decimal:
    """Issued invoices - credit notes - their payments - payers' payments on their invoices
    + refunds of their payments, row by row."""
    balance = ZERO
    for invoice in Invoice.objects.filter(patient=patient, status=InvoiceStatus.ISSUED):
        balance += invoice.total if invoice.kind == InvoiceKind.INVOICE else -invoice.total
    for payment in Payment.objects.filter(patient=patient):
        balance -= payment.amount
        for refund in payment.refunds.all():
            balance += refund.amount
    for allocation in Allocation.objects.filter(
        invoice__patient=patient, payment__payer__isnull=False
    ):
        balance -= allocation.amount
    return balance


def payer_paid_on(invoice: Invoice) -> Decimal:
    return sum(
        (
            a.amount
            for a in Allocation.objects.filter(invoice=invoice, payment__payer__isnull=False)
        ),
        ZERO,
    )


class Books(RuleBasedStateMachine):
    """The front desk of a small clinic, driven at random."""

    world: dict[str, object]

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.desk: User = self.world["front_desk"]  # type: ignore[assignment]
        self.location: Location = self.world["location"]  # type: ignore[assignment]
        self.patients: list[Patient] = list(self.world["patients"])  # type: ignore[call-overload]
        self.payer: Payer = self.world["payer"]  # type: ignore[assignment]
        # Each patient's balance, kept by hand from what the operations did.
        self.expected = {p.pk: ZERO for p in self.patients}
        self.refusals = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # -- helpers ---------------------------------------------------------------------------

    def attempt(self, change: Callable[[], object]) -> object | None:
        """Run a change; if the services refuse it, check that nothing moved."""
        before = snapshot()
        try:
            return change()
        except BillingRefused:
            self.refusals += 1
            assert snapshot() == before, "a refused change left a trace"
            return None

    @staticmethod
    def pick(rows: list, index: int) -> object | None:
        return rows[index % len(rows)] if rows else None

    def applies(
        self, invoices: list[Invoice], picks: list[tuple[int, str, Decimal]], *, by_payer: bool
    ) -> list[Apply]:
        """Put amounts towards picked invoices, sized from what each still owes."""
        if not invoices:
            return []
        figures = figures_for(invoices)
        result: list[Apply] = []
        for index, how, amount in picks:
            invoice = invoices[index % len(invoices)]
            if any(apply.invoice.pk == invoice.pk for apply in result):
                continue
            due = figures[invoice.pk].payer_due if by_payer else figures[invoice.pk].patient_due
            wanted = {
                "all": due,
                "half": cents(due / 2),
                "over": due + Decimal("0.01"),
                "any": amount,
            }[how]
            result.append(Apply(invoice=invoice, amount=wanted))
        return result

    @staticmethod
    def amount(applies: list[Apply], how: tuple[str, Decimal]) -> Decimal:
        towards = sum((apply.amount for apply in applies), ZERO)
        kind, extra = how
        if kind == "more" or towards <= 0:
            return towards + extra
        if kind == "less":
            return max(Decimal("0.01"), towards - extra)
        return towards

    def issued(self) -> list[Invoice]:
        return list(
            Invoice.objects.filter(kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED).order_by(
                "pk"
            )
        )

    # -- rules -----------------------------------------------------------------------------

    @initialize(prices=st.lists(CENTS, min_size=6, max_size=6))
    def each_patient_has_two_invoices_one_split_with_the_payer(self, prices: list[Decimal]) -> None:
        for n, price in enumerate(prices):
            self.issue_an_invoice(
                who=n // 2,
                prices=[price],
                products=n % 3 == 0,
                product_prices=[price, price],
                split=Decimal("80") if n % 2 else None,
            )

    @rule(
        who=PICK,
        prices=st.lists(CENTS, min_size=1, max_size=3),
        products=st.integers(min_value=0, max_value=2),
        product_prices=st.lists(CENTS, min_size=2, max_size=2),
        split=st.sampled_from([None, None, Decimal("50"), Decimal("80"), Decimal("100")]),
    )
    def issue_an_invoice(
        self,
        who: int,
        prices: list[Decimal],
        products: int,
        product_prices: list[Decimal],
        split: Decimal | None,
    ) -> None:
        patient = self.pick(self.patients, who)
        assert isinstance(patient, Patient)
        invoice = invoice_create(
            patient=patient, location=self.location, actor=self.desk, service_date=DAY
        )
        for price in prices:
            invoice_add_line(
                invoice=invoice,
                entry=LineEntry(description="Treatment", unit_price=price, item_kind="service"),
                actor=self.desk,
            )
        for price in product_prices[:products]:
            invoice_add_line(
                invoice=invoice,
                entry=LineEntry(description="Tape", unit_price=price, item_kind="product"),
                actor=self.desk,
            )
        if split is not None:
            invoice_bill_payer(
                invoice=invoice,
                payer=self.payer,
                payer_share=share_of(invoice.total, split),
                actor=self.desk,
            )
        invoice = invoice_issue(invoice=invoice, actor=self.desk)
        self.expected[patient.pk] += invoice.total

    @rule(who=PICK, how=AMOUNT, picks=PICKS, method=st.sampled_from(["cash", "debit"]))
    def the_patient_pays(
        self,
        who: int,
        how: tuple[str, Decimal],
        picks: list[tuple[int, str, Decimal]],
        method: str,
    ) -> None:
        patient = self.pick(self.patients, who)
        assert isinstance(patient, Patient)
        # Mostly their own invoices; now and then someone else's, which is refused.
        own = [i for i in self.issued() if i.patient_id == patient.pk]
        invoices = self.issued() if who % 7 == 0 else own
        applies = self.applies(invoices, picks, by_payer=False)
        amount = self.amount(applies, how)
        payment = self.attempt(
            lambda: payment_record(
                patient=patient,
                method=method,
                amount=amount,
                received_on=DAY,
                actor=self.desk,
                allocations=applies,
            )
        )
        if payment is not None:
            self.expected[patient.pk] -= cents(amount)

    @rule(who=PICK, how=AMOUNT, picks=PICKS)
    def the_payer_pays(
        self, who: int, how: tuple[str, Decimal], picks: list[tuple[int, str, Decimal]]
    ) -> None:
        billed = [i for i in self.issued() if i.payer_id == self.payer.pk]
        # Now and then an invoice not billed to the payer, which is refused.
        invoices = self.issued() if who % 7 == 0 else billed
        applies = self.applies(invoices, picks, by_payer=True)
        amount = self.amount(applies, how)
        payment = self.attempt(
            lambda: payment_record(
                payer=self.payer,
                method=PaymentMethod.INSURER,
                amount=amount,
                received_on=DAY,
                actor=self.desk,
                allocations=applies,
            )
        )
        if payment is not None:
            for apply in applies:
                self.expected[apply.invoice.patient_id] -= cents(apply.amount)

    @rule(which=PICK, picks=PICKS)
    def money_left_on_a_payment_is_put_towards_invoices(
        self, which: int, picks: list[tuple[int, str, Decimal]]
    ) -> None:
        payment = self.pick(list(Payment.objects.order_by("pk")), which)
        if not isinstance(payment, Payment):
            return
        invoices = [
            i
            for i in self.issued()
            if (payment.payer_id is None and i.patient_id == payment.patient_id)
            or (payment.payer_id is not None and i.payer_id == payment.payer_id)
        ]
        applies = self.applies(invoices, picks, by_payer=payment.payer_id is not None)
        done = self.attempt(
            lambda: payment_allocate(payment=payment, allocations=applies, actor=self.desk)
        )
        if done is not None and payment.payer_id is not None:
            for apply in applies:
                self.expected[apply.invoice.patient_id] -= cents(apply.amount)

    @rule(which=PICK, whole=st.booleans(), amount=CENTS)
    def an_invoice_is_corrected(self, which: int, whole: bool, amount: Decimal) -> None:
        invoice = self.pick(self.issued(), which)
        if not isinstance(invoice, Invoice):
            return
        line = invoice.lines.order_by("pk").first()
        assert line is not None
        payer_paid = payer_paid_on(invoice)
        note = self.attempt(
            lambda: credit_note_issue(
                invoice=invoice,
                amounts=None if whole else {line.pk: amount},
                reason="Corrected",
                actor=self.desk,
            )
        )
        if isinstance(note, Invoice):
            self.expected[invoice.patient_id] -= note.total
            # What the payer had paid beyond what it now owes goes back to the payer's credit.
            self.expected[invoice.patient_id] += payer_paid - payer_paid_on(invoice)

    @rule(which=PICK)
    def a_paid_invoice_is_taken_back_whole(self, which: int) -> None:
        """Both shares paid in full, then a credit note for everything: the money goes back.

        The patient's payment becomes their account credit and the payer's becomes the
        payer's, so the patient's balance is minus what they paid. What is expected is
        reckoned from the amounts paid here, not read back from the rows.
        """
        invoice = self.pick([i for i in self.issued() if not i.credit_notes.exists()], which)
        if not isinstance(invoice, Invoice):
            return
        patient = invoice.patient
        owed = figures_for([invoice])[invoice.pk]
        paid_by_patient, paid_by_payer = owed.patient_due, owed.payer_due
        credit_before = patient_account(patient).credit
        if paid_by_patient > 0:
            payment_record(
                patient=patient,
                method="debit",
                amount=paid_by_patient,
                received_on=DAY,
                actor=self.desk,
                allocations=[Apply(invoice=invoice, amount=paid_by_patient)],
            )
            self.expected[patient.pk] -= paid_by_patient
        payer_payment = None
        if paid_by_payer > 0:
            payer_payment = payment_record(
                payer=self.payer,
                method=PaymentMethod.INSURER,
                amount=paid_by_payer,
                received_on=DAY,
                actor=self.desk,
                allocations=[Apply(invoice=invoice, amount=paid_by_payer)],
            )
            self.expected[patient.pk] -= paid_by_payer
        note = credit_note_issue(
            invoice=invoice, amounts=None, reason="Wrong patient", actor=self.desk
        )
        assert note.total == invoice.total
        # The invoice is gone; whatever the payer paid on it, earlier and now, is the payer's
        # again, not the patient's.
        self.expected[patient.pk] += owed.paid_by_payer + paid_by_payer - note.total
        after = figures_for([invoice])[invoice.pk]
        assert (after.patient_due, after.payer_due, after.paid) == (ZERO, ZERO, ZERO)
        # Everything the patient had paid on it, earlier and now, is their credit again.
        assert patient_account(patient).credit == (
            credit_before + owed.paid_by_patient + paid_by_patient
        )
        if payer_payment is not None:
            assert payment_left(payer_payment) == paid_by_payer

    @rule(which=PICK, amount=st.one_of(st.none(), CENTS))
    def account_credit_pays_an_invoice(self, which: int, amount: Decimal | None) -> None:
        invoice = self.pick(self.issued(), which)
        if isinstance(invoice, Invoice):
            self.attempt(lambda: credit_apply(invoice=invoice, amount=amount, actor=self.desk))

    @rule(which=PICK, amount=CENTS)
    def money_is_given_back(self, which: int, amount: Decimal) -> None:
        payment = self.pick(list(Payment.objects.order_by("pk")), which)
        if not isinstance(payment, Payment):
            return
        refund = self.attempt(
            lambda: refund_issue(
                payment=payment,
                amount=amount,
                reason="Given back",
                refunded_on=DAY + dt.timedelta(days=1),
                actor=self.desk,
            )
        )
        if refund is not None and payment.patient_id is not None:
            self.expected[payment.patient_id] += cents(amount)

    # -- what always holds -----------------------------------------------------------------

    @invariant()
    def every_balance_adds_up_the_same_four_ways(self) -> None:
        listed = balances_for([p.pk for p in self.patients])
        dues = dues_for([p.pk for p in self.patients])
        for patient in self.patients:
            from_rows = balance_from_rows(patient)
            account = patient_account(patient)
            assert from_rows == self.expected[patient.pk]
            assert account.balance == from_rows
            assert listed[patient.pk] == from_rows
            # The calendar's "what the patient owes" is the account's, net of their credit.
            assert dues[patient.pk].balance == from_rows
            assert dues[patient.pk].payers_owe == account.payers_owe
            assert dues[patient.pk].patient_owes == account.patient_owes - account.credit

    @invariant()
    def no_payment_gives_out_more_than_it_has(self) -> None:
        for payment in Payment.objects.prefetch_related("allocations", "refunds"):
            allocated = sum((a.amount for a in payment.allocations.all()), ZERO)
            refunded = sum((r.amount for r in payment.refunds.all()), ZERO)
            assert allocated >= 0
            assert allocated + refunded <= payment.amount

    @invariant()
    def no_share_is_paid_beyond_what_it_owes(self) -> None:
        for figures in figures_for(self.issued()).values():
            assert figures.patient_due >= 0
            assert figures.payer_due >= 0
            assert figures.credited <= figures.total


@pytest.fixture
def world(location: Location, front_desk: User, patient: Patient, other_patient: Patient) -> dict:
    """Three patients, an insurer, and products taxed at this location."""
    third = Patient.objects.create(
        given_name="Third", family_name="Example", date_of_birth=dt.date(1980, 1, 1)
    )
    TaxRate.objects.create(
        location=location, item_kind=ItemKind.PRODUCT, name="GST+PST", rate_percent=Decimal("12")
    )
    return {
        "front_desk": front_desk,
        "location": location,
        "patients": [patient, other_patient, third],
        "payer": payer(),
    }


@pytest.mark.django_db
def test_no_sequence_of_billing_operations_lets_the_books_disagree(world: dict) -> None:
    Books.world = world
    run_state_machine_as_test(
        Books,
        settings=settings(
            max_examples=30,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.mark.django_db
def test_a_taxed_line_whose_figures_are_not_binary_fractions_can_be_invoiced(
    location: Location, front_desk: User, patient: Patient
) -> None:
    TaxRate.objects.create(
        location=location, item_kind=ItemKind.PRODUCT, name="GST+PST", rate_percent=Decimal("12")
    )
    invoice = invoice_create(patient=patient, location=location, actor=front_desk, service_date=DAY)
    # 2 x 14.95 = 29.90, and 12% of it is 3.588, which rounds to 3.59: 33.49 in all.
    invoice_add_line(
        invoice=invoice,
        entry=LineEntry(description="Tape", unit_price=Decimal("14.95"), quantity=Decimal("2")),
        actor=front_desk,
    )
    invoice.refresh_from_db()
    assert invoice.total == Decimal("33.49")
