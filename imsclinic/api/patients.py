"""Patient records for staff: the same search and the same access rules as the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import P, PathEx, QueryEx, Router

from imsclinic.api.auth import staff_caller
from imsclinic.api.schemas import (
    CareTeamMemberOut,
    ErrorOut,
    PatientDetailOut,
    PatientPageOut,
    ValidationErrorOut,
    VisitOut,
)
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import SEARCH_MAX_LENGTH, patient_for_user, patient_search
from imsclinic.patients.services import patient_search_recorded
from imsclinic.scheduling.models import Appointment
from imsclinic.scheduling.selectors import upcoming_appointments_for_patient

router = Router(tags=["patients"])

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
# Deep enough for any clinic; the bound keeps the database offset a sane number.
MAX_PAGE = 100_000
MAX_ID = 2**63 - 1

ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut}


def _patient_out(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.pk,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "preferred_name": patient.preferred_name,
        "date_of_birth": patient.date_of_birth,
        "phone": patient.phone,
        "email": patient.email,
    }


def _visit_out(visit: Appointment) -> VisitOut:
    zone = visit.location.zone
    return VisitOut(
        id=visit.pk,
        start=visit.start.astimezone(zone),
        end=visit.end.astimezone(zone),
        time_zone=visit.location.time_zone,
        status=visit.status,
        service=visit.service.name,
        practitioner=visit.practitioner.display_name,
        location=visit.location.name,
        room=visit.room.name if visit.room else None,
    )


@router.get(
    "",
    response={200: PatientPageOut, **ERRORS},
    summary="Search patients",
    description=(
        "Patients whose name, date of birth (YYYY-MM-DD) or phone number matches `search`; "
        "every patient the caller may see when it is empty. Practitioners see only the "
        "patients on their care team. Each call is written to the audit log."
    ),
)
def list_patients(
    request: HttpRequest,
    search: QueryEx[
        str,
        P(
            max_length=SEARCH_MAX_LENGTH,
            pattern=r"^[^\x00]*$",  # NUL cannot be stored or searched; refuse it up front
            description="Part of a name, a date of birth (YYYY-MM-DD) or a phone number.",
        ),
    ] = "",
    page: QueryEx[int, P(ge=1, le=MAX_PAGE, description="Page number, from 1.")] = 1,
    page_size: QueryEx[int, P(ge=1, le=MAX_PAGE_SIZE, description="Patients per page.")] = (
        PAGE_SIZE
    ),
) -> dict[str, Any]:
    user = staff_caller(request, asked_for=ObjectType.PATIENT_LIST)
    query = search.strip()
    patients = patient_search(user=user, query=query)
    offset = (page - 1) * page_size
    shown = list(patients[offset : offset + page_size])
    patient_search_recorded(request, user=user, query=query, page=page, shown=shown, via="api")
    return {
        "count": patients.count(),
        "page": page,
        "page_size": page_size,
        "items": [_patient_out(p) for p in shown],
    }


@router.get(
    "/{patient_id}",
    response={200: PatientDetailOut, 404: ErrorOut, **ERRORS},
    summary="Read one patient",
    description=(
        "Demographics, care team and upcoming visits. A record the caller may not see "
        "answers 404, exactly like one that does not exist. Each call is audited."
    ),
)
def get_patient(
    request: HttpRequest, patient_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> dict[str, Any]:
    user = staff_caller(request, asked_for=ObjectType.PATIENT)
    patient = patient_for_user(request, user=user, patient_id=patient_id)
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type=ObjectType.PATIENT,
        object_id=patient.pk,
        patient=patient,
        request=request,
        detail={"via": "api"},
    )
    care_team = [
        CareTeamMemberOut(id=p.pk, name=p.display_name, slug=p.slug)
        for p in patient.care_team.filter(is_active=True)
    ]
    visits = [_visit_out(visit) for visit in upcoming_appointments_for_patient(patient)]
    return {
        **_patient_out(patient),
        "pronouns": patient.pronouns,
        "address_line1": patient.address_line1,
        "address_line2": patient.address_line2,
        "city": patient.city,
        "region": patient.region,
        "postal_code": patient.postal_code,
        "emergency_contact_name": patient.emergency_contact_name,
        "emergency_contact_phone": patient.emergency_contact_phone,
        "care_team": care_team,
        "upcoming_visits": visits,
    }
