"""The demo clinic's needle stock and sharps containers: lots in every state, one log per site.

Like the rest of seed_demo, this writes rows directly rather than through the services: no
person acted, so there is nothing for the audit log.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, NeedleLot, SharpsContainer

MAKER = "Demo Needle Co (synthetic)"
# (lot number, diameter, length, days until expiry (negative: expired), recall reason)
DEMO_LOTS = (
    ("DN-2401", "0.25", 30, 420, ""),
    ("DN-2402", "0.30", 40, 600, ""),
    ("DN-2403", "0.30", 60, 700, ""),
    ("DN-2301", "0.30", 40, -20, ""),
    ("DN-2404", "0.25", 30, 500, "Demo recall: packaging seal fault reported by the maker."),
)


def seed_needle_stock(*, staff: User, locations: list[Location]) -> dict[str, int]:
    """Create the demo lots and sharps containers that are missing; return what was made."""
    made = {"needle lots": 0, "sharps containers": 0}
    today = timezone.localdate()
    now = timezone.now()
    for number, diameter, length, days, recall in DEMO_LOTS:
        _lot, created = NeedleLot.objects.get_or_create(
            manufacturer=MAKER,
            lot_number=number,
            defaults={
                "diameter_mm": Decimal(diameter),
                "length_mm": length,
                "expires_on": today + dt.timedelta(days=days),
                "quantity_received": 1000,
                "received_on": today - dt.timedelta(days=200),
                "recalled_at": now - dt.timedelta(days=3) if recall else None,
                "recall_reason": recall,
            },
        )
        made["needle lots"] += created
    for location in locations:
        if SharpsContainer.objects.filter(location=location).exists():
            continue
        opened = now - dt.timedelta(days=60)
        SharpsContainer.objects.create(
            label=f"{location.slug[:3].upper()}-001",
            location=location,
            opened_at=opened,
            opened_by=staff,
            sealed_at=opened + dt.timedelta(days=30),
            sealed_by=staff,
            collected_at=opened + dt.timedelta(days=35),
            collected_by_name="Demo Driver",
            collected_by_company="Demo Sharps Disposal (synthetic)",
        )
        SharpsContainer.objects.create(
            label=f"{location.slug[:3].upper()}-002",
            location=location,
            opened_at=opened + dt.timedelta(days=30),
            opened_by=staff,
        )
        made["sharps containers"] += 2
    return made
