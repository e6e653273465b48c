"""Services, practitioners, open times and booking: what a booking app or partner needs."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import P, PathEx, QueryEx, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from imsclinic.accounts.models import User
from imsclinic.api.auth import token_holder
from imsclinic.api.schemas import ErrorOut, SingleLine, ValidationErrorOut, json_as_documented
from imsclinic.billing.claims import booking_warnings
from imsclinic.billing.services.fees import fee_policies_by_service, fee_policy_sentence
from imsclinic.clinic.models import Clinic, Location, Practitioner, Service
from imsclinic.clinic.selectors import bookable_service, practitioner_places
from imsclinic.core.access import record_refusal
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.models import Patient
from imsclinic.safety.errors import OnlineImsBookingStopped
from imsclinic.scheduling.access import visits_actionable_by
from imsclinic.scheduling.models import Appointment
from imsclinic.scheduling.selectors import (
    available_slots,
    nearest_alternatives,
)
from imsclinic.scheduling.services.audit import visits_shown_record
from imsclinic.scheduling.services.booking import (
    CancelledByUnstated,
    FirstVisitMustBeAssessment,
    NotCancellable,
    PatientBusy,
    SlotUnavailable,
    TooLateToCancel,
    appointment_book,
    appointment_cancel,
)
from imsclinic.scheduling.services.waitlist import WaitlistError, waitlist_join

router = Router(tags=["scheduling"])

MAX_ID = 2**63 - 1
MAX_DAYS = 31
LIST_LIMIT = 50
ALTERNATIVES = 5
# How many days either side to look for alternatives when the asked-for time has gone.
ALTERNATIVE_DAYS = 7
# Searches pad their window by days on each side; dates near the calendar's ends would
# overflow, and no clinic books there anyway.
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(9000, 12, 31)
ERRORS: dict[int, Any] = {401: ErrorOut, 422: ValidationErrorOut}


class ProblemOut(Schema):
    detail: str | list[dict[str, Any]] = Field(
        description="A sentence, or one entry per invalid field (loc, msg, type)."
    )


# Booking and cancelling also answer 422 with one sentence for rules the schema cannot express,
# and 503 (with Retry-After) when the database stays too busy after a few tries.
WRITE_ERRORS: dict[int, Any] = {401: ErrorOut, 422: ProblemOut, 503: ErrorOut}


class ServiceOut(Schema):
    slug: str
    name: str
    duration_minutes: int
    price: str = Field(description='Decimal amount as a string, e.g. "95.00".')
    currency: str = Field(description="ISO 4217 code of the clinic's currency.")
    requires_ims_credential: bool
    bookable_online: bool = Field(description="Patients may book it themselves.")
    for_new_patients: bool
    late_cancellation_hours: int = Field(
        description=(
            "Hours before the start inside which a cancellation is late: patients must then "
            "call, and a late cancellation by the patient is charged the service's fee."
        )
    )
    cancellation_policy: str = Field(
        description=(
            "The service's late-cancellation and no-show fees in one sentence, as patients "
            'read it where they book ("" when the service has no fee).'
        )
    )


class PractitionerOut(Schema):
    id: int
    name: str
    profession: str
    locations: list[int] = Field(description="Ids of the locations they work at.")
    ims_credential_current: bool = Field(
        description=(
            "They may give IMS today at one of their open locations: registration practising "
            "and unexpired, IMS certificate current, and a needling authorisation where the "
            "location needs one."
        )
    )
    ims_certification_expires_on: dt.date | None


class SlotOut(Schema):
    practitioner: int
    location: int
    start: dt.datetime = Field(description="ISO 8601 with the offset of the location's zone.")
    end: dt.datetime


class SlotsOut(Schema):
    slots: list[SlotOut]


class BookIn(Schema):
    service: SingleLine = Field(max_length=50, description="The service's slug.")
    practitioner: int = Field(ge=1, le=MAX_ID)
    start: dt.datetime = Field(description="ISO 8601 with an offset, e.g. 2030-01-07T10:00-08:00.")
    location: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Needed when the practitioner works at several."
    )
    patient: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Staff only: whom the visit is for."
    )


class AppointmentOut(Schema):
    id: int
    status: str
    start: dt.datetime = Field(description="ISO 8601 with the offset of the location's zone.")
    end: dt.datetime


class BookedOut(AppointmentOut):
    warnings: list[str] = Field(
        description=(
            "For the front desk and the owner: why the visit needs a look at the patient's "
            "claim (beyond its authorised visits or dates, or its last ones). Empty otherwise, "
            "and always for patients and practitioners."
        )
    )


class AppointmentListItemOut(AppointmentOut):
    service: str = Field(description="The service's slug.")
    practitioner: int
    location: int
    patient: int


class AppointmentListOut(Schema):
    items: list[AppointmentListItemOut] = Field(description=f"At most {LIST_LIMIT}, soonest first.")


class TakenOut(Schema):
    detail: str
    alternatives: list[SlotOut] = Field(
        description="The free times nearest the one asked for (before or after), up to five."
    )


class CancelIn(Schema):
    reason: str = Field(default="", max_length=1000)
    cancelled_by: Literal["", "patient", "clinic"] = Field(
        default="",
        description=(
            "Staff only: who called the visit off. Required inside the late-cancellation "
            'window: "patient" records a late cancellation and charges its fee, "clinic" '
            "(a practitioner ill, the clinic closed) charges nothing and the patient's email "
            "apologises. A patient's own cancellation is always theirs."
        ),
    )


class CancelledOut(Schema):
    id: int
    status: str


def _services_for(user: User) -> Any:
    services = Service.objects.filter(is_active=True)
    if not user.is_clinic_staff:
        services = services.filter(bookable_online=True)
    return services


def _json_time(value: dt.datetime) -> str:
    """Write a time as ninja's encoder (Django's) does: milliseconds at most, UTC as Z."""
    text = value.isoformat()
    if value.microsecond:
        text = text[:23] + text[26:]
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def _slots_out(slots: list[Any]) -> list[dict[str, Any]]:
    """Return slots in the API's shape, their times already written as JSON text.

    A week holds thousands of slots: handing ninja the datetimes would send each through the
    encoder's Python fallback, which cost more than finding the slots.
    """
    return [
        {
            "practitioner": slot.practitioner_id,
            "location": slot.location_id,
            "start": _json_time(slot.start),
            "end": _json_time(slot.end),
        }
        for slot in slots
    ]


def _appointment_out(visit: Appointment) -> dict[str, Any]:
    zone = visit.location.zone
    return {
        "id": visit.pk,
        "status": visit.status,
        "start": visit.start.astimezone(zone),
        "end": visit.end.astimezone(zone),
    }


@router.get(
    "/services",
    response={200: list[ServiceOut], 401: ErrorOut},
    summary="List services",
    description="Services the clinic offers; patients see only those they may book online.",
)
def list_services(request: HttpRequest) -> list[dict[str, Any]]:
    clinic = Clinic.current()
    currency = clinic.currency if clinic is not None else ""
    services = list(_services_for(token_holder(request)).order_by("order", "pk"))
    policies = fee_policies_by_service(services)
    return [
        {
            "slug": s.slug,
            "name": s.name,
            "duration_minutes": s.duration_minutes,
            "price": str(s.price),
            "currency": currency,
            "requires_ims_credential": s.requires_ims_credential,
            "bookable_online": s.bookable_online,
            "for_new_patients": s.for_new_patients,
            "late_cancellation_hours": clinic.late_cancellation_hours if clinic else 0,
            "cancellation_policy": fee_policy_sentence(
                service=s, policies=policies[s.pk], clinic=clinic
            ),
        }
        for s in services
    ]


@router.get(
    "/practitioners",
    response={200: list[PractitionerOut], 401: ErrorOut},
    summary="List practitioners",
    description=(
        "Active practitioners, where they work, and whether their IMS credential is current."
    ),
)
def list_practitioners(request: HttpRequest) -> list[dict[str, Any]]:
    today = timezone.localdate()
    practitioners = Practitioner.objects.filter(is_active=True).prefetch_related("locations")
    return [
        {
            "id": p.pk,
            "name": p.display_name,
            "profession": p.profession,
            "locations": sorted(loc.pk for loc in p.locations.all()),
            "ims_credential_current": any(
                p.may_needle(today, place) for place in p.locations.all() if place.is_active
            ),
            "ims_certification_expires_on": p.ims_certification_expires_on,
        }
        for p in practitioners
    ]


def _service(user: User, slug: str) -> Service:
    # The same service `_services_for(user)` would find, read without the ORM's query cost.
    service = bookable_service(slug, online_only=not user.is_clinic_staff)
    if service is None:
        raise Http404
    return service


@router.get(
    "/availability",
    response={200: SlotsOut, 404: ErrorOut, **ERRORS},
    summary="Find open times",
    description=(
        "Bookable times for a service over `days` local days from `start`, optionally for one "
        "practitioner or location. An unknown service answers 404."
    ),
)
def availability(
    request: HttpRequest,
    service: QueryEx[str, P(max_length=50, description="The service's slug.")],
    start: QueryEx[
        dt.date, P(ge=EARLIEST_DAY, le=LATEST_DAY, description="First local day, YYYY-MM-DD.")
    ],
    days: QueryEx[int, P(ge=1, le=MAX_DAYS, description="How many days to search.")] = 7,
    practitioner: QueryEx[int | None, P(ge=1, le=MAX_ID)] = None,
    location: QueryEx[int | None, P(ge=1, le=MAX_ID)] = None,
) -> HttpResponse:
    caller = token_holder(request)
    chosen = _service(caller, service)
    who = (
        Practitioner.objects.filter(pk=practitioner, is_active=True).first()
        if practitioner
        else None
    )
    where = Location.objects.filter(pk=location, is_active=True).first() if location else None
    if (practitioner and who is None) or (location and where is None):
        return json_as_documented({"slots": []})
    # A patient is shown only times they are not already booked for. The token's read
    # brought their record along (accounts.tokens).
    own: Patient | None = None if caller.is_clinic_staff else getattr(caller, "patient", None)
    slots = available_slots(
        service=chosen,
        start_date=start,
        days=days,
        practitioner=who,
        location=where,
        patient=own,
    )
    return json_as_documented({"slots": _slots_out(slots)})


def _practitioner_with_places(practitioner_id: int) -> tuple[Practitioner, list[Location]]:
    """Return an active practitioner and the active locations they work at, or 404.

    One read in the usual case (`practitioner_places`, each location with its clinic: the
    booking's reminder reads the clinic's settings). A second only when there are none.
    """
    practitioner, places = practitioner_places(practitioner_id)
    if practitioner is not None:
        return practitioner, places
    practitioner = Practitioner.objects.filter(pk=practitioner_id, is_active=True).first()
    if practitioner is None:
        raise Http404
    return practitioner, []


def _patient_for_booking(user: User, patient_id: int | None) -> Patient:
    """Return whom the visit is for: staff name a patient they may see, patients themselves."""
    if user.is_clinic_staff:
        if patient_id is None:
            raise HttpError(422, _('Say which patient the visit is for ("patient").'))
        found = Patient.objects.filter(pk=patient_id).first()
        if found is None or not user.has_perm("patients.view_patient", found):
            raise Http404
        return found
    # The token's lookup brought the caller's patient record along (accounts.tokens).
    own: Patient | None = getattr(user, "patient", None)
    if patient_id is not None and (own is None or own.pk != patient_id):
        raise PermissionDenied(_("Patients may only book visits for themselves."))
    if own is None:
        raise HttpError(403, _("There is no patient record for this account yet."))
    return own


@router.post(
    "/appointments",
    response={
        201: BookedOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: TakenOut,
        **WRITE_ERRORS,
    },
    summary="Book a visit",
    description=(
        "Book a time offered by /availability. Patients book for themselves; staff name the "
        "patient. 409 when the time has gone, with the next free times; 422 for bad input, "
        "including a first IMS visit that is not the initial assessment. 403 when a patient "
        "books IMS but their health answers mean a physiotherapist must speak with them "
        "first (the message says so and gives the clinic's phone number). For the front desk "
        "and the owner, `warnings` says when the visit goes beyond what the patient's open "
        "claim authorises, or uses its last visits; the visit is booked all the same."
    ),
)
def book(request: HttpRequest, payload: BookIn) -> Status[dict[str, Any]]:
    user = token_holder(request)
    if payload.start.tzinfo is None or payload.start.utcoffset() is None:
        raise HttpError(422, _("Give the start time with its UTC offset, e.g. -08:00."))
    if not EARLIEST_DAY <= payload.start.date() <= LATEST_DAY:
        raise HttpError(422, _("That start time is outside the dates the clinic books."))
    service = _service(user, payload.service)
    practitioner, places = _practitioner_with_places(payload.practitioner)
    if payload.location is not None:
        location = next((loc for loc in places if loc.pk == payload.location), None)
        if location is None:
            raise HttpError(422, _("This practitioner does not work at that location."))
    elif len(places) == 1:
        location = places[0]
    else:
        raise HttpError(422, _('This practitioner works at several locations: give "location".'))
    patient = _patient_for_booking(user, payload.patient)
    # Read before booking: the claim's visits used so far, without this one.
    warnings = _claim_warnings(user, patient, payload.start.astimezone(location.zone).date())
    try:
        visit = appointment_book(
            patient=patient,
            practitioner=practitioner,
            service=service,
            location=location,
            start=payload.start,
            actor=user,
            request=request,
        )
    except SlotUnavailable as refusal:
        nearest = nearest_alternatives(
            service=service,
            practitioner=practitioner,
            location=location,
            around=payload.start,
            limit=ALTERNATIVES,
            days=ALTERNATIVE_DAYS,
            patient=patient,
        )
        return Status(
            409,
            {
                "detail": _busy_or_taken(refusal, user),
                "alternatives": _slots_out(nearest),
            },
        )
    except FirstVisitMustBeAssessment as error:
        raise HttpError(422, str(error)) from error
    except OnlineImsBookingStopped as error:
        raise HttpError(403, str(error)) from error
    return Status(201, {**_appointment_out(visit), "warnings": warnings})


def _claim_warnings(user: User, patient: Patient, day: dt.date) -> list[str]:
    """The booking page's warnings about the patient's claims, for those who keep cover."""
    if not user.is_clinic_staff or not user.has_perm("billing.edit_cover", patient):
        return []
    return [warning.message for warning in booking_warnings(patient, days=[day])]


def _busy_or_taken(refusal: SlotUnavailable, user: User) -> str:
    """Say why a time could not be booked, in the caller's person."""
    if not isinstance(refusal, PatientBusy):
        return _("That time was just taken.")
    if user.is_clinic_staff:
        return str(refusal)
    return _("You already have a visit at that time.")


def _appointments_for(user: User) -> Any:
    if not user.is_clinic_staff:
        return Appointment.objects.select_related("location").filter(patient__user=user)
    return visits_actionable_by(user).select_related("location")


@router.get(
    "/appointments",
    response={200: AppointmentListOut, 401: ErrorOut},
    summary="List appointments",
    description=(
        "A patient's own visits; for staff, upcoming visits they may act on (a practitioner "
        "their own and those of patients on their care team; colleagues' other visits are "
        f"left out, not shown without the patient). At most {LIST_LIMIT}. Staff reads are "
        "audited, one row per patient listed."
    ),
)
def list_appointments(request: HttpRequest) -> dict[str, Any]:
    user = token_holder(request)
    visits = _appointments_for(user).select_related("service")
    if user.is_clinic_staff:
        visits = visits.filter(start__gte=timezone.now())
    listed = list(visits.order_by("start", "pk")[:LIST_LIMIT])
    if user.is_clinic_staff:
        visits_shown_record(
            request,
            user=user,
            object_type=ObjectType.APPOINTMENT_LIST,
            visits=listed,
            detail={"via": "api"},
        )
    return {
        "items": [
            {
                **_appointment_out(v),
                "service": v.service.slug,
                "practitioner": v.practitioner_id,
                "location": v.location_id,
                "patient": v.patient_id,
            }
            for v in listed
        ]
    }


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: CancelledOut, 404: ErrorOut, 409: ErrorOut, **WRITE_ERRORS},
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": CancelIn.model_json_schema()}},
        }
    },
    summary="Cancel a visit",
    description=(
        "Patients may cancel up to the clinic's late-cancellation window, then must call. "
        "Staff cancelling inside the window give a reason and say who cancelled "
        '(`cancelled_by`): "patient" charges the service\'s late-cancellation fee, '
        '"clinic" charges nothing. '
        "A visit the caller may not see answers 404, like one that does not exist."
    ),
)
def cancel(
    request: HttpRequest, appointment_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> dict[str, Any] | Status[dict[str, Any]]:
    user = token_holder(request)
    # The body is optional, which ninja's JSON parser does not allow, so it is read here.
    try:
        body = request.body if request.content_type == "application/json" else b""
        payload = CancelIn.model_validate_json(body.strip() or b"{}")
    except PydanticValidationError as error:
        raise HttpError(
            422, _('Send {} or {"reason": "...", "cancelled_by": "patient"} as JSON.')
        ) from error
    visit = _appointments_for(user).filter(pk=appointment_id).first()
    if visit is None:
        record_refusal(
            request,
            actor=user,
            action=Action.UPDATE,
            object_type=ObjectType.APPOINTMENT,
            object_id=appointment_id,
            patient_id=Appointment.objects.filter(pk=appointment_id)
            .values_list("patient_id", flat=True)
            .first(),
        )
        raise Http404
    try:
        visit = appointment_cancel(
            appointment=visit,
            actor=user,
            reason=payload.reason,
            cancelled_by=payload.cancelled_by,
            request=request,
        )
    except CancelledByUnstated as refusal:
        problems = [
            {"loc": ["body", "payload", name], "msg": message, "type": "cancel"}
            for name, message in refusal.errors.items()
        ]
        return Status(422, {"detail": problems})
    except TooLateToCancel as error:
        clinic = Clinic.current()
        phone = clinic.phone if clinic is not None else ""
        message = str(error)
        if phone and not user.is_clinic_staff:
            message = _("%(message)s Phone: %(phone)s.") % {"message": message, "phone": phone}
        raise HttpError(409, message) from error
    except NotCancellable as error:
        raise HttpError(409, str(error)) from error
    return {"id": visit.pk, "status": visit.status}


# --- the waitlist ------------------------------------------------------------------------------


class WaitlistIn(Schema):
    service: str = Field(max_length=50, description="The service's slug.")
    earliest: dt.date = Field(description="First local day that would suit (today or later).")
    latest: dt.date = Field(description="Last local day that would suit (included).")
    practitioner: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Only this practitioner (default: anyone)."
    )
    location: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Only this location (default: any)."
    )
    patient: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Staff only: who is waiting."
    )


class WaitlistEntryOut(Schema):
    id: int
    status: str
    service: str = Field(description="The service's slug.")
    practitioner: int | None
    location: int | None
    earliest: dt.date
    latest: dt.date


@router.post(
    "/waitlist",
    response={201: WaitlistEntryOut, 403: ErrorOut, 404: ErrorOut, **WRITE_ERRORS},
    summary="Join the waitlist",
    description=(
        "Wait for a service between two local days, optionally with one practitioner or at "
        "one location; a freed time that suits is emailed to the patient with a claim link. "
        "Patients join for themselves; staff name the patient. 422 lists, per field, why a "
        "wish could never be offered: among others a practitioner without a current IMS "
        "certification for an IMS service, a follow-up before any IMS visit, or a second "
        "initial assessment. An unknown service, practitioner or location answers 404."
    ),
)
def join_waitlist(request: HttpRequest, payload: WaitlistIn) -> Status[dict[str, Any]]:
    user = token_holder(request)
    for day in (payload.earliest, payload.latest):
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise HttpError(422, _("Those days are outside the dates the clinic books."))
    service = _service(user, payload.service)
    practitioner = location = None
    if payload.practitioner is not None:
        practitioner = Practitioner.objects.filter(pk=payload.practitioner).first()
        if practitioner is None:
            raise Http404
    if payload.location is not None:
        location = Location.objects.filter(pk=payload.location).first()
        if location is None:
            raise Http404
    patient = _patient_for_booking(user, payload.patient)
    try:
        entry = waitlist_join(
            patient=patient,
            service=service,
            practitioner=practitioner,
            location=location,
            earliest=payload.earliest,
            latest=payload.latest,
            actor=user,
            request=request,
        )
    except WaitlistError as refusal:
        if not refusal.errors:
            raise HttpError(422, refusal.message) from refusal
        problems = [
            {"loc": ["body", "payload", name], "msg": message, "type": "waitlist"}
            for name, message in refusal.errors.items()
        ]
        return Status(422, {"detail": problems})
    return Status(
        201,
        {
            "id": entry.pk,
            "status": entry.status,
            "service": service.slug,
            "practitioner": entry.practitioner_id,
            "location": entry.location_id,
            "earliest": entry.earliest,
            "latest": entry.latest,
        },
    )
