"""Forms for the intake: one per section, built from the questionnaire's data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from imsclinic.intake.questions import Question, Section
from imsclinic.intake.validation import validate
from imsclinic.patients.models import Patient

# Staff entering a paper form may record that no one can consent; a patient filling in
# the portal form is either the patient or the person who decides for them.
PORTAL_HIDDEN_CHOICES = {"consent_capacity": {"none"}}


def _help(question: Question) -> str:
    parts = []
    if question.help:
        parts.append(format_html("<span>{}</span>", question.help))
    if question.why:
        parts.append(format_html('<span class="why">{} {}</span>', _("Why we ask:"), question.why))
    return format_html_join(" ", "{}", ((p,) for p in parts))


def _field(question: Question, *, portal: bool) -> forms.Field:
    hidden = PORTAL_HIDDEN_CHOICES.get(question.key, set()) if portal else set()
    choices = [(v, label) for v, label in question.choices if v not in hidden]
    common: dict[str, Any] = {
        "label": question.label,
        "required": False,
        "help_text": _help(question),
    }
    if question.kind == "choice":
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if question.kind == "multi":
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if question.kind == "long_text":
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3}), max_length=question.max_length, **common
        )
    return forms.CharField(max_length=question.max_length, **common)


class AnswersForm(forms.Form):
    """The questions of some sections; errors come from the questionnaire's own validation."""

    questions: list[Question]
    typed: dict[str, Any]

    def __init__(
        self,
        *args: Any,
        sections: Iterable[Section],
        portal: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.questions = [q for part in sections for q in part.questions]
        self.typed = {}
        for question in self.questions:
            self.fields[question.key] = _field(question, portal=portal)

    @classmethod
    def initial_from(cls, answers: Mapping[str, Any]) -> dict[str, Any]:
        return dict(answers)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        keys = [q.key for q in self.questions]
        # What was typed is kept even where a required answer is missing: the draft saves it.
        self.typed = {key: data[key] for key in keys if key in data}
        for key, messages in validate(self.typed, complete=True, keys=keys).items():
            for message in messages:
                self.add_error(key, message)
        return data

    def rows(self) -> list[dict[str, Any]]:
        """Return each field with what the template needs: its question and when it shows."""
        rows = []
        for question in self.questions:
            rows.append(
                {
                    "field": self[question.key],
                    "question": question,
                    "when_key": question.when[0] if question.when else "",
                    "when_values": " ".join(question.when[1]) if question.when else "",
                }
            )
        return rows


DETAIL_FIELDS = (
    "preferred_name",
    "date_of_birth",
    "phone",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_phone",
)
REQUIRED_DETAILS = ("date_of_birth", "phone", "emergency_contact_name", "emergency_contact_phone")


class DetailsForm(forms.ModelForm):
    """The patient's own contact details and emergency contact, asked on the first page."""

    class Meta:
        model = Patient
        fields = DETAIL_FIELDS
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "emergency_contact_phone": forms.TextInput(attrs={"type": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "address_line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "address_line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "region": forms.TextInput(attrs={"autocomplete": "address-level1"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
        }
        labels = {
            "emergency_contact_name": _("Emergency contact's name"),
            "emergency_contact_phone": _("Emergency contact's phone"),
        }
        help_texts = {
            "preferred_name": _("What you like to be called, if not your first name."),
            "emergency_contact_name": _("Someone we can call if you feel unwell during a visit."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        needed = {
            "date_of_birth": _("Please give your date of birth."),
            "phone": _("Please give a phone number we can reach you on."),
            "emergency_contact_name": _("Please give the name of someone we can call."),
            "emergency_contact_phone": _("Please give your emergency contact's phone number."),
        }
        for name in REQUIRED_DETAILS:
            self.fields[name].required = True
            self.fields[name].error_messages["required"] = needed[name]
        self.fields["preferred_name"].required = False


def missing_details(patient: Patient) -> list[str]:
    """Return the labels of the required contact details the patient's record lacks."""
    labels = {
        "date_of_birth": _("Date of birth"),
        "phone": _("Phone"),
        "emergency_contact_name": _("Emergency contact"),
        "emergency_contact_phone": _("Emergency contact phone"),
    }
    return [str(labels[name]) for name in REQUIRED_DETAILS if not getattr(patient, name)]
