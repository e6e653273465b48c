"""The body chart: where the catalogue's regions sit on a front and a back figure.

A mark is one region on one side (the patient's own left or right) of one figure with a
count: how many times a muscle seen from that figure was needled there. A muscle is seen from
the front, the back, or both (its catalogue `view`), so a posterior shoulder muscle such as
infraspinatus adds to the back figure's shoulder only, never to the front's. A session's
chart has a count of 1 or more per needled region; the course's heat view adds up every
session. Shades come in at most four steps, and every mark also carries its number, so
colour is never the only signal.

On the front figure the patient faces the reader, so their right side is drawn on the
reader's left; on the back figure it is not. Pure data: no ORM, no request.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

View = Literal["front", "back"]
Side = Literal["left", "right"]
VIEWS: tuple[View, View] = ("front", "back")
SIDES: tuple[Side, Side] = ("left", "right")
MAX_STEPS = 4

# The catalogue's regions (the `region` column of muscles.csv, and the paraspinal levels),
# head to foot, with the figures each one is drawn on.
REGIONS: list[tuple[str, Promise, tuple[View, ...]]] = [
    ("neck", _("Neck"), ("front", "back")),
    ("shoulder", _("Shoulder"), ("front", "back")),
    ("chest", _("Chest"), ("front",)),
    ("upper_back", _("Upper back"), ("back",)),
    ("mid_back", _("Middle back"), ("back",)),
    ("low_back", _("Low back"), ("back",)),
    ("arm", _("Upper arm"), ("front", "back")),
    ("forearm", _("Forearm"), ("front", "back")),
    ("hand", _("Hand"), ("front", "back")),
    ("hip", _("Hip"), ("front",)),
    ("buttock", _("Buttock"), ("back",)),
    ("thigh", _("Thigh"), ("front", "back")),
    ("leg", _("Lower leg"), ("front", "back")),
]
REGION_CODES: frozenset[str] = frozenset(code for code, _label, _views in REGIONS)
REGION_ORDER: dict[str, int] = {code: index for index, (code, _l, _v) in enumerate(REGIONS)}

# Each figure is drawn in a 200 x 430 box. A shape is ("ellipse", cx, cy, rx, ry) or
# ("rect", x, y, width, height).
Shape = tuple[str, int, int, int, int]
BOX = (200, 430)

# Drawn for the figure's outline only: head, belly, knees, feet and so on.
OUTLINE: dict[View, list[Shape]] = {
    "front": [
        ("ellipse", 100, 36, 22, 27),
        ("rect", 74, 138, 52, 50),
        ("ellipse", 86, 313, 13, 11),
        ("ellipse", 114, 313, 13, 11),
        ("ellipse", 86, 408, 13, 9),
        ("ellipse", 114, 408, 13, 9),
    ],
    "back": [
        ("ellipse", 100, 36, 22, 27),
        ("ellipse", 86, 408, 13, 9),
        ("ellipse", 114, 408, 13, 9),
    ],
}

# Shapes on the reader's left and right half of each figure, by region. Which of the
# patient's sides each half is depends on the view (see `side_at`).
_HALVES: dict[View, dict[str, tuple[Shape, Shape]]] = {
    "front": {
        "neck": (("rect", 85, 62, 15, 18), ("rect", 100, 62, 15, 18)),
        "shoulder": (("ellipse", 60, 92, 15, 13), ("ellipse", 140, 92, 15, 13)),
        "chest": (("rect", 75, 81, 25, 55), ("rect", 100, 81, 25, 55)),
        "arm": (("rect", 43, 107, 21, 58), ("rect", 136, 107, 21, 58)),
        "forearm": (("rect", 39, 167, 21, 60), ("rect", 140, 167, 21, 60)),
        "hand": (("ellipse", 48, 242, 11, 14), ("ellipse", 152, 242, 11, 14)),
        "hip": (("rect", 74, 190, 26, 32), ("rect", 100, 190, 26, 32)),
        "thigh": (("rect", 74, 224, 25, 78), ("rect", 101, 224, 25, 78)),
        "leg": (("rect", 76, 326, 21, 70), ("rect", 103, 326, 21, 70)),
    },
    "back": {
        "neck": (("rect", 85, 62, 15, 18), ("rect", 100, 62, 15, 18)),
        "shoulder": (("ellipse", 60, 92, 15, 13), ("ellipse", 140, 92, 15, 13)),
        "upper_back": (("rect", 75, 81, 25, 36), ("rect", 100, 81, 25, 36)),
        "mid_back": (("rect", 75, 118, 25, 34), ("rect", 100, 118, 25, 34)),
        "low_back": (("rect", 75, 153, 25, 35), ("rect", 100, 153, 25, 35)),
        "arm": (("rect", 43, 107, 21, 58), ("rect", 136, 107, 21, 58)),
        "forearm": (("rect", 39, 167, 21, 60), ("rect", 140, 167, 21, 60)),
        "hand": (("ellipse", 48, 242, 11, 14), ("ellipse", 152, 242, 11, 14)),
        "buttock": (("rect", 74, 190, 26, 32), ("rect", 100, 190, 26, 32)),
        "thigh": (("rect", 74, 224, 25, 82), ("rect", 101, 224, 25, 82)),
        "leg": (("rect", 76, 308, 21, 88), ("rect", 103, 308, 21, 88)),
    },
}


def side_at(view: View, half: int) -> Side:
    """Return the patient's side drawn on the reader's left (0) or right (1) half of a view."""
    if view == "front":
        return "right" if half == 0 else "left"
    return "left" if half == 0 else "right"


def shape_for(view: View, region: str, side: Side) -> Shape | None:
    """Return where a region's side is drawn on a view, or None if that view does not show it."""
    halves = _HALVES[view].get(region)
    if halves is None:
        return None
    return halves[0] if side_at(view, 0) == side else halves[1]


def drawn_on(region: str) -> tuple[View, ...]:
    """Return the figures that draw this region (none for a region this version does not know)."""
    return tuple(view for view in VIEWS if region in _HALVES[view])


def named_views(muscle_view: str) -> tuple[View, ...]:
    """Return the figures a catalogue view names: "both" names the front and the back."""
    if muscle_view == "both":
        return VIEWS
    return tuple(view for view in VIEWS if view == muscle_view)


def views_for(region: str, muscle_view: str) -> tuple[View, ...]:
    """Return the figures a muscle of this region is marked on.

    A muscle's own view ("front", "back" or "both") chooses. The catalogue refuses a view
    whose figure does not draw the muscle's region (`Muscle.clean`); a row that predates that
    rule is marked on its region's own figures instead, so no needled muscle goes unmarked.
    """
    drawn = drawn_on(region)
    named = tuple(view for view in named_views(muscle_view) if view in drawn)
    return named or drawn


def view_problem(region: str, muscle_view: str) -> str:
    """Return why the body chart cannot draw a muscle of this region and view, or ""."""
    drawn = drawn_on(region)
    if not drawn:
        return str(_("The body chart has no such region."))
    missing = [view for view in named_views(muscle_view) if view not in drawn]
    if not missing:
        return ""
    titles = {"front": _("front"), "back": _("back")}
    return str(
        _("The body chart draws the %(region)s on the %(drawn)s only.")
        % {"region": region_label(region).lower(), "drawn": titles[drawn[0]]}
    )


def region_label(code: str) -> str:
    """Return a region's label, or the code itself for one this version does not know."""
    for known, label, _views in REGIONS:
        if known == code:
            return str(label)
    return code


def region_choices() -> list[tuple[str, str]]:
    """Return the (code, label) pairs of every region, head to foot."""
    return [(code, str(label)) for code, label, _views in REGIONS]


# ---------------------------------------------------------------------------------------------
# Counting and shading


@dataclass(frozen=True)
class Needled:
    """One muscle needled on one side, as plain data (a session row, or many summed)."""

    region: str
    side: str
    muscle_view: str
    count: int = 1


def heat_step(count: int, most: int) -> int:
    """Return the shade step (0 to MAX_STEPS) of a count when the busiest mark has `most`."""
    if count <= 0 or most <= 0:
        return 0
    if most <= MAX_STEPS:
        return min(count, MAX_STEPS)
    return max(1, min(MAX_STEPS, math.ceil(count * MAX_STEPS / most)))


def heat_legend(most: int) -> list[tuple[int, int, int]]:
    """Return (step, lowest count, highest count) for each step the counts up to `most` use."""
    legend: list[tuple[int, int, int]] = []
    for count in range(1, most + 1):
        step = heat_step(count, most)
        if legend and legend[-1][0] == step:
            legend[-1] = (step, legend[-1][1], count)
        else:
            legend.append((step, count, count))
    return legend


@dataclass
class Mark:
    """One shape of one figure: a region's side, with its count and shade step."""

    region: str
    side: Side
    label: str
    shape: str
    a: int
    b: int
    c: int
    d: int
    count: int = 0
    step: int = 0
    centre: tuple[int, int] = (0, 0)


@dataclass
class Figure:
    view: View
    title: str
    outline: list[dict[str, object]]
    marks: list[Mark]
    left_label_x: int = 8
    right_label_x: int = 192

    @property
    def reader_left_side(self) -> Side:
        return side_at(self.view, 0)


@dataclass
class BodyChart:
    """Both figures with their marks, the legend, and the marks as rows for the text table."""

    figures: list[Figure]
    legend: list[tuple[int, int, int]]
    most: int
    total: int
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return self.total == 0


def _centre(shape: Shape) -> tuple[int, int]:
    kind, a, b, c, d = shape
    if kind == "ellipse":
        return a, b
    return a + c // 2, b + d // 2


def side_label(side: str) -> str:
    return str(_("left") if side == "left" else _("right") if side == "right" else side)


def build_chart(needled: Iterable[Needled]) -> BodyChart:
    """Count needled muscles per figure, region and side, and lay each figure's counts on it.

    `counts` keeps the totals per region and side, whichever figure shows them.
    """
    counts: dict[tuple[str, str], int] = {}
    on_figure: dict[tuple[View, str, str], int] = {}
    for item in needled:
        key = (item.region, item.side)
        counts[key] = counts.get(key, 0) + item.count
        for view in views_for(item.region, item.muscle_view):
            mark_key = (view, item.region, item.side)
            on_figure[mark_key] = on_figure.get(mark_key, 0) + item.count
    most = max(on_figure.values(), default=0)
    titles = {"front": _("Front"), "back": _("Back")}
    figures = []
    for view in VIEWS:
        marks = []
        for region, label, _views in REGIONS:
            for half in (0, 1):
                side = side_at(view, half)
                shape = shape_for(view, region, side)
                if shape is None:
                    continue
                count = on_figure.get((view, region, side), 0)
                kind, a, b, c, d = shape
                marks.append(
                    Mark(
                        region=region,
                        side=side,
                        label=f"{label}, {side_label(side)}",
                        shape=kind,
                        a=a,
                        b=b,
                        c=c,
                        d=d,
                        count=count,
                        step=heat_step(count, most),
                        centre=_centre(shape),
                    )
                )
        outline = [
            {"shape": kind, "a": a, "b": b, "c": c, "d": d} for kind, a, b, c, d in OUTLINE[view]
        ]
        figures.append(Figure(view=view, title=str(titles[view]), outline=outline, marks=marks))
    return BodyChart(
        figures=figures,
        legend=heat_legend(most),
        most=most,
        total=sum(counts.values()),
        counts=counts,
    )
