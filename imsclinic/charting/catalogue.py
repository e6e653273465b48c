"""The muscle catalogue as plain data: the clinic's muscles.csv plus one paraspinal per level.

Pure: reads the csv shipped with the app and returns dicts ready for `Muscle(**entry)`.
The thoracic precaution comes from the csv note ("thoracic precaution") and is set for the
thoracic paraspinals, T1-T12, which lie over the lung.

Every list of muscles is in body order (`body_order`): by region head to foot (the body
chart's order), then by the first root down the spine (C2 before T1 before T10: the
segments' own order, never the text's), then the last root, then the name.
`Muscle.objects.in_body_order()` asks the database for the same order.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from imsclinic.charting.body_chart import REGION_ORDER
from imsclinic.charting.segments import PARASPINAL_LEVELS, SEGMENTS, is_segment, parse_range
from imsclinic.charting.segments import position as segment_position

CSV_PATH = Path(__file__).resolve().parent / "data" / "muscles.csv"
PRECAUTION_WORDS = "thoracic precaution"
PARASPINAL_ORDER_START = 1000


# Where a region or a root the order does not know goes: after every known one.
UNKNOWN_REGION_RANK = len(REGION_ORDER)
UNKNOWN_SEGMENT_RANK = len(SEGMENTS)


def region_rank(region: str) -> int:
    """Return the region's place head to foot (neck 0); an unknown region comes last."""
    return REGION_ORDER.get(region, UNKNOWN_REGION_RANK)


def segment_rank(code: str) -> int:
    """Return the segment's place down the spine (C1 0, T1 8, T10 17); anything else last."""
    return segment_position(code) if is_segment(code) else UNKNOWN_SEGMENT_RANK


def body_order(muscle: Any) -> tuple[int, int, int, str]:
    """Sort key of a muscle (anything with region, root_from, root_to, name) in body order."""
    return (
        region_rank(muscle.region),
        segment_rank(muscle.root_from),
        segment_rank(muscle.root_to),
        muscle.name,
    )


def paraspinal_region(level: str) -> str:
    """Return the body region a paraspinal entry at this level belongs to."""
    letter, number = level[0], int(level[1:])
    if letter == "C":
        return "neck"
    if letter == "T":
        return "upper_back" if number <= 6 else "mid_back"
    return "low_back"


def csv_entries(path: Path = CSV_PATH) -> list[dict[str, Any]]:
    """Read the catalogue csv (code,name,region,view,roots,nerve,note) into muscle entries."""
    entries: list[dict[str, Any]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            root_from, root_to = parse_range(row["roots"])
            note = (row.get("note") or "").strip()
            entries.append(
                {
                    "code": row["code"].strip(),
                    "name": row["name"].strip(),
                    "region": row["region"].strip(),
                    "view": row["view"].strip(),
                    "root_from": root_from,
                    "root_to": root_to,
                    "nerve": (row.get("nerve") or "").strip(),
                    "note": note,
                    "thoracic_precaution": PRECAUTION_WORDS in note.lower(),
                    "is_paraspinal": False,
                    "level": "",
                    "is_active": True,
                    "order": (index + 1) * 10,
                }
            )
    return entries


def paraspinal_entries() -> list[dict[str, Any]]:
    """Generate one paraspinal entry per level, C2 to S1 (24 entries)."""
    entries: list[dict[str, Any]] = []
    for index, level in enumerate(PARASPINAL_LEVELS):
        thoracic = level.startswith("T")
        entries.append(
            {
                "code": f"paraspinal_{level.lower()}",
                "name": f"Paraspinals {level}",
                "region": paraspinal_region(level),
                "view": "back",
                "root_from": level,
                "root_to": level,
                "nerve": f"dorsal ramus of {level}",
                "note": "over the lung: thoracic precaution" if thoracic else "",
                "thoracic_precaution": thoracic,
                "is_paraspinal": True,
                "level": level,
                "is_active": True,
                "order": PARASPINAL_ORDER_START + index,
            }
        )
    return entries


def catalogue_entries(path: Path = CSV_PATH) -> list[dict[str, Any]]:
    """Return the whole starting catalogue: the csv muscles, then the paraspinals."""
    return csv_entries(path) + paraspinal_entries()
