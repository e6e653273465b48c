"""The demo clinic's needle stock and sharps containers: lots in every state, one log per site.

The demo physiotherapist receives the lots, recalls one and keeps each location's sharps log
through the stock services, dated in the past, so the audit log shows them like any other.
The owner sets a low-stock level for each usable size; the 0.30 x 60 mm lot came in small,
so that size sits below its level and the stock page shows the warning.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, NeedleLot, NeedleStockLevel, SharpsContainer
from imsclinic.clinic.services import (
    needle_lot_add,
    needle_lot_recall,
    needle_stock_level_set,
    sharps_container_collect,
    sharps_container_open,
    sharps_container_seal,
)

MAKER = "Demo Needle Co (synthetic)"
# (lot number, diameter, length, days until expiry (negative: expired), needles, recall reason)
DEMO_LOTS = (
    ("DN-2401", "0.25", 30, 420, 1000, ""),
    ("DN-2402", "0.30", 40, 600, 1000, ""),
    ("DN-2403", "0.30", 60, 700, 120, ""),
    ("DN-2301", "0.30", 40, -20, 1000, ""),
    ("DN-2404", "0.25", 30, 500, 1000, "Demo recall: packaging seal fault reported by the maker."),
)
# The owner's low-stock levels: (diameter, length, warn below). 0.30 x 60 mm starts below.
DEMO_LEVELS = (("0.25", 30, 200), ("0.30", 40, 200), ("0.30", 60, 200))


def seed_needle_stock(
    *, staff: User, locations: list[Location], owner: User | None = None
) -> dict[str, int]:
    """Create the demo lots, levels and sharps containers that are missing; return them."""
    made = {"needle lots": 0, "low-stock levels": 0, "sharps containers": 0}
    today = timezone.localdate()
    now = timezone.now()
    known = set(NeedleLot.objects.filter(manufacturer=MAKER).values_list("lot_number", flat=True))
    for number, diameter, length, days, needles, recall in DEMO_LOTS:
        if number in known:
            continue
        lot = needle_lot_add(
            lot_number=number,
            manufacturer=MAKER,
            diameter_mm=Decimal(diameter),
            length_mm=length,
            expires_on=today + dt.timedelta(days=days),
            quantity_received=needles,
            received_on=today - dt.timedelta(days=200),
            actor=staff,
            now=now - dt.timedelta(days=200),
        )
        if recall:
            needle_lot_recall(lot=lot, reason=recall, actor=staff, now=now - dt.timedelta(days=3))
        made["needle lots"] += 1
    if owner is not None:
        for diameter, length, warn_below in DEMO_LEVELS:
            level = NeedleStockLevel.objects.filter(diameter_mm=Decimal(diameter), length_mm=length)
            if level.exists():
                continue
            needle_stock_level_set(
                diameter_mm=Decimal(diameter),
                length_mm=length,
                warn_below=warn_below,
                actor=owner,
                now=now - dt.timedelta(days=150),
            )
            made["low-stock levels"] += 1
    for location in locations:
        if SharpsContainer.objects.filter(location=location).exists():
            continue
        # The first one was open before the oldest demo needling note (about ten weeks
        # back), so each note names the container its needles went into.
        opened = now - dt.timedelta(days=120)
        swapped = now - dt.timedelta(days=30)
        prefix = location.slug[:3].upper()
        full = sharps_container_open(
            label=f"{prefix}-001", location=location, actor=staff, now=opened
        )
        sharps_container_seal(container=full, actor=staff, now=swapped)
        sharps_container_open(label=f"{prefix}-002", location=location, actor=staff, now=swapped)
        sharps_container_collect(
            container=full,
            collected_by_name="Demo Driver",
            collected_by_company="Demo Sharps Disposal (synthetic)",
            actor=staff,
            now=swapped + dt.timedelta(days=5),
        )
        made["sharps containers"] += 2
    return made
