"""Test helpers: lots of needles, and needling notes that used them (made directly, synthetic)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count
from typing import TYPE_CHECKING

from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.models import NeedleLot, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment

if TYPE_CHECKING:
    from imsclinic.charting.models import NeedlingSession

_serial = count(1)


def make_lot(number: str = "A1", **extra: object) -> NeedleLot:
    fields: dict[str, object] = {
        "lot_number": number,
        "manufacturer": "Synthetic Needles Ltd",
        "diameter_mm": Decimal("0.30"),
        "length_mm": 40,
        "expires_on": dt.date(2099, 1, 31),
        "quantity_received": 500,
        "received_on": dt.date(2026, 1, 5),
    }
    fields.update(extra)
    return NeedleLot.objects.create(**fields)


def needling_session(
    patient: Patient,
    practitioner: User,
    *,
    lots: list[NeedleLot] | tuple[NeedleLot, ...] = (),
    signed: bool = True,
    start: dt.datetime | None = None,
    insertions: int = 3,
) -> NeedlingSession:
    """Make a visit and its needling note with one row per lot; sign it unless told not to."""
    from imsclinic.charting.models import Muscle, NeedlingRow, NeedlingSession

    n = next(_serial)
    service, _ = Service.objects.get_or_create(
        slug="ims-test-visit",
        defaults={
            "name": "IMS test visit",
            "duration_minutes": 30,
            "price": Decimal("0"),
            "requires_ims_credential": True,
        },
    )
    start = start or timezone.now() - dt.timedelta(days=n)
    doer = practitioner.practitioner  # type: ignore[attr-defined]
    visit = Appointment.objects.create(
        patient=patient,
        practitioner=doer,
        location=doer.locations.get(),
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=30),
    )
    session = NeedlingSession.objects.create(
        patient=patient, appointment=visit, practitioner=practitioner
    )
    # The catalogue migration loads muscles, but a transactional test has emptied the tables.
    muscle = Muscle.objects.order_by("pk").first() or Muscle.objects.create(
        code="test_gluteus_medius",
        name="Gluteus medius (test)",
        region="hip",
        view="back",
        root_from="L4",
        root_to="S1",
    )
    for position, lot in enumerate(lots, 1):
        NeedlingRow.objects.create(
            session=session,
            position=position,
            muscle=muscle,
            side="left",
            segment="L5",
            insertions=insertions,
            needle_lot=lot,
        )
    if signed:
        NeedlingSession.objects.filter(pk=session.pk).update(
            status="signed", signed_at=start + dt.timedelta(minutes=25), signed_by=practitioner
        )
        session = NeedlingSession.objects.get(pk=session.pk)
    return session
