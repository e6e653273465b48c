"""Every write to needle stock and the sharps log goes through here, audited; and the
owners' licence expiry reminders, each recorded once.

Needles on hand. A lot's `quantity_on_hand` changes only through `needle_stock_move`,
called by charting inside the transaction that writes a note's needling rows: a draft's
rows take their needles when written and give them back when removed or replaced. That
transaction first calls `needle_stock_lock` (the lots in primary-key order, then the
low-stock levels of their sizes; core.locking puts both before any patient or note row),
and the move takes with `UPDATE ... SET quantity_on_hand = quantity_on_hand - n WHERE
quantity_on_hand >= n`, so a lot never goes below zero even if a caller forgot the lock;
the database's check constraint is the last word.

Low stock. After any change to what is on hand (a move, a new lot, a recall, a new level)
`_check_levels` compares each size's usable stock with the owner's level: a size newly below
its level gets `low_since` and one email task to the owners, queued with the change
(docs/decisions/0007); a size back at its level or above is cleared, so the next time it
runs low the owners hear again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q, Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from imsclinic.clinic.licences import Licence, reminder_due
from imsclinic.clinic.models import (
    LICENCE_REMINDER_DAYS,
    RECALL_REASON_MAX,
    STOCK_LEVEL_MAX,
    Clinic,
    LicenceReminder,
    Location,
    NeedleLot,
    NeedleStockLevel,
    Practitioner,
    SharpsContainer,
)
from imsclinic.core.access import record_refusal
from imsclinic.core.audit import audit_record
from imsclinic.core.errors import Refused
from imsclinic.core.mailing import send_each
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.queueing import queue_with_change
from imsclinic.core.roles import Role

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

logger = logging.getLogger(__name__)


# A needle size: (diameter in mm to two places, length in mm), as NeedleLot.size gives it.
Size = tuple[Decimal, int]


class StockRefused(Refused):
    """A stock or sharps change the rules do not allow."""


class NotEnoughNeedles(StockRefused):
    """A lot has fewer needles on hand than the rows would take.

    `short` maps each such lot's id to the sentence for the rows that use it, "Lot X has
    only N needles left.", where N counts what the change gives back too.
    """

    def __init__(self, short: Mapping[int, str]) -> None:
        self.short = dict(short)
        super().__init__(" ".join(dict.fromkeys(self.short.values())))


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
    now: dt.datetime | None = None,
) -> NeedleLot:
    """Record a delivered lot of needles: all it holds is on hand."""
    _require_manage(actor, object_type=ObjectType.NEEDLE_LOT, request=request)
    now = now or timezone.now()
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
        _check_levels({lot.size}, now=now)
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
        _lock_levels({locked.size})
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
        _check_levels({locked.size}, now=locked.recalled_at)
    lot.recalled_at, lot.recall_reason = locked.recalled_at, locked.recall_reason
    return locked


# ---------------------------------------------------------------------------------------
# Needles on hand


def _size_filter(sizes: Iterable[Size]) -> Q:
    condition = Q(pk__in=[])
    for diameter, length in sizes:
        condition |= Q(diameter_mm=diameter, length_mm=length)
    return condition


def _lock_levels(sizes: Iterable[Size]) -> dict[Size, NeedleStockLevel]:
    sizes = set(sizes)
    if not sizes:
        return {}
    levels = (
        NeedleStockLevel.objects.select_for_update(no_key=True)
        .filter(_size_filter(sizes))
        .order_by("pk")
    )
    return {level.size: level for level in levels}


def needle_stock_lock(*, lot_ids: Iterable[int]) -> dict[int, NeedleLot]:
    """Lock these lots, then the low-stock levels of their sizes; return the lots read locked.

    Called first in the transaction of a change that will move stock (before the patient or
    the note is locked: core.locking's order), so that two notes taking from the same lots
    queue instead of deadlocking, and two changes to one size see each other's totals.
    """
    ids = sorted(set(lot_ids))
    if not ids:
        return {}
    lots = {
        lot.pk: lot
        for lot in NeedleLot.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
    }
    _lock_levels({lot.size for lot in lots.values()})
    return lots


def needle_stock_move(
    *,
    taken: Mapping[int, int],
    given_back: Mapping[int, int],
    now: dt.datetime | None = None,
) -> dict[int, int]:
    """Give back and take needles (lot id -> how many), in the caller's transaction.

    The caller writes or removes the needling rows these counts come from, and audits that
    change; it has called `needle_stock_lock` for every lot named here. Refuses with
    NotEnoughNeedles, changing nothing, when a lot has fewer on hand than it would give, what
    is given back counted in. Returns each lot's change (negative: needles taken).
    """
    now = now or timezone.now()
    change = {
        lot_id: given_back.get(lot_id, 0) - taken.get(lot_id, 0)
        for lot_id in set(taken) | set(given_back)
    }
    change = {lot_id: delta for lot_id, delta in change.items() if delta}
    if not change:
        return {}
    lots = {lot.pk: lot for lot in NeedleLot.objects.filter(pk__in=change)}
    short = {
        lot_id: _short_message(lots[lot_id], given_back.get(lot_id, 0))
        for lot_id, delta in change.items()
        if lots[lot_id].quantity_on_hand + delta < 0
    }
    if short:
        raise NotEnoughNeedles(short)
    for lot_id in sorted(change):
        delta = change[lot_id]
        if delta < 0:
            updated = NeedleLot.objects.filter(pk=lot_id, quantity_on_hand__gte=-delta).update(
                quantity_on_hand=F("quantity_on_hand") + delta
            )
            if not updated:  # only when the caller did not lock the lot first
                lot = NeedleLot.objects.get(pk=lot_id)
                raise NotEnoughNeedles({lot_id: _short_message(lot, given_back.get(lot_id, 0))})
        else:
            NeedleLot.objects.filter(pk=lot_id).update(
                quantity_on_hand=F("quantity_on_hand") + delta
            )
    _check_levels({lot.size for lot in lots.values()}, now=now)
    return change


def _short_message(lot: NeedleLot, given_back: int) -> str:
    left = lot.quantity_on_hand + given_back
    if left <= 0:
        return _("Lot %(lot)s has no needles left: choose another lot.") % {"lot": lot.lot_number}
    return ngettext(
        "Lot %(lot)s has only %(left)d needle left.",
        "Lot %(lot)s has only %(left)d needles left.",
        left,
    ) % {"lot": lot.lot_number, "left": left}


def size_on_hand(sizes: Iterable[Size], *, on: dt.date) -> dict[Size, int]:
    """Return the needles on hand per size in the lots usable on the day."""
    sizes = set(sizes)
    totals = (
        NeedleLot.objects.filter(_size_filter(sizes), recalled_at__isnull=True, expires_on__gte=on)
        .values("diameter_mm", "length_mm")
        .annotate(total=Sum("quantity_on_hand"))
    )
    found = {
        (Decimal(item["diameter_mm"]).quantize(Decimal("0.01")), int(item["length_mm"])): (
            item["total"] or 0
        )
        for item in totals
    }
    return {size: found.get(size, 0) for size in sizes}


def _check_levels(sizes: Iterable[Size], *, now: dt.datetime) -> None:
    """Mark sizes newly below their level and queue the owners' email; clear restocked ones.

    The levels are locked (the caller locked them already when it moved stock).
    """
    levels = _lock_levels(sizes)
    if not levels:
        return
    on_hand = size_on_hand(levels, on=timezone.localdate(now))
    for size, level in levels.items():
        low = on_hand[size] < level.warn_below
        if low and level.low_since is None:
            level.low_since = now
            level.owner_alerted_at = None
            level.save(update_fields=["low_since", "owner_alerted_at", "updated_at"])
            _queue_low_stock_email(level.pk)
        elif not low and level.low_since is not None:
            level.low_since = None
            level.owner_alerted_at = None
            level.save(update_fields=["low_since", "owner_alerted_at", "updated_at"])


def _queue_low_stock_email(level_id: int) -> None:
    from imsclinic.clinic.tasks import alert_owner_of_low_stock

    queue_with_change(lambda: alert_owner_of_low_stock.enqueue(level_id))


def needle_stock_level_set(
    *,
    diameter_mm: Decimal,
    length_mm: int,
    warn_below: int | None,
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> NeedleStockLevel | None:
    """Set (or, with None, remove) the owner's low-stock level for one needle size.

    A size already below the new level counts as newly low: the owners are emailed once.
    """
    if actor is None or not actor.has_perm("clinic.set_stock_levels"):
        record_refusal(
            request, actor=actor, action=Action.UPDATE, object_type=ObjectType.NEEDLE_STOCK_LEVEL
        )
        raise PermissionDenied(_("Only the owner sets low-stock levels."))
    now = now or timezone.now()
    if warn_below is not None and not 1 <= warn_below <= STOCK_LEVEL_MAX:
        raise StockRefused(
            _("Enter a level from 1 to %(max)d needles.") % {"max": STOCK_LEVEL_MAX},
            field="warn_below",
        )
    size = (Decimal(diameter_mm).quantize(Decimal("0.01")), int(length_mm))
    with transaction.atomic(durable=True):
        known = NeedleLot.objects.filter(diameter_mm=size[0], length_mm=size[1]).exists()
        if not known:
            raise StockRefused(_("No lot of this size was ever received."), field="size")
        level = _lock_levels({size}).get(size)
        if warn_below is None:
            if level is not None:
                level.delete()
            result = None
        elif level is None:
            result = NeedleStockLevel.objects.create(
                diameter_mm=size[0], length_mm=size[1], warn_below=warn_below
            )
        else:
            level.warn_below = warn_below
            level.save(update_fields=["warn_below", "updated_at"])
            result = level
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.NEEDLE_STOCK_LEVEL,
            object_id=result.pk if result is not None else "",
            request=request,
            detail={"size": f"{size[0]:.2f} x {size[1]} mm", "warn_below": warn_below},
        )
        if result is not None:
            _check_levels({size}, now=now)
            result.refresh_from_db()
    return result


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
