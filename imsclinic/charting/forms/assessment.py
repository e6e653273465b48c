"""Forms of the assessment page: the plan, one row per sign of neuropathy, the segments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from imsclinic.charting.models import (
    FREQUENCY_OTHER_MAX_LENGTH,
    GUNN_SIGN_GROUPS,
    LONG_TEXT_MAX_LENGTH,
    MAX_EXPECTED_SESSIONS,
    REASON_MAX_LENGTH,
    ROW_NOTE_MAX_LENGTH,
    Assessment,
    GunnSign,
    Muscle,
    PlanFrequency,
    Side,
    SignalFinding,
)
from imsclinic.charting.segments import SEGMENTS
from imsclinic.charting.services import SignInput

EXTRA_SIGN_ROWS = 2
SIDE_CHOICES = [("", _("Side")), *Side.choices]
SEGMENT_CHOICES = [("", _("Segment")), *((code, code) for code in SEGMENTS)]
KEEP_UNDER = _("Keep this under %(limit_value)d characters.")


def _sessions_message() -> str:
    return gettext("Enter a whole number of sessions from 1 to %(max)d.") % {
        "max": MAX_EXPECTED_SESSIONS
    }


SESSIONS_MESSAGE = lazy(_sessions_message, str)()


class AssessmentForm(forms.Form):
    goals = forms.CharField(
        label=_("Goals"),
        required=False,
        # A validator, not max_length: the page sets no maxlength on this text area.
        validators=[MaxLengthValidator(LONG_TEXT_MAX_LENGTH)],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the patient wants to be able to do again."),
        error_messages={"max_length": KEEP_UNDER},
    )
    plan_frequency = forms.ChoiceField(
        label=_("How often"),
        required=False,
        choices=[("", _("Choose")), *PlanFrequency.choices],
    )
    plan_frequency_other = forms.CharField(
        label=_("Other frequency"),
        required=False,
        max_length=FREQUENCY_OTHER_MAX_LENGTH,
        error_messages={"max_length": KEEP_UNDER},
        help_text=_("Only when you chose “Other”, e.g. twice a week for two weeks."),
    )
    plan_expected_sessions = forms.IntegerField(
        label=_("Expected sessions"),
        required=False,
        min_value=1,
        max_value=MAX_EXPECTED_SESSIONS,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
        error_messages={
            "invalid": SESSIONS_MESSAGE,
            "min_value": SESSIONS_MESSAGE,
            "max_value": SESSIONS_MESSAGE,
        },
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        # A validator, not max_length: the page sets no maxlength on this text area.
        validators=[MaxLengthValidator(LONG_TEXT_MAX_LENGTH)],
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": KEEP_UNDER},
    )

    very_slim_build = forms.BooleanField(
        label=_("Very slim build: judge needle depth over the chest wall"),
        required=False,
        help_text=_(
            "Your finding, not the patient's: little tissue over the ribs puts the lung closer "
            "to the skin. Needling over the chest wall then asks for the technique used."
        ),
    )

    @classmethod
    def for_assessment(cls, assessment: Assessment | None) -> AssessmentForm:
        if assessment is None:
            return cls()
        return cls(
            initial={
                "goals": assessment.goals,
                "plan_frequency": assessment.plan_frequency,
                "plan_frequency_other": assessment.plan_frequency_other,
                "plan_expected_sessions": assessment.plan_expected_sessions or "",
                "notes": assessment.notes,
                "very_slim_build": bool(assessment.very_slim_build),
            }
        )


class SignRowForm(forms.Form):
    """One row of the signs table; fixed rows carry their sign, extra rows choose one."""

    sign = forms.ChoiceField(
        label=_("Sign"), required=False, choices=[("", _("Choose a sign")), *GunnSign.choices]
    )
    finding = forms.ChoiceField(
        label=_("Finding"),
        choices=SignalFinding.choices,
        initial=SignalFinding.NOT_TESTED,
        widget=forms.RadioSelect,
    )
    side = forms.ChoiceField(label=_("Side"), required=False, choices=SIDE_CHOICES)
    segment = forms.ChoiceField(label=_("Segment"), required=False, choices=SEGMENT_CHOICES)
    muscle = forms.ChoiceField(label=_("Muscle"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=ROW_NOTE_MAX_LENGTH)

    def __init__(
        self,
        *args: Any,
        muscle_choices: list[tuple[str, str]],
        fixed_sign: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fixed_sign = fixed_sign
        self.sign_label: str
        muscle_field = self.fields["muscle"]
        assert isinstance(muscle_field, forms.ChoiceField)
        muscle_field.choices = [("", _("Muscle")), *muscle_choices]
        if fixed_sign:
            self.fields["sign"].widget = forms.HiddenInput()
            self.fields["sign"].initial = fixed_sign
            self.sign_label = str(GunnSign(fixed_sign).label)
        else:
            self.sign_label = ""

    @property
    def is_blank_extra(self) -> bool:
        """An extra row left untouched: no sign chosen and nothing typed."""
        if self.fixed_sign or not self.is_valid():
            return False
        data = self.cleaned_data
        return not data.get("sign") and not any(
            data.get(name) for name in ("side", "segment", "muscle", "note")
        )

    def to_input(self) -> SignInput:
        data = self.cleaned_data
        muscle = data.get("muscle") or ""
        return SignInput(
            sign=self.fixed_sign or data.get("sign") or "",
            finding=data.get("finding") or SignalFinding.NOT_TESTED,
            side=data.get("side") or "",
            segment=data.get("segment") or "",
            muscle_id=int(muscle) if muscle else None,
            note=data.get("note") or "",
        )


def muscle_choices(muscles: Iterable[Muscle]) -> list[tuple[str, str]]:
    return [(str(muscle.pk), muscle.name) for muscle in muscles]


def sign_groups(rows: Iterable[SignRowForm]) -> list[dict[str, Any]]:
    """Return the fixed rows under their kind of sign (sensory, autonomic, ...), in order."""
    by_sign = {row.fixed_sign: row for row in rows if row.fixed_sign}
    return [
        {"label": label, "rows": [by_sign[sign] for sign in signs if sign in by_sign]}
        for label, signs in GUNN_SIGN_GROUPS
    ]


def sign_row_forms(
    *,
    data: Mapping[str, Any] | None,
    assessment: Assessment | None,
    choices: list[tuple[str, str]],
) -> list[SignRowForm]:
    """Return one form per Gunn sign, then the extra rows, bound to `data` when posted.

    A sign's row is named by the sign (`sign-vasomotor-finding`), an extra row by its place
    (`sign-x0-finding`).

    Unbound, the rows show what the draft holds: the first saved row of each sign in its
    fixed row, any further saved rows in extra rows.
    """
    saved = list(assessment.signs.all()) if assessment is not None else []
    first_of: dict[str, Any] = {}
    extras: list[Any] = []
    for item in saved:
        if item.sign in first_of:
            extras.append(item)
        else:
            first_of[item.sign] = item
    forms_: list[SignRowForm] = []

    def initial_of(item: Any) -> dict[str, Any]:
        if item is None:
            return {}
        return {
            "sign": item.sign,
            "finding": item.finding,
            "side": item.side,
            "segment": item.segment,
            "muscle": str(item.muscle_id) if item.muscle_id else "",
            "note": item.note,
        }

    for sign in GunnSign.values:
        forms_.append(
            SignRowForm(
                data,
                prefix=f"sign-{sign}",
                muscle_choices=choices,
                fixed_sign=sign,
                initial=initial_of(first_of.get(sign)),
            )
        )
    extra_count = max(EXTRA_SIGN_ROWS, len(extras) + 1)
    if data is not None:
        # Keep as many extra rows as were posted, so nothing typed is lost.
        posted = sum(1 for key in data if key.startswith("sign-x") and key.endswith("-finding"))
        extra_count = max(extra_count, posted)
    for index in range(extra_count):
        forms_.append(
            SignRowForm(
                data,
                prefix=f"sign-x{index}",
                muscle_choices=choices,
                initial=initial_of(extras[index] if index < len(extras) else None),
            )
        )
    return forms_


class AddendumForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("Why you are adding to the signed note, e.g. a correction."),
        error_messages={"required": _("Say why you are adding to the signed note.")},
    )
    text = forms.CharField(
        label=_("Addendum"),
        # A validator, not max_length: the page sets no maxlength on this text area.
        validators=[MaxLengthValidator(LONG_TEXT_MAX_LENGTH)],
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Write the addendum."),
            "max_length": _("Keep the addendum under %(limit_value)d characters."),
        },
    )


def segments_from_post(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Read the left and right tick boxes of the segment grid as (segment, side) pairs."""
    getlist = getattr(data, "getlist", None)
    left = set(getlist("segment_left") if getlist else data.get("segment_left", []))
    right = set(getlist("segment_right") if getlist else data.get("segment_right", []))
    pairs: list[tuple[str, str]] = []
    for code in SEGMENTS:
        if code in left and code in right:
            pairs.append((code, Side.BOTH))
        elif code in left:
            pairs.append((code, Side.LEFT))
        elif code in right:
            pairs.append((code, Side.RIGHT))
    unknown = (left | right) - set(SEGMENTS)
    pairs.extend((code, Side.LEFT) for code in sorted(unknown))  # the service refuses them
    return pairs


def segment_grid(chosen: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """Return the segmental diagnosis grid: one table per spine part, each segment's L and R."""
    sides: dict[str, set[str]] = {}
    for code, side in chosen:
        marks = sides.setdefault(code, set())
        if side in (Side.LEFT, Side.BOTH):
            marks.add("left")
        if side in (Side.RIGHT, Side.BOTH):
            marks.add("right")
    parts = {"C": _("Cervical"), "T": _("Thoracic"), "L": _("Lumbar"), "S": _("Sacral")}
    return [
        {
            "label": label,
            "rows": [
                {
                    "code": code,
                    "left": "left" in sides.get(code, set()),
                    "right": "right" in sides.get(code, set()),
                }
                for code in SEGMENTS
                if code[0] == letter
            ],
        }
        for letter, label in parts.items()
    ]
