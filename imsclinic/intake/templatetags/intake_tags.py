"""Intake cards other apps' pages show: the patient's portal home and the staff patient page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.intake.selectors import intake_status
from imsclinic.patients.models import Patient

register = template.Library()


def _months(context: template.Context) -> int | None:
    clinic = context.get("clinic")
    return clinic.intake_valid_months if clinic is not None else None


@register.inclusion_tag("intake/_portal_card.html", takes_context=True)
def intake_portal_card(context: template.Context, patient: Patient | None) -> dict[str, Any]:
    """Show the patient where they stand with their health questions."""
    if patient is None:
        return {"intake": None}
    status = intake_status(patient, at=timezone.now(), valid_months=_months(context))
    return {"intake": status, "zone": clinic_zone() if status.submitted_at else "UTC"}


@register.inclusion_tag("intake/_staff_card.html", takes_context=True)
def intake_staff_card(context: template.Context, patient: Patient) -> dict[str, Any]:
    """Show staff whether the patient's intake is in, with a link to it (no answers here)."""
    user = context["request"].user
    status = intake_status(patient, at=timezone.now(), valid_months=_months(context))
    return {
        "patient": patient,
        "intake": status,
        "zone": clinic_zone() if status.submitted_at else "UTC",
        "may_read": user.has_perm("intake.view_answers", patient),
        "may_enter": user.has_perm("intake.enter_paper", patient),
    }
