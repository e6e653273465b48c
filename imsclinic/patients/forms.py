"""Forms for the patient record."""

from django import forms
from django.utils.translation import gettext_lazy as _

from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import SEARCH_MAX_LENGTH
from imsclinic.patients.services import DEMOGRAPHIC_FIELDS


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search by name, date of birth (YYYY-MM-DD) or phone"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
    )


class DemographicsForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
