"""Consent cards other apps' pages include: the portal home and the staff patient page."""

from __future__ import annotations

from typing import Any

from django import template

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.consent.selectors import (
    consent_state,
    local_time_text,
    signatures_of,
)
from imsclinic.patients.models import Patient

register = template.Library()


@register.inclusion_tag("consent/portal_card.html")
def consent_portal_card(patient: Patient) -> dict[str, Any]:
    """Tell the patient whether they have signed, or what they must sign."""
    state = consent_state(patient)
    signed_at = local_time_text(state.current.signed_at) if state.current else ""
    return {"state": state, "signed_at": signed_at}


@register.inclusion_tag("consent/staff_card.html")
def consent_staff_card(patient: Patient) -> dict[str, Any]:
    """Show staff the patient's consent state and every signature and withdrawal."""
    state = consent_state(patient)
    zone = clinic_zone()
    rows = [
        {
            "signature": signature,
            "signed_at": local_time_text(signature.signed_at, zone),
            "withdrawn_at": (
                local_time_text(signature.withdrawn_at, zone) if signature.withdrawn_at else ""
            ),
        }
        for signature in signatures_of(patient)
    ]
    signed_at = local_time_text(state.current.signed_at, zone) if state.current else ""
    return {"patient": patient, "state": state, "signatures": rows, "signed_at": signed_at}
