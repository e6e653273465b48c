"""A patient's own record, and the patients a member of staff may open.

`core.permissions` holds the rules; this module answers them with queries and gives the
patient-facing pages their one way in:

- `patients_visible_to(user)`: the records a member of staff may open, as a query;
- `own_patient(user)`: the record linked to a signed-in patient;
- `patients_own(...)`: one of that patient's own rows (a visit, a signed consent, a
  waitlist entry), or the same audited 404 as for a row that does not exist;
- `patient_page`: the decorator every patient-facing page uses.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from imsclinic.core.access import refuse
from imsclinic.core.permissions import is_clinic_staff, sees_every_patient
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import Model, QuerySet

    from imsclinic.accounts.models import User


def patients_visible_to(user: User | AnonymousUser) -> QuerySet[Patient]:
    """Return the patients whose record this staff user may open."""
    if not is_clinic_staff(user):
        return Patient.objects.none()
    if sees_every_patient(user):
        return Patient.objects.all()
    return Patient.objects.filter(care_team__user=user.pk, care_team__is_active=True).distinct()


def own_patient(user: User | AnonymousUser) -> Patient | None:
    """Return the patient record linked to this signed-in user, or None if there is none."""
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
