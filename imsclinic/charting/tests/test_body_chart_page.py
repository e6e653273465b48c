"""The body chart as the care team sees it: each muscle on its own figure, sides as drawn."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from tests.factories.charting import ensure_catalogue, ims_visit, row, signed_session
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

FIGURE = re.compile(r'<figure class="body-chart-figure">(.*?)</figure>', re.S)
MARK = re.compile(
    r'<(?:rect|ellipse) class="chart-region heat-\d is-marked"'
    r' (?:x|cx)="(?P<x>\d+)" (?:y|cy)="\d+" (?:width|rx)="(?P<w>\d+)"[^>]*>'
    r"<title>(?P<title>[^<]+)</title>"
)


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    ensure_catalogue()


def figures_on_page(html: str) -> dict[str, dict[str, Any]]:
    """Return, per figure caption, its marks (title -> reader's half) and its corner letters."""
    found = {}
    for body in FIGURE.findall(html):
        caption = re.search(r"<figcaption>(\w+)</figcaption>", body)
        assert caption is not None
        marks = {}
        for mark in MARK.finditer(body):
            x, width = int(mark["x"]), int(mark["w"])
            # An ellipse's x is its centre; a rect's centre is x + width / 2.
            centre = x if mark.group(0).startswith("<ellipse") else x + width / 2
            marks[mark["title"]] = "reader_left" if centre < 100 else "reader_right"
        corners = re.findall(r'<text x="(\d+)" y="20" class="chart-side"[^>]*>(\w)</text>', body)
        found[caption.group(1)] = {"marks": marks, "corners": dict(corners)}
    return found


def test_the_chart_shades_each_muscle_on_its_own_figure_and_side(
    ready_patient, physio, ims_service, lot
) -> None:
    visit = ims_visit(ready_patient, physio, ims_service)
    signed_session(
        visit,
        physio,
        [
            row("infraspinatus", lot, side="right"),
            row("deltoid", lot, side="right"),
            row("pectoralis_major", lot, side="left"),
            row("tibialis_anterior", lot, side="right"),
            row("gastrocnemius", lot, side="left"),
        ],
    )
    page = signed_in(physio).get(reverse("patient_chart", args=[ready_patient.pk]))
    figures = figures_on_page(page.content.decode())

    # Front: the patient faces the reader, so their left is on the reader's right.
    assert figures["Front"]["marks"] == {
        "Chest, left: 1": "reader_right",
        "Shoulder, right: 1": "reader_left",
        "Lower leg, right: 1": "reader_left",
    }
    assert figures["Front"]["corners"] == {"8": "R", "192": "L"}
    # Back: the reader looks at the patient's back, so their left is on the reader's left.
    # Infraspinatus adds to the deltoid's count on the back figure only.
    assert figures["Back"]["marks"] == {
        "Shoulder, right: 2": "reader_right",
        "Lower leg, left: 1": "reader_left",
    }
    assert figures["Back"]["corners"] == {"8": "L", "192": "R"}


def test_the_draft_note_chart_keeps_infraspinatus_off_the_front(
    ready_patient, physio, ims_service, lot
) -> None:
    from imsclinic.charting.services import session_save_draft, session_start

    visit = ims_visit(ready_patient, physio, ims_service)
    session = session_start(appointment=visit, actor=physio)
    session_save_draft(
        session=session,
        actor=physio,
        data={"nprs_before": 6},
        rows=[row("infraspinatus", lot, side="right"), row("subscapularis", lot, side="right")],
    )
    page = signed_in(physio).get(reverse("session_note", args=[visit.pk]))
    figures = figures_on_page(page.content.decode())
    assert figures["Front"]["marks"] == {"Shoulder, right: 1": "reader_left"}
    assert figures["Back"]["marks"] == {"Shoulder, right: 1": "reader_right"}
