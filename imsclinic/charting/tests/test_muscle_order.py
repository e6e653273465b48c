"""Every list of muscles is in body order: region head to foot, then segment down the spine."""

from __future__ import annotations

import pytest
from django.urls import reverse

from imsclinic.charting.body_chart import REGION_ORDER
from imsclinic.charting.catalogue import body_order, catalogue_entries, segment_rank
from imsclinic.charting.models import Muscle
from imsclinic.charting.services import session_start
from tests.factories.charting import ensure_catalogue, ims_visit, row, signed_session
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

IN_BODY_ORDER = ("Paraspinals C2", "Paraspinals T1", "Paraspinals T2", "Paraspinals T10")


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    ensure_catalogue()


def places(html: str, names: tuple[str, ...] = IN_BODY_ORDER) -> list[int]:
    """Return where each name first appears as an option of the page's muscle list."""
    found = []
    for name in names:
        at = html.find(f">{name}")
        assert at != -1, f"{name} is not on the page"
        found.append(at)
    return found


def test_segments_sort_by_their_place_on_the_spine_not_as_text() -> None:
    assert sorted(["T10", "T1", "C2", "S1", "L5", "T2"], key=segment_rank) == [
        "C2",
        "T1",
        "T2",
        "T10",
        "L5",
        "S1",
    ]


def test_the_catalogue_sorts_by_region_head_to_foot_then_by_root() -> None:
    ordered = sorted((Muscle(**e) for e in catalogue_entries()), key=body_order)
    regions = [REGION_ORDER[m.region] for m in ordered]
    assert regions == sorted(regions)
    names = [m.name for m in ordered]
    assert names.index("Paraspinals T10") > names.index("Paraspinals T2")
    # The neck comes before the legs, whatever the csv's own order.
    assert names.index("Upper trapezius") < names.index("Gastrocnemius")


def test_the_database_gives_the_same_order_as_the_sort_key() -> None:
    from_database = list(Muscle.objects.in_body_order())
    assert [m.code for m in from_database] == [
        m.code for m in sorted(from_database, key=body_order)
    ]


def test_the_needling_note_offers_muscles_c2_before_t1_before_t10(visit, physio) -> None:
    session_start(appointment=visit, actor=physio)
    html = signed_in(physio).get(reverse("session_note", args=[visit.pk])).content.decode()
    found = places(html)
    assert found == sorted(found)


def test_the_assessment_offers_muscles_c2_before_t1_before_t10(patient, physio) -> None:
    html = signed_in(physio).get(reverse("assessment_new", args=[patient.pk])).content.decode()
    found = places(html)
    assert found == sorted(found)


def test_the_adverse_event_form_lists_muscles_by_region_in_body_order_with_a_search_box(
    patient, physio
) -> None:
    html = signed_in(physio).get(reverse("adverse_event_new", args=[patient.pk])).content.decode()
    found = places(html)
    assert found == sorted(found)
    # Grouped by region, head to foot: the neck before the low back before the lower leg.
    groups = [html.index(f'<optgroup label="{label}">') for label in ("Neck", "Low back", "Leg")]
    assert groups == sorted(groups)
    # The search box is added by a script; without it the list is sent as it is.
    assert 'data-option-filter="Find a muscle"' in html
    assert "js/option-filter.js" in html


def test_the_chart_lists_needled_muscles_in_body_order(ready_patient, physio, ims_service, lot):
    signed_session(
        ims_visit(ready_patient, physio, ims_service),
        physio,
        [row("paraspinal_t10", lot), row("gastrocnemius", lot), row("paraspinal_c2", lot)],
    )
    html = signed_in(physio).get(reverse("patient_chart", args=[ready_patient.pk])).content
    table = html.decode().split('class="body-chart-table"')[1]
    found = places(table, ("Paraspinals C2", "Paraspinals T10", "Gastrocnemius"))
    assert found == sorted(found)
