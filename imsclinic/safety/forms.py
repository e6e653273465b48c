"""The clearance decision form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from imsclinic.safety.models import Decision
from imsclinic.safety.services import REASON_MAX


class ClearanceForm(forms.Form):
    intake = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a decision.")},
    )
    reason = forms.CharField(
        label=_("Reason, or the precautions to take"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=REASON_MAX,
        help_text=_(
            "Say why. For a clearance with precautions, say what to do differently "
            "(for example: no needling of the left arm; treat lying down)."
        ),
        error_messages={"required": _("Write the reason for the decision.")},
    )
