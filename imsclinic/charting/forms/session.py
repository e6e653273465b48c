"""Forms of the needling session note: the note itself, one form per muscle row, addenda."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imsclinic.charting.body_chart import REGION_ORDER, region_label
from imsclinic.charting.models import (
    LONG_TEXT_MAX_LENGTH,
    MAX_INSERTIONS,
    MAX_ROWS,
    NPRS_MAX,
    REASON_MAX_LENGTH,
    ROW_NOTE_MAX_LENGTH,
    SESSION_NOTES_MAX_LENGTH,
    SESSION_TEXT_MAX_LENGTH,
    ChestWallTechnique,
    Grasp,
    Muscle,
    NeedleSide,
    Tolerance,
)
from imsclinic.charting.segments import SEGMENTS

NPRS_CHOICES = [("", "—")] + [(str(n), str(n)) for n in range(NPRS_MAX + 1)]


class SessionForm(forms.Form):
    """The parts of the note that are not rows."""

    nprs_before = forms.TypedChoiceField(
        label=gettext_lazy("Pain before (0-10)"),
        choices=NPRS_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    nprs_after = forms.TypedChoiceField(
        label=gettext_lazy("Pain after (0-10)"),
        choices=NPRS_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    rom_change = forms.CharField(
        label=gettext_lazy("Range of motion change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=SESSION_TEXT_MAX_LENGTH,
    )
    aftercare_given = forms.BooleanField(
        label=gettext_lazy("Aftercare advice given"), required=False
    )
    aftercare_notes = forms.CharField(
        label=gettext_lazy("Aftercare notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=SESSION_TEXT_MAX_LENGTH,
    )
    notes = forms.CharField(
        label=gettext_lazy("Other notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=SESSION_NOTES_MAX_LENGTH,
    )
    reason_no_assessment = forms.CharField(
        label=gettext_lazy("Why needle without a current assessment?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=REASON_MAX_LENGTH,
    )


class RowForm(forms.Form):
    """One muscle needled: checked here, stored by the service."""

    muscle = forms.IntegerField(required=False)
    side = forms.ChoiceField(choices=NeedleSide.choices)
    segment = forms.ChoiceField(choices=[("", "")] + [(s, s) for s in SEGMENTS], required=False)
    insertions = forms.IntegerField(min_value=1, max_value=MAX_INSERTIONS, required=False)
    # Left empty it is one needle (docs/decisions/0011).
    needles_used = forms.IntegerField(min_value=1, max_value=MAX_INSERTIONS, required=False)
    needle_lot = forms.IntegerField(required=False)
    grasp = forms.ChoiceField(choices=Grasp.choices)
    release = forms.BooleanField(required=False)
    twitch = forms.BooleanField(required=False)
    tolerance = forms.ChoiceField(choices=Tolerance.choices)
    note = forms.CharField(required=False, max_length=ROW_NOTE_MAX_LENGTH)

    def __init__(
        self,
        *args: Any,
        muscles: Mapping[int, Muscle],
        lots: Mapping[int, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.muscles = muscles
        self.lots = lots

    def is_blank(self) -> bool:
        """Say whether nothing worth keeping was typed in this row."""
        if not self.is_bound:
            return True
        return not any(self.data.get(self.add_prefix(name)) for name in ("muscle", "note"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        muscle_id = data.get("muscle")
        muscle = self.muscles.get(muscle_id) if muscle_id is not None else None
        if muscle is None:
            self.add_error("muscle", _("Choose a muscle."))
        elif not data.get("segment"):
            # The muscle's own level (paraspinals) or the top of its root range.
            data["segment"] = muscle.level or muscle.root_from
        if not data.get("insertions") and "insertions" not in self.errors:
            self.add_error("insertions", _("Write how many insertions (1 to 50)."))
        if "needles_used" not in self.errors:
            data["needles_used"] = needles = data.get("needles_used") or 1
            insertions = data.get("insertions")
            if insertions and needles > insertions:
                self.add_error(
                    "needles_used",
                    _("At most one needle per insertion: no more than %(n)d here.")
                    % {"n": insertions},
                )
        lot_id = data.get("needle_lot")
        if lot_id is None or lot_id not in self.lots:
            self.add_error(
                "needle_lot", _("Choose a needle lot in stock (not expired, not recalled).")
            )
        data["muscle_obj"] = muscle
        data["lot_obj"] = self.lots.get(lot_id) if lot_id is not None else None
        return data


def row_count(data: Mapping[str, Any]) -> int:
    """Return how many rows the browser sent (bounded)."""
    try:
        total = int(data.get("rows-TOTAL", "0"))
    except ValueError:
        return 0
    return max(0, min(total, MAX_ROWS))


def bound_rows(
    data: Mapping[str, Any], *, muscles: Mapping[int, Muscle], lots: Mapping[int, Any]
) -> list[RowForm]:
    """Return a bound form per row sent, blank rows left out."""
    forms_: list[RowForm] = []
    for index in range(row_count(data)):
        form = RowForm(data, prefix=f"rows-{index}", muscles=muscles, lots=lots)
        if not form.is_blank():
            forms_.append(form)
    return forms_


class AddendumForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=REASON_MAX_LENGTH,
        help_text=gettext_lazy("Why the note needs this, e.g. “Wrong side recorded”."),
    )
    text = forms.CharField(
        label=gettext_lazy("Addendum"),
        # A validator, not max_length: the page sets no maxlength on this text area.
        validators=[MaxLengthValidator(LONG_TEXT_MAX_LENGTH)],
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": gettext_lazy("Keep the addendum under %(limit_value)d characters.")
        },
    )


class ChestWallForm(forms.Form):
    """The technique used over the chest wall of a lung-risk patient (part of the note's page)."""

    chest_technique = forms.ChoiceField(
        label=gettext_lazy("Technique used over the chest wall"),
        choices=ChestWallTechnique.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose the technique you used over the chest wall.")
        },
    )
    chest_note = forms.CharField(
        label=gettext_lazy("Note on the technique"),
        required=False,
        max_length=ROW_NOTE_MAX_LENGTH,
        help_text=gettext_lazy("Needed for “another technique”; e.g. depth kept under 15 mm."),
        error_messages={"max_length": gettext_lazy("Keep this under %(limit_value)d characters.")},
    )


class StartForm(forms.Form):
    """Starting the note: why it goes ahead without a current assessment, when it must say."""

    reason_no_assessment = forms.CharField(
        required=False,
        max_length=REASON_MAX_LENGTH,
        error_messages={"max_length": gettext_lazy("Keep this under %(limit_value)d characters.")},
    )


@dataclass
class RegionGroup:
    code: str
    label: str
    muscles: list[Muscle]


def muscles_by_region(muscles: list[Muscle]) -> list[RegionGroup]:
    """Group the muscles by region, head to foot; within a region they keep the order given."""
    groups: dict[str, RegionGroup] = {}
    for muscle in muscles:
        group = groups.get(muscle.region)
        if group is None:
            group = groups[muscle.region] = RegionGroup(
                muscle.region, region_label(muscle.region), []
            )
        group.muscles.append(muscle)
    return sorted(groups.values(), key=lambda g: (REGION_ORDER.get(g.code, 99), g.label))
