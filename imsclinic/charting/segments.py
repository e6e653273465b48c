"""Spinal segments as plain codes: their order, root ranges, and muscle suggestions.

Pure: no ORM, no request. A root range such as "C5-T1" covers every segment from its first
to its last in cranio-caudal order. Given the involved segments of a Gunn assessment, the
suggestion is every muscle whose root range includes one of them (the paraspinals carry
their own level as a one-segment range, so "paraspinals at those levels" follows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SEGMENTS: tuple[str, ...] = (
    *(f"C{n}" for n in range(1, 9)),
    *(f"T{n}" for n in range(1, 13)),
    *(f"L{n}" for n in range(1, 6)),
    *(f"S{n}" for n in range(1, 6)),
)
_INDEX = {code: index for index, code in enumerate(SEGMENTS)}

# One paraspinal catalogue entry per vertebral level, C2-C7, T1-T12, L1-L5 and S1 (24): the
# catalogue lists paraspinals by the vertebra they lie beside, and there is no C8 vertebra.
PARASPINAL_LEVELS: tuple[str, ...] = tuple(
    code for code in SEGMENTS[_INDEX["C2"] : _INDEX["S1"] + 1] if code != "C8"
)

SPINE_PARTS: tuple[tuple[str, str], ...] = (
    ("C", "cervical"),
    ("T", "thoracic"),
    ("L", "lumbar"),
    ("S", "sacral"),
)


class SegmentError(ValueError):
    """Text that is not a segment code or a root range."""


def normalise(code: str) -> str:
    """Return the canonical form of a segment code ("c5 " -> "C5"), or raise SegmentError."""
    text = code.strip().upper()
    if text not in _INDEX:
        raise SegmentError(f"{code!r} is not a spinal segment (C1-C8, T1-T12, L1-L5, S1-S5)")
    return text


def is_segment(code: str) -> bool:
    """Say whether the text is a segment code as stored (upper case, e.g. "T4")."""
    return code in _INDEX


def position(code: str) -> int:
    """Return the segment's place from the top of the spine (C1 is 0)."""
    return _INDEX[normalise(code)]


def parse_range(text: str) -> tuple[str, str]:
    """Read "C5-C6" (or one segment, "C7") as (first, last); refuse reversed ranges."""
    parts = [part for part in text.replace("\u2013", "-").split("-")]
    if len(parts) == 1:
        only = normalise(parts[0])
        return only, only
    if len(parts) != 2:
        raise SegmentError(f"{text!r} is not a root range like C5-C6")
    first, last = normalise(parts[0]), normalise(parts[1])
    if _INDEX[first] > _INDEX[last]:
        raise SegmentError(f"{text!r} runs upwards: write the upper segment first")
    return first, last


def expand(first: str, last: str) -> list[str]:
    """List every segment from first to last, both included."""
    start, end = position(first), position(last)
    if start > end:
        raise SegmentError(f"{first}-{last} runs upwards: write the upper segment first")
    return list(SEGMENTS[start : end + 1])


def in_range(code: str, first: str, last: str) -> bool:
    """Say whether the segment lies within the root range first-last."""
    return position(first) <= position(code) <= position(last)


def sort_segments(codes: Iterable[str]) -> list[str]:
    """Return the distinct codes in spinal order, top first."""
    return sorted({normalise(code) for code in codes}, key=position)


def part_of(code: str) -> str:
    """Return the spine part of a segment: cervical, thoracic, lumbar or sacral."""
    letter = normalise(code)[0]
    return dict(SPINE_PARTS)[letter]


@dataclass(frozen=True)
class MuscleRoots:
    """What suggestion needs to know about a catalogue muscle."""

    code: str
    root_from: str
    root_to: str


def _as_roots(muscle: MuscleRoots | Mapping[str, str] | Sequence[str]) -> MuscleRoots:
    if isinstance(muscle, MuscleRoots):
        return muscle
    if isinstance(muscle, Mapping):
        return MuscleRoots(muscle["code"], muscle["root_from"], muscle["root_to"])
    code, root_from, root_to = muscle[0], muscle[1], muscle[2]
    return MuscleRoots(code, root_from, root_to)


def suggest(
    muscles: Iterable[MuscleRoots | Mapping[str, str] | Sequence[str]],
    segments: Iterable[str],
) -> list[str]:
    """Return the codes of muscles whose root range includes a chosen segment, in given order.

    Muscles come as MuscleRoots, dicts with code/root_from/root_to, or (code, from, to)
    tuples. A paraspinal entry's range is its own level, so it is suggested exactly when its
    level is chosen. No segments, no suggestions.
    """
    chosen = {position(code) for code in segments}
    if not chosen:
        return []
    codes: list[str] = []
    for item in muscles:
        muscle = _as_roots(item)
        low, high = position(muscle.root_from), position(muscle.root_to)
        if any(low <= place <= high for place in chosen):
            codes.append(muscle.code)
    return codes
