"""Every write to needle stock and the sharps log goes through here, audited; and the
owners' licence expiry reminders, each recorded once."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from imsclinic.clinic.licences import Licence, reminder_due
from imsclinic.clinic.models import (
    LICENCE_REMINDER_DAYS,
    RECALL_REASON_MAX,
    Clinic,
    LicenceReminder,
    Location,
    NeedleLot,
    Practitioner,
    SharpsContainer,
)
from imsclinic.core.access import record_refusal
from imsclinic.core.audit import audit_record
from imsclinic.core.errors import Refused
from imsclinic.core.mailing import send_each
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.roles import Role

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

logger = logging.getLogger(__name__)


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


# ---------------------------------------------------------------------------------------
# Licence expiry reminders


@dataclass(frozen=True)
class _Expiring:
    practitioner: Practitioner
    licence: Licence
    expires_on: dt.date
    days_before: int


def _expiring(today: dt.date) -> list[_Expiring]:
    """Return the reminders due today, not yet recorded as sent."""
    practitioners = list(
        Practitioner.objects.filter(is_active=True)
        .prefetch_related("licence_reminders")
        .order_by("last_name", "first_name", "pk")
    )
    due: list[_Expiring] = []
    for practitioner in practitioners:
        sent: dict[tuple[str, dt.date], set[int]] = {}
        for reminder in practitioner.licence_reminders.all():
            sent.setdefault((reminder.licence, reminder.expires_on), set()).add(
                reminder.days_before
            )
        for licence, expires_on in practitioner.licences.expiries().items():
            days = reminder_due(
                expires_on,
                today,
                thresholds=LICENCE_REMINDER_DAYS,
                sent=sent.get((str(licence), expires_on), set()),
            )
            if days is not None:
                due.append(_Expiring(practitioner, licence, expires_on, days))
    return due


def _reminder_line(item: _Expiring, today: dt.date) -> str:
    return _("- %(name)s: %(licence)s expires on %(day)s, in %(left)d days.") % {
        "name": item.practitioner.display_name,
        "licence": item.licence.label,
        "day": date_format(item.expires_on, "DATE_FORMAT"),
        "left": (item.expires_on - today).days,
    }


def licence_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Email every active owner about licences expiring within 60 or 14 days; return how many
    reminders went.

    Each (practitioner, licence, expiry, threshold) is sent once: the row recording it is
    inserted before the email goes, so a second run, even at the same time, finds it and
    sends nothing; if no email could go the rows are rolled back and the next day's run
    tries again. The email names the practitioner, the licence and the day, nothing about
    any patient.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic(durable=True):
        claimed: list[_Expiring] = []
        for item in _expiring(today):
            _reminder, created = LicenceReminder.objects.get_or_create(
                practitioner=item.practitioner,
                licence=item.licence,
                expires_on=item.expires_on,
                days_before=item.days_before,
                defaults={"sent_at": now},
            )
            if created:
                claimed.append(item)
        if not claimed:
            return 0
        owners = list(
            get_user_model()
            .objects.filter(role=Role.OWNER, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
        clinic = Clinic.current()
        clinic_name = clinic.name if clinic is not None else ""
        link = settings.SITE_URL + reverse("owner_admin:clinic_practitioner_changelist")
        lines = "\n".join(_reminder_line(item, today) for item in claimed)
        messages = [
            EmailMessage(
                subject=_("A practitioner's licence expires soon - %(clinic)s")
                % {"clinic": clinic_name},
                body=_(
                    "Hello,\n\nThese licences expire soon:\n\n%(lines)s\n\nFrom the day a "
                    "licence expires, its practitioner is not offered for IMS visits and cannot "
                    "start an IMS visit or sign a needling note. Once it is renewed, enter the "
                    "new expiry in the clinic settings:\n%(link)s\n\nThis email holds no health "
                    "information.\n\n%(clinic)s"
                )
                % {"lines": lines, "link": link, "clinic": clinic_name},
                to=[address],
            )
            for address in owners
        ]
        if not send_each(messages, about="licence expiry reminders"):
            # Undo the claims: tomorrow's run finds them due again.
            transaction.set_rollback(True)
            logger.warning("licence expiry reminders: no owner could be emailed")
            return 0
    logger.info("licence expiry reminders: %d sent to %d owner(s)", len(claimed), len(owners))
    return len(claimed)
