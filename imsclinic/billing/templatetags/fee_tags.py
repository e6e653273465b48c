"""The late-cancellation and no-show fee policy, stated where patients book.

`{% load fee_tags %}{% fee_policy service location %}` writes the sentence (nothing when the
service has no fee); `{% fee_policy service location as text %}` keeps it for an `{% if %}`.
Any area's template may load it: a template tag is not an import, so scheduling's pages state
billing's policy without scheduling depending on billing.
"""

from __future__ import annotations

from django import template

from imsclinic.billing.services.fees import fee_policy_sentence
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
