"""How outcomes reacts to the areas below it, which do not import outcomes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse

from imsclinic.outcomes.selectors import due_measures

if TYPE_CHECKING:
    from imsclinic.scheduling.models import Appointment


def reminder_measures_link(
    sender: Any, *, appointment: Appointment, **kwargs: Any
) -> dict[str, str]:
    """Link a visit's reminder to the portal's questionnaires when some are due before it."""
    if not due_measures(appointment):
        return {}
    return {"measures_url": settings.SITE_URL + reverse("portal_measures")}
