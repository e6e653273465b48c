"""The staff form that chooses a course's outcome measures."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from imsclinic.outcomes.models import (
    EVERY_VISITS_MAX,
    PSFS_ACTIVITY_MAX_LENGTH,
    PSFS_MAX_ACTIVITIES,
    PSFS_MIN_ACTIVITIES,
)

REGION_CHOICES = [
    ("ODI", _("ODI: low back (Oswestry Disability Index)")),
    ("NDI", _("NDI: neck (Neck Disability Index)")),
    ("QuickDASH", _("QuickDASH: arm, shoulder or hand")),
    ("LEFS", _("LEFS: leg (Lower Extremity Functional Scale)")),
    ("", _("None")),
]
ACTIVITY_FIELDS = tuple(f"activity_{n}" for n in range(1, PSFS_MAX_ACTIVITIES + 1))


class MeasurePlanForm(forms.Form):
    """Region questionnaire, 3-5 PSFS activities in the patient's words, how often to repeat."""

    region_instrument = forms.ChoiceField(
        label=_("Body-region questionnaire"),
        choices=REGION_CHOICES,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Asked at the first visit and again every few IMS visits."),
    )
    every_visits = forms.IntegerField(
        label=_("Repeat the questionnaires every (IMS visits)"),
        min_value=1,
        max_value=EVERY_VISITS_MAX,
        error_messages={
            "required": _("Enter how many visits apart to repeat them."),
            "invalid": _("Enter a whole number of visits."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        out_of_range = gettext("Choose a number of visits from 1 to %(max)d.") % {
            "max": EVERY_VISITS_MAX
        }
        self.fields["every_visits"].error_messages.update(
            min_value=out_of_range, max_value=out_of_range
        )
        for number, name in enumerate(ACTIVITY_FIELDS, start=1):
            self.fields[name] = forms.CharField(
                label=_("Activity %(number)d") % {"number": number},
                required=False,
                max_length=PSFS_ACTIVITY_MAX_LENGTH,
            )

    @property
    def activity_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ACTIVITY_FIELDS]

    def activities(self) -> list[str]:
        """Return the activities typed in, in order, blanks left out."""
        texts = (self.cleaned_data.get(name, "") for name in ACTIVITY_FIELDS)
        return [text.strip() for text in texts if text and text.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        count = len(self.activities())
        if count and not PSFS_MIN_ACTIVITIES <= count <= PSFS_MAX_ACTIVITIES:
            self.add_error(
                "activity_1",
                _("Name %(low)d to %(high)d activities the patient finds hard, or none.")
                % {"low": PSFS_MIN_ACTIVITIES, "high": PSFS_MAX_ACTIVITIES},
            )
        return cleaned
