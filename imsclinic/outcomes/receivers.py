"""How outcomes reacts to the areas below it, which do not import outcomes.

- A signed needling note (`charting.signals.note_signed`) records its pain scores.
- A visit's reminder (`scheduling.signals.reminder_composing`) links to the questionnaires
  due before the visit.
- A visit's physiotherapy note (`charting.signals.measures_due_asked`) names the outcome
  measures due at the visit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse

from imsclinic.outcomes import services
from imsclinic.outcomes.instruments import definition
from imsclinic.outcomes.selectors import due_measures

if TYPE_CHECKING:
    from imsclinic.accounts.models import User
    from imsclinic.charting.models import NeedlingSession
    from imsclinic.scheduling.models import Appointment


def results_from_signed_note(
    sender: Any, *, session: NeedlingSession, actor: User, **kwargs: Any
) -> None:
    """Store the signed note's pain before and after as NPRS results, in its transaction."""
    services.results_from_session(session=session, actor=actor)


def reminder_measures_link(
    sender: Any, *, appointment: Appointment, **kwargs: Any
) -> dict[str, str]:
    """Link a visit's reminder to the portal's questionnaires when some are due before it."""
    if not due_measures(appointment):
        return {}
    return {"measures_url": settings.SITE_URL + reverse("portal_measures")}


def measures_due_names(sender: Any, *, appointment: Appointment, **kwargs: Any) -> list[str]:
    """Name the outcome measures due at a visit, for its physiotherapy note."""
    return [str(definition(code).name) for code in due_measures(appointment)]
