"""Put the open follow-up red flags on every staff page (the banner in base.html)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from imsclinic.core.permissions import is_owner, is_practitioner


def followup_alerts(request: HttpRequest) -> dict[str, Any]:
    """Give owners and practitioners their open red flags, in one query when a page shows them."""
    user = getattr(request, "user", None)
    if user is None or not (is_owner(user) or is_practitioner(user)):
        return {"followup_alerts": ()}

    def load() -> list[Any]:
        from imsclinic.followup.selectors import open_alerts_for

        return list(open_alerts_for(user).select_related(None).select_related("patient"))

    return {"followup_alerts": SimpleLazyObject(load)}
