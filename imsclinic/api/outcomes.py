"""Outcome measures of one patient: /api/v1/patients/ID/outcomes."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import P, PathEx, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field, StrictInt

from imsclinic.accounts.models import User
from imsclinic.api.auth import token_holder
from imsclinic.api.schemas import ErrorOut, ValidationErrorOut
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType
from imsclinic.outcomes import scoring
from imsclinic.outcomes.errors import OutcomeDuplicate, OutcomeRefused
from imsclinic.outcomes.models import (
    INSTRUMENT_MAX_LENGTH,
    PSFS_MAX_ACTIVITIES,
    TIMING_MAX_LENGTH,
    MeasurePlan,
    OutcomeResult,
    ResultSource,
    Timing,
)
from imsclinic.outcomes.progress import SignedSession, number_result
from imsclinic.outcomes.selectors import (
    clinic_zone_once,
    current_plan,
    paper_day_start,
    results_for,
    signed_sessions,
)
from imsclinic.outcomes.services import result_record
from imsclinic.patients.access import own_patient
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user
from imsclinic.scheduling.models import Appointment

router = Router(tags=["outcomes"])

MAX_ID = 2**63 - 1
MAX_ANSWERS = 40


class ResultOut(Schema):
    id: int
    instrument: str = Field(description="NPRS, PSFS, ODI, NDI, QuickDASH or LEFS.")
    taken_at: dt.datetime = Field(description="When the patient answered.")
    score: float | None = Field(description="The score; null when it could not be scored.")
    answered: int = Field(description="How many items were answered.")
    not_scored_reason: str = Field(description="Why there is no score; empty when scored.")
    timing: str = Field(description='"before" or "after" needling, or "" (not tied to it).')
    session_number: int | None = Field(
        description=(
            "The signed needling session (1 = the first) it was measured at: its visit's "
            "session; null when not tied to a signed session's visit."
        )
    )
    sessions_done: int = Field(
        description=(
            "Signed needling sessions completed when it was measured: 0 = baseline. A "
            "questionnaire or the pain before needling at session N counts N - 1; the pain "
            "after needling at session N counts N."
        )
    )
    source: str = Field(description='"session_note", "portal", "paper" or "api".')
    answers: list[int | None] = Field(description="Item values in item order; null = blank.")
    labels: list[str] = Field(description="PSFS: the activity of each rating; else empty.")


class InstrumentOut(Schema):
    code: str
    name: str
    version: str
    higher_is_better: bool
    mcid: float = Field(description="Minimal clinically important change, in score points.")
    baseline: float | None = Field(
        description="The first score (NPRS: the first pain rating before needling)."
    )
    latest: float | None = Field(description="The latest score (NPRS: before needling).")
    change: float | None = Field(
        description="Improvement from baseline to latest; positive = better, whatever the scale."
    )
    meets_mcid: bool | None = Field(description="The change reaches the MCID; null with < 2.")
    results: list[ResultOut] = Field(description="Every result that stands, oldest first.")


class PlanOut(Schema):
    region_instrument: str = Field(description='"ODI", "NDI", "QuickDASH", "LEFS" or "".')
    psfs_activities: list[str]
    every_visits: int = Field(description="The questionnaires repeat every this many visits.")
    instruments: list[str] = Field(description="What the patient fills in, PSFS first.")
    set_at: dt.datetime
    set_by: str


class OutcomesOut(Schema):
    patient_id: int
    instruments: list[InstrumentOut]
    plan: PlanOut | None = Field(description="The current plan of the course; null if none.")


class ResultIn(Schema):
    instrument: str = Field(
        max_length=INSTRUMENT_MAX_LENGTH, description="NPRS, PSFS, ODI, NDI, QuickDASH or LEFS."
    )
    answers: list[StrictInt | None] = Field(
        max_length=MAX_ANSWERS, description="Item values in item order; null = left blank."
    )
    taken_at: dt.datetime | None = Field(
        default=None, description="When answered, with its offset; default now."
    )
    appointment_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    timing: str = Field(
        default="", max_length=TIMING_MAX_LENGTH, description='"before", "after" or "".'
    )
    labels: list[str] | None = Field(
        default=None,
        max_length=PSFS_MAX_ACTIVITIES,
        description="PSFS: the activity of each rating; default the plan's activities.",
    )


def _patient(request: HttpRequest, user: User, patient_id: int, *, perm: str) -> Patient:
    """Return the patient for the caller: their own, or one their permission covers."""
    own = own_patient(user)
    if own is not None and own.pk == patient_id:
        return own
    try:
        return patient_for_user(
            request,
            user=user,
            patient_id=patient_id,
            perm=perm,
            asked_for=ObjectType.OUTCOME_RESULTS,
        )
    except PermissionDenied as error:
        raise HttpError(
            403, _("Outcome measures are clinical: only the owner and the care team use them.")
        ) from error


def result_out(
    result: OutcomeResult, signed: list[SignedSession], zone: Callable[[], zoneinfo.ZoneInfo]
) -> dict[str, Any]:
    """Return one result as the API sends it, numbered like the progress pages."""
    numbering = number_result(
        signed=signed,
        taken_at=result.taken_at,
        timing=result.timing,
        session_id=result.session_id,
        appointment_id=result.appointment_id,
        visit_start=result.appointment.start if result.appointment is not None else None,
        day_start=paper_day_start(result.source, result.appointment_id, result.taken_at, zone),
    )
    return {
        "id": result.pk,
        "instrument": result.instrument,
        "taken_at": result.taken_at,
        "score": float(result.score) if result.score is not None else None,
        "answered": result.answered,
        "not_scored_reason": result.not_scored_reason,
        "timing": result.timing,
        "session_number": numbering.session,
        "sessions_done": numbering.sessions_done,
        "source": result.source,
        "answers": list(result.answers),
        "labels": list(result.labels),
    }


def _plan_out(plan: MeasurePlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "region_instrument": plan.region_instrument,
        "psfs_activities": list(plan.psfs_activities),
        "every_visits": plan.every_visits,
        "instruments": plan.instruments,
        "set_at": plan.set_at,
        "set_by": str(plan.set_by.get_full_name() or plan.set_by.email),
    }


def _instrument_out(code: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    inst = scoring.INSTRUMENTS[code]
    tracked = [
        r["score"]
        for r in results
        if r["score"] is not None and (code != "NPRS" or r["timing"] != Timing.AFTER)
    ]
    baseline = tracked[0] if tracked else None
    latest = tracked[-1] if tracked else None
    change = None
    meets = None
    if len(tracked) >= 2 and baseline is not None and latest is not None:
        compared = scoring.change(code, baseline, latest)
        change = compared.improvement
        meets = compared.meets_mcid
    return {
        "code": inst.code,
        "name": inst.name,
        "version": inst.version,
        "higher_is_better": inst.higher_is_better,
        "mcid": inst.mcid,
        "baseline": baseline,
        "latest": latest,
        "change": change,
        "meets_mcid": meets,
        "results": results,
    }


@router.get(
    "/{patient_id}/outcomes",
    response={
        200: OutcomesOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Read a patient's outcome measures",
    description=(
        "Every questionnaire result that stands (struck-out ones are left out), grouped by "
        "instrument with its baseline, latest score, change (positive = better) and whether "
        "it reaches the minimal clinically important change; and the course's plan. Pain "
        "before and after needling comes from the signed session notes. Clinical content: "
        "the patient themself, the owner and practitioners on the care team. The front desk "
        "gets 403; anyone else 404, as for a patient that does not exist. Audited."
    ),
)
def get_outcomes(
    request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> dict[str, Any]:
    user = token_holder(request)
    patient = _patient(request, user, patient_id, perm="outcomes.view_results")
    results = list(results_for(patient))
    signed = signed_sessions([patient.pk]).get(patient.pk, [])
    plan = current_plan(patient)
    grouped: dict[str, list[dict[str, Any]]] = {}
    zone = clinic_zone_once()
    for result in results:
        grouped.setdefault(result.instrument, []).append(result_out(result, signed, zone))
    wanted = set(grouped) | set(plan.instruments if plan is not None else [])
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type=ObjectType.OUTCOME_RESULTS,
        object_id=patient.pk,
        patient=patient,
        request=request,
        detail={"via": "api", "results": len(results)},
    )
    return {
        "patient_id": patient.pk,
        "instruments": [
            _instrument_out(code, grouped.get(code, []))
            for code in scoring.INSTRUMENTS
            if code in wanted
        ],
        "plan": _plan_out(plan),
    }


def _refusal(error: OutcomeRefused) -> list[dict[str, Any]]:
    detail: list[dict[str, Any]] = []
    for key, message in error.errors.items():
        loc: list[str | int] = ["body"]
        for part in key.split("."):
            loc.append(int(part) if part.isdigit() else part)
        detail.append({"loc": loc, "msg": message, "type": "outcome"})
    if not detail:
        detail.append({"loc": ["body"], "msg": error.message, "type": "outcome"})
    return detail


@router.post(
    "/{patient_id}/outcomes",
    response={
        201: ResultOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Record an answered questionnaire",
    description=(
        "Store one answered questionnaire for the patient (source api); it is scored by the "
        "instrument's published rule. The patient records their own; the owner and "
        "practitioners on the care team enter any. 422 lists what is wrong: loc is "
        '["body", "answers", 3] for the fourth item, or a date before the patient\'s birth '
        "or first visit; 400 for a body that is not JSON. 409 when the questionnaire is "
        "already recorded for that visit (one per visit; pain before and after needling "
        "apart). The front desk gets 403; anyone else 404. Results are never changed "
        "afterwards. Audited."
    ),
)
def post_outcome(
    request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)], payload: ResultIn
) -> Status[dict[str, Any]]:
    user = token_holder(request)
    # The reply shows the answers back, so staff need the clinical read too (the front desk
    # types paper questionnaires in on the staff page, where nothing is shown back).
    patient = _patient(request, user, patient_id, perm="outcomes.view_results")
    appointment = None
    if payload.appointment_id is not None:
        appointment = Appointment.objects.filter(pk=payload.appointment_id, patient=patient).first()
        if appointment is None:
            return Status(
                422,
                {
                    "detail": [
                        {
                            "loc": ["body", "appointment_id"],
                            "msg": _("That visit is not this patient's."),
                            "type": "outcome",
                        }
                    ]
                },
            )
    try:
        result = result_record(
            patient=patient,
            instrument=payload.instrument,
            answers=list(payload.answers),
            taken_at=payload.taken_at,
            timing=payload.timing,
            appointment=appointment,
            labels=payload.labels,
            source=ResultSource.API,
            actor=user,
            request=request,
        )
    except OutcomeDuplicate as duplicate:
        return Status(409, {"detail": str(duplicate)})
    except OutcomeRefused as error:
        return Status(422, {"detail": _refusal(error)})
    signed = signed_sessions([patient.pk]).get(patient.pk, [])
    return Status(201, result_out(result, signed, clinic_zone_once()))
