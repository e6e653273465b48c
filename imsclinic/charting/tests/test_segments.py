"""The pure segment module: order, root ranges, suggestions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imsclinic.charting import segments as seg


def test_segments_run_from_c1_to_s5_in_spinal_order() -> None:
    assert len(seg.SEGMENTS) == 30
    assert seg.SEGMENTS[:2] == ("C1", "C2")
    assert seg.SEGMENTS[7:9] == ("C8", "T1")
    assert seg.SEGMENTS[19:21] == ("T12", "L1")
    assert seg.SEGMENTS[-1] == "S5"


def test_paraspinal_levels_are_c2_to_s1() -> None:
    assert len(seg.PARASPINAL_LEVELS) == 24
    assert seg.PARASPINAL_LEVELS[0] == "C2"
    assert seg.PARASPINAL_LEVELS[-1] == "S1"
    assert "C8" not in seg.PARASPINAL_LEVELS


def test_it_reads_a_root_range_and_a_single_root() -> None:
    assert seg.parse_range("C5-T1") == ("C5", "T1")
    assert seg.parse_range(" l4 - s1 ") == ("L4", "S1")
    assert seg.parse_range("C7") == ("C7", "C7")


@pytest.mark.parametrize("text", ["T1-C5", "C9", "X1-X2", "C5-C6-C7", ""])
def test_it_refuses_reversed_or_unknown_ranges(text: str) -> None:
    with pytest.raises(seg.SegmentError):
        seg.parse_range(text)


def test_a_range_crossing_the_cervicothoracic_junction_includes_c8() -> None:
    assert seg.in_range("C8", "C5", "T1")
    assert seg.in_range("T1", "C5", "T1")
    assert not seg.in_range("T2", "C5", "T1")
    assert seg.expand("C7", "T2") == ["C7", "C8", "T1", "T2"]


def test_suggest_finds_muscles_whose_roots_include_a_chosen_segment() -> None:
    muscles: list[seg.MuscleRoots | Mapping[str, str] | Sequence[str]] = [
        {"code": "biceps", "root_from": "C5", "root_to": "C6"},
        ("triceps", "C6", "C8"),
        seg.MuscleRoots("gastrocnemius", "S1", "S2"),
        ("paraspinal_c6", "C6", "C6"),
        ("paraspinal_c7", "C7", "C7"),
    ]
    assert seg.suggest(muscles, ["C6"]) == ["biceps", "triceps", "paraspinal_c6"]
    assert seg.suggest(muscles, ["S1", "C7"]) == ["triceps", "gastrocnemius", "paraspinal_c7"]
    assert seg.suggest(muscles, []) == []


def test_sort_segments_orders_top_to_bottom_without_repeats() -> None:
    assert seg.sort_segments(["S1", "c5", "L5", "C5"]) == ["C5", "L5", "S1"]
    assert seg.part_of("T4") == "thoracic"


@given(st.sampled_from(seg.SEGMENTS), st.sampled_from(seg.SEGMENTS), st.sampled_from(seg.SEGMENTS))
def test_in_range_agrees_with_expand(code: str, first: str, last: str) -> None:
    if seg.position(first) > seg.position(last):
        first, last = last, first
    assert seg.in_range(code, first, last) == (code in seg.expand(first, last))
