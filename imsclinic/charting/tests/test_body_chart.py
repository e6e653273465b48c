"""The body chart's figures, sides and shades (pure: no database)."""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from imsclinic.charting.body_chart import (
    BOX,
    MAX_STEPS,
    REGION_CODES,
    Needled,
    build_chart,
    heat_legend,
    heat_step,
    shape_for,
    side_at,
    view_problem,
    views_for,
)
from imsclinic.charting.catalogue import catalogue_entries

CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "muscles.csv"
PARASPINAL_REGIONS = {"neck", "upper_back", "mid_back", "low_back"}


def catalogue_rows() -> list[dict[str, str]]:
    with CATALOGUE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_region_of_the_catalogue_and_of_the_paraspinals_is_drawn() -> None:
    regions = {row["region"] for row in catalogue_rows()} | PARASPINAL_REGIONS
    assert regions <= REGION_CODES
    for row in catalogue_rows():
        views = views_for(row["region"], row["view"])
        assert views, row["code"]
        for view in views:
            for side in ("left", "right"):
                assert shape_for(view, row["region"], side) is not None, (row["code"], view)


def test_every_shape_sits_inside_the_figure() -> None:
    width, height = BOX
    chart = build_chart([])
    for figure in chart.figures:
        for mark in figure.marks:
            if mark.shape == "rect":
                left, top, right, bottom = mark.a, mark.b, mark.a + mark.c, mark.b + mark.d
            else:
                left, top = mark.a - mark.c, mark.b - mark.d
                right, bottom = mark.a + mark.c, mark.b + mark.d
            assert 0 <= left < right <= width and 0 <= top < bottom <= height, mark.label


def test_the_patients_right_is_on_the_readers_left_only_on_the_front() -> None:
    assert side_at("front", 0) == "right"
    assert side_at("back", 0) == "left"
    front_right = shape_for("front", "thigh", "right")
    back_right = shape_for("back", "thigh", "right")
    assert front_right is not None and back_right is not None
    assert front_right[1] < 100 < back_right[1]


def test_a_back_muscle_is_marked_on_the_back_figure_only() -> None:
    chart = build_chart([Needled(region="leg", side="left", muscle_view="back")])
    marked = {(f.view, m.region, m.side) for f in chart.figures for m in f.marks if m.count}
    assert marked == {("back", "leg", "left")}


def test_a_muscle_seen_from_both_sides_is_marked_on_both_figures() -> None:
    chart = build_chart([Needled(region="shoulder", side="right", muscle_view="both")])
    marked = {(f.view, m.region, m.side) for f in chart.figures for m in f.marks if m.count}
    assert marked == {("front", "shoulder", "right"), ("back", "shoulder", "right")}


def test_a_muscle_whose_view_lacks_its_region_falls_back_to_the_regions_figure() -> None:
    # Paraspinals of the neck are "back"; a "front" muscle of the low back is drawn behind.
    chart = build_chart([Needled(region="low_back", side="left", muscle_view="front")])
    marked = {(f.view, m.region) for f in chart.figures for m in f.marks if m.count}
    assert marked == {("back", "low_back")}


NAMED = {"front": {"front"}, "back": {"back"}, "both": {"front", "back"}}


def marked_views(chart) -> dict[str, set[tuple[str, str, int]]]:
    return {
        figure.view: {(m.region, m.side, m.count) for m in figure.marks if m.count}
        for figure in chart.figures
    }


def test_every_catalogue_muscle_is_shaded_on_exactly_the_figures_its_view_names() -> None:
    for entry in catalogue_entries():
        assert view_problem(entry["region"], entry["view"]) == "", entry["code"]
        for side in ("left", "right"):
            chart = build_chart(
                [Needled(region=entry["region"], side=side, muscle_view=entry["view"])]
            )
            shaded = {view for view, marks in marked_views(chart).items() if marks}
            assert shaded == NAMED[entry["view"]], entry["code"]
            for view in shaded:
                assert marked_views(chart)[view] == {(entry["region"], side, 1)}, entry["code"]


def test_infraspinatus_beside_front_muscles_of_the_shoulder_stays_off_the_front() -> None:
    shoulder_left = [
        Needled(region="shoulder", side="left", muscle_view="back"),  # infraspinatus
        Needled(region="shoulder", side="left", muscle_view="back"),  # teres minor
        Needled(region="shoulder", side="left", muscle_view="front"),  # subscapularis
        Needled(region="shoulder", side="left", muscle_view="both"),  # deltoid
    ]
    chart = build_chart(shoulder_left)
    assert marked_views(chart) == {
        "front": {("shoulder", "left", 2)},
        "back": {("shoulder", "left", 3)},
    }
    assert chart.most == 3 and chart.total == 4
    assert chart.counts == {("shoulder", "left"): 4}


def test_infraspinatus_alone_is_shaded_on_the_back_only() -> None:
    chart = build_chart([Needled(region="shoulder", side="right", muscle_view="back")])
    assert marked_views(chart) == {"front": set(), "back": {("shoulder", "right", 1)}}


def test_an_anterior_muscle_sharing_a_region_with_posterior_ones_is_on_the_front_only() -> None:
    # Tibialis anterior twice, gastrocnemius once, both on the right lower leg.
    chart = build_chart(
        [
            Needled(region="leg", side="right", muscle_view="front", count=2),
            Needled(region="leg", side="right", muscle_view="back"),
        ]
    )
    assert marked_views(chart) == {
        "front": {("leg", "right", 2)},
        "back": {("leg", "right", 1)},
    }


def test_a_view_whose_figure_lacks_the_region_is_named_as_the_problem() -> None:
    assert view_problem("hip", "back") == "The body chart draws the hip on the front only."
    assert view_problem("buttock", "both") == ("The body chart draws the buttock on the back only.")
    assert view_problem("elbow", "front") == "The body chart has no such region."
    assert view_problem("shoulder", "both") == view_problem("hip", "front") == ""


def test_counts_add_up_per_region_and_side_across_sessions() -> None:
    needled = [
        Needled(region="neck", side="left", muscle_view="back"),
        Needled(region="neck", side="left", muscle_view="back", count=3),
        Needled(region="neck", side="right", muscle_view="back"),
    ]
    chart = build_chart(needled)
    assert chart.counts == {("neck", "left"): 4, ("neck", "right"): 1}
    assert chart.most == 4 and chart.total == 5
    back = next(f for f in chart.figures if f.view == "back")
    left_neck = next(m for m in back.marks if (m.region, m.side) == ("neck", "left"))
    assert left_neck.count == 4 and left_neck.step == MAX_STEPS
    assert "Neck" in left_neck.label and "left" in left_neck.label


def test_an_empty_chart_has_no_marks_and_no_legend() -> None:
    chart = build_chart([])
    assert chart.is_empty and chart.legend == []
    assert all(m.count == 0 and m.step == 0 for f in chart.figures for m in f.marks)


def test_small_counts_get_a_step_each_and_large_ones_share_four_steps() -> None:
    assert [heat_step(n, 3) for n in (0, 1, 2, 3)] == [0, 1, 2, 3]
    assert heat_legend(3) == [(1, 1, 1), (2, 2, 2), (3, 3, 3)]
    assert heat_legend(20) == [(1, 1, 5), (2, 6, 10), (3, 11, 15), (4, 16, 20)]


@given(st.integers(min_value=1, max_value=500), st.data())
def test_shades_never_fall_as_counts_rise_and_the_busiest_is_darkest(most: int, data) -> None:
    count = data.draw(st.integers(min_value=1, max_value=most))
    step = heat_step(count, most)
    assert 1 <= step <= MAX_STEPS
    assert heat_step(most, most) == min(most, MAX_STEPS)
    if count < most:
        assert heat_step(count + 1, most) >= step
    legend = heat_legend(most)
    assert legend[0][1] == 1 and legend[-1][2] == most
    assert [step for step, _low, _high in legend] == list(range(1, len(legend) + 1))


def test_every_generated_paraspinal_level_is_drawn_on_the_back() -> None:
    from imsclinic.charting.catalogue import paraspinal_entries

    for entry in paraspinal_entries():
        assert views_for(entry["region"], entry["view"]) == ("back",), entry["code"]
        for side in ("left", "right"):
            assert shape_for("back", entry["region"], side) is not None, entry["code"]
