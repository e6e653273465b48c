"""Safety pieces other apps' pages include: the staff patient page, the portal visit list,
the owner's adverse event alerts, and the header of every clinical page of a patient."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.utils import timezone

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.consent.selectors import consent_state, local_time_text
from imsclinic.patients.models import Patient
from imsclinic.safety.readiness import needling_readiness
from imsclinic.safety.selectors import VisitNote, portal_visit_notes, screening_for
from imsclinic.safety.selectors import adverse_event_alerts as adverse_event_alerts_query

register = template.Library()


@register.inclusion_tag("safety/staff_card.html", takes_context=True)
def safety_staff_card(context: template.Context, patient: Patient) -> dict[str, Any]:
    """Show staff where the patient's screening stands; the flags only to clinicians."""
    request = context.get("request")
    user = getattr(request, "user", None)
    now = timezone.now()
    screening = screening_for(patient, at=now)
    clinical = bool(user is not None and user.has_perm("safety.view_screening", patient))
    return {
        "patient": patient,
        "screening": screening,
        "clinical": clinical,
        "readiness": needling_readiness(patient, at=now) if clinical else None,
    }


@register.inclusion_tag("safety/_clinical_header.html", takes_context=True)
def clinical_header(context: template.Context, patient: Patient) -> dict[str, Any]:
    """Show, under a clinical page's title, the patient's screening flags and consent.

    The flags are whatever the screening rules raise on the patient's current intake, the
    absolute ones first, each with its reason; only clinicians (the owner and the care team)
    see them, anyone else sees the consent alone. It reads, never records: the page it sits
    on has already written its audit row, and it makes the same few queries on every page.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    clinical = bool(user is not None and user.has_perm("safety.view_screening", patient))
    consent = consent_state(patient)
    signed_at = ""
    if consent.current is not None:
        zone = context.get("zone") or clinic_zone()  # most clinical pages have it already
        signed_at = local_time_text(consent.current.signed_at, zone)
    screening = screening_for(patient, at=timezone.now()) if clinical else None
    return {
        "patient": patient,
        "clinical": clinical,
        "screening": screening,
        "flags": (screening.absolute + screening.relative) if screening else [],
        "state": consent,
        "signed_at": signed_at,
    }


@register.simple_tag
def ims_visit_notes(patient: Patient, upcoming: Iterable[Any]) -> dict[int, list[VisitNote]]:
    """Return what the patient should know before each of their IMS visits, by visit id."""
    visits = [item["visit"] if isinstance(item, Mapping) else item for item in upcoming]
    return portal_visit_notes(patient, visits, at=timezone.now())


@register.filter
def notes_for(notes: Mapping[int, list[VisitNote]] | None, visit_id: int) -> list[VisitNote]:
    return list((notes or {}).get(visit_id, []))


@register.inclusion_tag("safety/adverse_event_alerts.html", takes_context=True)
def adverse_event_alerts(context: template.Context) -> dict[str, Any]:
    """Show the owner the significant and serious events still waiting for acknowledgement."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("safety.acknowledge_adverse_event"):
        return {"events": []}
    return {
        "events": list(adverse_event_alerts_query()),
        "next": request.get_full_path() if request is not None else "",
        "zone": clinic_zone(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("safety/_draft_events.html", takes_context=True)
def adverse_event_drafts(context: template.Context, patient: Patient) -> dict[str, Any]:
    """List the patient's adverse-event drafts (from red-flag check-ins) waiting to be completed."""
    from imsclinic.safety.models import AdverseEvent, EventStatus

    drafts = list(
        AdverseEvent.objects.filter(patient=patient, status=EventStatus.DRAFT).order_by("onset")
    )
    return {"patient": patient, "drafts": drafts, "zone": context.get("zone") or clinic_zone()}
