"""Forms for accounts: patient sign-up extras, staff invitations, accepting one, API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from imsclinic.accounts.models import TOKEN_NAME_MAX_LENGTH, StaffInvitation, User
from imsclinic.accounts.services import patient_signup_complete
from imsclinic.clinic.models import Practitioner
from imsclinic.core.roles import Role
from imsclinic.core.validators import validate_single_line
from imsclinic.patients.models import Patient

STAFF_ROLE_CHOICES = [
    (Role.FRONT_DESK, Role.FRONT_DESK.label),
    (Role.PRACTITIONER, Role.PRACTITIONER.label),
    (Role.OWNER, Role.OWNER.label),
]


class DateInput(forms.DateInput):
    input_type = "date"


class PatientSignupForm(forms.Form):
    """Ask a new patient for their name, date of birth and phone with email and password.

    allauth builds its sign-up form on top of this one; whoever signs up here becomes a
    patient (the account adapter sees to that), never staff.
    """

    field_order = (
        "first_name",
        "last_name",
        "email",
        "date_of_birth",
        "phone",
        "password1",
        "password2",
    )

    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        validators=[validate_single_line],
        widget=forms.TextInput({"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        validators=[validate_single_line],
        widget=forms.TextInput({"autocomplete": "family-name"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=DateInput({"autocomplete": "bday"})
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=40,
        required=False,
        validators=[validate_single_line],
        widget=forms.TextInput({"autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("So the clinic can reach you about a visit."),
    )

    def clean_date_of_birth(self) -> dt.date:
        born: dt.date = self.cleaned_data["date_of_birth"]
        # The patient record's own rule decides which dates are believable.
        try:
            Patient(given_name="-", family_name="-", date_of_birth=born).clean()
        except ValidationError as error:
            raise ValidationError(error.message_dict.get("date_of_birth", error.messages)) from None
        return born

    def signup(self, request: Any, user: Any) -> None:
        patient_signup_complete(
            user=user,
            first_name=self.cleaned_data["first_name"],
            last_name=self.cleaned_data["last_name"],
            date_of_birth=self.cleaned_data["date_of_birth"],
            phone=self.cleaned_data.get("phone", ""),
            request=request,
        )


class StaffInviteForm(forms.Form):
    """What the owner tells us about a new member of staff."""

    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=STAFF_ROLE_CHOICES)
    first_name = forms.CharField(
        label=_("First name"), max_length=150, required=False, validators=[validate_single_line]
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=150, required=False, validators=[validate_single_line]
    )
    practitioner = forms.ModelChoiceField(
        label=_("Practitioner profile (optional)"),
        queryset=Practitioner.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_(
            "For a practitioner the clinic already lists: their account will be linked to "
            "that profile and its credentials."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = Practitioner.objects.filter(  # type: ignore[attr-defined]
            user__isnull=True
        ).order_by("last_name", "first_name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("practitioner") is not None and data.get("role") != Role.PRACTITIONER:
            self.add_error(
                "practitioner",
                _(
                    "Only someone invited as a practitioner can be linked to a practitioner "
                    "profile."
                ),
            )
        return data


class AcceptInvitationForm(forms.Form):
    """Choose the password for an invited staff account."""

    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput({"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput({"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, invitation: StaffInvitation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invitation = invitation

    def clean_password2(self) -> str:
        first = self.cleaned_data.get("password1")
        second: str = self.cleaned_data["password2"]
        if first and first != second:
            raise ValidationError(_("The two passwords are not the same."))
        return second

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password1")
        if password and "password2" not in self.errors:
            # An unsaved user lets the validators compare the password with the name and email.
            someone = User(
                email=self.invitation.email,
                first_name=self.invitation.first_name,
                last_name=self.invitation.last_name,
            )
            try:
                password_validation.validate_password(password, someone)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=TOKEN_NAME_MAX_LENGTH,
        help_text=_("What will use the token, e.g. “Monthly report script”."),
    )
