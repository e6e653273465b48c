"""The error summary links each error to the control that takes focus."""

from __future__ import annotations

from django import forms

from imsclinic.core.form_errors import error_summary


class EveryKindOfField(forms.Form):
    name = forms.CharField(label="Name")
    story = forms.CharField(label="Story", widget=forms.Textarea)
    side = forms.ChoiceField(
        label="Side", choices=[("left", "Left"), ("right", "Right")], widget=forms.RadioSelect
    )
    areas = forms.MultipleChoiceField(
        label="Areas",
        choices=[("neck", "Neck"), ("back", "Back")],
        widget=forms.CheckboxSelectMultiple,
    )
    days = forms.MultipleChoiceField(label="Days", choices=[("mon", "Monday"), ("tue", "Tuesday")])

    def clean(self) -> dict[str, object]:
        raise forms.ValidationError("Something about the whole form.")


def test_each_error_links_to_the_control_that_takes_focus_in_field_order() -> None:
    form = EveryKindOfField(data={})
    assert not form.is_valid()
    assert [(item["target"], item["label"]) for item in error_summary(form)] == [
        ("", ""),  # the form's own error: no field to link to
        ("id_name", "Name"),
        ("id_story", "Story"),
        ("id_side_0", "Side"),  # radios and checkboxes: the first of the group
        ("id_areas_0", "Areas"),
        ("id_days", "Days"),  # one <select multiple>: the select itself
    ]


def test_an_unbound_or_missing_form_has_nothing_to_summarise() -> None:
    assert error_summary(EveryKindOfField(), None) == []
