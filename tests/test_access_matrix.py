"""Every page, every member of the standard cast: who gets in, who is refused, who is told nothing.

The table below is the whole access policy as people meet it. A page added to the app
without a row here fails `test_every_page_is_in_the_matrix`, so none can slip past.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from imsclinic.accounts.models import ApiToken, StaffInvitation, hash_secret
from imsclinic.core.roles import Role

pytestmark = pytest.mark.django_db

CAST = ("anonymous", "patient", "other_patient", "front_desk", "physio", "other_physio", "owner")
PUBLIC = dict.fromkeys(CAST, 200)
LOGIN = 302  # sent to sign in
STAFF_ONLY = {
    "anonymous": LOGIN,
    "patient": 403,
    "other_patient": 403,
    "front_desk": 200,
    "physio": 200,
    "other_physio": 200,
    "owner": 200,
}
OWNER_ONLY = {
    "anonymous": LOGIN,
    "patient": 403,
    "other_patient": 403,
    "front_desk": 403,
    "physio": 403,
    "other_physio": 403,
    "owner": 200,
}

Args = Callable[[dict[str, Any]], dict[str, Any]]


def none(_: dict[str, Any]) -> dict[str, Any]:
    return {}


def calendar_visit(w: dict[str, Any]) -> dict[str, Any]:
    """Book a visit two days ahead with the treating physio (the calendar's cancel page)."""
    from decimal import Decimal

    from imsclinic.clinic.models import Service
    from imsclinic.scheduling.models import Appointment

    practitioner = w["physio"].practitioner
    service = Service.objects.create(
        name="Matrix visit", slug="matrix-visit", duration_minutes=30, price=Decimal("0")
    )
    start = timezone.now() + dt.timedelta(days=2)
    visit = Appointment.objects.create(
        patient=w["patient_record"],
        practitioner=practitioner,
        location=practitioner.locations.get(),
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=30),
    )
    return {"appointment_id": visit.pk}


def physio_feed(w: dict[str, Any]) -> dict[str, Any]:
    from imsclinic.scheduling.feed import feed_token

    return {"token": feed_token(w["physio"].practitioner)}


def portal_visit(w: dict[str, Any]) -> dict[str, Any]:
    """Book the patient a visit three days ahead (the portal's visit pages)."""
    from decimal import Decimal

    from imsclinic.clinic.models import Service
    from imsclinic.scheduling.models import Appointment

    practitioner = w["physio"].practitioner
    service = Service.objects.create(
        name="Portal visit", slug="portal-visit", duration_minutes=30, price=Decimal("0")
    )
    start = timezone.now() + dt.timedelta(days=3)
    visit = Appointment.objects.create(
        patient=w["patient_record"],
        practitioner=practitioner,
        location=practitioner.locations.get(),
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=30),
    )
    return {"appointment_id": visit.pk}


def waitlist_offer(w: dict[str, Any]) -> dict[str, Any]:
    """Offer the waiting patient a time: the claim link in the email."""
    from decimal import Decimal

    from imsclinic.clinic.models import Service
    from imsclinic.scheduling.models import WaitlistEntry, WaitlistOffer
    from imsclinic.scheduling.services.waitlist import claim_token

    practitioner = w["physio"].practitioner
    service = Service.objects.create(
        name="Waitlist visit", slug="waitlist-visit", duration_minutes=30, price=Decimal("0")
    )
    today = timezone.localdate()
    entry = WaitlistEntry.objects.create(
        patient=w["patient_record"],
        service=service,
        earliest=today,
        latest=today + dt.timedelta(days=7),
    )
    offer = WaitlistOffer.objects.create(
        entry=entry,
        practitioner=practitioner,
        location=practitioner.locations.get(),
        start=timezone.now() + dt.timedelta(days=3),
    )
    return {"token": claim_token(offer)}


def chart_assessment(w: dict[str, Any]) -> dict[str, Any]:
    """The treating physio's draft Gunn assessment of the patient."""
    from imsclinic.charting.services import assessment_save_draft

    draft = assessment_save_draft(
        patient=w["patient_record"], actor=w["physio"], data={"goals": "Walk the dog again."}
    )
    return {"assessment_id": draft.pk}


def consent_version(w: dict[str, Any], *, draft: bool = False) -> Any:
    """Publish the clinic's needling consent (and, if asked, start a draft of the next)."""
    from imsclinic.consent.services import (
        consent_document_create,
        consent_draft_save,
        consent_publish,
    )

    owner = w["owner"]
    document = consent_document_create(
        slug="needling", title="Consent to IMS", for_needling=True, actor=owner
    )
    first = consent_draft_save(document=document, title="Consent", body="Risks.", actor=owner)
    version = consent_publish(draft=first, actor=owner)
    if draft:
        return consent_draft_save(document=document, title="Consent", body="New.", actor=owner)
    return version


def consent_withdrawn(w: dict[str, Any]) -> dict[str, Any]:
    """The patient signs the consent, then withdraws it (the care team's email link)."""
    from imsclinic.consent.services import consent_withdraw

    signed = consent_signed(w)
    consent_withdraw(patient=w["patient_record"], actor=w["patient"])
    return {"signature_id": signed["signature_id"]}


def consent_signed(w: dict[str, Any]) -> dict[str, Any]:
    """The patient signs the consent (the signed-copy PDF pages)."""
    from imsclinic.consent.services import consent_sign

    patient = w["patient_record"]
    signature = consent_sign(
        patient=patient,
        version=consent_version(w),
        agreed=True,
        signer_name=patient.full_name,
        actor=w["patient"],
    )
    return {"patient_id": patient.pk, "signature_id": signature.pk}


def late_fee(w: dict[str, Any]) -> dict[str, Any]:
    """A visit cancelled late by the front desk, charged its fee (the fee-waiving page)."""
    from imsclinic.billing.models import Invoice, InvoicePurpose
    from imsclinic.scheduling.models import Appointment
    from imsclinic.scheduling.services.booking import appointment_cancel
    from tests.factories.billing import fee_policy

    visit_id = calendar_visit(w)["appointment_id"]
    visit = Appointment.objects.select_related("service").get(pk=visit_id)
    fee_policy(visit.service, amount="40")
    appointment_cancel(
        appointment=visit,
        actor=w["front_desk"],
        reason="Phoned in sick",
        cancelled_by="patient",
        now=visit.start - dt.timedelta(hours=2),
    )
    fee = Invoice.objects.get(appointment=visit, purpose=InvoicePurpose.FEE)
    return {"invoice_id": fee.pk}


def needle_lot(w: dict[str, Any]) -> dict[str, Any]:
    """A delivered lot of needles (the stock pages about one lot)."""
    from decimal import Decimal

    from imsclinic.clinic.models import NeedleLot

    lot = NeedleLot.objects.create(
        lot_number="MATRIX-1",
        manufacturer="Synthetic Needles Ltd",
        diameter_mm=Decimal("0.30"),
        length_mm=40,
        expires_on=dt.date(2099, 1, 1),
        quantity_received=100,
        received_on=dt.date(2026, 1, 1),
    )
    return {"lot_id": lot.pk}


def sharps_container(w: dict[str, Any]) -> dict[str, Any]:
    """A sharps container opened by the physio (the collection page)."""
    from imsclinic.clinic.models import SharpsContainer

    container = SharpsContainer.objects.create(
        label="S-1",
        location=w["physio"].practitioner.locations.get(),
        opened_at=timezone.now(),
        opened_by=w["physio"],
    )
    return {"container_id": container.pk}


def adverse_event(w: dict[str, Any]) -> dict[str, Any]:
    """A mild adverse event recorded for the patient (its own page)."""
    from imsclinic.safety.models import AdverseEvent

    event = AdverseEvent.objects.create(
        patient=w["patient_record"],
        event_type="bruising",
        severity="mild",
        onset=timezone.now(),
        action_taken="Advice given.",
        recorded_by=w["physio"],
    )
    return {"event_id": event.pk}


def followup_checkin(w: dict[str, Any], *, red_flag: bool = False) -> Any:
    """A check-in sent after a signed needling note (answered with a red flag if asked)."""
    from imsclinic.charting.models import NeedlingSession
    from imsclinic.followup.models import CheckIn, RedFlagAlert
    from imsclinic.scheduling.models import Appointment

    visit = Appointment.objects.get(pk=calendar_visit(w)["appointment_id"])
    session = NeedlingSession.objects.create(
        patient=w["patient_record"],
        appointment=visit,
        practitioner=w["physio"],
        status="signed",
        signed_at=timezone.now(),
        signed_by=w["physio"],
    )
    now = timezone.now()
    answers: dict[str, Any] = {}
    if red_flag:
        answers = dict.fromkeys(
            ("site_infection_signs", "site_swelling_or_pus", "numbness_or_weakness"), False
        )
        answers.update(
            status="answered",
            answered_at=now,
            soreness=4,
            breathless_or_chest_pain=True,
            fainted=False,
            red_flag=True,
        )
    checkin = CheckIn.objects.create(
        session=session,
        patient=w["patient_record"],
        practitioner=w["physio"],
        due_at=now,
        sent_at=now,
        **{"status": "sent", **answers},
    )
    if red_flag:
        return RedFlagAlert.objects.create(
            checkin=checkin, patient=w["patient_record"], practitioner=w["physio"]
        )
    return checkin


def checkin_link(w: dict[str, Any]) -> dict[str, Any]:
    from imsclinic.followup.tokens import checkin_token

    return {"token": checkin_token(followup_checkin(w).pk)}


def billing_receipt(w: dict[str, Any]) -> dict[str, Any]:
    """Issue the patient a receipt for a paid visit (the receipt pages)."""
    from imsclinic.billing.services.receipts import receipt_issue
    from tests.factories.billing import patient_pays, treatment_invoice

    practitioner = w["physio"].practitioner
    invoice = treatment_invoice(
        w["patient_record"], practitioner.locations.get(), w["front_desk"], practitioner
    )
    payment = patient_pays(w["patient_record"], w["front_desk"], (invoice, "95.00"))
    receipt = receipt_issue(patient=w["patient_record"], payment=payment, actor=w["front_desk"])
    return {"receipt_id": receipt.pk}


def billing_invoice(w: dict[str, Any]) -> dict[str, Any]:
    """An issued invoice of the patient's (the desk's invoice and credit-note pages)."""
    from tests.factories.billing import issued_invoice

    location = w["physio"].practitioner.locations.get()
    return {"invoice_id": issued_invoice(w["patient_record"], location, w["front_desk"]).pk}


def billing_payment(w: dict[str, Any]) -> dict[str, Any]:
    """The patient's cash payment, all of it account credit (the desk's refund page)."""
    from decimal import Decimal

    from imsclinic.billing.selectors import local_today
    from imsclinic.billing.services.payments import payment_record

    payment = payment_record(
        patient=w["patient_record"],
        method="cash",
        amount=Decimal("20.00"),
        received_on=local_today(),
        actor=w["front_desk"],
    )
    return {"payment_id": payment.pk}


# The patient's own pages: staff are sent to theirs, as from portal_home.
PORTAL = {**dict.fromkeys(CAST, 302), "patient": 200, "other_patient": 200}
# One patient's visit: someone else's is a 404, as if it did not exist.
OWN_VISIT = {**PORTAL, "other_patient": 404}
# Booking for a patient: whoever may open the patient's record.
BOOK_FOR_PATIENT = {
    "anonymous": LOGIN,
    "patient": 404,
    "other_patient": 404,
    "front_desk": 200,
    "physio": 200,
    "other_physio": 404,
    "owner": 200,
}

# Billing that names no single patient: the front desk and the owner; other staff 403.
FRONT_DESK_AND_OWNER = {**OWNER_ONLY, "front_desk": 200}


def billing_payer(w: dict[str, Any]) -> dict[str, Any]:
    from tests.factories.billing import payer

    return {"payer_id": payer().pk}


# url name -> (how to fill its arguments, expected status of a GET by each member of the cast)
MATRIX: dict[str, tuple[Args, dict[str, int]]] = {
    "home": (none, PUBLIC),
    "what_is_ims": (none, PUBLIC),
    "safety": (none, PUBLIC),
    "ims_vs_dry_needling": (none, PUBLIC),
    "faq": (none, PUBLIC),
    "practitioners": (none, PUBLIC),
    "practitioner_detail": (lambda w: {"slug": w["physio"].practitioner.slug}, PUBLIC),
    "locations": (none, PUBLIC),
    "book": (none, PUBLIC),
    # Where a sign-in lands: staff to the patient list, patients to their portal.
    "after_login": (none, {**dict.fromkeys(CAST, 302)}),
    "account_settings": (none, {**dict.fromkeys(CAST, 200), "anonymous": LOGIN}),
    "portal_home": (
        none,
        {
            "anonymous": LOGIN,
            "patient": 200,
            "other_patient": 200,
            "front_desk": 302,
            "physio": 302,
            "other_physio": 302,
            "owner": 302,
        },
    ),
    "patient_list": (none, STAFF_ONLY),
    "patient_new": (none, {**OWNER_ONLY, "front_desk": 200}),
    # Someone else's record: a 404 that says nothing about whether it exists.
    "patient_detail": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {
            "anonymous": LOGIN,
            "patient": 404,
            "other_patient": 404,
            "front_desk": 200,
            "physio": 200,
            "other_physio": 404,
            "owner": 200,
        },
    ),
    "patient_edit": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {
            "anonymous": LOGIN,
            "patient": 404,
            "other_patient": 404,
            "front_desk": 200,
            "physio": 403,
            "other_physio": 404,
            "owner": 200,
        },
    ),
    "audit_log": (none, OWNER_ONLY),
    "audit_log_csv": (none, OWNER_ONLY),
    "invite_staff": (none, OWNER_ONLY),
    # Revoking is a POST; a GET is refused whoever asks.
    "revoke_invitation": (
        lambda w: {"invitation_id": w["invitation"].pk},
        dict.fromkeys(CAST, 405),
    ),
    # An invitation link works for whoever holds it, signed in or not.
    "accept_invitation": (lambda w: {"token": w["invitation_token"]}, PUBLIC),
    "api_tokens": (none, STAFF_ONLY),
    # The front desk's own token: only its holder sees the revoke page.
    "api_token_revoke": (
        lambda w: {"token_id": w["desk_token"].pk},
        {
            "anonymous": LOGIN,
            "patient": 403,
            "other_patient": 403,
            "front_desk": 200,
            "physio": 404,
            "other_physio": 404,
            "owner": 404,
        },
    ),
    # /manage/ has no sign-in of its own: it sends people to allauth's.
    # Clinic settings (Django's admin views, so listed by hand): the owner's alone. Anyone
    # else is sent to /manage/login/, which refuses the signed-in (row below).
    "owner_admin:index": (none, {**dict.fromkeys(CAST, 302), "owner": 200}),
    "owner_admin:clinic_practitioner_changelist": (
        none,
        {**dict.fromkeys(CAST, 302), "owner": 200},
    ),
    "owner_admin:clinic_licencereminder_changelist": (
        none,
        {**dict.fromkeys(CAST, 302), "owner": 200},
    ),
    "owner_admin:login": (none, {**dict.fromkeys(CAST, 403), "anonymous": LOGIN}),
    # The muscle catalogue (charting) is clinic configuration too.
    "owner_admin:charting_muscle_changelist": (none, {**dict.fromkeys(CAST, 302), "owner": 200}),
    # So is the infection-control protocol every needling note confirms.
    "owner_admin:charting_infectioncontrolstep_changelist": (
        none,
        {**dict.fromkeys(CAST, 302), "owner": 200},
    ),
    # Booking, moving and cancelling in the portal. A confirm page opened without a chosen
    # time sends its visitor back to the picker.
    "portal_book": (none, PORTAL),
    "portal_book_confirm": (none, {**PORTAL, "patient": 302, "other_patient": 302}),
    "portal_course_plan": (none, {**PORTAL, "patient": 302, "other_patient": 302}),
    "portal_booked": (portal_visit, OWN_VISIT),
    "portal_cancel": (portal_visit, OWN_VISIT),
    "portal_reschedule": (portal_visit, OWN_VISIT),
    "portal_reschedule_confirm": (portal_visit, {**OWN_VISIT, "patient": 302}),
    # The front desk books for a patient (usually on the phone).
    "staff_book": (lambda w: {"patient_id": w["patient_record"].pk}, BOOK_FOR_PATIENT),
    "staff_book_confirm": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "front_desk": 302, "physio": 302, "owner": 302},
    ),
    "staff_course_plan": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "front_desk": 302, "physio": 302, "owner": 302},
    ),
    # The staff calendar (day, week, a practitioner's own day) and its status buttons.
    # Without a location or day, practitioners are sent on to their own day.
    "calendar_day": (none, {**STAFF_ONLY, "physio": 302, "other_physio": 302}),
    "calendar_week": (none, STAFF_ONLY),
    # Staff without a practitioner profile are sent on to the day view.
    "calendar_mine": (none, {**STAFF_ONLY, "front_desk": 302, "owner": 302}),
    "appointment_status": (lambda w: {"appointment_id": 1}, dict.fromkeys(CAST, 405)),
    "appointment_cancel_staff": (calendar_visit, {**STAFF_ONLY, "other_physio": 404}),
    # A practitioner's own feed address; the owner may revoke anyone's.
    "calendar_feed_settings": (none, {**STAFF_ONLY, "front_desk": 403}),
    "calendar_feed_revoke": (none, dict.fromkeys(CAST, 405)),
    # The feed answers whoever holds the current signed address, signed in or not.
    "calendar_feed": (physio_feed, PUBLIC),
    # The waitlist. Leaving it is a POST; a claim link answers whoever holds it, signed in
    # or not (like a sign-in link), and a GET only shows the offered time.
    "waitlist_list": (none, PORTAL),
    "waitlist_join": (none, PORTAL),
    "waitlist_withdraw": (lambda w: {"entry_id": 1}, dict.fromkeys(CAST, 405)),
    "waitlist_claim": (waitlist_offer, PUBLIC),
    # Screening flags and clearance decisions are clinical: the owner and the care team.
    # The front desk may open the record but not this (403); anyone else is told nothing.
    "patient_screening": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "front_desk": 403},
    ),
    # The review queue: practitioners (their care team's patients) and the owner.
    "screening_queue": (none, {**STAFF_ONLY, "front_desk": 403}),
    # The rules themselves hold no patient's data: any staff member may read them.
    "screening_rules": (none, STAFF_ONLY),
    # Health questions (intake). The patient's own pages; review and "done" send a patient
    # with nothing in progress or sent back to the start. Staff: whoever may open the record;
    # the front desk's page shows only that an intake arrived, never the answers.
    "intake_start": (none, PORTAL),
    "intake_section": (lambda w: {"slug": "about"}, PORTAL),
    "intake_review": (none, {**PORTAL, "patient": 302, "other_patient": 302}),
    "intake_done": (none, {**PORTAL, "patient": 302, "other_patient": 302}),
    "intake_reconfirm": (none, dict.fromkeys(CAST, 405)),
    "staff_intake": (lambda w: {"patient_id": w["patient_record"].pk}, BOOK_FOR_PATIENT),
    "staff_intake_paper": (lambda w: {"patient_id": w["patient_record"].pk}, BOOK_FOR_PATIENT),
    # Consent: the patient's own pages; the tablet, copies and withdrawals for whoever may
    # open the record; the owner writes and publishes, other staff may read what is published.
    "portal_consent": (none, PORTAL),
    "portal_consent_sign": (none, PORTAL),
    "portal_consent_withdraw": (none, PORTAL),
    "portal_consent_pdf": (
        lambda w: {"signature_id": consent_signed(w)["signature_id"]},
        OWN_VISIT,
    ),
    "staff_consent_tablet": (lambda w: {"patient_id": w["patient_record"].pk}, BOOK_FOR_PATIENT),
    "staff_consent_tablet_done": (
        lambda w: {"patient_id": w["patient_record"].pk},
        BOOK_FOR_PATIENT,
    ),
    "staff_consent_pdf": (consent_signed, BOOK_FOR_PATIENT),
    "staff_consent_withdraw": (
        lambda w: {"patient_id": w["patient_record"].pk},
        BOOK_FOR_PATIENT,
    ),
    # Sends whoever may open the patient on to the patient's page.
    "staff_consent_withdrawal": (
        consent_withdrawn,
        {**BOOK_FOR_PATIENT, "front_desk": 302, "physio": 302, "owner": 302},
    ),
    "consent_admin": (none, STAFF_ONLY),
    "consent_document_new": (none, OWNER_ONLY),
    "consent_draft_edit": (
        lambda w: {"document_id": consent_version(w).document_id},
        OWNER_ONLY,
    ),
    "consent_version_detail": (lambda w: {"version_id": consent_version(w).pk}, STAFF_ONLY),
    "consent_publish": (
        lambda w: {"version_id": consent_version(w, draft=True).pk},
        OWNER_ONLY,
    ),
    # Needle stock and the sharps log: any staff member reads them; practitioners and the owner
    # change them. Who was needled with a lot is clinical: never the front desk.
    "stock_lots": (none, STAFF_ONLY),
    "stock_lot_new": (none, {**STAFF_ONLY, "front_desk": 403}),
    "stock_levels": (none, OWNER_ONLY),
    "stock_lot_recall": (needle_lot, {**STAFF_ONLY, "front_desk": 403}),
    "stock_lot_patients": (needle_lot, {**STAFF_ONLY, "front_desk": 403}),
    "stock_lot_patients_csv": (needle_lot, {**STAFF_ONLY, "front_desk": 403}),
    "sharps_log": (none, STAFF_ONLY),
    "sharps_seal": (lambda w: {"container_id": 1}, dict.fromkeys(CAST, 405)),
    "sharps_collect": (sharps_container, {**STAFF_ONLY, "front_desk": 403}),
    # Adverse events are clinical: the owner and the care team; the front desk may open the
    # record but not these (403); anyone else is told nothing. The report is the owner's.
    "patient_adverse_events": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "front_desk": 403},
    ),
    "adverse_event_new": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "front_desk": 403},
    ),
    "adverse_event_detail": (adverse_event, {**BOOK_FOR_PATIENT, "front_desk": 403}),
    "adverse_event_update": (lambda w: {"event_id": 1}, dict.fromkeys(CAST, 405)),
    "adverse_event_acknowledge": (lambda w: {"event_id": 1}, dict.fromkeys(CAST, 405)),
    "adverse_event_report": (none, OWNER_ONLY),
    # Follow-up: the check-in link works for whoever holds it, no sign-in.
    # Every staff member sees the unanswered list (to phone); red flags are clinical: the
    # owner and the care team, the front desk 403, anyone else 404. The rest are POSTs.
    "checkin_answer": (checkin_link, PUBLIC),
    "followup_list": (none, STAFF_ONLY),
    "followup_alert": (
        lambda w: {"alert_id": followup_checkin(w, red_flag=True).pk},
        {**BOOK_FOR_PATIENT, "front_desk": 403},
    ),
    "followup_alert_acknowledge": (lambda w: {"alert_id": 1}, dict.fromkeys(CAST, 405)),
    "checkin_phoned": (lambda w: {"checkin_id": 1}, dict.fromkeys(CAST, 405)),
    # Charts: the owner and the care team; the front desk may open the record but
    # not the chart (403); anyone else is told nothing. The patient reads their own signed
    # notes in the portal.
    "session_note": (calendar_visit, {**BOOK_FOR_PATIENT, "front_desk": 403}),
    "physio_note": (calendar_visit, {**BOOK_FOR_PATIENT, "front_desk": 403}),
    "patient_chart": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "front_desk": 403},
    ),
    "patient_chart_summary_pdf": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "front_desk": 403},
    ),
    "portal_notes": (none, PORTAL),
    "portal_notes_pdf": (none, PORTAL),
    # Progress charts: health information, so the owner and the care team;
    # the front desk 403; anyone else 404. The patient sees their own in the portal. The
    # clinic outcomes report is the owner's.
    "patient_progress": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "front_desk": 403},
    ),
    "portal_progress": (none, PORTAL),
    # Striking out a wrong result is a POST from the staff progress page.
    "outcome_result_strike_out": (
        lambda w: {"patient_id": w["patient_record"].pk, "result_id": 1},
        dict.fromkeys(CAST, 405),
    ),
    "outcomes_report": (none, OWNER_ONLY),
    # Questionnaires: the patient fills in their own before a visit (someone
    # else's visit is a 404). Paper entry: whoever may open the record; the front desk enters
    # answers but is not shown the scores.
    "portal_measures": (none, PORTAL),
    "portal_measure_fill": (lambda w: {**portal_visit(w), "code": "ODI"}, OWN_VISIT),
    "measures_enter": (lambda w: {"patient_id": w["patient_record"].pk}, BOOK_FOR_PATIENT),
    # The course's outcome measures: set by the owner and the care team; the
    # front desk 403; anyone else 404.
    "measures_plan": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "front_desk": 403},
    ),
    # Gunn assessments: the owner and the care team write and read them (the
    # author edits a draft, the others read it); the front desk 403; anyone else 404. Signing
    # and addenda are POSTs. The to-do list is a practitioner's (or the owner's) own drafts.
    "assessment_new": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "front_desk": 403},
    ),
    "assessment_detail": (chart_assessment, {**BOOK_FOR_PATIENT, "front_desk": 403}),
    "assessment_sign": (lambda w: {"assessment_id": 1}, dict.fromkeys(CAST, 405)),
    "assessment_addendum": (lambda w: {"assessment_id": 1}, dict.fromkeys(CAST, 405)),
    "charting_todo": (none, {**STAFF_ONLY, "front_desk": 403}),
    # Waiving a fee: the front desk and the owner, who keep patients' accounts.
    "billing_fee_waive": (late_fee, {**OWNER_ONLY, "front_desk": 200}),
    # Billing: a patient's policies and claims are the front desk's and the owner's; the
    # treating physio may open the record but not the account (403); anyone else 404.
    "billing_patient_cover": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "physio": 403},
    ),
    # The payers with what each owes, a payer's statement and payments: the front desk and
    # the owner.
    "billing_payers": (none, FRONT_DESK_AND_OWNER),
    "billing_payer_statement": (billing_payer, FRONT_DESK_AND_OWNER),
    "billing_payer_payment": (billing_payer, FRONT_DESK_AND_OWNER),
    # Billing: the front desk and the owner see a patient's account and receipts; their
    # practitioners 403 (never the clinic's money), anyone else 404. Issuing and emailing
    # are POSTs. The patient sees their own in the portal; someone else's receipt is a 404.
    "billing_patient_receipts": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "physio": 403},
    ),
    "billing_receipt_pdf": (
        lambda w: {"patient_id": w["patient_record"].pk, **billing_receipt(w)},
        {**BOOK_FOR_PATIENT, "physio": 403},
    ),
    "billing_receipt_issue": (
        lambda w: {"patient_id": w["patient_record"].pk, "payment_id": 1},
        {**dict.fromkeys(CAST, 405), "anonymous": LOGIN},
    ),
    "billing_receipt_period": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**dict.fromkeys(CAST, 405), "anonymous": LOGIN},
    ),
    "billing_receipt_email": (
        lambda w: {"patient_id": w["patient_record"].pk, "receipt_id": 1},
        {**dict.fromkeys(CAST, 405), "anonymous": LOGIN},
    ),
    "portal_billing": (none, PORTAL),
    "portal_receipt_pdf": (billing_receipt, OWN_VISIT),
    "portal_invoice_pdf": (billing_invoice, OWN_VISIT),
    "portal_receipt_year": (none, dict.fromkeys(CAST, 405)),
    "portal_receipt_email": (lambda w: {"receipt_id": 1}, dict.fromkeys(CAST, 405)),
    "portal_card_pay": (lambda w: {"invoice_id": 1}, dict.fromkeys(CAST, 405)),
    # No card provider is configured: there is nothing to return to.
    "portal_card_return": (none, {**PORTAL, "patient": 404, "other_patient": 404}),
    # Billing at the desk: the front desk and the owner keep every patient's account. A
    # practitioner who may open the record is refused (403); anyone else is told nothing.
    # Starting an invoice and using account credit are POSTs.
    "billing_invoices": (none, {**OWNER_ONLY, "front_desk": 200}),
    "billing_account": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "physio": 403},
    ),
    "billing_invoice": (billing_invoice, {**BOOK_FOR_PATIENT, "physio": 403}),
    "billing_invoice_pdf": (billing_invoice, {**BOOK_FOR_PATIENT, "physio": 403}),
    "billing_credit_note": (billing_invoice, {**BOOK_FOR_PATIENT, "physio": 403}),
    "billing_payment_new": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {**BOOK_FOR_PATIENT, "physio": 403},
    ),
    "billing_refund": (billing_payment, {**BOOK_FOR_PATIENT, "physio": 403}),
    "billing_invoice_new": (
        lambda w: {"patient_id": w["patient_record"].pk},
        dict.fromkeys(CAST, 405),
    ),
    "billing_credit_apply": (lambda w: {"invoice_id": 1}, dict.fromkeys(CAST, 405)),
    # Check-out takes payment: the front desk and the owner, on any visit.
    "billing_checkout": (calendar_visit, {**OWNER_ONLY, "front_desk": 200}),
    # Billing reports: the clinic's are the owner's; a practitioner sees only their own sales.
    # The front desk reads the day sheet alone, to close its till.
    "billing_reports": (none, OWNER_ONLY),
    "billing_report_day_sheet": (none, FRONT_DESK_AND_OWNER),
    "billing_report_sales": (none, OWNER_ONLY),
    "billing_report_receivables": (none, OWNER_ONLY),
    "billing_report_utilisation": (none, OWNER_ONLY),
    "billing_report_attendance": (none, OWNER_ONLY),
    "billing_report_compensation": (none, OWNER_ONLY),
    "billing_my_sales": (none, {**STAFF_ONLY, "front_desk": 403}),
}


def our_url_names() -> set[str]:
    """Return the names of every URL whose view is imsclinic code."""
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif pattern.callback.__module__.startswith("imsclinic") and pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def test_every_page_is_in_the_matrix():
    assert our_url_names() <= set(MATRIX)


@pytest.fixture
def world(cast, patient, owner, front_desk):
    raw = "invitation-token-for-the-matrix"
    invitation = StaffInvitation.objects.create(
        email="newcomer@cedar.example",
        role=Role.FRONT_DESK,
        token_hash=hash_secret(raw),
        invited_by=owner,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    desk_token = ApiToken.objects.create(
        user=front_desk, name="laptop", token_hash=hash_secret("ims_matrix"), hint="ims_matr"
    )
    return {
        **cast,
        "patient_record": patient,
        "invitation": invitation,
        "invitation_token": raw,
        "desk_token": desk_token,
    }


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_member_of_the_cast_gets_what_the_policy_says(world, name):
    args, expected = MATRIX[name]
    url = reverse(name, kwargs=args(world))
    got = {}
    for who in CAST:
        client = Client()
        if world[who] is not None:
            client.force_login(world[who])
        got[who] = client.get(url).status_code
    assert got == expected


# Acting on a visit: the owner and the front desk on any visit, a practitioner on their own
# and their care team's; another practitioner is told the visit does not exist. Each row is
# one way of acting, with what each member of the cast gets: ACTED, or the refusal's status.
ACTED = "acted"
ACT_ON_PAGES = {
    "anonymous": LOGIN,
    "patient": 403,
    "other_patient": 403,
    "front_desk": ACTED,
    "physio": ACTED,
    "other_physio": 404,
    "owner": ACTED,
}


def check_in(client: Client, visit_id: int) -> int:
    from imsclinic.scheduling.models import Appointment

    # Check-in opens on the visit's own day: this visit began a few minutes ago.
    start = timezone.now() - dt.timedelta(minutes=5)
    Appointment.objects.filter(pk=visit_id).update(
        start=start,
        end=start + dt.timedelta(minutes=30),
        busy_until=start + dt.timedelta(minutes=30),
    )
    url = reverse("appointment_status", kwargs={"appointment_id": visit_id})
    return client.post(url, {"status": "arrived"}).status_code


def mark_no_show(client: Client, visit_id: int) -> int:
    from imsclinic.scheduling.models import Appointment

    start = timezone.now() - dt.timedelta(hours=1)
    Appointment.objects.filter(pk=visit_id).update(
        start=start,
        end=start + dt.timedelta(minutes=30),
        busy_until=start + dt.timedelta(minutes=30),
    )
    url = reverse("appointment_status", kwargs={"appointment_id": visit_id})
    return client.post(url, {"status": "no_show"}).status_code


def cancel_on_the_calendar(client: Client, visit_id: int) -> int:
    url = reverse("appointment_cancel_staff", kwargs={"appointment_id": visit_id})
    return client.post(url, {"reason": "Called to cancel"}).status_code


def cancel_through_the_api(client: Client, visit_id: int) -> int:
    url = f"/api/v1/appointments/{visit_id}/cancel"
    return client.post(url, {"reason": "Called"}, content_type="application/json").status_code


VISIT_ACTIONS: dict[str, tuple[Callable[[Client, int], int], str, dict[str, Any]]] = {
    "check in": (check_in, "arrived", ACT_ON_PAGES),
    "mark a no-show": (mark_no_show, "no_show", ACT_ON_PAGES),
    "cancel on the calendar": (cancel_on_the_calendar, "cancelled", ACT_ON_PAGES),
    # The API: the patient cancels their own visit; anyone else refused is told 404.
    "cancel through the API": (
        cancel_through_the_api,
        "cancelled",
        {**ACT_ON_PAGES, "anonymous": 401, "patient": ACTED, "other_patient": 404},
    ),
}


@pytest.mark.parametrize("action", sorted(VISIT_ACTIONS))
@pytest.mark.parametrize("who", CAST)
def test_only_those_the_policy_names_may_act_on_a_visit(world, action, who):
    from imsclinic.accounts.tokens import api_token_issue
    from imsclinic.core.models import AuditEvent
    from imsclinic.scheduling.models import Appointment

    act, acted_status, expected = VISIT_ACTIONS[action]
    visit_id = calendar_visit(world)["appointment_id"]
    user = world[who]
    client = Client()
    if user is not None and action.endswith("API"):
        _token, raw = api_token_issue(user=user, name="matrix", actor=None)
        client = Client(headers={"Authorization": f"Bearer {raw}"})
    elif user is not None:
        client.force_login(user)

    status = act(client, visit_id)
    visit = Appointment.objects.get(pk=visit_id)

    if expected[who] == ACTED:
        assert visit.status == acted_status, status
    else:
        assert (status, visit.status) == (expected[who], "booked")
    if expected[who] == 404:
        assert AuditEvent.objects.filter(
            actor=user, object_type="appointment", object_id=str(visit_id), outcome="denied"
        ).exists()


# Every refusal of a page that shows health information is in the audit log, as a denied
# look at what was asked for. These pages hold none (clinic settings, stock counts, consent
# wording, one's own tokens and invitations), so their refusals are not health-data events.
HOLDS_NO_HEALTH_INFORMATION = {
    "patient_new",
    "invite_staff",
    "api_token_revoke",
    "owner_admin:login",
    "consent_document_new",
    "consent_draft_edit",
    "consent_publish",
    "stock_lot_new",
    "stock_levels",
    "stock_lot_recall",
    "sharps_collect",
    "calendar_feed_settings",
    "screening_rules",
    "api_tokens",
    "consent_admin",
    "consent_version_detail",
    "stock_lots",
    "sharps_log",
    # With no card provider there is no such page for anyone.
    "portal_card_return",
}


def refusals() -> list[tuple[str, str]]:
    """Return (page, member of the cast) for every refusal of a page with health information."""
    return [
        (name, who)
        for name, (_args, expected) in sorted(MATRIX.items())
        if name not in HOLDS_NO_HEALTH_INFORMATION
        for who, status in expected.items()
        if who != "anonymous" and status in (403, 404)
    ]


@pytest.mark.parametrize(("name", "who"), refusals())
def test_every_refused_look_at_health_information_is_audited_as_denied(world, name, who):
    from imsclinic.core.models import AuditEvent

    args, expected = MATRIX[name]
    url = reverse(name, kwargs=args(world))
    client = Client()
    client.force_login(world[who])

    assert client.get(url).status_code == expected[who]

    denied = AuditEvent.objects.filter(actor=world[who], outcome="denied")
    assert [(row.action, row.object_type) for row in denied] != [], url
    assert {row.action for row in denied} <= {"view", "export"}


# The API's reads of one patient's health information, with what each member of the cast
# gets (anonymous callers have no token: 401). Patients read only their own, through the
# endpoints that serve them; the front desk reads no clinical content.
API_OWN = {"anonymous": 401, "patient": 200, "other_patient": 404}
API_STAFF = {"anonymous": 401, "patient": 403, "other_patient": 403}
API_CARE_TEAM = {"front_desk": 200, "physio": 200, "other_physio": 404, "owner": 200}
API_READS: dict[str, dict[str, int]] = {
    "/api/v1/patients/{id}": {**API_STAFF, **API_CARE_TEAM},
    "/api/v1/patients/{id}/screening": {**API_STAFF, **API_CARE_TEAM, "front_desk": 403},
    "/api/v1/patients/{id}/sessions": {**API_STAFF, **API_CARE_TEAM, "front_desk": 403},
    "/api/v1/patients/{id}/physio-notes": {**API_STAFF, **API_CARE_TEAM, "front_desk": 403},
    "/api/v1/patients/{id}/intake": {**API_OWN, **API_CARE_TEAM, "front_desk": 403},
    "/api/v1/patients/{id}/outcomes": {**API_OWN, **API_CARE_TEAM, "front_desk": 403},
}


def api_client(user: Any) -> Client:
    from imsclinic.accounts.tokens import api_token_issue

    if user is None:
        return Client()
    _token, raw = api_token_issue(user=user, name="matrix", actor=None)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def submitted_intake(w: dict[str, Any]) -> None:
    """The patient sends their health questions (so reading them has something to show)."""
    from imsclinic.intake.services import intake_submit
    from tests.factories.intake import complete_answers

    intake_submit(patient=w["patient_record"], answers=complete_answers(), actor=w["patient"])


@pytest.mark.parametrize("path", sorted(API_READS))
def test_the_api_reads_of_a_patient_follow_the_policy_and_every_refusal_is_audited(world, path):
    from imsclinic.core.models import AuditEvent

    submitted_intake(world)
    url = path.format(id=world["patient_record"].pk)
    got = {who: api_client(world[who]).get(url).status_code for who in CAST}

    assert got == API_READS[path]
    for who, status in got.items():
        if who != "anonymous" and status in (403, 404):
            denied = AuditEvent.objects.filter(actor=world[who], outcome="denied")
            assert denied.exists(), (who, url)
            assert {row.action for row in denied} == {"view"}, (who, url)


# Whose name the calendars show on the treating physio's visit with the patient: the same
# rule as acting on it. NAMED: the patient's name; BUSY: the visit as busy time (service and
# time, no name); ABSENT: not on the page at all; a number: the refusal's status.
NAMED = "named"
BUSY = "busy"
ABSENT = "absent"
SEES_THE_CALENDAR = {
    "anonymous": LOGIN,
    "patient": 403,
    "other_patient": 403,
    "front_desk": NAMED,
    "physio": NAMED,
    "other_physio": BUSY,
    "owner": NAMED,
}
CALENDAR_VISIBILITY: dict[str, dict[str, Any]] = {
    "calendar_day": SEES_THE_CALENDAR,
    "calendar_week": SEES_THE_CALENDAR,
    # A practitioner's own day holds only their own visits.
    "calendar_mine": {**SEES_THE_CALENDAR, "front_desk": 302, "owner": 302, "other_physio": ABSENT},
    # The API leaves out, rather than blanks, a visit the caller may not act on.
    "appointments API": {
        **SEES_THE_CALENDAR,
        "anonymous": 401,
        "patient": NAMED,
        "other_patient": ABSENT,
        "other_physio": ABSENT,
    },
}


def _calendar_page(client: Client, page: str, visit: Any) -> tuple[int, str]:
    """Open the page that holds the visit's day; return the status and what it shows."""
    day = visit.start.astimezone(visit.location.zone).date().isoformat()
    if page == "appointments API":
        response = client.get("/api/v1/appointments")
        if response.status_code != 200:
            return response.status_code, ""
        items = [i for i in response.json()["items"] if i["id"] == visit.pk]
        if not items:
            return 200, ""
        # The API names a patient by id: a listed visit with it counts as named.
        named = items[0].get("patient") == visit.patient_id
        return 200, f"{visit.patient.display_name if named else ''} {visit.service.name}"
    query = f"date={day}" if page == "calendar_mine" else f"location={visit.location_id}&date={day}"
    response = client.get(f"{reverse(page)}?{query}")
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("page", sorted(CALENDAR_VISIBILITY))
@pytest.mark.parametrize("who", CAST)
def test_the_calendars_name_the_patient_only_to_those_who_may_act_on_the_visit(world, page, who):
    from imsclinic.accounts.tokens import api_token_issue
    from imsclinic.scheduling.models import Appointment

    expected = CALENDAR_VISIBILITY[page][who]
    visit = Appointment.objects.select_related("patient", "location", "service").get(
        pk=calendar_visit(world)["appointment_id"]
    )
    user = world[who]
    client = Client()
    if user is not None and page.endswith("API"):
        _token, raw = api_token_issue(user=user, name="matrix", actor=None)
        client = Client(headers={"Authorization": f"Bearer {raw}"})
    elif user is not None:
        client.force_login(user)

    status, shown = _calendar_page(client, page, visit)

    if expected not in (NAMED, BUSY, ABSENT):
        assert status == expected
        return
    assert status == 200
    assert (visit.patient.display_name in shown) == (expected == NAMED)
    if expected == BUSY:
        assert visit.service.name in shown
    if expected == ABSENT:
        assert visit.service.name not in shown
