"""Dates in charts and reports are the visit's: a note signed after midnight keeps its day."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from imsclinic.charting.pdf import chart_summary_html, portal_summary_html
from imsclinic.charting.selectors import chart_for
from imsclinic.charting.views.chart import plain_notes
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.outcomes.report import mcid_table
from imsclinic.outcomes.selectors import clinic_courses
from imsclinic.safety.selectors import adverse_event_counts
from tests.factories import VANCOUVER
from tests.factories.charting import (
    ensure_catalogue,
    ims_visit,
    needle_lot,
    row,
    signed_assessment,
    signed_session,
)
from tests.factories.clients import signed_in
from tests.factories.safety import make_ready_for_needling

pytestmark = pytest.mark.django_db

VISIT_DAY = dt.date(2026, 3, 3)
NEXT_DAY = dt.date(2026, 3, 4)
# 20:00 PST on 3 March is 04:00 UTC on 4 March; the notes are signed at 00:40 on 4 March.
EVENING = dt.datetime(2026, 3, 3, 20, 0, tzinfo=VANCOUVER)
SIGNED = dt.datetime(2026, 3, 4, 0, 40, tzinfo=VANCOUVER)


@pytest.fixture
def late_notes(patient: Any, physio: Any, ims_service: Any) -> Any:
    """An evening visit whose assessment and needling note are signed after midnight."""
    ensure_catalogue()
    with time_machine.travel(SIGNED, tick=False):
        make_ready_for_needling(patient, by=physio)
        visit = ims_visit(patient, physio, ims_service, start=EVENING)
        signed_assessment(patient, physio, appointment=visit)
        session = signed_session(visit, physio, [row("deltoid", needle_lot("LOT-LATE-1"))])
    assert session.signed_at is not None
    assert session.signed_at.astimezone(VANCOUVER).date() == NEXT_DAY
    return session


def test_the_chart_dates_the_notes_by_the_visit_and_shows_when_they_were_signed(
    patient: Any, physio: Any, late_notes: Any
) -> None:
    html = signed_in(physio).get(reverse("patient_chart", args=[patient.pk])).content.decode()
    assert "Assessment of 3 March 2026" in html
    assert "Assessment of 4 March 2026" not in html
    assert "signed 4 Mar 2026, 00:40 PST" in html
    assert "<summary>3 Mar 2026 · IMS follow-up" in html


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_the_pdf_summaries_date_the_notes_by_the_visit(
    patient: Any, physio: Any, late_notes: Any
) -> None:
    summary = chart_summary_html(chart_for(patient), author=physio, zone=clinic_zone())
    assert "<td>2026-03-03</td>" in summary
    assert "2026-03-04" not in summary
    download = signed_in(physio).get(reverse("patient_chart_summary_pdf", args=[patient.pk]))
    text = pdf_text(download.content)
    assert "Assessment of 3 March 2026" in text
    assert "Signed at 4 March 2026, 00:40 PST" in text
    assert "2026-03-03" in text and "2026-03-04" not in text
    own = portal_summary_html(patient, plain_notes(chart_for(patient)), zone=clinic_zone())
    assert "Tuesday 3 March 2026" in own
    assert "4 March 2026" not in own.replace("made on", "")


def test_the_reports_count_the_session_on_the_visits_day(late_notes: Any) -> None:
    zone = clinic_zone()
    on_the_day = mcid_table(clinic_courses(), since=VISIT_DAY, until=VISIT_DAY, zone=zone)
    assert [(r.instrument.code, r.with_baseline) for r in on_the_day] == [("NPRS", 1)]
    assert mcid_table(clinic_courses(), since=NEXT_DAY, until=NEXT_DAY, zone=zone) == []
    assert adverse_event_counts(since=VISIT_DAY, until=VISIT_DAY).sessions == 1
    assert adverse_event_counts(since=NEXT_DAY, until=NEXT_DAY).sessions == 0
