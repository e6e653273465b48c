"""Forms on the patient's own pages: cancelling a visit, joining the waitlist."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from imsclinic.clinic.models import Location, Practitioner, Service


class CancelForm(forms.Form):
    """Cancelling a visit: a reason helps the clinic but is never required of a patient."""

    reason = forms.CharField(
        label=_("Anything you would like us to know? (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WaitlistJoinForm(forms.Form):
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.filter(is_active=True, bookable_online=True),
        empty_label=None,
    )
    practitioner = forms.ModelChoiceField(
        label=_("Practitioner"),
        queryset=Practitioner.objects.filter(is_active=True),
        required=False,
        empty_label=_("Anyone"),
    )
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.filter(is_active=True),
        required=False,
        empty_label=_("Any location"),
    )
    earliest = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    latest = forms.DateField(
        label=_("Until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Both days included."),
    )
