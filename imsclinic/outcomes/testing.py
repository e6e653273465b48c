"""Test data for outcomes: signed needling visits days ago, with their pain ratings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from imsclinic.charting.models import NeedlingSession
from imsclinic.charting.testing import ensure_catalogue, ims_visit, needle_lot, row, signed_session
from imsclinic.clinic.models import NeedleLot, Service
from imsclinic.patients.models import Patient
from imsclinic.safety.testing import make_ready_for_needling


def ready_with_lot(patient: Patient, physio: Any) -> NeedleLot:
    """Make the patient ready for needling and return a usable needle lot."""
    ensure_catalogue()
    make_ready_for_needling(patient, by=physio)
    return NeedleLot.objects.filter(lot_number="LOT-OUT-1").first() or needle_lot("LOT-OUT-1")


def signed_visit(
    patient: Patient,
    physio: Any,
    service: Service,
    lot: NeedleLot,
    *,
    days_ago: int,
    before: int = 6,
    after: int = 3,
) -> NeedlingSession:
    """Sign a needling session (one soleus row) on a visit `days_ago` days back."""
    start = timezone.now() - dt.timedelta(days=days_ago, minutes=10)
    visit = ims_visit(patient, physio, service, start=start)
    return signed_session(visit, physio, [row("soleus", lot)], nprs_before=before, nprs_after=after)
