"""Errors on forms: the summary links each error to its control; refusals go beside fields."""

from __future__ import annotations

from django import forms

from imsclinic.core.errors import Refused
from imsclinic.core.form_errors import error_summary, refusal_to_form


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


class VisitForm(forms.Form):
    reason = forms.CharField(label="Reason")
    item_4 = forms.IntegerField(label="Item 4")


def _bound() -> VisitForm:
    form = VisitForm(data={"reason": "Sore neck", "item_4": "3"})
    assert form.is_valid()
    return form


def test_a_refusal_about_one_field_shows_beside_it() -> None:
    form = _bound()
    refusal_to_form(form, Refused("Keep the reason short.", field="reason"))
    assert form.errors == {"reason": ["Keep the reason short."]}
    assert form.non_field_errors() == []


def test_a_refusal_about_the_whole_change_shows_at_the_top() -> None:
    form = _bound()
    refusal_to_form(form, Refused("This lot was already recalled."))
    assert form.non_field_errors() == ["This lot was already recalled."]
    assert "reason" not in form.errors


def test_fields_the_form_lacks_show_at_the_top_and_renamed_ones_beside_their_field() -> None:
    form = _bound()
    refusal = Refused(
        "Correct the marked answers.",
        errors={"answers.3": "Choose 0 to 5.", "instrument": "No such questionnaire."},
    )
    refusal_to_form(form, refusal, field_map={"answers.3": "item_4"})
    assert form.errors["item_4"] == ["Choose 0 to 5."]
    assert form.non_field_errors() == ["No such questionnaire."]
    assert str(refusal) == "Correct the marked answers."
