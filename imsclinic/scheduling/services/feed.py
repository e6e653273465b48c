"""Changes to a practitioner's private calendar feed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext as _

from imsclinic.clinic.models import Practitioner
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType

if TYPE_CHECKING:
    from imsclinic.accounts.models import User


def practitioner_feed_revoke(
    *, practitioner: Practitioner, actor: User | None, request: HttpRequest | None = None
) -> Practitioner:
    """Give the practitioner a new feed address; every earlier address stops working."""
    is_self = (
        actor is not None and practitioner.user_id is not None and practitioner.user_id == actor.pk
    )
    if not (is_self or (actor is not None and actor.has_perm("clinic.configure"))):
        raise PermissionDenied(_("Only the practitioner or the owner may renew this address."))
    with transaction.atomic(durable=True):
        Practitioner.objects.filter(pk=practitioner.pk).update(
            calendar_feed_version=F("calendar_feed_version") + 1
        )
        practitioner.refresh_from_db(fields=["calendar_feed_version"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.CALENDAR_FEED,
            object_id=practitioner.pk,
            request=request,
            detail={"revoked": True, "version": practitioner.calendar_feed_version},
        )
    return practitioner
