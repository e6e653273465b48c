"""Every safety write goes through here: clearance decisions and adverse events, audited."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.core.access import record_refusal
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.queueing import queue_with_change
from imsclinic.intake.models import Intake
from imsclinic.intake.selectors import current_intake
from imsclinic.patients.models import Patient
from imsclinic.safety.errors import AdverseEventRefused, ClearanceRefused
from imsclinic.safety.models import (
    AE_TEXT_MAX,
    REASON_MAX,
    SEVERITY_ORDER,
    SITE_MAX,
    AdverseEvent,
    AdverseEventType,
    AdverseEventUpdate,
    Clearance,
    Decision,
    EventStatus,
    Severity,
)
from imsclinic.safety.screening import ABSOLUTE
from imsclinic.safety.selectors import intake_flags

if TYPE_CHECKING:
    from imsclinic.accounts.models import User


def clearance_record(
    *,
    patient: Patient,
    intake: Intake,
    decision: str,
    reason: str,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Clearance:
    """Record a practitioner's decision on the patient's current intake, with its reason."""
    now = now or timezone.now()
    if actor is None or not actor.has_perm("safety.record_clearance", patient):
        record_refusal(
            request,
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.CLEARANCE,
            patient=patient,
        )
        raise PermissionDenied(
            _("Only the owner and practitioners on the patient's care team record decisions.")
        )
    if decision not in Decision.values:
        raise ClearanceRefused(_("Choose one of the decisions."), field="decision")
    reason = (reason or "").strip()
    if not reason:
        message = (
            _("Write the precautions to take.")
            if decision == Decision.CLEARED_WITH_PRECAUTIONS
            else _("Write the reason for the decision.")
        )
        raise ClearanceRefused(message, field="reason")
    if len(reason) > REASON_MAX:
        raise ClearanceRefused(
            _("Keep the reason under %(max)d characters.") % {"max": REASON_MAX}, field="reason"
        )
    with transaction.atomic(durable=True):
        # Serialise decisions on one patient, and re-read what is current under the lock.
        Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).first()
        latest = current_intake(patient)
        if latest is None or intake.patient_id != patient.pk:
            raise ClearanceRefused(_("The patient has no submitted health questions to decide on."))
        if latest.pk != intake.pk:
            raise ClearanceRefused(
                _(
                    "The patient has sent new health answers since this page was opened. "
                    "Review them, then record your decision."
                )
            )
        flags = intake_flags(intake, patient=patient, at=now)
        if decision == Decision.CLEARED and any(flag.kind == ABSOLUTE for flag in flags):
            raise ClearanceRefused(
                _(
                    "These answers raise an absolute flag. Choose “cleared with precautions” "
                    "and write them (for example, which limb never to needle), or “not "
                    "suitable”."
                ),
                field="decision",
            )
        clearance = Clearance.objects.create(
            patient=patient,
            intake=intake,
            decision=decision,
            reason=reason,
            decided_by=actor,
            decided_at=now,
            flags_snapshot=[flag.as_dict() for flag in flags],
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.CLEARANCE,
            object_id=clearance.pk,
            patient=patient,
            request=request,
            detail={
                "decision": decision,
                "intake": intake.pk,
                "flags": sorted({flag.code for flag in flags}),
            },
        )
    return clearance


# Adverse events

# A clock a few minutes fast on a tablet should not refuse an onset of "just now".
ONSET_FUTURE_SLACK = dt.timedelta(minutes=10)


def adverse_event_record(
    *,
    patient: Patient,
    event_type: str,
    severity: str,
    onset: dt.datetime,
    action_taken: str,
    outcome: str = "",
    site: str = "",
    description: str = "",
    session: Any = None,
    muscle: Any = None,
    draft: AdverseEvent | None = None,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> AdverseEvent:
    """Record an adverse event; a significant or serious one queues the owner's alert with it.

    With `draft` (one opened by a follow-up check-in), complete that row instead of adding one.
    """
    now = now or timezone.now()
    if actor is None or not actor.has_perm("safety.record_adverse_event", patient):
        record_refusal(
            request,
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.ADVERSE_EVENT,
            patient=patient,
        )
        raise PermissionDenied(
            _("Only the owner and practitioners on the patient's care team record adverse events.")
        )
    if event_type not in AdverseEventType.values:
        raise AdverseEventRefused(_("Choose the type of event."), field="event_type")
    if severity not in Severity.values:
        raise AdverseEventRefused(_("Choose how severe it was."), field="severity")
    if onset is None or timezone.is_naive(onset):
        raise AdverseEventRefused(_("Enter when it started."), field="onset")
    if onset > now + ONSET_FUTURE_SLACK:
        raise AdverseEventRefused(_("The onset cannot be in the future."), field="onset")
    texts = {
        "action_taken": (action_taken or "").strip(),
        "outcome": (outcome or "").strip(),
        "description": (description or "").strip(),
    }
    site = (site or "").strip()
    if not texts["action_taken"]:
        raise AdverseEventRefused(
            _("Say what was done (write “none needed” if nothing was)."), field="action_taken"
        )
    if event_type == AdverseEventType.OTHER and not texts["description"]:
        raise AdverseEventRefused(
            _("Describe what happened when the type is “other”."), field="description"
        )
    for name, text in texts.items():
        if len(text) > AE_TEXT_MAX:
            raise AdverseEventRefused(
                _("Keep this under %(max)d characters.") % {"max": AE_TEXT_MAX}, field=name
            )
    if len(site) > SITE_MAX:
        raise AdverseEventRefused(
            _("Keep the site under %(max)d characters.") % {"max": SITE_MAX}, field="site"
        )
    if session is not None:
        if session.patient_id != patient.pk:
            raise AdverseEventRefused(
                _("That needling session is not this patient's."), field="session"
            )
        if onset < session.appointment.start - ONSET_FUTURE_SLACK:
            raise AdverseEventRefused(
                _("The onset is before the session it follows."), field="onset"
            )
    values = {
        "session": session,
        "muscle": muscle,
        "site": site,
        "event_type": event_type,
        "severity": severity,
        "onset": onset,
        "description": texts["description"],
        "action_taken": texts["action_taken"],
        "outcome": texts["outcome"],
        "recorded_by": actor,
        "recorded_at": now,
    }
    with transaction.atomic(durable=True):
        if draft is None:
            event = AdverseEvent.objects.create(patient=patient, **values)
        else:
            event = AdverseEvent.objects.select_for_update(no_key=True).get(pk=draft.pk)
            if event.patient_id != patient.pk or not event.is_draft:
                raise AdverseEventRefused(_("This draft was already completed."))
            for name, value in values.items():
                setattr(event, name, value)
            event.status = EventStatus.RECORDED
            event.save()
        audit_record(
            actor=actor,
            action=Action.CREATE if draft is None else Action.UPDATE,
            object_type=ObjectType.ADVERSE_EVENT,
            object_id=event.pk,
            patient=patient,
            request=request,
            detail={
                "type": event_type,
                "severity": severity,
                "session": session.pk if session is not None else None,
                **({"completed_draft": True} if draft is not None else {}),
            },
        )
        if event.alerts_owner:
            _queue_owner_alert(event.pk)
    return event


def _queue_owner_alert(event_id: int) -> None:
    """Queue the owner's alert for this event, to go once the transaction commits."""

    def enqueue() -> None:
        from imsclinic.safety.tasks import alert_owner_of_adverse_event

        alert_owner_of_adverse_event.enqueue(event_id)

    # The task row commits with the record (see queue_with_change); the banner on the
    # owner's patient list also shows it until acknowledged.
    queue_with_change(enqueue)


def adverse_event_draft_open(
    *,
    patient: Patient,
    session: Any,
    event_type: str,
    onset: dt.datetime,
    description: str,
    practitioner: Any,
    actor: User | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> AdverseEvent:
    """Open a draft event for the treating practitioner to complete (a red-flag check-in).

    The patient's own answer opens it, so there is no staff actor to check: the caller (the
    follow-up service) has already verified the signed check-in link. A draft has no severity
    or action yet, is not counted in reports and alerts no one until it is recorded.
    """
    now = now or timezone.now()
    if event_type not in AdverseEventType.values:
        raise AdverseEventRefused(_("Choose the type of event."), field="event_type")
    with transaction.atomic():
        event = AdverseEvent.objects.create(
            patient=patient,
            session=session,
            event_type=event_type,
            status=EventStatus.DRAFT,
            severity="",
            onset=onset,
            description=(description or "").strip()[:AE_TEXT_MAX],
            action_taken="",
            recorded_by=practitioner,
            recorded_at=now,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.ADVERSE_EVENT,
            object_id=event.pk,
            patient=patient,
            request=request,
            detail={"type": event_type, "status": "draft", "session": getattr(session, "pk", None)},
        )
    return event


def adverse_event_acknowledge(
    *,
    event: AdverseEvent,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> AdverseEvent:
    """Mark a significant or serious event as seen by the owner; it leaves the alert banner."""
    if actor is None or not actor.has_perm("safety.acknowledge_adverse_event"):
        record_refusal(
            request,
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.ADVERSE_EVENT,
            object_id=event.pk,
            patient_id=event.patient_id,
        )
        raise PermissionDenied(_("Only the clinic owner acknowledges adverse events."))
    with transaction.atomic(durable=True):
        locked = AdverseEvent.objects.select_for_update(no_key=True).get(pk=event.pk)
        if locked.acknowledged_at is not None:
            raise AdverseEventRefused(_("This event was already acknowledged."))
        locked.acknowledged_at = now or timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.ADVERSE_EVENT,
            object_id=locked.pk,
            patient_id=locked.patient_id,
            request=request,
            detail={"acknowledged": True},
        )
    return locked


def adverse_event_update_add(
    *,
    event: AdverseEvent,
    outcome: str,
    severity: str | None = None,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> AdverseEventUpdate:
    """Append a dated follow-up to a recorded event; a worse severity may alert the owner.

    Severity only moves up (mild, significant, serious). An event that newly becomes
    significant or serious queues the owner's alert with it, as recording one does; one that
    turns a significant event serious puts it back before the owner even if already seen.
    """
    now = now or timezone.now()
    if actor is None or not actor.has_perm("safety.record_adverse_event", event.patient):
        record_refusal(
            request,
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.ADVERSE_EVENT_UPDATE,
            object_id=event.pk,
            patient_id=event.patient_id,
        )
        raise PermissionDenied(
            _("Only the owner and practitioners on the patient's care team update adverse events.")
        )
    outcome = (outcome or "").strip()
    if not outcome:
        raise AdverseEventRefused(_("Write how it has gone since."), field="outcome")
    if len(outcome) > AE_TEXT_MAX:
        raise AdverseEventRefused(
            _("Keep this under %(max)d characters.") % {"max": AE_TEXT_MAX}, field="outcome"
        )
    severity = severity or ""
    if severity and severity not in Severity.values:
        raise AdverseEventRefused(_("Choose one of the severities."), field="severity")
    with transaction.atomic(durable=True):
        locked = AdverseEvent.objects.select_for_update(no_key=True).get(pk=event.pk)
        if locked.is_draft:
            raise AdverseEventRefused(
                _("This event is still a draft. Complete it first, then add updates.")
            )
        before = locked.severity
        raised = bool(severity) and severity != before
        if raised and SEVERITY_ORDER.index(Severity(severity)) < SEVERITY_ORDER.index(
            Severity(before)
        ):
            raise AdverseEventRefused(
                _(
                    "Severity only goes up: an event is classed by the worst it became. "
                    "Leave the severity unchanged and say in the outcome that it improved."
                ),
                field="severity",
            )
        was_alerting = locked.alerts_owner
        update = AdverseEventUpdate.objects.create(
            event=locked,
            written_at=now,
            author=actor,
            outcome=outcome,
            severity=severity if raised else "",
            severity_before=before if raised else "",
        )
        if raised:
            locked.severity = severity
            fields = ["severity"]
            if was_alerting:
                # Significant became serious: worse than what the owner saw, so the event
                # goes back on the owner's banner and is emailed again.
                locked.acknowledged_at = None
                locked.acknowledged_by = None
                locked.owner_alerted_at = None
                fields += ["acknowledged_at", "acknowledged_by", "owner_alerted_at"]
            locked.save(update_fields=fields)
            audit_record(
                actor=actor,
                action=Action.UPDATE,
                object_type=ObjectType.ADVERSE_EVENT,
                object_id=locked.pk,
                patient_id=locked.patient_id,
                request=request,
                detail={"severity": severity, "severity_before": before, "update": update.pk},
            )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.ADVERSE_EVENT_UPDATE,
            object_id=update.pk,
            patient_id=locked.patient_id,
            request=request,
            detail={
                "event": locked.pk,
                **({"severity_from": before, "severity_to": severity} if raised else {}),
            },
        )
        if raised and locked.alerts_owner:
            _queue_owner_alert(locked.pk)
    event.severity = locked.severity
    return update
