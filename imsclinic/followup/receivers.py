"""How followup reacts to charting: a signed needling note gets its after-visit check-in."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from imsclinic.followup import services

if TYPE_CHECKING:
    from imsclinic.accounts.models import User
    from imsclinic.charting.models import NeedlingSession


def checkin_for_signed_note(
    sender: Any,
    *,
    session: NeedlingSession,
    actor: User,
    request: HttpRequest | None,
    now: dt.datetime,
    **kwargs: Any,
) -> None:
    """Schedule the signed note's check-in and its email, in the signing's transaction."""
    services.checkin_schedule(session=session, actor=actor, request=request, now=now)
