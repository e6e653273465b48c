"""What each questionnaire looks like: items, value ranges, short titles and scale anchors.

Pure data (no ORM, no request). Scoring lives in ``scoring.py``; this module describes how the
questions are shown.

Licensing (see docs/OUTCOMES.md): NPRS and PSFS may be reproduced freely, so their
instructions are given here. The wording of ODI, NDI, QuickDASH and LEFS belongs to their
authors and publishers, so this module ships only their *structure*: the number of items, the
value range, a short neutral title for each item in our own words (the topics themselves are
facts) and generic anchors for the ends of each scale. A clinic that holds a licence loads the
published wording from a JSON file (``manage.py load_instrument_text``); ``with_wording`` lays
that wording over the shipped definition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from imsclinic.outcomes.errors import WordingInvalid
from imsclinic.outcomes.scoring import INSTRUMENTS

Text = str | Promise

# Instruments whose published wording may be shipped with the software.
FREE_TO_REPRODUCE = frozenset({"NPRS", "PSFS"})
# Instruments whose published wording a clinic loads under its own licence.
LICENSED = frozenset({"ODI", "NDI", "QuickDASH", "LEFS"})
PSFS_MIN_ACTIVITIES = 3
PSFS_MAX_ACTIVITIES = 5


@dataclass(frozen=True)
class Item:
    """One question: a short title, the meaning of the lowest and highest value."""

    title: Text
    low: Text
    high: Text
    text: Text = ""  # the question's full wording, when a clinic has loaded it
    options: tuple[Text, ...] = ()  # the wording of each response, lowest value first


@dataclass(frozen=True)
class Definition:
    """One instrument as it is shown: its items in scoring order and how to answer them."""

    code: str
    name: Text
    version: str
    item_min: int
    item_max: int
    items: tuple[Item, ...]
    instructions: Text
    recall: Text = ""
    licensed_wording: bool = False  # True when the published wording has been loaded
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def values(self) -> range:
        return range(self.item_min, self.item_max + 1)

    @property
    def is_zero_to_ten(self) -> bool:
        return self.item_min == 0 and self.item_max == 10


def _items(titles: Sequence[Text], low: Text, high: Text) -> tuple[Item, ...]:
    return tuple(Item(title=title, low=low, high=high) for title in titles)


_DISABILITY_LOW = _("no pain or difficulty")
_DISABILITY_HIGH = _("the most severe")

_ODI_TITLES: tuple[Text, ...] = (
    _("Pain intensity"),
    _("Personal care"),
    _("Lifting"),
    _("Walking"),
    _("Sitting"),
    _("Standing"),
    _("Sleeping"),
    _("Sex life"),
    _("Social life"),
    _("Travelling"),
)

_NDI_TITLES: tuple[Text, ...] = (
    _("Pain intensity"),
    _("Personal care"),
    _("Lifting"),
    _("Reading"),
    _("Headaches"),
    _("Concentration"),
    _("Work"),
    _("Driving"),
    _("Sleeping"),
    _("Recreation"),
)

_DIFFICULTY_LOW = _("no difficulty")
_DIFFICULTY_HIGH = _("unable")

_QUICKDASH_ITEMS: tuple[Item, ...] = (
    Item(_("Opening a tight jar"), _DIFFICULTY_LOW, _DIFFICULTY_HIGH),
    Item(_("Heavy household chores"), _DIFFICULTY_LOW, _DIFFICULTY_HIGH),
    Item(_("Carrying a shopping bag"), _DIFFICULTY_LOW, _DIFFICULTY_HIGH),
    Item(_("Washing your back"), _DIFFICULTY_LOW, _DIFFICULTY_HIGH),
    Item(_("Cutting food with a knife"), _DIFFICULTY_LOW, _DIFFICULTY_HIGH),
    Item(_("Recreation that puts force through the arm"), _DIFFICULTY_LOW, _DIFFICULTY_HIGH),
    Item(_("Effect on social activities"), _("not at all"), _("extremely")),
    Item(_("Limits on work or daily activities"), _("not limited"), _DIFFICULTY_HIGH),
    Item(_("Arm, shoulder or hand pain"), _("none"), _("extreme")),
    Item(_("Tingling (pins and needles)"), _("none"), _("extreme")),
    Item(_("Sleep disturbed by the pain"), _DIFFICULTY_LOW, _("cannot sleep")),
)

_LEFS_TITLES: tuple[Text, ...] = (
    _("Usual work, housework or school"),
    _("Usual hobbies, recreation or sport"),
    _("Getting in or out of the bath"),
    _("Walking between rooms"),
    _("Putting on shoes or socks"),
    _("Squatting"),
    _("Lifting a bag of groceries from the floor"),
    _("Light activities around the home"),
    _("Heavy activities around the home"),
    _("Getting in or out of a car"),
    _("Walking two blocks"),
    _("Walking a mile"),
    _("Going up or down a flight of stairs"),
    _("Standing for an hour"),
    _("Sitting for an hour"),
    _("Running on even ground"),
    _("Running on uneven ground"),
    _("Sharp turns while running fast"),
    _("Hopping"),
    _("Rolling over in bed"),
)

PSFS_LOW = _("unable to do the activity")
PSFS_HIGH = _("able to do it as well as before the problem")

_SHIPPED: dict[str, Definition] = {
    "NPRS": Definition(
        code="NPRS",
        name=_("Pain rating (0 to 10)"),
        version=INSTRUMENTS["NPRS"].version,
        item_min=0,
        item_max=10,
        items=(Item(_("Your pain right now"), _("no pain"), _("worst pain imaginable")),),
        instructions=_("Choose the number that best describes your pain right now."),
        sources=("Salaffi et al. 2004",),
    ),
    "PSFS": Definition(
        code="PSFS",
        name=_("Patient-Specific Functional Scale"),
        version=INSTRUMENTS["PSFS"].version,
        item_min=0,
        item_max=10,
        items=(),  # one item per activity the patient names; see ``psfs``
        instructions=_(
            "Name three to five important activities that you cannot do, or find hard to do, "
            "because of your problem. For each one, choose how well you can do it today."
        ),
        recall=_("today"),
        sources=("Stratford et al. 1995", "Abbott & Schmitt 2014"),
    ),
    "ODI": Definition(
        code="ODI",
        name=_("Oswestry Disability Index (low back)"),
        version=INSTRUMENTS["ODI"].version,
        item_min=0,
        item_max=5,
        items=_items(_ODI_TITLES, _DISABILITY_LOW, _DISABILITY_HIGH),
        instructions=_(
            "For each topic, choose the number that best describes how your back or leg "
            "trouble affects you today."
        ),
        recall=_("today"),
        sources=("Fairbank & Pynsent 2000",),
    ),
    "NDI": Definition(
        code="NDI",
        name=_("Neck Disability Index"),
        version=INSTRUMENTS["NDI"].version,
        item_min=0,
        item_max=5,
        items=_items(_NDI_TITLES, _DISABILITY_LOW, _DISABILITY_HIGH),
        instructions=_(
            "For each topic, choose the number that best describes how your neck pain "
            "affects you today."
        ),
        recall=_("today"),
        sources=("Vernon & Mior 1991",),
    ),
    "QuickDASH": Definition(
        code="QuickDASH",
        name=_("QuickDASH (arm, shoulder and hand)"),
        version=INSTRUMENTS["QuickDASH"].version,
        item_min=1,
        item_max=5,
        items=_QUICKDASH_ITEMS,
        instructions=_(
            "For each topic, choose the number that best describes your arm, shoulder or "
            "hand over the past week."
        ),
        recall=_("the past week"),
        sources=("Beaton et al. 2005",),
    ),
    "LEFS": Definition(
        code="LEFS",
        name=_("Lower Extremity Functional Scale"),
        version=INSTRUMENTS["LEFS"].version,
        item_min=0,
        item_max=4,
        items=_items(_LEFS_TITLES, _("extreme difficulty or unable"), _("no difficulty")),
        instructions=_(
            "For each activity, choose how much difficulty your leg problem gives you today."
        ),
        recall=_("today"),
        sources=("Binkley et al. 1999",),
    ),
}

# The codes in the order pages list them.
CODES: tuple[str, ...] = tuple(_SHIPPED)


def definition(code: str) -> Definition:
    """Return the shipped definition of one instrument (no licensed wording)."""
    try:
        return _SHIPPED[code]
    except KeyError:
        raise ValueError(f"Unknown instrument {code!r}.") from None


def psfs(activities: Sequence[str]) -> Definition:
    """Return the PSFS with one item per activity the patient named, in their order."""
    base = _SHIPPED["PSFS"]
    items = tuple(Item(title=name, low=PSFS_LOW, high=PSFS_HIGH) for name in activities)
    return replace(base, items=items)


def check_wording(code: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the wording's items if they fit the instrument, else raise WordingInvalid.

    The file holds ``{"instrument": code, "version": ..., "items": [{"title": ...,
    "text": ..., "options": [lowest ... highest]}, ...]}``: one entry per item in scoring
    order, each with one option per value of the item's range.
    """
    if code in FREE_TO_REPRODUCE:
        raise WordingInvalid(f"{code} wording is shipped; there is nothing to load.")
    shipped = definition(code)
    version = data.get("version")
    if version != shipped.version:
        raise WordingInvalid(
            f"The file is for version {version!r}; this system scores {shipped.version!r}."
        )
    items = data.get("items")
    if not isinstance(items, list) or len(items) != len(shipped.items):
        count = len(items) if isinstance(items, list) else 0
        raise WordingInvalid(f"{code} has {len(shipped.items)} items; the file has {count}.")
    width = len(shipped.values)
    checked: list[dict[str, Any]] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise WordingInvalid(f"Item {number} must be an object.")
        text = item.get("text", "")
        title = item.get("title", "")
        options = item.get("options", [])
        if not isinstance(text, str) or not isinstance(title, str):
            raise WordingInvalid(f"Item {number}: title and text must be text.")
        if (
            not isinstance(options, list)
            or len(options) != width
            or not all(isinstance(o, str) and o.strip() for o in options)
        ):
            raise WordingInvalid(
                f"Item {number} needs {width} options (values {shipped.item_min} to "
                f"{shipped.item_max}), each a non-empty text."
            )
        checked.append(
            {"title": title.strip(), "text": text.strip(), "options": [o.strip() for o in options]}
        )
    return checked


def with_wording(base: Definition, items: Sequence[Mapping[str, Any]]) -> Definition:
    """Lay loaded wording (already checked) over a shipped definition."""
    if len(items) != len(base.items):
        return base
    merged = tuple(
        replace(
            item,
            title=loaded.get("title") or item.title,
            text=loaded.get("text", ""),
            options=tuple(loaded.get("options", ())),
        )
        for item, loaded in zip(base.items, items, strict=True)
    )
    return replace(base, items=merged, licensed_wording=True)


def template(code: str) -> dict[str, Any]:
    """Return an empty wording file for one licensed instrument, for a clinic to fill in."""
    shipped = definition(code)
    return {
        "instrument": code,
        "version": shipped.version,
        "licence": "",
        "items": [
            {"title": str(item.title), "text": "", "options": [""] * len(shipped.values)}
            for item in shipped.items
        ],
    }
