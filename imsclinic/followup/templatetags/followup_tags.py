"""Follow-up pieces other apps' pages show: the check-in of each needling session on a chart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from imsclinic.followup.models import CheckIn
from imsclinic.followup.selectors import checkins_by_session

register = template.Library()


@register.simple_tag
def session_checkins(patient_id: int) -> dict[int, CheckIn]:
    """Return the patient's check-ins by needling session id, in one query for the page."""
    return checkins_by_session(patient_id)


@register.filter
def checkin_of(checkins: Mapping[int, CheckIn], session: Any) -> CheckIn | None:
    """Return the check-in of this session from `session_checkins`, or None."""
    return checkins.get(session.pk)
