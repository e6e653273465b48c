"""The infection-control record of a demo needling note, written through the service.

Called on a draft note before it is signed: every step of the clinic's protocol confirmed,
with the sharps container that was open at the visit's location, when the visit ended.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from imsclinic.charting.models import InfectionControlRecord, NeedlingSession
from imsclinic.charting.selectors import infection_control_protocol, sharps_containers_for_visit
from imsclinic.charting.services import infection_control_confirm


def demo_infection_control(
    session: NeedlingSession, *, physio: Any, at: dt.datetime | None = None
) -> InfectionControlRecord | None:
    """Confirm the protocol on the draft note at `at` (the visit's end by default).

    Returns None, writing nothing, when no sharps container was open at the visit's location
    during the visit (the demo stock makes one for every location).
    """
    visit = session.appointment
    containers = sharps_containers_for_visit(visit)
    if not containers:
        return None
    return infection_control_confirm(
        session=session,
        step_ids=[step.pk for step in infection_control_protocol()],
        sharps_container=containers[0],
        actor=physio,
        now=at or visit.end,
    )
