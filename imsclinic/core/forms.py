"""The owner's filters for the audit log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from imsclinic.core.models import Action, Outcome
from imsclinic.core.roles import STAFF_ROLES


class DateInput(forms.DateInput):
    input_type = "date"


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.email)


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(
        label=_("From (date in UTC)"), required=False, widget=DateInput(format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To (date in UTC, included)"), required=False, widget=DateInput(format="%Y-%m-%d")
    )
    user = StaffChoiceField(
        label=_("Staff member"),
        # Former staff stay in the list: their past access is what an audit asks about.
        queryset=get_user_model().objects.filter(role__in=STAFF_ROLES).order_by("email"),
        required=False,
        empty_label=_("Anyone"),
    )
    patient = forms.IntegerField(
        label=_("Patient number"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_(
            "The number in the address of the patient's page, e.g. 42 in /staff/patients/42/."
        ),
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *Action.choices]
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("Any outcome")), *Outcome.choices]
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters_for_the_record(self) -> dict[str, Any]:
        """Return the chosen filters as plain data for an audit row's detail."""
        data = self.cleaned_data
        chosen = {
            "date_from": data["date_from"].isoformat() if data.get("date_from") else None,
            "date_to": data["date_to"].isoformat() if data.get("date_to") else None,
            "user": data["user"].email if data.get("user") else None,
            "patient": data.get("patient"),
            "action": data.get("action") or None,
            "outcome": data.get("outcome") or None,
        }
        return {key: value for key, value in chosen.items() if value is not None}
