"""Forms on the patient's own pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CancelForm(forms.Form):
    """Cancelling a visit: a reason helps the clinic but is never required of a patient."""

    reason = forms.CharField(
        label=_("Anything you would like us to know? (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
