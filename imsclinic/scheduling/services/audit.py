"""The audit rows of pages and lists that show visits: one look recorded per patient named."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from imsclinic.core.audit import audit_record, audit_record_per_patient
from imsclinic.core.models import Action, ObjectType
from imsclinic.scheduling.models import Appointment

if TYPE_CHECKING:
    from imsclinic.accounts.models import User


def visits_shown_record(
    request: HttpRequest | None,
    *,
    user: User,
    object_type: ObjectType,
    visits: Iterable[Appointment],
    detail: dict[str, Any],
) -> None:
    """Write one VIEW row per patient whose visits a page or list showed this user by name.

    The row names the patient and the visits shown; a page that named nobody writes one row
    without a patient. Visits shown as busy time only are not patient information and are
    left out.
    """
    shown: dict[int, list[int]] = {}
    for visit in visits:
        shown.setdefault(visit.patient_id, []).append(visit.pk)
    if not shown:
        audit_record(
            actor=user, action=Action.VIEW, object_type=object_type, request=request, detail=detail
        )
        return
    audit_record_per_patient(
        actor=user,
        action=Action.VIEW,
        object_type=object_type,
        request=request,
        shown={
            patient_id: {**detail, "visits": sorted(visit_ids)}
            for patient_id, visit_ids in sorted(shown.items())
        },
    )
