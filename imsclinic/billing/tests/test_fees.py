"""A late cancellation or a no-show is charged its fee at once; the front desk may waive it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import (
    FeeEvent,
    FeeWaiver,
    Invoice,
    InvoiceKind,
    InvoicePurpose,
    InvoiceStatus,
    ItemKind,
    PaymentMethod,
    ServiceFee,
    TaxRate,
)
from imsclinic.billing.selectors import invoice_figures, patient_account
from imsclinic.billing.services.fees import fee_for_visit, fee_waive
from imsclinic.billing.services.payments import Apply, payment_record
from imsclinic.core.models import AuditEvent
from imsclinic.scheduling.models import AppointmentStatus
from imsclinic.scheduling.services.booking import (
    appointment_cancel,
    appointment_reschedule,
    appointment_set_status,
)
from tests.factories.billing import fee_policy
from tests.factories.scheduling import MONDAY, NOW, at, book, weekday_shifts

pytestmark = pytest.mark.django_db

TWO_HOURS_BEFORE = at(9) - dt.timedelta(hours=2)


@pytest.fixture
def visit(patient, front_desk, physio, location, assessment):
    """The patient's 09:00 assessment on Monday, booked a week ahead."""
    weekday_shifts(location, [physio], dt.date(2030, 1, 1))
    return book(patient, physio, assessment, at(9), front_desk)


def fees_of(visit) -> list[Invoice]:
    return list(Invoice.objects.filter(appointment=visit, purpose=InvoicePurpose.FEE))


def cancel_late(visit, front_desk):
    return appointment_cancel(
        appointment=visit,
        actor=front_desk,
        reason="Phoned in sick",
        cancelled_by="patient",
        now=TWO_HOURS_BEFORE,
    )


def mark_no_show(visit, front_desk):
    return appointment_set_status(
        appointment=visit, status=AppointmentStatus.NO_SHOW, actor=front_desk, now=at(9, 20)
    )


class TestTheFeeIsCharged:
    def test_a_late_cancel_by_staff_issues_a_fee_invoice_of_the_fixed_amount(
        self, visit, front_desk, patient, assessment
    ):
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        cancel_late(visit, front_desk)
        (fee,) = fees_of(visit)
        assert (fee.kind, fee.status, fee.fee_event) == (
            InvoiceKind.INVOICE,
            InvoiceStatus.ISSUED,
            FeeEvent.LATE_CANCEL,
        )
        assert fee.number is not None and fee.issued_by == front_desk
        assert fee.patient == patient and fee.payer is None
        assert fee.service_date == MONDAY
        (line,) = fee.lines.all()
        assert line.item_kind == ItemKind.FEE
        assert line.description == "Late-cancellation fee: IMS initial assessment on 3 March 2031"
        assert (line.amount, fee.total) == (Decimal("40.00"), Decimal("40.00"))
        assert patient_account(patient).patient_owes == Decimal("40.00")

    def test_a_share_is_of_the_location_price_rounded_once_half_up_and_taxed_as_a_fee(
        self, visit, front_desk, location, assessment
    ):
        ServiceFee.objects.create(service=assessment, location=location, price=Decimal("87.46"))
        TaxRate.objects.create(
            location=location, item_kind=ItemKind.FEE, name="GST", rate_percent=Decimal("5")
        )
        fee_policy(assessment, FeeEvent.LATE_CANCEL, share="25")
        cancel_late(visit, front_desk)
        (fee,) = fees_of(visit)
        (line,) = fee.lines.all()
        # 25% of 87.46 is 21.865: half-up, once, to 21.87; GST 5% of 21.87 is 1.0935 -> 1.09.
        assert (line.amount, line.tax_name, line.tax_amount) == (
            Decimal("21.87"),
            "GST",
            Decimal("1.09"),
        )
        assert (fee.subtotal, fee.tax_total, fee.total) == (
            Decimal("21.87"),
            Decimal("1.09"),
            Decimal("22.96"),
        )

    def test_cancelling_outside_the_window_charges_nothing_even_by_staff(
        self, visit, front_desk, assessment
    ):
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        appointment_cancel(appointment=visit, actor=front_desk, reason="Holiday", now=NOW)
        assert fees_of(visit) == []

    def test_a_patient_cancelling_outside_the_window_is_charged_nothing(
        self, visit, patient_user, assessment
    ):
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        fee_policy(assessment, FeeEvent.NO_SHOW, amount="60")
        appointment_cancel(appointment=visit, actor=patient_user, now=NOW)
        assert fees_of(visit) == []

    def test_a_no_show_issues_the_no_show_fee(self, visit, front_desk, patient, assessment):
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        fee_policy(assessment, FeeEvent.NO_SHOW, amount="60")
        mark_no_show(visit, front_desk)
        (fee,) = fees_of(visit)
        assert (fee.status, fee.fee_event, fee.total) == (
            InvoiceStatus.ISSUED,
            FeeEvent.NO_SHOW,
            Decimal("60.00"),
        )
        assert fee.lines.get().description == "No-show fee: IMS initial assessment on 3 March 2031"

    def test_a_service_without_a_policy_is_charged_nothing(self, visit, front_desk):
        cancel_late(visit, front_desk)
        assert fees_of(visit) == []

    def test_moving_a_visit_inside_the_window_is_not_a_late_cancellation(
        self, visit, front_desk, assessment
    ):
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        appointment_reschedule(
            appointment=visit,
            start=at(14, day=MONDAY + dt.timedelta(days=1)),
            actor=front_desk,
            reason="Patient asked for the afternoon",
            now=TWO_HOURS_BEFORE,
        )
        visit.refresh_from_db()
        assert visit.cancelled_late is True
        assert not Invoice.objects.filter(purpose=InvoicePurpose.FEE).exists()

    def test_a_late_cancel_policy_alone_does_not_charge_a_no_show(
        self, visit, front_desk, assessment
    ):
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        mark_no_show(visit, front_desk)
        assert fees_of(visit) == []

    def test_a_visit_is_charged_one_fee_at_most(self, visit, front_desk, assessment):
        fee_policy(assessment, FeeEvent.NO_SHOW, amount="60")
        mark_no_show(visit, front_desk)
        visit.refresh_from_db()
        again = fee_for_visit(appointment=visit, event=FeeEvent.NO_SHOW, actor=front_desk)
        assert fees_of(visit) == [again]

    def test_charging_the_fee_is_audited_against_the_patient(
        self, visit, front_desk, patient, assessment
    ):
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        cancel_late(visit, front_desk)
        (fee,) = fees_of(visit)
        created = AuditEvent.objects.get(object_type="invoice", action="create")
        assert (created.object_id, created.patient_id, created.actor) == (
            str(fee.pk),
            patient.pk,
            front_desk,
        )
        assert created.detail["event"] == "late_cancel"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_late_cancel_commits_with_its_issued_fee(
    visit, front_desk, patient, assessment
):
    fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
    fee_policy(assessment, FeeEvent.NO_SHOW, amount="60")
    cancel_late(visit, front_desk)
    (fee,) = fees_of(visit)
    assert (fee.status, fee.total) == (InvoiceStatus.ISSUED, Decimal("40.00"))
    assert patient_account(patient).balance == Decimal("40.00")


class TestWaiving:
    @pytest.fixture
    def fee(self, visit, front_desk, assessment) -> Invoice:
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        cancel_late(visit, front_desk)
        return fees_of(visit)[0]

    def test_waiving_needs_a_reason(self, fee, front_desk):
        with pytest.raises(BillingRefused) as refused:
            fee_waive(fee_invoice=fee, reason="  ", actor=front_desk)
        assert refused.value.errors == {"reason": "Say why the fee is waived."}
        assert not FeeWaiver.objects.exists()

    def test_a_waived_fee_is_credited_in_full_and_the_patient_owes_nothing(
        self, fee, front_desk, patient
    ):
        waiver = fee_waive(fee_invoice=fee, reason="Patient was in hospital", actor=front_desk)
        note = waiver.credit_note
        assert note is not None
        assert (note.kind, note.status, note.corrects, note.total) == (
            InvoiceKind.CREDIT_NOTE,
            InvoiceStatus.ISSUED,
            fee,
            Decimal("40.00"),
        )
        assert (waiver.reason, waiver.waived_by) == ("Patient was in hospital", front_desk)
        account = patient_account(patient)
        assert (account.patient_owes, account.balance) == (Decimal("0.00"), Decimal("0.00"))
        assert invoice_figures(fee).outstanding == Decimal("0.00")

    def test_money_paid_on_a_waived_fee_returns_to_the_account_credit(
        self, fee, front_desk, patient
    ):
        payment_record(
            patient=patient,
            method=PaymentMethod.DEBIT,
            amount=Decimal("40"),
            received_on=MONDAY,
            actor=front_desk,
            allocations=[Apply(fee, Decimal("40"))],
            now=at(12),  # paid on the Monday itself: money is never dated ahead of its day
        )
        assert patient_account(patient).credit == Decimal("0.00")
        fee_waive(fee_invoice=fee, reason="Goodwill", actor=front_desk)
        account = patient_account(patient)
        assert (account.patient_owes, account.credit) == (Decimal("0.00"), Decimal("40.00"))

    def test_a_fee_is_waived_once(self, fee, front_desk):
        fee_waive(fee_invoice=fee, reason="Goodwill", actor=front_desk)
        with pytest.raises(BillingRefused, match="already been waived"):
            fee_waive(fee_invoice=fee, reason="Again", actor=front_desk)
        assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1

    def test_only_a_fee_can_be_waived(self, fee, front_desk, patient, location):
        from tests.factories.billing import issued_invoice

        visit_invoice = issued_invoice(patient, location, front_desk)
        with pytest.raises(BillingRefused, match="Only a late-cancellation or no-show fee"):
            fee_waive(fee_invoice=visit_invoice, reason="Goodwill", actor=front_desk)

    def test_waiving_is_audited_as_a_fee_waiver(self, fee, front_desk, patient):
        waiver = fee_waive(fee_invoice=fee, reason="Goodwill", actor=front_desk)
        event = AuditEvent.objects.get(object_type="fee_waiver")
        assert (event.action, event.object_id, event.patient_id, event.actor) == (
            "create",
            str(waiver.pk),
            patient.pk,
            front_desk,
        )
