"""Lots that had needling rows before stock was counted start with what their rows left."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting.models import NeedlingRow, NeedlingSession
from imsclinic.clinic.models import NeedleLot, Service
from imsclinic.patients.models import Patient
from tests.factories.charting import ensure_catalogue, ims_visit, muscle, needle_lot
from tests.factories.migrations import migrate_to, migrate_to_latest

BEFORE = [("charting", "0011_physio_note_locked"), ("clinic", "0011_practitioner_licences")]


@pytest.fixture
def rows_written_before_counting(
    transactional_db: None, patient: Patient, physio: User, ims_service: Service
) -> Iterator[dict[str, NeedleLot]]:
    """Two lots with rows (one note signed, one draft; one lot over-drawn), then stock undone."""
    ensure_catalogue()
    used = needle_lot("LOT-USED", received=100)
    overdrawn = needle_lot("LOT-OVER", received=2)
    untouched = needle_lot("LOT-NEW", received=50)
    notes = ((True, [used, used, overdrawn]), (False, [used, overdrawn, overdrawn]))
    for days_ago, (signed, lots) in enumerate(notes, 1):
        start = timezone.now() - dt.timedelta(days=days_ago)
        visit = ims_visit(patient, physio, ims_service, start=start, status="completed")
        session = NeedlingSession.objects.create(
            patient=patient, appointment=visit, practitioner=physio
        )
        for position, lot in enumerate(lots, 1):
            NeedlingRow.objects.create(
                session=session,
                position=position,
                muscle=muscle("deltoid"),
                side="left",
                segment="C5",
                insertions=2,
                needle_lot=lot,
            )
        if signed:
            # On PostgreSQL the rows of a signed note are locked from here on (charting 0003).
            NeedlingSession.objects.filter(pk=session.pk).update(
                status="signed", signed_at=timezone.now(), signed_by=physio
            )
    migrate_to(BEFORE)
    try:
        yield {"used": used, "overdrawn": overdrawn, "untouched": untouched}
    finally:
        migrate_to_latest()


def test_each_lot_starts_with_what_it_received_less_one_needle_per_existing_row(
    rows_written_before_counting: dict[str, NeedleLot],
) -> None:
    migrate_to_latest()
    lots = rows_written_before_counting
    on_hand = dict(NeedleLot.objects.values_list("lot_number", "quantity_on_hand"))
    assert on_hand == {"LOT-USED": 100 - 3, "LOT-OVER": 0, "LOT-NEW": 50}
    assert set(NeedlingRow.objects.values_list("needles_used", flat=True)) == {1}
    assert NeedlingRow.objects.filter(session__status="signed").count() == 3
    assert lots["used"].pk in set(NeedlingRow.objects.values_list("needle_lot", flat=True))
