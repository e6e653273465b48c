"""The check-in form a patient fills from the emailed link (mobile first)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from imsclinic.followup.models import CHECKIN_TEXT_MAX_LENGTH
from imsclinic.followup.services import CheckInAnswers

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
SORENESS_CHOICES = [(str(n), str(n)) for n in range(11)]


def _yes_no(label: Any, help_text: Any = "", *, required: bool = True) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect(attrs={"class": "yes-no"}),
        required=required,
        error_messages={"required": _("Answer yes or no.")},
    )


class CheckInForm(forms.Form):
    """Soreness, bruising, the red-flag questions (all required) and free text."""

    soreness = forms.TypedChoiceField(
        label=_("How sore are you now? (0 = not sore, 10 = worst imaginable)"),
        choices=SORENESS_CHOICES,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "scale-row"}),
        error_messages={"required": _("Choose a number from 0 to 10.")},
    )
    bruising = _yes_no(_("Do you have bruising where you were needled?"), required=False)
    breathless_or_chest_pain = _yes_no(
        _("Are you short of breath, or do you have chest pain, since your visit?"),
    )
    site_infection_signs = _yes_no(
        _("Do you have a fever, or redness or heat spreading from a needle site?")
    )
    site_swelling_or_pus = _yes_no(_("Is there swelling or pus at a needle site?"))
    numbness_or_weakness = _yes_no(
        _("Do you have new numbness or weakness that has not gone away?")
    )
    fainted = _yes_no(_("Have you fainted since your visit?"))
    other_symptoms = forms.CharField(
        label=_("Anything else you have noticed (optional)"),
        required=False,
        max_length=CHECKIN_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    notes = forms.CharField(
        label=_("Anything you would like to tell your physiotherapist (optional)"),
        required=False,
        max_length=CHECKIN_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, thoracic: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.thoracic = thoracic
        if thoracic:
            self.fields["breathless_or_chest_pain"].help_text = _(
                "You were needled near the chest wall. Rarely, this can let air into the space "
                "around a lung, which makes breathing hard. Please answer this first."
            )
            # Shown first on the page, so listed first in the error summary too.
            self.order_fields(["breathless_or_chest_pain"])

    def red_flag_fields(self) -> list[forms.BoundField]:
        """Return the red-flag questions in the order shown (breathlessness first)."""
        names = [
            "breathless_or_chest_pain",
            "site_infection_signs",
            "site_swelling_or_pus",
            "numbness_or_weakness",
            "fainted",
        ]
        return [self[name] for name in names]

    def answers(self) -> CheckInAnswers:
        """Return the cleaned answers for the service."""
        data = self.cleaned_data
        bruising = data.get("bruising")
        return CheckInAnswers(
            soreness=data["soreness"],
            bruising=bruising if bruising in (True, False) else None,
            breathless_or_chest_pain=data["breathless_or_chest_pain"],
            site_infection_signs=data["site_infection_signs"],
            site_swelling_or_pus=data["site_swelling_or_pus"],
            numbness_or_weakness=data["numbness_or_weakness"],
            fainted=data["fainted"],
            other_symptoms=data.get("other_symptoms", ""),
            notes=data.get("notes", ""),
        )
