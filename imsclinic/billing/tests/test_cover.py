"""The front desk keeps a patient's policies and claims; a claim shows its visits and money."""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from imsclinic.billing.claims import claim_usages
from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import Claim, Invoice, PaymentMethod, Policy
from imsclinic.billing.selectors import local_today
from imsclinic.billing.services.cover import (
    ClaimDetails,
    PolicyDetails,
    claim_close,
    claim_update,
    policy_end,
    policy_update,
)
from imsclinic.billing.services.invoices import invoice_for_visit, invoice_issue
from imsclinic.billing.services.payments import Apply, payment_record
from imsclinic.clinic.models import Service
from imsclinic.core.models import AuditEvent
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from tests.factories.billing import claim, payer, policy
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def cover_url(patient) -> str:
    return reverse("billing_patient_cover", args=[patient.pk])


@pytest.fixture
def treatment(db) -> Service:
    return Service.objects.create(
        name="Physiotherapy treatment",
        slug="physio-treatment",
        duration_minutes=30,
        price=Decimal("120.00"),
        room_kind=Service.RoomKind.NONE,
    )


def visit(patient, physio, service, start: dt.datetime, status=AppointmentStatus.BOOKED):
    practitioner = physio.practitioner
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        location=practitioner.locations.get(),
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=service.duration_minutes),
        status=status,
    )


# Services: policies


def test_the_front_desk_adds_a_policy_and_the_change_is_audited(patient, front_desk):
    insurer = payer()
    added = policy(patient, insurer, front_desk, member_number="  MB-42  ")
    assert (added.member_number, added.is_active) == ("MB-42", True)
    row = AuditEvent.objects.get(object_type="policy", action="create")
    assert (row.actor_id, row.patient_id) == (front_desk.pk, patient.pk)


def test_a_policy_without_a_member_number_is_refused_and_nothing_is_stored(patient, front_desk):
    with pytest.raises(BillingRefused) as refused:
        policy(patient, payer(), front_desk, member_number="   ")
    assert refused.value.field == "member_number"
    assert not Policy.objects.exists()


def test_an_ended_policy_stays_on_record_and_no_longer_changes(patient, front_desk):
    insurer = payer()
    ended = policy_end(policy=policy(patient, insurer, front_desk), actor=front_desk)
    assert Policy.objects.get(pk=ended.pk).is_active is False
    with pytest.raises(BillingRefused):
        policy_update(
            policy=ended,
            details=PolicyDetails(payer=insurer, member_number="NEW-1"),
            actor=front_desk,
        )
    with pytest.raises(BillingRefused):
        policy_end(policy=ended, actor=front_desk)
    assert Policy.objects.get(pk=ended.pk).member_number == "MB-1001"


def test_a_payer_out_of_use_takes_no_new_policy_or_claim(patient, front_desk):
    gone = payer(name="Old Mutual Health")
    gone.is_active = False
    gone.save()
    with pytest.raises(BillingRefused) as refused:
        policy(patient, gone, front_desk)
    assert refused.value.field == "payer"
    with pytest.raises(BillingRefused):
        claim(patient, gone, front_desk)
    assert not Claim.objects.exists()


# Services: claims


def test_a_claim_number_is_taken_once_per_payer(patient, other_patient, front_desk):
    auto = payer(name="Provincial Auto", kind="auto")
    claim(patient, auto, front_desk, number="AUTO-1")
    with pytest.raises(BillingRefused) as refused:
        claim(other_patient, auto, front_desk, number="auto-1")
    assert refused.value.field == "claim_number"
    # Another payer may use the same number.
    claim(other_patient, payer(name="WorkSafe", kind="workers_comp"), front_desk, number="AUTO-1")
    assert Claim.objects.count() == 2


def test_an_authorisation_ending_before_it_starts_is_refused(patient, front_desk):
    with pytest.raises(BillingRefused) as refused:
        claim(
            patient,
            payer(),
            front_desk,
            start=dt.date(2031, 3, 10),
            until=dt.date(2031, 3, 1),
        )
    assert refused.value.field == "authorised_until"
    assert not Claim.objects.exists()


def test_a_claim_under_another_patients_policy_is_refused(patient, other_patient, front_desk):
    insurer = payer()
    theirs = policy(other_patient, insurer, front_desk)
    with pytest.raises(BillingRefused) as refused:
        claim(patient, insurer, front_desk, under=theirs)
    assert refused.value.field == "policy"


def test_more_visits_can_be_authorised_on_an_open_claim_but_a_closed_claim_does_not_change(
    patient, front_desk
):
    auto = payer(name="Provincial Auto", kind="auto")
    case = claim(patient, auto, front_desk, visits=6)
    claim_update(
        claim=case,
        details=ClaimDetails(payer=auto, claim_number=case.claim_number, authorised_visits=12),
        actor=front_desk,
    )
    assert Claim.objects.get(pk=case.pk).authorised_visits == 12
    claim_close(claim=case, actor=front_desk)
    with pytest.raises(BillingRefused):
        claim_update(
            claim=case,
            details=ClaimDetails(payer=auto, claim_number=case.claim_number, authorised_visits=20),
            actor=front_desk,
        )
    stored = Claim.objects.get(pk=case.pk)
    assert (stored.is_open, stored.authorised_visits) == (False, 12)
    assert AuditEvent.objects.filter(object_type="claim").count() == 3


def test_a_visit_after_the_claim_is_closed_is_billed_to_the_patient_alone(
    patient, front_desk, physio, treatment
):
    case = claim(patient, payer(name="Provincial Auto", kind="auto"), front_desk, share="80")
    first = visit(patient, physio, treatment, timezone.now(), AppointmentStatus.COMPLETED)
    assert invoice_for_visit(appointment=first, actor=front_desk).payer_share == Decimal("96.00")
    claim_close(claim=case, actor=front_desk)
    later = visit(
        patient,
        physio,
        treatment,
        timezone.now() + dt.timedelta(hours=2),
        AppointmentStatus.COMPLETED,
    )
    invoice = invoice_for_visit(appointment=later, actor=front_desk)
    assert (invoice.claim, invoice.payer_share) == (None, Decimal("0.00"))


def test_a_visit_beyond_the_authorised_visits_is_billed_to_the_patient_alone(
    patient, front_desk, physio, treatment
):
    case = claim(patient, payer(name="WorkSafe", kind="workers_comp"), front_desk, visits=2)
    days = [timezone.now() - dt.timedelta(days=n) for n in (3, 2, 1)]
    first, second, third = (
        invoice_for_visit(
            appointment=visit(patient, physio, treatment, day, AppointmentStatus.COMPLETED),
            actor=front_desk,
        )
        for day in days
    )

    assert [(i.claim, i.payer_share) for i in (first, second)] == [(case, Decimal("120.00"))] * 2
    assert (third.claim, third.payer, third.payer_share) == (None, None, Decimal("0.00"))
    assert claim_usages(patient, claims=[case])[0].invoiced_visits == 2


def test_a_visit_wholly_credited_back_gives_its_authorised_visit_to_the_next(
    patient, front_desk, physio, treatment
):
    from imsclinic.billing.services.invoices import credit_note_issue

    case = claim(patient, payer(name="WorkSafe", kind="workers_comp"), front_desk, visits=1)
    billed_in_error = invoice_issue(
        invoice=invoice_for_visit(
            appointment=visit(
                patient,
                physio,
                treatment,
                timezone.now() - dt.timedelta(days=2),
                AppointmentStatus.COMPLETED,
            ),
            actor=front_desk,
        ),
        actor=front_desk,
    )
    credit_note_issue(invoice=billed_in_error, amounts=None, reason="Not given", actor=front_desk)
    later = visit(
        patient,
        physio,
        treatment,
        timezone.now() - dt.timedelta(days=1),
        AppointmentStatus.COMPLETED,
    )

    invoice = invoice_for_visit(appointment=later, actor=front_desk)

    assert (invoice.claim, invoice.payer_share) == (case, Decimal("120.00"))


def test_more_visits_authorised_bill_the_next_visit_to_the_payer_again(
    patient, front_desk, physio, treatment
):
    auto = payer(name="Provincial Auto", kind="auto")
    case = claim(patient, auto, front_desk, visits=1)
    for n in (3, 2):
        invoice_for_visit(
            appointment=visit(
                patient,
                physio,
                treatment,
                timezone.now() - dt.timedelta(days=n),
                AppointmentStatus.COMPLETED,
            ),
            actor=front_desk,
        )
    claim_update(
        claim=case,
        details=ClaimDetails(payer=auto, claim_number=case.claim_number, authorised_visits=3),
        actor=front_desk,
    )
    later = visit(
        patient,
        physio,
        treatment,
        timezone.now() - dt.timedelta(days=1),
        AppointmentStatus.COMPLETED,
    )

    assert invoice_for_visit(appointment=later, actor=front_desk).claim == case


# The page


def test_the_front_desk_opens_a_claim_on_the_patients_cover_page(cast, patient):
    auto = payer(name="Provincial Auto", kind="auto")
    client = signed_in(cast["front_desk"])
    response = client.post(
        cover_url(patient),
        {
            "action": "claim_open",
            "claim-payer": auto.pk,
            "claim-claim_number": "AUTO-2031-555",
            "claim-authorised_visits": "8",
            "claim-authorised_from": "2031-03-01",
            "claim-authorised_until": "2031-06-30",
            "claim-payer_share_percent": "100",
        },
    )
    assert response.status_code == 302
    stored = Claim.objects.get(patient=patient)
    assert (stored.claim_number, stored.authorised_visits) == ("AUTO-2031-555", 8)
    page = text_of(client.get(cover_url(patient)))
    assert "Opened the claim." in page
    assert "Provincial Auto · claim AUTO-2031-555" in page
    assert "Authorised visits 8" in page
    assert "2031-03-01 \N{EN DASH} 2031-06-30" in page


def test_the_cover_page_shows_visits_used_and_left_and_what_the_payer_was_billed_and_paid(
    cast, patient, front_desk, physio, treatment
):
    auto = payer(name="Provincial Auto", kind="auto")
    case = claim(patient, auto, front_desk, visits=3, share="75")
    done = visit(
        patient,
        physio,
        treatment,
        timezone.now() - dt.timedelta(days=2),
        AppointmentStatus.COMPLETED,
    )
    invoice = invoice_issue(
        invoice=invoice_for_visit(appointment=done, actor=front_desk), actor=front_desk
    )
    payment_record(
        payer=auto,
        method=PaymentMethod.CHEQUE,
        amount=Decimal("50.00"),
        received_on=local_today(invoice.location),
        allocations=[Apply(invoice=invoice, amount=Decimal("50.00"))],
        actor=front_desk,
    )
    visit(patient, physio, treatment, timezone.now() + dt.timedelta(days=7))
    # A cancelled visit uses nothing.
    visit(
        patient,
        physio,
        treatment,
        timezone.now() + dt.timedelta(days=8),
        AppointmentStatus.CANCELLED,
    )

    page = text_of(signed_in(cast["front_desk"]).get(cover_url(patient)))

    assert "Authorised visits 3" in page
    assert "Visits used 2 (1 invoiced, 1 booked)" in page
    assert "Visits left 1" in page
    assert "Billed to the payer 90.00" in page
    assert "Paid by the payer 50.00" in page
    assert "Payer still owes 40.00" in page
    assert AuditEvent.objects.filter(
        object_type="claim", action="view", actor=cast["front_desk"], patient_id=patient.pk
    ).exists()
    usage = claim_usages(patient, claims=[case])[0]
    assert (usage.used_visits, usage.visits_left) == (2, 1)


def test_bad_input_on_the_cover_page_shows_messages_and_changes_nothing(cast, patient):
    auto = payer(name="Provincial Auto", kind="auto")
    client = signed_in(cast["front_desk"])
    claim(patient, auto, cast["front_desk"], number="TAKEN-1")
    before = AuditEvent.objects.filter(action__in=["create", "update"]).count()

    dates = client.post(
        cover_url(patient),
        {
            "action": "claim_open",
            "claim-payer": auto.pk,
            "claim-claim_number": "AUTO-9",
            "claim-authorised_from": "2031-06-30",
            "claim-authorised_until": "2031-03-01",
            "claim-payer_share_percent": "100",
        },
    )
    taken = client.post(
        cover_url(patient),
        {
            "action": "claim_open",
            "claim-payer": auto.pk,
            "claim-claim_number": "TAKEN-1",
            "claim-payer_share_percent": "100",
        },
    )
    nonsense = client.post(
        cover_url(patient),
        {
            "action": "claim_open",
            "claim-payer": auto.pk,
            "claim-claim_number": "",
            "claim-authorised_visits": "-3",
            "claim-payer_share_percent": "150",
        },
    )
    no_number = client.post(cover_url(patient), {"action": "policy_add", "policy-payer": auto.pk})

    assert [r.status_code for r in (dates, taken, nonsense, no_number)] == [400] * 4
    assert "The authorisation cannot end before it starts." in text_of(dates)
    assert 'value="AUTO-9"' in dates.content.decode()  # what was typed is kept
    assert "Provincial Auto already has a claim numbered TAKEN-1." in text_of(taken)
    assert "Please check these answers" in text_of(nonsense)
    assert "This field is required." in text_of(no_number)
    assert Claim.objects.count() == 1
    assert not Policy.objects.exists()
    assert AuditEvent.objects.filter(action__in=["create", "update"]).count() == before


def test_the_owner_corrects_then_ends_a_policy_on_the_page(cast, patient):
    insurer = payer()
    held = policy(patient, insurer, cast["front_desk"])
    client = signed_in(cast["owner"])
    prefix = f"policy-{held.pk}"
    saved = client.post(
        cover_url(patient),
        {
            "action": "policy_update",
            "policy_id": held.pk,
            f"{prefix}-payer": insurer.pk,
            f"{prefix}-member_number": "MB-2002",
            f"{prefix}-plan_name": "Group 88",
            f"{prefix}-holder_name": "Sam Ient",
            f"{prefix}-holder_relationship": "spouse",
        },
    )
    assert saved.status_code == 302
    ended = client.post(cover_url(patient), {"action": "policy_end", "policy_id": held.pk})
    assert ended.status_code == 302
    held.refresh_from_db()
    assert (held.member_number, held.plan_name, held.is_active) == ("MB-2002", "Group 88", False)
    page = text_of(client.get(cover_url(patient)))
    assert "Sam Ient (spouse)" in page and "Ended" in page
    assert "Change this policy" not in page


def test_another_patients_claim_cannot_be_closed_from_this_page(cast, patient, other_patient):
    theirs = claim(other_patient, payer(), cast["front_desk"])
    response = signed_in(cast["front_desk"]).post(
        cover_url(patient), {"action": "claim_close", "claim_id": theirs.pk}, follow=True
    )
    assert "That claim is not on this patient's record." in text_of(response)
    assert Claim.objects.get(pk=theirs.pk).is_open


def test_closing_a_claim_on_the_page_keeps_it_listed_as_closed(cast, patient):
    case = claim(patient, payer(), cast["front_desk"])
    client = signed_in(cast["front_desk"])
    client.post(cover_url(patient), {"action": "claim_close", "claim_id": case.pk})
    page = text_of(client.get(cover_url(patient)))
    assert "The claim is closed." in page
    assert "Closed" in page and "Close this claim" not in page
    assert Claim.objects.get(pk=case.pk).is_open is False


@pytest.mark.parametrize(
    ("who", "status"), [("physio", 403), ("other_physio", 404), ("patient", 404)]
)
def test_practitioners_and_patients_do_not_see_a_patients_cover(cast, patient, who, status):
    claim(patient, payer(), cast["front_desk"], number="HIDDEN-1")
    response = signed_in(cast[who]).get(cover_url(patient))
    assert response.status_code == status
    assert "HIDDEN-1" not in response.content.decode()
    assert AuditEvent.objects.filter(actor=cast[who], outcome="denied").exists()


@pytest.mark.parametrize(
    ("who", "status"), [("physio", 403), ("other_physio", 404), ("patient", 404)]
)
def test_practitioners_and_patients_cannot_open_a_claim(cast, patient, who, status):
    auto = payer(name="Provincial Auto", kind="auto")
    response = signed_in(cast[who]).post(
        cover_url(patient),
        {
            "action": "claim_open",
            "claim-payer": auto.pk,
            "claim-claim_number": "SNEAKY-1",
            "claim-payer_share_percent": "100",
        },
    )
    assert response.status_code == status
    assert not Claim.objects.exists()


def test_the_owner_lists_the_payers_on_the_clinic_settings_site(cast):
    client = signed_in(cast["owner"])
    added = client.post(
        reverse("owner_admin:billing_payer_add"),
        {"name": "WorkSafe BC", "kind": "workers_comp", "is_active": "on"},
    )
    assert added.status_code == 302
    listed = text_of(client.get(reverse("owner_admin:billing_payer_changelist")))
    assert "WorkSafe BC" in listed
    refused = signed_in(cast["front_desk"]).get(reverse("owner_admin:billing_payer_changelist"))
    assert refused.status_code in (302, 403)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_visits_checked_out_at_once_bill_the_payer_no_more_than_the_authorised_visits(
    patient, front_desk, physio
):
    service = Service.objects.create(
        name="Physiotherapy treatment",
        slug="physio-treatment",
        duration_minutes=30,
        price=Decimal("120.00"),
        room_kind=Service.RoomKind.NONE,
    )
    case = claim(patient, payer(name="WorkSafe", kind="workers_comp"), front_desk, visits=3)
    visits = [
        visit(
            patient,
            physio,
            service,
            timezone.now() - dt.timedelta(days=n),
            AppointmentStatus.COMPLETED,
        )
        for n in range(1, 7)
    ]
    barrier = threading.Barrier(len(visits))
    errors: list[BaseException] = []

    def check_out(one: Appointment) -> None:
        try:
            barrier.wait(timeout=30)
            invoice_for_visit(appointment=one, actor=front_desk)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    desks = [threading.Thread(target=check_out, args=(one,)) for one in visits]
    for desk in desks:
        desk.start()
    for desk in desks:
        desk.join()

    assert errors == []
    invoices = Invoice.objects.filter(patient=patient, purpose="visit")
    assert invoices.count() == 6
    assert invoices.filter(claim=case).count() == 3
    assert invoices.filter(claim__isnull=True, payer_share=0).count() == 3
