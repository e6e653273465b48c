"""Letting people in and turning them away, the same way in every app.

`core.permissions` decides who may do what. This module is how pages, the API and services
act on that decision:

- `own_patient`, `patients_own`, `own_visit` and `patient_page`: the signed-in patient's own
  record and rows (visits, signed consents, waitlist entries), and the decorator every
  patient-facing page uses to reach them;
- `record_refusal`: write a refused attempt to the audit log, as a denied look at (or
  change of) exactly what was asked for; `refuse` writes it and returns the error to
  raise. Someone with no right to a thing gets the same 404 as for a thing that does not
  exist.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, Outcome
from imsclinic.core.permissions import is_clinic_staff

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

    from imsclinic.patients.models import Patient
    from imsclinic.scheduling.models import Appointment

READS = ("GET", "HEAD", "OPTIONS")


def asked_action(request: HttpRequest | None) -> Action:
    """Return what a request asked to do: a look for reads, a change for anything else."""
    if request is None or request.method in READS:
        return Action.VIEW
    return Action.UPDATE


def record_refusal(
    request: HttpRequest | None,
    *,
    object_type: str,
    object_id: object = "",
    patient: Patient | None = None,
    patient_id: int | None = None,
    action: Action | str | None = None,
    actor: Any = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Write a refused attempt to the audit log as a denied look at (or change of) a thing.

    The row names what was asked for (`object_type`, `object_id`) and whose record it
    belongs to when that is known. `action` defaults to a view for reads and an update for
    anything else; `actor` to the request's user. `reason` and `detail` say more, never
    health information.
    """
    if actor is None and request is not None:
        actor = request.user
    audit_record(
        actor=actor,
        action=action or asked_action(request),
        object_type=object_type,
        object_id=object_id,
        patient=patient,
        patient_id=patient_id,
        outcome=Outcome.DENIED,
        request=request,
        detail={**(detail or {}), **({"reason": reason} if reason else {})} or None,
    )


def refuse(
    request: HttpRequest | None,
    *,
    object_type: str,
    object_id: object = "",
    patient: Patient | None = None,
    patient_id: int | None = None,
    action: Action | str | None = None,
    actor: Any = None,
    reason: str = "",
    error: Exception | None = None,
) -> Exception:
    """Record a refused attempt (`record_refusal`) and return the error to raise.

    The error defaults to a 404 that says nothing about whether the thing exists; pass
    `PermissionDenied(...)`, or a service's own error, for a refusal the user may know of.
    """
    record_refusal(
        request,
        object_type=object_type,
        object_id=object_id,
        patient=patient,
        patient_id=patient_id,
        action=action,
        actor=actor,
        reason=reason,
    )
    return error if error is not None else Http404("Not found.")


def own_patient(user: Any) -> Patient | None:
    """Return the patient record linked to this signed-in user, or None if there is none."""
    from imsclinic.patients.models import Patient

    if not user.is_authenticated or not user.is_active or is_clinic_staff(user):
        return None
    patient = Patient.objects.filter(user=user).first()
    if patient is None or not user.has_perm("patients.view_own_record", patient):
        return None
    return patient


def patients_own[M: Model](
    request: HttpRequest, patient: Patient | None, rows: QuerySet[M], pk: int, *, object_type: str
) -> M:
    """Return row `pk` of `rows` if it belongs to this patient; otherwise refuse (404, audited).

    Someone else's row, a missing one, and any row for an account with no record all get the
    same 404, written to the audit log as a denied look at `object_type`.
    """
    row = rows.filter(pk=pk).first()
    owner = getattr(row, "patient_id", None)
    if row is None or patient is None or owner != patient.pk:
        raise refuse(
            request,
            object_type=object_type,
            object_id=pk,
            patient_id=owner,
            reason="" if row else "no such " + object_type.replace("_", " "),
        )
    return row


def own_visit(request: HttpRequest, patient: Patient, appointment_id: int) -> Appointment:
    """Return one of this patient's visits; anyone else's is a 404 like a missing one, audited."""
    from imsclinic.scheduling.models import Appointment

    visits = Appointment.objects.select_related("service", "practitioner", "location__clinic")
    return patients_own(request, patient, visits, appointment_id, object_type="appointment")


PatientView = Callable[..., HttpResponse]


def patient_page(view: PatientView) -> Callable[..., HttpResponse]:
    """Let a signed-in patient into one of their own pages: `view(request, patient, ...)`.

    Staff are sent to their own pages (the patient list). A patient whose account the
    clinic has not yet linked to a record is told so, with the clinic's number.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_clinic_staff(request.user):
            return redirect("patient_list")
        patient = own_patient(request.user)
        if patient is None:
            return render(request, "portal/unlinked.html")
        return view(request, patient, *args, **kwargs)

    return wrapper


def require_perm(
    request: HttpRequest,
    perm: str,
    *,
    object_type: str,
    obj: Any = None,
    patient: Patient | None = None,
) -> None:
    """Refuse (403, audited as a denied look at `object_type`) unless the user has `perm`."""
    if not request.user.has_perm(perm, obj):
        raise refuse(request, object_type=object_type, patient=patient, error=PermissionDenied())
