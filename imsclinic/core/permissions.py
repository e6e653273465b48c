"""Who may see and do what: the one place in the code that decides.

Pages and the API ask here (through `rules` permissions or the helpers below) and never
test roles themselves. Patient records are visible to the patient, the front desk,
the owner, and the practitioners on the patient's care team; anyone else is told the
record does not exist (404), never that it is hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import rules

from imsclinic.core.roles import STAFF_ROLES, Role

if TYPE_CHECKING:
    from imsclinic.patients.models import Patient


@rules.predicate
def is_clinic_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in STAFF_ROLES)


@rules.predicate
def is_owner(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role == Role.OWNER)


@rules.predicate
def is_front_desk(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role == Role.FRONT_DESK)


@rules.predicate
def is_practitioner(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role == Role.PRACTITIONER)


@rules.predicate
def is_the_patient(user: Any, patient: Patient | None) -> bool:
    return bool(
        patient is not None
        and user.is_authenticated
        and user.is_active
        and patient.user_id == user.pk
    )


@rules.predicate
def is_on_care_team(user: Any, patient: Patient | None) -> bool:
    if patient is None or not user.is_authenticated:
        return False
    return patient.care_team.filter(user_id=user.pk, is_active=True).exists()


@rules.predicate
def is_note_author(user: Any, note: Any) -> bool:
    """Say whether the user wrote this chart note (an assessment's author, a session's)."""
    if note is None or not user.is_authenticated or not user.is_active:
        return False
    author_id = getattr(note, "author_id", None) or getattr(note, "practitioner_id", None)
    return bool(author_id is not None and author_id == user.pk)


@rules.predicate
def treats_at_visit(user: Any, appointment: Any) -> bool:
    """Say whether the user is the practitioner the visit is booked with."""
    if appointment is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(appointment.practitioner.user_id == user.pk)


@rules.predicate
def is_on_visit_care_team(user: Any, appointment: Any) -> bool:
    """Say whether the user is on the care team of the visit's patient."""
    return appointment is not None and bool(is_on_care_team(user, appointment.patient))


sees_every_patient = is_owner | is_front_desk

rules.add_perm("patients.list_patients", is_clinic_staff)
rules.add_perm("patients.view_patient", sees_every_patient | (is_practitioner & is_on_care_team))
rules.add_perm("patients.view_own_record", is_the_patient)
rules.add_perm("patients.change_demographics", sees_every_patient)
rules.add_perm("patients.add_patient", sees_every_patient)
# Intake answers are clinical: the owner and the care team read them; the front desk may type
# in a paper form (and see that one was received) but never read the answers.
rules.add_perm("intake.view_answers", is_owner | (is_practitioner & is_on_care_team))
rules.add_perm("intake.enter_paper", sees_every_patient | (is_practitioner & is_on_care_team))
rules.add_perm("intake.fill_own", is_the_patient)
# Screening flags and clearance decisions are clinical too: the owner and the care team.
rules.add_perm("safety.view_screening", is_owner | (is_practitioner & is_on_care_team))
rules.add_perm("safety.record_clearance", is_owner | (is_practitioner & is_on_care_team))
# The review queue: practitioners (their care team's patients) and the owner (everyone).
rules.add_perm("safety.view_review_queue", is_owner | is_practitioner)
# Adverse events are clinical: the owner and the care team; only the owner sees the clinic's
# report and acknowledges the alerts about significant and serious events.
rules.add_perm("safety.view_adverse_events", is_owner | (is_practitioner & is_on_care_team))
rules.add_perm("safety.record_adverse_event", is_owner | (is_practitioner & is_on_care_team))
rules.add_perm("safety.view_adverse_event_report", is_owner)
rules.add_perm("safety.acknowledge_adverse_event", is_owner)
# Needle stock and the sharps log hold no health information: every staff member may read
# them; practitioners and the owner change them. Which patients were needled with a lot is
# clinical: practitioners (their care team's patients) and the owner (everyone), never the
# front desk.
rules.add_perm("clinic.view_stock", is_clinic_staff)
rules.add_perm("clinic.manage_stock", is_owner | is_practitioner)
rules.add_perm("clinic.trace_lot", is_owner | is_practitioner)
# The low-stock level of each needle size is the owner's to set.
rules.add_perm("clinic.set_stock_levels", is_owner)
# Charts (assessments, needling notes) are clinical: the owner and the care team read them
# and write addenda; a draft is changed and signed only by the practitioner who wrote it.
rules.add_perm("charting.view_chart", is_owner | (is_practitioner & is_on_care_team))
rules.add_perm("charting.add_note", is_owner | (is_practitioner & is_on_care_team))
rules.add_perm("charting.add_addendum", is_owner | (is_practitioner & is_on_care_team))
rules.add_perm("charting.edit_draft", is_note_author)
# The to-do list of one's own unsigned notes.
rules.add_perm("charting.view_todo", is_owner | is_practitioner)
# Follow-up: everyone on staff phones unanswered check-ins; red flags are clinical.
rules.add_perm("followup.view_list", is_clinic_staff)
rules.add_perm("followup.view_alert", is_owner | (is_practitioner & is_on_care_team))
rules.add_perm("followup.acknowledge_alert", is_owner | (is_practitioner & is_on_care_team))
# Outcome measures are clinical: the owner and the care team read them, set the course's
# questionnaires and strike out wrong entries; the patient answers their own.
rules.add_perm("outcomes.view_results", is_owner | (is_practitioner & is_on_care_team))
rules.add_perm("outcomes.view_own_results", is_the_patient)
rules.add_perm(
    "outcomes.record_result",
    is_owner | (is_practitioner & is_on_care_team) | is_the_patient | is_front_desk,
)
# Paper questionnaires: whoever may open the record types them in; the front desk enters
# answers without reading them back (it has no outcomes.view_results).
rules.add_perm("outcomes.enter_paper", sees_every_patient | (is_practitioner & is_on_care_team))
rules.add_perm("outcomes.set_plan", is_owner | (is_practitioner & is_on_care_team))
rules.add_perm("outcomes.void_result", is_owner | (is_practitioner & is_on_care_team))
# The clinic outcomes report (MCID by session, follow-up, adverse events): the owner.
rules.add_perm("outcomes.view_report", is_owner)
rules.add_perm("core.view_audit_log", is_owner)
rules.add_perm("clinic.configure", is_owner)
rules.add_perm("accounts.invite_staff", is_owner)
# The calendars (day, week, "My day", the calendar feed): every member of staff; what each
# visit on them shows depends on `scheduling.act_on_visit` below.
rules.add_perm("scheduling.use_calendar", is_clinic_staff)
# Front desk and owner keep the whole appointment book; practitioners see their own visits.
rules.add_perm("scheduling.view_all_appointments", sees_every_patient)
# Acting on a visit (checking in, moving along the day, cancelling, moving): the owner and
# the front desk on any visit; a practitioner on their own visits and on the visits of
# patients on their care team. Anyone else is told the visit does not exist.
rules.add_perm(
    "scheduling.act_on_visit",
    sees_every_patient | (is_practitioner & (treats_at_visit | is_on_visit_care_team)),
)
# Personal API tokens: staff for now; patients will get them with API booking.
rules.add_perm("accounts.use_api_tokens", is_clinic_staff)
# Billing holds no clinical information, but it is private: the front desk and the owner
# keep every patient's account (invoices, payments, receipts, policies and claims); the
# patient sees their own. Practitioners see no account, only their own sales
# (`billing.view_own_sales`); the clinic's reports and the list of payers are the owner's,
# except the day sheet, which the front desk reads to close its till.
rules.add_perm("billing.view_account", sees_every_patient)
rules.add_perm("billing.view_own_account", is_the_patient)
rules.add_perm("billing.take_payment", sees_every_patient)
rules.add_perm("billing.edit_invoice", sees_every_patient)
rules.add_perm("billing.issue_credit_note", sees_every_patient)
rules.add_perm("billing.refund", sees_every_patient)
rules.add_perm("billing.waive_fee", sees_every_patient)
rules.add_perm("billing.edit_cover", sees_every_patient)
rules.add_perm("billing.view_payer_statement", sees_every_patient)
rules.add_perm("billing.view_reports", is_owner)
rules.add_perm("billing.view_day_sheet", sees_every_patient)
rules.add_perm("billing.view_own_sales", is_practitioner | is_owner)
rules.add_perm("billing.manage_payers", is_owner)
