"""Every change to a patient record goes through here, audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.http import HttpRequest

from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

DEMOGRAPHIC_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "pronouns",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_phone",
)


def patient_update_demographics(
    *, patient: Patient, data: dict[str, Any], actor: User, request: HttpRequest | None = None
) -> list[str]:
    """Change a patient's demographics and contact details; return the fields changed."""
    changed = [
        name for name in DEMOGRAPHIC_FIELDS if name in data and getattr(patient, name) != data[name]
    ]
    if not changed:
        return []
    with transaction.atomic(durable=True):
        for name in changed:
            setattr(patient, name, data[name])
        patient.full_clean()
        patient._change_reason = "demographics edited"  # type: ignore[attr-defined]
        patient.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.PATIENT,
            object_id=patient.pk,
            patient=patient,
            request=request,
            detail={"fields": changed},
        )
    return changed


def patient_create(
    *, data: dict[str, Any], actor: User, request: HttpRequest | None = None, user: Any = None
) -> Patient:
    """Register a new patient record, audited; `user` links the patient's own sign-in."""
    with transaction.atomic():
        patient = Patient(user=user, **{k: v for k, v in data.items() if k in DEMOGRAPHIC_FIELDS})
        patient.full_clean()
        patient.save()
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.PATIENT,
            object_id=patient.pk,
            patient=patient,
            request=request,
        )
    return patient


def patient_care_team_add(
    *, patient: Patient, practitioner: Any, actor: User | None, request: HttpRequest | None = None
) -> bool:
    """Put a practitioner on the patient's care team (who may open the chart); say if new."""
    if patient.care_team.filter(pk=practitioner.pk).exists():
        return False
    with transaction.atomic():
        patient.care_team.add(practitioner)
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.PATIENT,
            object_id=patient.pk,
            patient=patient,
            request=request,
            detail={"care_team_added": practitioner.pk},
        )
    return True


def patient_search_recorded(
    request: HttpRequest | None,
    *,
    user: User,
    query: str,
    page: int,
    shown: list[Patient],
    via: str = "web",
) -> None:
    """Write to the audit log which patients a search showed this user."""
    detail: dict[str, Any] = {"query": query, "page": page, "shown": [p.pk for p in shown]}
    if via != "web":
        detail["via"] = via
    audit_record(
        actor=user,
        action=Action.SEARCH,
        object_type=ObjectType.PATIENT_LIST,
        request=request,
        detail=detail,
    )
