"""The late-cancellation and no-show fee policy, stated where patients book.

`{% load fee_tags %}{% fee_policy service location %}` writes the sentence (nothing when the
service has no fee); `{% fee_policy service location as text %}` keeps it for an `{% if %}`.
Any area's template may load it: a template tag is not an import, so scheduling's pages state
billing's policy without scheduling depending on billing.
"""

from __future__ import annotations

from django import template

from imsclinic.billing.models import FeeEvent
from imsclinic.billing.services.fees import fee_of, fee_policies, fee_policy_sentence
from imsclinic.clinic.models import Location, Service

register = template.Library()


@register.simple_tag
def fee_policy(service: Service | None, location: Location | None = None) -> str:
    """Return the service's fee policy, priced at the location when there is one."""
    if not isinstance(service, Service):
        return ""
    return fee_policy_sentence(
        service=service, location=location if isinstance(location, Location) else None
    )


@register.simple_tag
def late_cancel_fee(appointment: object) -> str:
    """Return the late-cancellation fee this visit would be charged, before tax; "" if none.

    For the staff's cancel page: `{% late_cancel_fee appointment as fee %}`.
    """
    service = getattr(appointment, "service", None)
    location = getattr(appointment, "location", None)
    if not isinstance(service, Service) or not isinstance(location, Location):
        return ""
    policy = fee_policies(service).get(FeeEvent.LATE_CANCEL)
    if policy is None:
        return ""
    amount = fee_of(policy, service, location)
    return f"{amount:.2f}" if amount > 0 else ""
