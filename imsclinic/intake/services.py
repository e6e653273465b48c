"""Every change to intakes goes through here: drafts, submission, re-confirmation, paper."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.core.audit import audit_record
from imsclinic.core.errors import Refused
from imsclinic.core.models import Action, ObjectType
from imsclinic.intake.models import Intake, IntakeLocked
from imsclinic.intake.questions import FORM_VERSION
from imsclinic.intake.selectors import current_intake
from imsclinic.intake.validation import Errors, normalise, validate
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

__all__ = [
    "IntakeInvalid",
    "IntakeLocked",
    "NothingToConfirm",
    "intake_enter_from_paper",
    "intake_reconfirm",
    "intake_reconfirm_start",
    "intake_save_draft",
    "intake_submit",
]


class IntakeInvalid(Refused):
    """The answers are not acceptable; `errors` says why, question by question.

    `answer_errors` keeps every message of each question apart, as validation gives them.
    """

    def __init__(self, answer_errors: Errors) -> None:
        super().__init__(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in answer_errors.items()),
            errors={key: " ".join(messages) for key, messages in answer_errors.items()},
        )
        self.answer_errors = answer_errors


class NothingToConfirm(Exception):
    """The patient has no submitted intake to re-confirm."""


def _blank(value: object) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _locked_draft(patient: Patient) -> Intake | None:
    return (
        Intake.objects.select_for_update(no_key=True)
        .filter(patient=patient, status=Intake.Status.DRAFT)
        .first()
    )


def _draft_for_update(patient: Patient) -> tuple[Intake, bool]:
    """Return the patient's draft, locked, starting one if there is none; say if it is new.

    Two first saves at once (two tabs) meet the one-draft constraint: the loser takes the
    winner's draft instead of failing.
    """
    draft = _locked_draft(patient)
    if draft is not None:
        return draft, False
    try:
        with transaction.atomic():
            draft = Intake.objects.create(patient=patient, answers={}, source=Intake.Source.PORTAL)
        return draft, True
    except IntegrityError:
        draft = _locked_draft(patient)
        if draft is None:  # pragma: no cover - the other draft was submitted meanwhile
            raise
        return draft, False


def _audit(
    intake: Intake, *, action: Action, actor: User, request: HttpRequest | None, **detail: Any
) -> None:
    # Question keys and ids only: the answers themselves stay out of the log.
    audit_record(
        actor=actor,
        action=action,
        object_type=ObjectType.INTAKE,
        object_id=intake.pk,
        patient_id=intake.patient_id,
        request=request,
        detail=detail,
    )


def intake_save_draft(
    *,
    patient: Patient,
    answers: Mapping[str, Any],
    actor: User,
    request: HttpRequest | None = None,
) -> Intake:
    """Merge some answers into the patient's intake in progress, starting one if needed.

    Keys given replace the saved ones (an empty value clears one); keys not given are left
    as they were, so saving one section never loses another. Incomplete is fine here;
    answers that could never be valid are refused and nothing is saved.
    """
    errors = validate(answers, complete=False)
    if errors:
        raise IntakeInvalid(errors)
    with transaction.atomic(durable=True):
        draft, created = _draft_for_update(patient)
        merged = dict(draft.answers)
        for key, value in answers.items():
            if _blank(value):
                merged.pop(key, None)
            else:
                merged[key] = value
        draft.answers = merged
        draft.save()
        _audit(
            draft,
            action=Action.CREATE if created else Action.UPDATE,
            actor=actor,
            request=request,
            status="draft",
            questions=sorted(answers),
        )
    return draft


def _submit(
    intake: Intake,
    *,
    answers: Mapping[str, Any],
    actor: User,
    request: HttpRequest | None,
    action: Action,
    now: dt.datetime | None = None,
) -> Intake:
    errors = validate(answers, complete=True)
    if errors:
        raise IntakeInvalid(errors)
    intake.answers = normalise(answers)
    intake.form_version = FORM_VERSION
    intake.status = Intake.Status.SUBMITTED
    intake.submitted_at = now or timezone.now()
    intake.submitted_by = actor if getattr(actor, "is_authenticated", False) else None
    intake.full_clean(exclude=["answers"])
    intake.save()
    _audit(
        intake,
        action=action,
        actor=actor,
        request=request,
        status="submitted",
        source=intake.source,
        confirms=intake.confirms_id,
    )
    return intake


def intake_submit(
    *,
    patient: Patient,
    actor: User,
    answers: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Intake:
    """Submit the patient's intake: their draft as saved, or `answers` given whole.

    Every required question must be answered (follow-ups only when they apply); otherwise
    IntakeInvalid says which, and nothing changes. The submitted intake is never changed
    again. A draft begun as a re-confirmation keeps its link to the intake it re-confirms.
    """
    with transaction.atomic(durable=True):
        draft = _locked_draft(patient)
        if answers is None:
            if draft is None:
                raise IntakeInvalid({"__all__": [_("There are no answers to send yet.")]})
            answers = draft.answers
        intake = draft or Intake(patient=patient, source=Intake.Source.PORTAL)
        return _submit(
            intake, answers=answers, actor=actor, request=request, action=Action.CREATE, now=now
        )


def intake_reconfirm_start(
    *, patient: Patient, actor: User, request: HttpRequest | None = None
) -> Intake:
    """Begin re-confirming: a draft filled in from the latest submitted intake.

    Anything already typed in a draft in progress is kept over the old answers.
    """
    with transaction.atomic(durable=True):
        current = current_intake(patient)
        if current is None:
            raise NothingToConfirm
        draft, created = _draft_for_update(patient)
        draft.answers = {**current.answers, **draft.answers}
        draft.confirms = current
        draft.save()
        _audit(
            draft,
            action=Action.CREATE if created else Action.UPDATE,
            actor=actor,
            request=request,
            status="draft",
            confirms=current.pk,
        )
    return draft


def intake_reconfirm(
    *,
    patient: Patient,
    actor: User,
    changes: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> Intake:
    """Confirm the latest submitted intake again, with any changes, as a new submitted intake.

    The earlier intake stays as it was; the new one points at it (`confirms`).
    """
    with transaction.atomic(durable=True):
        current = current_intake(patient)
        if current is None:
            raise NothingToConfirm
        answers = dict(current.answers)
        for key, value in (changes or {}).items():
            if _blank(value):
                answers.pop(key, None)
            else:
                answers[key] = value
        staff = bool(getattr(actor, "is_clinic_staff", False))
        intake = Intake(
            patient=patient,
            confirms=current,
            source=Intake.Source.PAPER if staff else Intake.Source.PORTAL,
            entered_by=actor if staff else None,
        )
        return _submit(intake, answers=answers, actor=actor, request=request, action=Action.CREATE)


def intake_enter_from_paper(
    *,
    patient: Patient,
    answers: Mapping[str, Any],
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Intake:
    """Record a paper intake form a staff member typed in for the patient.

    It is complete and submitted at once, marked as from paper with who typed it. The
    patient's own draft in the portal, if any, is left alone.
    """
    if not actor.has_perm("intake.enter_paper", patient):
        raise PermissionDenied
    with transaction.atomic(durable=True):
        intake = Intake(patient=patient, source=Intake.Source.PAPER, entered_by=actor)
        return _submit(
            intake, answers=answers, actor=actor, request=request, action=Action.CREATE, now=now
        )
