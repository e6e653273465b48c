"""Visits shown on pages of the areas below scheduling, which do not import it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import template

from imsclinic.scheduling.selectors import upcoming_appointments_for_patient

if TYPE_CHECKING:
    from imsclinic.patients.models import Patient

register = template.Library()


@register.inclusion_tag("scheduling/_upcoming_visits.html", takes_context=True)
def upcoming_visits(context: template.Context, patient: Patient) -> dict[str, Any]:
    """Show staff the patient's next visits, with the needling note link for their own."""
    request = context["request"]
    return {
        "upcoming": upcoming_appointments_for_patient(patient),
        "can_chart": request.user.has_perm("charting.view_chart", patient),
        "request": request,
    }
