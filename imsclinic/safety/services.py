"""Every safety write goes through here: clearance decisions, audited and never changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, Outcome
from imsclinic.intake.models import Intake
from imsclinic.intake.selectors import current_intake
from imsclinic.patients.models import Patient
from imsclinic.safety.errors import ClearanceRefused
from imsclinic.safety.models import Clearance, Decision
from imsclinic.safety.screening import ABSOLUTE
from imsclinic.safety.selectors import intake_flags

REASON_MAX = 4000


def clearance_record(
    *,
    patient: Patient,
    intake: Intake,
    decision: str,
    reason: str,
    actor: Any,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Clearance:
    """Record a practitioner's decision on the patient's current intake, with its reason."""
    now = now or timezone.now()
    if actor is None or not actor.has_perm("safety.record_clearance", patient):
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type="clearance",
            patient=patient,
            outcome=Outcome.DENIED,
            request=request,
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
    with transaction.atomic():
        # Serialise decisions on one patient, and re-read what is current under the lock.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
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
            object_type="clearance",
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
