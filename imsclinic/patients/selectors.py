"""Reads of patient records that pages and the API share."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from imsclinic.core.access import refuse
from imsclinic.core.models import ObjectType
from imsclinic.patients.access import patients_visible_to
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d")
# The longest search the patient list and the API accept.
SEARCH_MAX_LENGTH = 100


def _parse_date(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def patient_search(*, user: User, query: str) -> QuerySet[Patient]:
    """Return the patients this user may see that match a name, date of birth or phone."""
    patients = patients_visible_to(user)
    query = query.strip()
    if not query:
        return patients
    born = _parse_date(query)
    if born is not None:
        return patients.filter(date_of_birth=born)
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 3 and not re.search(r"[^\W\d_]", query):
        # No letters and a few digits: a phone number, typed with any punctuation.
        return patients.filter(phone_digits__contains=digits)
    condition = Q()
    for word in query.split():
        condition &= (
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(preferred_name__icontains=word)
        )
    return patients.filter(condition)


def patient_for_user(
    request: HttpRequest | None,
    *,
    user: Any,
    patient_id: int,
    perm: str = "patients.view_patient",
    asked_for: str = ObjectType.PATIENT,
    asked_id: object = None,
) -> Patient:
    """Return the patient if this user may open the record and do `perm`; otherwise refuse.

    Someone with no right to the record learns nothing: they get the same 404 as for a
    record that does not exist. A user who may open the record but not do `perm` gets 403.
    Either refusal is audited as a denied look at (or change of) what was asked for:
    `asked_for` and `asked_id` name it (the patient's record itself by default).
    """
    patient = Patient.objects.filter(pk=patient_id).first()
    object_id = patient_id if asked_id is None else asked_id
    if patient is None or not user.has_perm("patients.view_patient", patient):
        raise refuse(
            request,
            actor=user,
            object_type=asked_for,
            object_id=object_id,
            patient=patient,
            reason="" if patient else "no such patient",
            error=Http404("No such patient."),
        )
    if perm != "patients.view_patient" and not user.has_perm(perm, patient):
        raise refuse(
            request,
            actor=user,
            object_type=asked_for,
            object_id=object_id,
            patient=patient,
            error=PermissionDenied(),
        )
    return patient
