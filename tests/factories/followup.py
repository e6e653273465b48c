"""Test data for follow-up: a needling visit signed just now, which check-ins follow."""

from __future__ import annotations

from imsclinic.accounts.models import User
from imsclinic.charting.models import NeedlingSession
from imsclinic.clinic.models import NeedleLot, Service
from imsclinic.patients.models import Patient
from tests.factories.charting import ims_visit, row, signed_session


def sign_visit(
    patient: Patient,
    physio: User,
    service: Service,
    lot: NeedleLot,
    *,
    muscle: str = "gluteus_medius",
) -> NeedlingSession:
    """Book a visit that started ten minutes ago and sign its needling note."""
    visit = ims_visit(patient, physio, service)
    return signed_session(visit, physio, [row(muscle, lot)])
