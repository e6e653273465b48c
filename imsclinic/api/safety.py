"""Screening, intake and consent for one patient: /api/v1/patients/ID/..."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import P, PathEx, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from imsclinic.api.auth import staff_caller
from imsclinic.api.schemas import ErrorOut, ValidationErrorOut
from imsclinic.consent.selectors import consent_state
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.selectors import patient_for_user
from imsclinic.safety.readiness import needling_readiness
from imsclinic.safety.selectors import screening_for

router = Router(tags=["safety"])

MAX_ID = 2**63 - 1


class FlagOut(Schema):
    code: str = Field(description="The rule's stable code, e.g. anticoagulants.")
    kind: str = Field(description='"absolute" (no needling) or "relative" (review first).')
    reason: str = Field(description="The rule's reason, in words for staff.")
    detail: str = Field(description='What it applies to, e.g. "left arm"; may be empty.')
    restricts: str = Field(
        default="",
        description=(
            '"chest_wall" when the flag is a precaution for needling over the chest wall '
            "(lung risk); empty otherwise."
        ),
    )


class IntakeSummaryOut(Schema):
    id: int
    submitted_at: dt.datetime
    valid_until: dt.datetime = Field(description="When the patient must re-confirm the answers.")
    current: bool = Field(
        description=(
            "Within the clinic's validity period and on the current form (false for answers "
            "given before questions were added: the patient must re-confirm them)."
        )
    )


class ClearanceOut(Schema):
    decision: str = Field(description="cleared, cleared_with_precautions or not_suitable.")
    reason: str = Field(description="Why; for a clearance with precautions, the precautions.")
    decided_by: str
    decided_at: dt.datetime


class ConsentOut(Schema):
    version: int
    signed_at: dt.datetime


class ScreeningOut(Schema):
    patient_id: int
    intake: IntakeSummaryOut | None = Field(description="The latest submitted intake, if any.")
    flags: list[FlagOut] = Field(description="Flags the latest intake raises, absolute first.")
    needs_review: bool = Field(description="Flags wait for a practitioner's decision.")
    clearance: ClearanceOut | None = Field(
        description="The decision on the latest intake; null when there is none yet."
    )
    consent: ConsentOut | None = Field(
        description="The patient's standing signature of the current needling consent."
    )
    ready: bool = Field(description="Needling may go ahead now.")
    missing: list[str] = Field(description="What is missing before needling, in words.")


@router.get(
    "/{patient_id}/screening",
    response={
        200: ScreeningOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Read a patient's screening, clearance and consent",
    description=(
        "The flags the patient's latest health questions raise, the practitioner's decision "
        "on them, the standing consent, and whether needling may go ahead (and if not, what "
        "is missing). Clinical content: the owner and practitioners on the patient's care "
        "team only. The front desk gets 403; anyone else 404, as for a patient that does "
        "not exist. Each call is audited."
    ),
)
def get_screening(
    request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> dict[str, Any]:
    user = staff_caller(request, asked_for=ObjectType.SCREENING)
    try:
        patient = patient_for_user(
            request,
            user=user,
            patient_id=patient_id,
            perm="safety.view_screening",
            asked_for=ObjectType.SCREENING,
        )
    except PermissionDenied as error:
        raise HttpError(
            403, _("Screening is clinical: only the owner and the care team may read it.")
        ) from error
    now = timezone.now()
    screening = screening_for(patient, at=now)
    consent = consent_state(patient)
    readiness = needling_readiness(patient, at=now)
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type=ObjectType.SCREENING,
        object_id=patient.pk,
        patient=patient,
        request=request,
        detail={"via": "api"},
    )
    intake = screening.intake
    clearance = screening.clearance
    signature = consent.current
    return {
        "patient_id": patient.pk,
        "intake": {
            "id": intake.pk,
            "submitted_at": intake.submitted_at,
            "valid_until": screening.valid_until,
            "current": not screening.needs_reconfirming,
        }
        if intake is not None
        else None,
        "flags": [flag.as_dict() for flag in screening.flags],
        "needs_review": screening.needs_review,
        "clearance": {
            "decision": clearance.decision,
            "reason": clearance.reason,
            "decided_by": clearance.decided_by.get_full_name() or clearance.decided_by.email,
            "decided_at": clearance.decided_at,
        }
        if clearance is not None
        else None,
        "consent": {"version": signature.version.number, "signed_at": signature.signed_at}
        if signature is not None
        else None,
        "ready": readiness.ready,
        "missing": readiness.missing,
    }
