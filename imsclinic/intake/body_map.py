"""The body map: the regions a patient can mark as painful, and how the figures draw them.

Left and right are always the patient's own. On the front figure the patient faces the
reader, so their right side is drawn on the reader's left; on the back figure it is not.
Pure data: no ORM, no request.
"""

from __future__ import annotations

from typing import Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

View = Literal["front", "back"]

# (code, label, view). Codes are stored in intake answers ("pain_areas"): never rename one.
REGIONS: list[tuple[str, Promise, View]] = [
    ("head", _("Head and face"), "front"),
    ("neck", _("Front of neck"), "front"),
    ("right_shoulder", _("Right shoulder"), "front"),
    ("left_shoulder", _("Left shoulder"), "front"),
    ("chest", _("Chest"), "front"),
    ("abdomen", _("Belly"), "front"),
    ("right_upper_arm", _("Right upper arm"), "front"),
    ("left_upper_arm", _("Left upper arm"), "front"),
    ("right_forearm", _("Right elbow and forearm"), "front"),
    ("left_forearm", _("Left elbow and forearm"), "front"),
    ("right_hand", _("Right wrist and hand"), "front"),
    ("left_hand", _("Left wrist and hand"), "front"),
    ("right_hip_groin", _("Right hip and groin"), "front"),
    ("left_hip_groin", _("Left hip and groin"), "front"),
    ("right_thigh", _("Front of right thigh"), "front"),
    ("left_thigh", _("Front of left thigh"), "front"),
    ("right_knee", _("Right knee"), "front"),
    ("left_knee", _("Left knee"), "front"),
    ("right_shin", _("Right shin"), "front"),
    ("left_shin", _("Left shin"), "front"),
    ("right_foot", _("Right ankle and foot"), "front"),
    ("left_foot", _("Left ankle and foot"), "front"),
    ("back_of_head", _("Back of head"), "back"),
    ("back_of_neck", _("Back of neck"), "back"),
    ("left_shoulder_back", _("Back of left shoulder"), "back"),
    ("right_shoulder_back", _("Back of right shoulder"), "back"),
    ("left_shoulder_blade", _("Left shoulder blade"), "back"),
    ("right_shoulder_blade", _("Right shoulder blade"), "back"),
    ("mid_back", _("Middle of the back"), "back"),
    ("lower_back", _("Lower back"), "back"),
    ("left_back_of_arm", _("Back of left upper arm"), "back"),
    ("right_back_of_arm", _("Back of right upper arm"), "back"),
    ("left_buttock", _("Left buttock"), "back"),
    ("right_buttock", _("Right buttock"), "back"),
    ("left_hamstring", _("Back of left thigh"), "back"),
    ("right_hamstring", _("Back of right thigh"), "back"),
    ("left_calf", _("Left calf and back of knee"), "back"),
    ("right_calf", _("Right calf and back of knee"), "back"),
]

REGION_CODES: frozenset[str] = frozenset(code for code, _label, _view in REGIONS)

# Each figure is drawn in a 200 x 430 box. A shape is ("ellipse", cx, cy, rx, ry) or
# ("rect", x, y, width, height). The back figure reuses the front outline, mirrored in meaning.
Shape = tuple[str, int, int, int, int]

SHAPES: dict[str, Shape] = {
    # front: the patient's right is on the reader's left
    "head": ("ellipse", 100, 36, 22, 27),
    "neck": ("rect", 89, 63, 22, 16),
    "right_shoulder": ("ellipse", 60, 92, 15, 13),
    "left_shoulder": ("ellipse", 140, 92, 15, 13),
    "chest": ("rect", 74, 80, 52, 56),
    "abdomen": ("rect", 74, 138, 52, 50),
    "right_upper_arm": ("rect", 43, 107, 21, 58),
    "left_upper_arm": ("rect", 136, 107, 21, 58),
    "right_forearm": ("rect", 39, 167, 21, 60),
    "left_forearm": ("rect", 140, 167, 21, 60),
    "right_hand": ("ellipse", 48, 242, 11, 14),
    "left_hand": ("ellipse", 152, 242, 11, 14),
    "right_hip_groin": ("rect", 74, 190, 25, 32),
    "left_hip_groin": ("rect", 101, 190, 25, 32),
    "right_thigh": ("rect", 74, 224, 25, 78),
    "left_thigh": ("rect", 101, 224, 25, 78),
    "right_knee": ("ellipse", 86, 313, 13, 11),
    "left_knee": ("ellipse", 114, 313, 13, 11),
    "right_shin": ("rect", 76, 326, 21, 70),
    "left_shin": ("rect", 103, 326, 21, 70),
    "right_foot": ("ellipse", 86, 408, 13, 9),
    "left_foot": ("ellipse", 114, 408, 13, 9),
    # back: the patient's left is on the reader's left
    "back_of_head": ("ellipse", 100, 36, 22, 27),
    "back_of_neck": ("rect", 89, 63, 22, 16),
    "left_shoulder_back": ("ellipse", 60, 92, 15, 13),
    "right_shoulder_back": ("ellipse", 140, 92, 15, 13),
    "left_shoulder_blade": ("rect", 74, 80, 25, 52),
    "right_shoulder_blade": ("rect", 101, 80, 25, 52),
    "mid_back": ("rect", 74, 134, 52, 26),
    "lower_back": ("rect", 74, 162, 52, 26),
    "left_back_of_arm": ("rect", 43, 107, 21, 58),
    "right_back_of_arm": ("rect", 136, 107, 21, 58),
    "left_buttock": ("rect", 74, 190, 25, 32),
    "right_buttock": ("rect", 101, 190, 25, 32),
    "left_hamstring": ("rect", 74, 224, 25, 82),
    "right_hamstring": ("rect", 101, 224, 25, 82),
    "left_calf": ("rect", 76, 308, 21, 88),
    "right_calf": ("rect", 103, 308, 21, 88),
}

# Parts of the back figure drawn for shape only: nothing to mark there from behind.
BACK_OUTLINE_ONLY: list[Shape] = [
    ("rect", 39, 167, 21, 60),
    ("rect", 140, 167, 21, 60),
    ("ellipse", 48, 242, 11, 14),
    ("ellipse", 152, 242, 11, 14),
    ("ellipse", 86, 408, 13, 9),
    ("ellipse", 114, 408, 13, 9),
]


def region_label(code: str) -> str:
    """Return a region's label, or the code itself for one this version does not know."""
    for known, label, _view in REGIONS:
        if known == code:
            return str(label)
    return code
