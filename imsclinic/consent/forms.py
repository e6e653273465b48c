"""Forms for writing consent texts and for signing them."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from imsclinic.consent.models import (
    GUARDIAN_RELATIONSHIP_MAX,
    SIGNER_NAME_MAX,
    TITLE_MAX,
    WITHDRAWAL_REASON_MAX,
    Signer,
)


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=50,
        help_text=_("Letters, numbers and hyphens, e.g. needling-consent."),
    )
    for_needling = forms.BooleanField(
        label=_("This is the consent to needling"),
        required=False,
        help_text=_("Patients must sign its latest version before they can be needled."),
    )


class DraftForm(forms.Form):
    title = forms.CharField(label=_("Title patients see"), max_length=TITLE_MAX)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 24}),
        help_text=_(
            "Plain text. Leave a blank line between paragraphs. A paragraph of lines "
            'starting with "- " becomes a list; a line starting with "## " a heading.'
        ),
    )


class PublishForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that patients who signed an earlier version must sign again."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class SignForm(forms.Form):
    """The signing form; the guardian fields appear only when someone else may sign."""

    version_id = forms.IntegerField(widget=forms.HiddenInput)
    signer = forms.ChoiceField(
        label=_("Who is signing?"),
        choices=Signer.choices,
        widget=forms.RadioSelect,
        initial=Signer.SELF,
        required=False,
    )
    signer_name = forms.CharField(
        label=_("Your full name"),
        max_length=SIGNER_NAME_MAX,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    guardian_relationship = forms.CharField(
        label=_("Your relationship to the patient"),
        max_length=GUARDIAN_RELATIONSHIP_MAX,
        required=False,
        help_text=_("For example: mother, father, legal guardian."),
    )
    agreed = forms.BooleanField(label=_("I have read this text and I agree to it."), required=False)
    drawn_signature = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, guardian: str = "none", **kwargs: Any) -> None:
        """guardian: "none" (an adult signs), "required" (a minor), "optional" (the tablet)."""
        super().__init__(*args, **kwargs)
        self.guardian = guardian
        if guardian == "none":
            del self.fields["signer"]
            del self.fields["guardian_relationship"]
        elif guardian == "required":
            del self.fields["signer"]
            self.fields["signer_name"].label = _("Your full name (parent or guardian)")
        else:
            cast(forms.ChoiceField, self.fields["signer"]).choices = [
                (Signer.SELF, _("The patient")),
                (Signer.GUARDIAN, _("A substitute decision-maker for the patient")),
            ]
            self.fields["guardian_relationship"].label = _(
                "Relationship to the patient (substitute decision-maker only)"
            )
            self.fields["guardian_relationship"].help_text = _(
                "For example: spouse, power of attorney for personal care."
            )

    def chosen_signer(self) -> str:
        if self.guardian == "required":
            return Signer.GUARDIAN
        if self.guardian == "none":
            return Signer.SELF
        return self.cleaned_data.get("signer") or Signer.SELF


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=WITHDRAWAL_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("You do not have to give a reason."),
    )
