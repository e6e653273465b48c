"""Charting for one patient (needling and physiotherapy notes) and the muscle catalogue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import P, PathEx, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from imsclinic.api.auth import staff_caller, token_holder
from imsclinic.api.schemas import ErrorOut, ValidationErrorOut
from imsclinic.charting.models import Muscle
from imsclinic.charting.selectors import chart_for
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.selectors import patient_for_user

router = Router(tags=["charting"])

MAX_ID = 2**63 - 1


class MuscleOut(Schema):
    code: str = Field(description="Stable code, e.g. upper_trapezius or paraspinal_c5.")
    name: str
    region: str = Field(description="Body region, e.g. neck, shoulder, low_back.")
    view: str = Field(description='"front", "back" or "both": where the chart draws it.')
    root_from: str = Field(description="First nerve root of its usual supply, e.g. C5.")
    root_to: str = Field(description="Last nerve root, e.g. C6.")
    nerve: str
    note: str
    thoracic_precaution: bool = Field(description="Needling it can reach the chest wall or lung.")
    is_paraspinal: bool
    level: str = Field(description="Paraspinal entries: the spinal level; otherwise empty.")
    is_active: bool = Field(description="Offered in charts.")


class RowMuscleOut(Schema):
    code: str
    name: str


class NeedleOut(Schema):
    lot_number: str
    manufacturer: str
    diameter_mm: Decimal
    length_mm: int
    size: str = Field(description='Diameter x length, e.g. "0.30 x 40 mm".')


class NeedlingRowOut(Schema):
    position: int
    muscle: RowMuscleOut
    side: str = Field(description='"left" or "right" (the patient\'s own).')
    segment: str = Field(description="Spinal segment targeted, e.g. C5.")
    insertions: int
    needles_used: int = Field(description="Needles taken from the lot for this muscle.")
    needle: NeedleOut
    grasp: str = Field(description="none, mild, moderate or strong.")
    release: bool
    twitch: bool
    tolerance: str = Field(description="good, fair or poor.")
    note: str


class AddendumOut(Schema):
    author: str
    created_at: dt.datetime
    reason: str
    text: str


class SessionOut(Schema):
    id: int
    appointment_id: int
    visit_start: dt.datetime
    practitioner: str
    nprs_before: int | None = Field(description="Pain before needling, 0-10.")
    nprs_after: int | None = Field(description="Pain after needling, 0-10.")
    rom_change: str
    aftercare_given: bool
    aftercare_notes: str
    thoracic_precaution: bool = Field(
        description="A needled muscle carries the thoracic precaution."
    )
    signed_at: dt.datetime
    signed_by: str
    assessment_id: int | None = Field(
        description="The signed Gunn assessment current when the note was signed, if any."
    )
    reason_no_assessment: str = Field(
        description="Why the first needling of a course went ahead without a current "
        "assessment; empty when it did not."
    )
    rows: list[NeedlingRowOut]
    addenda: list[AddendumOut] = Field(description="Corrections under the note, oldest first.")


class PhysioNoteOut(Schema):
    id: int
    appointment_id: int
    visit_start: dt.datetime
    service: str = Field(description='The visit\'s service, e.g. "Physiotherapy assessment".')
    practitioner: str
    subjective: str
    objective: str
    assessment: str
    plan: str
    treatment_given: str
    measures_due: list[str] = Field(
        description="Names of the outcome measures due at the visit, as they stood at signing."
    )
    signed_at: dt.datetime
    signed_by: str
    addenda: list[AddendumOut] = Field(description="Corrections under the note, oldest first.")


def _name(user: Any) -> str:
    return str(user.get_full_name() or user.email)


def _chart_patient(request: HttpRequest, patient_id: int) -> tuple[Any, Any]:
    """Return (caller, patient) for a chart read; 403 for the front desk, 404 for others."""
    user = staff_caller(request, asked_for=ObjectType.CHART)
    try:
        patient = patient_for_user(
            request,
            user=user,
            patient_id=patient_id,
            perm="charting.view_chart",
            asked_for=ObjectType.CHART,
        )
    except PermissionDenied as error:
        raise HttpError(
            403, _("Charts are clinical: only the owner and the care team may read them.")
        ) from error
    return user, patient


def _addenda_out(note: Any) -> list[dict[str, Any]]:
    return [
        {
            "author": _name(addendum.author),
            "created_at": addendum.created_at,
            "reason": addendum.reason,
            "text": addendum.text,
        }
        for addendum in note.addenda.all()
    ]


@router.get(
    "/patients/{patient_id}/sessions",
    response={
        200: list[SessionOut],
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="List a patient's signed needling sessions with their rows",
    description=(
        "Signed needling notes only, newest visit first, each with every muscle needled "
        "(muscle, side, segment, insertions, needle lot and size, grasp, release, twitch, "
        "tolerance), the pain scores before and after, and addenda. Clinical content: the "
        "owner and practitioners on the patient's care team only. The front desk gets 403; "
        "anyone else 404, as for a patient that does not exist. Each call is audited."
    ),
)
def list_sessions(
    request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> list[dict[str, Any]]:
    user, patient = _chart_patient(request, patient_id)
    sessions = chart_for(patient).signed_sessions
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type=ObjectType.CHART,
        object_id=patient.pk,
        patient=patient,
        request=request,
        detail={"via": "api", "sessions": len(sessions)},
    )
    return [
        {
            "id": session.pk,
            "appointment_id": session.appointment_id,
            "visit_start": session.appointment.start,
            "practitioner": _name(session.practitioner),
            "nprs_before": session.nprs_before,
            "nprs_after": session.nprs_after,
            "rom_change": session.rom_change,
            "aftercare_given": session.aftercare_given,
            "aftercare_notes": session.aftercare_notes,
            "thoracic_precaution": session.thoracic_precaution,
            "signed_at": session.signed_at,
            "signed_by": _name(session.signed_by),
            "assessment_id": session.assessment_id,
            "reason_no_assessment": session.reason_no_assessment,
            "rows": [
                {
                    "position": row.position,
                    "muscle": {"code": row.muscle.code, "name": row.muscle.name},
                    "side": row.side,
                    "segment": row.segment,
                    "insertions": row.insertions,
                    "needles_used": row.needles_used,
                    "needle": {
                        "lot_number": row.needle_lot.lot_number,
                        "manufacturer": row.needle_lot.manufacturer,
                        "diameter_mm": row.needle_lot.diameter_mm,
                        "length_mm": row.needle_lot.length_mm,
                        "size": row.needle_lot.size_label,
                    },
                    "grasp": row.grasp,
                    "release": row.release,
                    "twitch": row.twitch,
                    "tolerance": row.tolerance,
                    "note": row.note,
                }
                for row in session.rows.all()
            ],
            "addenda": _addenda_out(session),
        }
        for session in sessions
    ]


@router.get(
    "/patients/{patient_id}/physio-notes",
    response={
        200: list[PhysioNoteOut],
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="List a patient's signed physiotherapy notes",
    description=(
        "Signed physiotherapy notes (of visits that are not IMS) only, newest visit first: "
        "subjective, objective, assessment, plan, the treatment given, the outcome measures "
        "due at the visit, and addenda. Clinical content: the owner and practitioners on the "
        "patient's care team only. The front desk gets 403; anyone else 404, as for a "
        "patient that does not exist. Each call is audited."
    ),
)
def list_physio_notes(
    request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> list[dict[str, Any]]:
    user, patient = _chart_patient(request, patient_id)
    notes = chart_for(patient).signed_physio_notes
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type=ObjectType.CHART,
        object_id=patient.pk,
        patient=patient,
        request=request,
        detail={"via": "api", "physio_notes": len(notes)},
    )
    return [
        {
            "id": note.pk,
            "appointment_id": note.appointment_id,
            "visit_start": note.appointment.start,
            "service": note.appointment.service.name,
            "practitioner": _name(note.practitioner),
            "subjective": note.subjective,
            "objective": note.objective,
            "assessment": note.assessment,
            "plan": note.plan,
            "treatment_given": note.treatment_given,
            "measures_due": [str(name) for name in note.measures_due],
            "signed_at": note.signed_at,
            "signed_by": _name(note.signed_by),
            "addenda": _addenda_out(note),
        }
        for note in notes
    ]


@router.get(
    "/muscles",
    response={200: list[MuscleOut], 401: ErrorOut, 403: ErrorOut},
    summary="List the muscle catalogue",
    description=(
        "Every muscle of the clinic's catalogue (those no longer offered in charts too, "
        "marked is_active false), in body order: by region head to foot, then by root "
        "down the spine (C2 before T1 before T10), then by name. "
        "The owner and practitioners; the front desk and patients get 403. Audited."
    ),
)
def list_muscles(request: HttpRequest) -> list[Muscle]:
    user = token_holder(request)
    # The same people as the to-do list of notes: the owner and practitioners.
    if not user.has_perm("charting.view_todo"):
        raise HttpError(403, _("The catalogue is for clinicians: the owner and practitioners."))
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type=ObjectType.MUSCLE_CATALOGUE,
        request=request,
        detail={"via": "api"},
    )
    return list(Muscle.objects.in_body_order())
