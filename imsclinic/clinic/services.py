"""Every write to needle stock and the sharps log goes through here, audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.clinic.models import RECALL_REASON_MAX, Location, NeedleLot, SharpsContainer
from imsclinic.core.access import record_refusal
from imsclinic.core.audit import audit_record
from imsclinic.core.errors import Refused
from imsclinic.core.models import Action, ObjectType

if TYPE_CHECKING:
    from imsclinic.accounts.models import User


class StockRefused(Refused):
    """A stock or sharps change the rules do not allow."""


def _require_manage(
    actor: User | None, *, object_type: ObjectType, request: HttpRequest | None
) -> None:
    if actor is None or not actor.has_perm("clinic.manage_stock"):
        record_refusal(
            request,
            actor=actor,
            action=Action.UPDATE,
            object_type=object_type,
        )
        raise PermissionDenied(_("Only practitioners and the owner change needle stock."))


def needle_lot_add(
    *,
    lot_number: str,
    manufacturer: str,
    diameter_mm: Decimal,
    length_mm: int,
    expires_on: dt.date,
    quantity_received: int,
    received_on: dt.date,
    actor: User,
    request: HttpRequest | None = None,
) -> NeedleLot:
    """Record a delivered lot of needles."""
    _require_manage(actor, object_type=ObjectType.NEEDLE_LOT, request=request)
    lot = NeedleLot(
        lot_number=(lot_number or "").strip(),
        manufacturer=(manufacturer or "").strip(),
        diameter_mm=diameter_mm,
        length_mm=length_mm,
        expires_on=expires_on,
        quantity_received=quantity_received,
        received_on=received_on,
    )
    try:
        lot.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise StockRefused(messages[0], field=None if field == "__all__" else field) from None
    with transaction.atomic(durable=True):
        duplicate = NeedleLot.objects.filter(
            manufacturer__iexact=lot.manufacturer, lot_number__iexact=lot.lot_number
        ).exists()
        if duplicate:
            raise StockRefused(
                _("This lot from this manufacturer is already in stock."), field="lot_number"
            )
        lot.save()
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.NEEDLE_LOT,
            object_id=lot.pk,
            request=request,
            detail={
                "lot_number": lot.lot_number,
                "manufacturer": lot.manufacturer,
                "size": lot.size_label,
                "expires_on": lot.expires_on.isoformat(),
                "quantity": lot.quantity_received,
            },
        )
    return lot


def needle_lot_recall(
    *,
    lot: NeedleLot,
    reason: str,
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> NeedleLot:
    """Withdraw a lot from use for good, with the reason (a manufacturer's notice, a fault)."""
    _require_manage(actor, object_type=ObjectType.NEEDLE_LOT, request=request)
    reason = (reason or "").strip()
    if not reason:
        raise StockRefused(_("Say why the lot is recalled."), field="reason")
    if len(reason) > RECALL_REASON_MAX:
        raise StockRefused(
            _("Keep the reason under %(max)d characters.") % {"max": RECALL_REASON_MAX},
            field="reason",
        )
    with transaction.atomic(durable=True):
        locked = NeedleLot.objects.select_for_update(no_key=True).get(pk=lot.pk)
        if locked.recalled_at is not None:
            raise StockRefused(_("This lot was already recalled."))
        locked.recalled_at = now or timezone.now()
        locked.recall_reason = reason
        locked.save(update_fields=["recalled_at", "recall_reason"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.NEEDLE_LOT,
            object_id=locked.pk,
            request=request,
            detail={"recalled": True, "lot_number": locked.lot_number, "reason": reason},
        )
    lot.recalled_at, lot.recall_reason = locked.recalled_at, locked.recall_reason
    return locked


def sharps_container_open(
    *,
    label: str,
    location: Location,
    notes: str = "",
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> SharpsContainer:
    """Put a new sharps container into use."""
    _require_manage(actor, object_type=ObjectType.SHARPS_CONTAINER, request=request)
    label = (label or "").strip()
    if not label:
        raise StockRefused(_("Write the label on the container."), field="label")
    with transaction.atomic(durable=True):
        in_use = SharpsContainer.objects.filter(
            label__iexact=label, location=location, collected_at__isnull=True
        ).exists()
        if in_use:
            raise StockRefused(
                _("A container with this label is already open or waiting for collection here."),
                field="label",
            )
        container = SharpsContainer.objects.create(
            label=label,
            location=location,
            opened_at=now or timezone.now(),
            opened_by=actor,
            notes=(notes or "").strip(),
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.SHARPS_CONTAINER,
            object_id=container.pk,
            request=request,
            detail={"event": "opened", "label": label, "location": location.pk},
        )
    return container


def sharps_container_seal(
    *,
    container: SharpsContainer,
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> SharpsContainer:
    """Seal a full container; it then waits for collection."""
    _require_manage(actor, object_type=ObjectType.SHARPS_CONTAINER, request=request)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = SharpsContainer.objects.select_for_update(no_key=True).get(pk=container.pk)
        if locked.sealed_at is not None:
            raise StockRefused(_("This container is already sealed."))
        if now < locked.opened_at:
            raise StockRefused(_("A container cannot be sealed before it was opened."))
        locked.sealed_at = now
        locked.sealed_by = actor
        locked.save(update_fields=["sealed_at", "sealed_by"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.SHARPS_CONTAINER,
            object_id=locked.pk,
            request=request,
            detail={"event": "sealed", "label": locked.label},
        )
    return locked


def sharps_container_collect(
    *,
    container: SharpsContainer,
    collected_by_name: str,
    collected_by_company: str = "",
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> SharpsContainer:
    """Record that a sealed container was picked up for disposal, and by whom."""
    _require_manage(actor, object_type=ObjectType.SHARPS_CONTAINER, request=request)
    now = now or timezone.now()
    name = (collected_by_name or "").strip()
    company = (collected_by_company or "").strip()
    if not name:
        raise StockRefused(_("Write the name of the person who collected it."), field="name")
    with transaction.atomic(durable=True):
        locked = SharpsContainer.objects.select_for_update(no_key=True).get(pk=container.pk)
        if locked.collected_at is not None:
            raise StockRefused(_("This container was already collected."))
        if locked.sealed_at is None:
            raise StockRefused(_("Seal the container before it is collected."))
        if now < locked.sealed_at:
            raise StockRefused(_("A container cannot be collected before it was sealed."))
        locked.collected_at = now
        locked.collected_by_name = name
        locked.collected_by_company = company
        locked.save(update_fields=["collected_at", "collected_by_name", "collected_by_company"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.SHARPS_CONTAINER,
            object_id=locked.pk,
            request=request,
            detail={"event": "collected", "label": locked.label, "company": company},
        )
    return locked
