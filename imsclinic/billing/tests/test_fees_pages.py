"""The fee policy where patients meet it, and the front desk's page for waiving a fee."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from imsclinic.billing.models import (
    CancellationFeePolicy,
    FeeEvent,
    FeeWaiver,
    Invoice,
    InvoiceKind,
    InvoicePurpose,
    ItemKind,
    ServiceFee,
    TaxRate,
)
from imsclinic.billing.selectors import patient_account
from imsclinic.billing.tasks import send_fee_email
from imsclinic.scheduling.models import Appointment, NoticeKind
from imsclinic.scheduling.notifications import send_notice_email
from imsclinic.scheduling.services.booking import appointment_cancel
from imsclinic.scheduling.tasks import send_appointment_notice
from tests.factories.billing import fee_policy, issued_invoice
from tests.factories.clients import signed_in
from tests.factories.scheduling import weekday_shifts

pytestmark = pytest.mark.django_db

FORTY = "Cancelling less than 24 hours before, or missing the visit, costs $40."


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def visit_in(patient, physio, location, service, ahead: dt.timedelta) -> Appointment:
    start = timezone.now() + ahead
    return Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=service.duration_minutes),
    )


@pytest.fixture
def same_fee_for_both(assessment):
    fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
    fee_policy(assessment, FeeEvent.NO_SHOW, amount="40")


class TestThePolicyIsStated:
    def test_the_confirmation_email_states_the_policy_in_both_parts(
        self, patient, physio, location, assessment, same_fee_for_both
    ):
        visit = visit_in(patient, physio, location, assessment, dt.timedelta(days=3))
        assert send_notice_email(appointment=visit, kind=NoticeKind.CONFIRMATION)
        (message,) = mail.outbox
        assert isinstance(message, mail.EmailMultiAlternatives)
        assert FORTY in message.body
        html_part = message.alternatives[0][0]
        assert isinstance(html_part, str)
        assert FORTY in html_part

    def test_the_reminder_states_it_too_and_the_cancellation_does_not(
        self, patient, physio, location, assessment, same_fee_for_both
    ):
        visit = visit_in(patient, physio, location, assessment, dt.timedelta(hours=30))
        send_notice_email(appointment=visit, kind=NoticeKind.REMINDER)
        send_notice_email(appointment=visit, kind=NoticeKind.CANCELLATION)
        reminder, cancellation = mail.outbox
        assert FORTY in reminder.body
        assert "costs" not in cancellation.body

    def test_the_cancellation_of_a_late_cancelled_visit_names_the_fee_charged(
        self, patient, physio, front_desk, location, assessment, same_fee_for_both
    ):
        visit = visit_in(patient, physio, location, assessment, dt.timedelta(hours=3))
        appointment_cancel(
            appointment=visit,
            actor=front_desk,
            reason="Phoned in sick",
            cancelled_by="patient",
            notify=False,
        )
        fee = Invoice.objects.get(appointment=visit, purpose=InvoicePurpose.FEE)
        send_notice_email(appointment=visit, kind=NoticeKind.CANCELLATION)
        (message,) = mail.outbox
        assert f"late-cancellation fee of $40 is charged (invoice {fee.display_number}" in (
            message.body
        )
        assert isinstance(message, mail.EmailMultiAlternatives)
        html_part = message.alternatives[0][0]
        assert isinstance(html_part, str)
        assert fee.display_number in html_part

    def test_an_email_for_a_service_without_a_fee_says_nothing_of_one(
        self, patient, physio, location, assessment
    ):
        visit = visit_in(patient, physio, location, assessment, dt.timedelta(days=3))
        send_notice_email(appointment=visit, kind=NoticeKind.CONFIRMATION)
        assert "costs" not in mail.outbox[0].body

    def test_different_fees_and_a_taxed_share_are_each_stated_with_the_clinic_window(
        self, clinic, patient, physio, location, assessment
    ):
        clinic.late_cancellation_hours = 48
        clinic.save()
        ServiceFee.objects.create(service=assessment, location=location, price=Decimal("120"))
        TaxRate.objects.create(
            location=location, item_kind=ItemKind.FEE, name="GST", rate_percent=Decimal("5")
        )
        fee_policy(assessment, FeeEvent.LATE_CANCEL, share="50")
        fee_policy(assessment, FeeEvent.NO_SHOW, amount="75")
        visit = visit_in(patient, physio, location, assessment, dt.timedelta(days=3))
        send_notice_email(appointment=visit, kind=NoticeKind.CONFIRMATION)
        assert (
            "Cancelling less than 48 hours before costs $60 plus GST; "
            "missing the visit costs $75 plus GST." in mail.outbox[0].body
        )

    def test_the_portal_booking_pages_state_the_policy(
        self, cast, patient, physio, location, assessment, same_fee_for_both
    ):
        weekday_shifts(location, [physio], timezone.localdate() - dt.timedelta(7))
        client = signed_in(cast["patient"])
        picker = client.get(
            reverse("portal_book"),
            {
                "service": assessment.slug,
                "practitioner": physio.practitioner.pk,
                "week": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            },
        )
        chosen = html.unescape(
            re.findall(r'<a href="([^"]+)"[^>]*class="slot"', picker.content.decode())[0]
        )
        assert FORTY in text_of(client.get(chosen))
        visit = visit_in(patient, physio, location, assessment, dt.timedelta(days=3))
        assert FORTY in text_of(client.get(reverse("portal_booked", args=[visit.pk])))
        assert FORTY in text_of(client.get(reverse("portal_cancel", args=[visit.pk])))

    def test_the_public_booking_page_states_a_share_as_a_share(self, client, clinic, assessment):
        fee_policy(assessment, FeeEvent.NO_SHOW, share="50")
        page = text_of(client.get(reverse("book")))
        assert "Missing the visit costs 50% of the visit's fee." in page

    def test_the_tag_prices_a_share_at_the_location(self, clinic, location, assessment):
        fee_policy(assessment, FeeEvent.LATE_CANCEL, share="20")
        rendered = Template("{% load fee_tags %}{% fee_policy service location %}").render(
            Context({"service": assessment, "location": location})
        )
        # 20% of the assessment's own 150.00, as no price is set at this location.
        assert rendered == "Cancelling less than 24 hours before costs $30."


class TestTheWaivePage:
    @pytest.fixture
    def fee(self, patient, physio, front_desk, location, assessment) -> Invoice:
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        visit = visit_in(patient, physio, location, assessment, dt.timedelta(hours=3))
        appointment_cancel(
            appointment=visit, actor=front_desk, reason="Phoned in sick", cancelled_by="patient"
        )
        return Invoice.objects.get(appointment=visit, purpose=InvoicePurpose.FEE)

    def test_only_the_front_desk_and_the_owner_may_open_it(self, cast, fee):
        url = reverse("billing_fee_waive", args=[fee.pk])
        got = {}
        for who, user in cast.items():
            client = signed_in(user) if user is not None else Client()
            got[who] = client.get(url).status_code
        assert got == {
            "anonymous": 302,
            "patient": 403,
            "other_patient": 403,
            "front_desk": 200,
            "physio": 403,
            "other_physio": 403,
            "owner": 200,
        }

    def test_the_front_desk_waives_with_a_reason_and_sees_it_waived(self, cast, fee, patient):
        client = signed_in(cast["front_desk"])
        url = reverse("billing_fee_waive", args=[fee.pk])
        page = text_of(client.get(url))
        assert "Late-cancellation fee: IMS initial assessment on" in page
        assert "40.00" in page
        response = client.post(url, {"reason": "Patient was in hospital"})
        assert response.status_code == 302
        waiver = FeeWaiver.objects.get(fee_invoice=fee)
        assert waiver.waived_by == cast["front_desk"]
        after = text_of(client.get(url))
        assert "Waived" in after
        assert waiver.credit_note is not None
        assert waiver.credit_note.display_number in after
        assert "Patient was in hospital" in after
        assert patient_account(patient).patient_owes == Decimal("0.00")

    def test_the_owner_may_waive_too(self, cast, fee):
        url = reverse("billing_fee_waive", args=[fee.pk])
        signed_in(cast["owner"]).post(url, {"reason": "Goodwill"})
        assert FeeWaiver.objects.filter(fee_invoice=fee).exists()

    def test_without_a_reason_the_form_says_so_and_nothing_is_waived(self, cast, fee):
        url = reverse("billing_fee_waive", args=[fee.pk])
        response = signed_in(cast["front_desk"]).post(url, {"reason": ""})
        assert response.status_code == 400
        assert "This field is required." in text_of(response)
        assert not FeeWaiver.objects.exists()
        assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()

    def test_a_practitioner_cannot_waive_by_posting(self, cast, fee):
        url = reverse("billing_fee_waive", args=[fee.pk])
        assert signed_in(cast["physio"]).post(url, {"reason": "Goodwill"}).status_code == 403
        assert not FeeWaiver.objects.exists()

    def test_an_invoice_that_is_not_a_fee_is_not_found(self, cast, patient, location):
        invoice = issued_invoice(patient, location, cast["front_desk"])
        url = reverse("billing_fee_waive", args=[invoice.pk])
        assert signed_in(cast["front_desk"]).get(url).status_code == 404

    def test_the_fee_invoice_offers_the_waiver_until_it_is_waived(self, cast, fee):
        client = signed_in(cast["front_desk"])
        invoice_url = reverse("billing_invoice", args=[fee.pk])
        waive_url = reverse("billing_fee_waive", args=[fee.pk])
        assert waive_url in client.get(invoice_url).content.decode()
        client.post(waive_url, {"reason": "First missed visit in three years"})
        assert waive_url not in client.get(invoice_url).content.decode()


class TestTheStaffCancelPage:
    def test_inside_the_window_it_names_the_fee_the_patient_will_be_charged(
        self, patient, physio, front_desk, location, assessment
    ):
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        visit = visit_in(patient, physio, location, assessment, dt.timedelta(hours=3))
        page = text_of(
            signed_in(front_desk).get(reverse("appointment_cancel_staff", args=[visit.pk]))
        )
        assert "charged the late-cancellation fee of 40.00" in page

    def test_outside_the_window_or_without_a_policy_it_names_no_fee(
        self, patient, physio, front_desk, location, assessment
    ):
        early = visit_in(patient, physio, location, assessment, dt.timedelta(days=3))
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        page = text_of(
            signed_in(front_desk).get(reverse("appointment_cancel_staff", args=[early.pk]))
        )
        assert "late-cancellation fee" not in page
        CancellationFeePolicy.objects.all().delete()
        late = visit_in(patient, physio, location, assessment, dt.timedelta(hours=3))
        page = text_of(
            signed_in(front_desk).get(reverse("appointment_cancel_staff", args=[late.pk]))
        )
        assert "late-cancellation fee" not in page


class TestWhoCancelled:
    """The desk says who called a late visit off: the patient pays its fee, the clinic not."""

    @pytest.fixture
    def late_visit(self, patient, physio, location, assessment) -> Appointment:
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        return visit_in(patient, physio, location, assessment, dt.timedelta(hours=3))

    @staticmethod
    def cancel_on_the_page(front_desk, visit, **choice: str):
        return signed_in(front_desk).post(
            reverse("appointment_cancel_staff", args=[visit.pk]),
            {"reason": "Practitioner ill", **choice},
        )

    @staticmethod
    def cancellation_email() -> mail.EmailMultiAlternatives:
        (row,) = DBTaskResult.objects.filter(task_path=send_appointment_notice.module_path)
        result = row.task_result
        row.task.call(*result.args, **result.kwargs)
        (message,) = mail.outbox
        assert isinstance(message, mail.EmailMultiAlternatives)
        return message

    def test_inside_the_window_nothing_is_chosen_and_the_desk_must_choose(
        self, front_desk, late_visit
    ):
        url = reverse("appointment_cancel_staff", args=[late_visit.pk])
        page = signed_in(front_desk).get(url).content.decode()
        assert 'name="cancelled_by" value="patient"' in page
        assert 'name="cancelled_by" value="clinic"' in page
        assert "checked" not in page
        response = self.cancel_on_the_page(front_desk, late_visit)
        assert response.status_code == 200
        assert response.context["form"].errors["cancelled_by"] == [
            "Say whether the patient or the clinic cancelled."
        ]
        late_visit.refresh_from_db()
        assert late_visit.status == "booked"
        assert not Invoice.objects.filter(appointment=late_visit).exists()

    def test_a_cancellation_by_the_clinic_charges_nothing_and_the_email_apologises(
        self, front_desk, late_visit
    ):
        response = self.cancel_on_the_page(front_desk, late_visit, cancelled_by="clinic")
        assert response.status_code == 302
        late_visit.refresh_from_db()
        assert (late_visit.status, late_visit.cancelled_late, late_visit.cancelled_by) == (
            "cancelled",
            True,
            "clinic",
        )
        assert not Invoice.objects.filter(appointment=late_visit).exists()
        message = self.cancellation_email()
        html_part = str(message.alternatives[0][0])
        for part in (str(message.body), html_part):
            text = re.sub(r"\s+", " ", part)
            assert "We are sorry: we have had to cancel your visit." in text
            assert "The clinic cancelled this visit, not you, so there is nothing to pay" in text
            assert "We apologise" in text
            assert "find you another time" in text
            assert "late-cancellation fee" not in text
        assert "Practitioner ill" not in message.body

    def test_a_late_cancellation_by_the_patient_is_charged_and_the_email_names_the_fee(
        self, front_desk, late_visit
    ):
        response = self.cancel_on_the_page(front_desk, late_visit, cancelled_by="patient")
        assert response.status_code == 302
        late_visit.refresh_from_db()
        assert late_visit.cancelled_by == "patient"
        fee = Invoice.objects.get(appointment=late_visit, purpose=InvoicePurpose.FEE)
        assert fee.total == Decimal("40.00")
        message = self.cancellation_email()
        assert f"a late-cancellation fee of $40 is charged (invoice {fee.display_number}" in (
            re.sub(r"\s+", " ", str(message.body))
        )
        assert "We apologise" not in message.body

    def test_outside_the_window_the_desk_need_not_say_and_nothing_is_charged(
        self, patient, physio, location, assessment, front_desk
    ):
        fee_policy(assessment, FeeEvent.LATE_CANCEL, amount="40")
        visit = visit_in(patient, physio, location, assessment, dt.timedelta(days=3))
        response = signed_in(front_desk).post(
            reverse("appointment_cancel_staff", args=[visit.pk]), {"reason": ""}
        )
        assert response.status_code == 302
        visit.refresh_from_db()
        assert (visit.status, visit.cancelled_late, visit.cancelled_by) == ("cancelled", False, "")
        assert not Invoice.objects.filter(appointment=visit).exists()


def emails_about_fees() -> list[mail.EmailMultiAlternatives]:
    """Run the queued fee emails as the worker would; return what went out."""
    for row in DBTaskResult.objects.filter(task_path=send_fee_email.module_path):
        result = row.task_result
        row.task.call(*result.args, **result.kwargs)
    messages = [m for m in mail.outbox if isinstance(m, mail.EmailMultiAlternatives)]
    assert len(messages) == len(mail.outbox)
    return messages


def flat(text: object) -> str:
    return re.sub(r"\s+", " ", str(text))


class TestThePatientIsToldOfFees:
    def test_a_no_show_fee_is_emailed_with_its_amount_the_policy_and_how_to_pay(
        self, patient, physio, front_desk, location, assessment, same_fee_for_both
    ):
        visit = visit_in(patient, physio, location, assessment, -dt.timedelta(minutes=30))
        response = signed_in(front_desk).post(
            reverse("appointment_status", args=[visit.pk]), {"status": "no_show"}
        )
        assert response.status_code == 302
        fee = Invoice.objects.get(appointment=visit, purpose=InvoicePurpose.FEE)
        (message,) = emails_about_fees()
        assert message.to == [patient.contact_email]
        assert message.subject.startswith("No-show fee: IMS initial assessment on ")
        for part in (flat(message.body), flat(message.alternatives[0][0])):
            assert "It is recorded as a no-show." in part
            assert f"a no-show fee of $40 is charged (invoice {fee.display_number})" in part
            assert FORTY in part
            assert "You can pay it at the clinic or by e-transfer." in part
            assert "or you have a question about this fee, call us at" in part

    def test_a_late_cancellation_fee_gets_no_second_email(
        self, patient, physio, front_desk, location, assessment, same_fee_for_both
    ):
        visit = visit_in(patient, physio, location, assessment, dt.timedelta(hours=3))
        appointment_cancel(
            appointment=visit, actor=front_desk, reason="Phoned", cancelled_by="patient"
        )
        assert Invoice.objects.filter(appointment=visit, purpose=InvoicePurpose.FEE).exists()
        assert emails_about_fees() == []

    def test_waiving_a_fee_tells_the_patient_there_is_nothing_to_pay(
        self, patient, physio, front_desk, location, assessment, same_fee_for_both
    ):
        visit = visit_in(patient, physio, location, assessment, dt.timedelta(hours=3))
        appointment_cancel(
            appointment=visit, actor=front_desk, reason="Phoned", cancelled_by="patient"
        )
        fee = Invoice.objects.get(appointment=visit, purpose=InvoicePurpose.FEE)
        response = signed_in(front_desk).post(
            reverse("billing_fee_waive", args=[fee.pk]), {"reason": "Patient was in hospital"}
        )
        assert response.status_code == 302
        credit_note = FeeWaiver.objects.get(fee_invoice=fee).credit_note
        assert credit_note is not None
        (message,) = emails_about_fees()
        assert message.subject.startswith("Fee waived: IMS initial assessment on ")
        for part in (flat(message.body), flat(message.alternatives[0][0])):
            assert "The late-cancellation fee of $40 for your visit on" in part
            assert f"(invoice {fee.display_number}) has been waived." in part
            assert f"credit note {credit_note.display_number}: you do not need to pay it" in part
            assert "hospital" not in part
