"""Forms for accounts: the patient sign-up extras."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class PatientSignupForm(forms.Form):
    """Ask a new patient for their name as well as email and password."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)

    def signup(self, request: Any, user: Any) -> None:
        user.first_name = self.cleaned_data["first_name"]
        user.last_name = self.cleaned_data["last_name"]
        user.save(update_fields=["first_name", "last_name"])
