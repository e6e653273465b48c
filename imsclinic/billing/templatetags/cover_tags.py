"""Claims on pages of the areas below billing, which do not import it.

The front desk's booking page loads these tags to warn about a patient's open claims.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from imsclinic.billing.claims import booking_warnings

register = template.Library()


@register.inclusion_tag("billing/cover_booking_warnings.html", takes_context=True)
def claim_warnings(
    context: template.Context,
    patient: Any,
    start: dt.datetime | None,
    location: Any,
    weekly: int = 1,
) -> dict[str, Any]:
    """Warn the front desk (and the owner) when a visit at `start` strains an open claim.

    `weekly`: a course of that many visits a week apart from `start`. Practitioners book
    too, but see no patient's cover: they get nothing here.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if (
        user is None
        or patient is None
        or start is None
        or location is None
        or not user.has_perm("billing.edit_cover", patient)
    ):
        return {"warnings": []}
    days = [
        (start + dt.timedelta(weeks=week)).astimezone(location.zone).date()
        for week in range(max(int(weekly), 1))
    ]
    return {"warnings": booking_warnings(patient, days=days)}
