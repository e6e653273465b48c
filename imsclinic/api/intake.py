"""A patient's health questions (intake): /api/v1/patients/ID/intake."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import P, PathEx, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from imsclinic.accounts.models import User
from imsclinic.api.auth import token_holder
from imsclinic.api.schemas import ErrorOut, ValidationErrorOut
from imsclinic.core.access import refuse
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType
from imsclinic.intake.models import Intake
from imsclinic.intake.selectors import (
    current_intake,
    intake_is_current,
    intake_valid_until,
)
from imsclinic.intake.services import IntakeInvalid, intake_enter_from_paper, intake_submit
from imsclinic.patients.access import own_patient
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user

router = Router(tags=["intake"])

MAX_ID = 2**63 - 1


class IntakeOut(Schema):
    id: int
    patient_id: int
    form_version: str = Field(
        description='The questionnaire version, e.g. "intake-v2" (the current one).'
    )
    source: str = Field(description='"portal" (the patient) or "paper" (typed in by staff).')
    submitted_at: dt.datetime
    valid_until: dt.datetime = Field(description="When the patient must re-confirm the answers.")
    current: bool = Field(
        description=(
            "Still within the clinic's validity period, and on the current form (answers "
            "from an earlier form must be re-confirmed with the questions added since)."
        )
    )
    confirms: int | None = Field(description="The earlier intake this one re-confirmed.")
    answers: dict[str, Any] | None = Field(
        description=(
            "The answers, keyed as in docs/API.md. Null for a front-desk caller: the answers "
            "are clinical."
        )
    )


class IntakeIn(Schema):
    answers: dict[str, Any] = Field(
        description="Every required answer of the current questionnaire (see docs/API.md)."
    )


def _patient(request: HttpRequest, user: User, patient_id: int) -> tuple[Patient, bool]:
    """Return the patient and whether the caller is that patient; 404 for anyone else."""
    own = own_patient(user)
    if own is not None and own.pk == patient_id:
        return own, True
    return patient_for_user(
        request, user=user, patient_id=patient_id, asked_for=ObjectType.INTAKE
    ), False


def _out(intake: Intake, *, with_answers: bool) -> dict[str, Any]:
    assert intake.submitted_at is not None
    return {
        "id": intake.pk,
        "patient_id": intake.patient_id,
        "form_version": intake.form_version,
        "source": intake.source,
        "submitted_at": intake.submitted_at,
        "valid_until": intake_valid_until(intake),
        "current": intake_is_current(intake, at=timezone.now()),
        "confirms": intake.confirms_id,
        "answers": intake.answers if with_answers else None,
    }


@router.get(
    "/{patient_id}/intake",
    response={200: IntakeOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="Read a patient's current health questions",
    description=(
        "The patient's latest submitted intake with its answers. Clinical content: the "
        "patient themself, the owner and practitioners on the patient's care team. The "
        "front desk gets 403; anyone else 404, as for a patient that does not exist. 404 "
        "also when the patient has sent no answers yet. Each read is audited."
    ),
)
def get_intake(request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)]) -> dict[str, Any]:
    user = token_holder(request)
    patient, own = _patient(request, user, patient_id)
    if not own and not user.has_perm("intake.view_answers", patient):
        raise refuse(
            request,
            object_type=ObjectType.INTAKE,
            patient=patient,
            error=HttpError(
                403, _("The answers are clinical: only the owner and the care team may read them.")
            ),
        )
    intake = current_intake(patient)
    if intake is None:
        raise HttpError(404, _("This patient has not sent any health questions yet."))
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type=ObjectType.INTAKE,
        object_id=intake.pk,
        patient_id=intake.patient_id,
        request=request,
        detail={"via": "api"},
    )
    return _out(intake, with_answers=True)


@router.post(
    "/{patient_id}/intake",
    response={
        201: IntakeOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Submit a patient's health questions",
    description=(
        "Submit a complete set of answers as a new intake. The patient submits their own "
        "(source portal, replacing any draft in progress); the front desk, the owner and "
        "practitioners on the care team enter a paper form (source paper). 422 lists every "
        'missing or invalid answer: loc is ["body", "answers", key]. Audited.'
    ),
)
def post_intake(
    request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)], payload: IntakeIn
) -> Status[dict[str, Any]]:
    user = token_holder(request)
    patient, own = _patient(request, user, patient_id)
    try:
        if own:
            intake = intake_submit(
                patient=patient, answers=payload.answers, actor=user, request=request
            )
        else:
            if not user.has_perm("intake.enter_paper", patient):
                raise refuse(
                    request,
                    object_type=ObjectType.INTAKE,
                    patient=patient,
                    error=HttpError(403, _("You may not enter health questions for this patient.")),
                )
            intake = intake_enter_from_paper(
                patient=patient, answers=payload.answers, actor=user, request=request
            )
    except IntakeInvalid as error:
        detail = [
            {"loc": ["body", "answers", key], "msg": message, "type": "intake"}
            for key, messages in error.answer_errors.items()
            for message in messages
        ]
        return Status(422, {"detail": detail})
    with_answers = own or user.has_perm("intake.view_answers", patient)
    return Status(201, _out(intake, with_answers=with_answers))
