"""The error summary at the top of a form page: every error, each linking to its field."""

from __future__ import annotations

from typing import Any

from django import forms


def error_target(form: Any, name: str) -> str:
    """Return the id of the field's first control, which the summary's link moves focus to."""
    bound = form[name]
    if isinstance(bound.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{bound.auto_id}_0"  # a group of radios or checkboxes: its first one
    return str(bound.auto_id)  # one control: an input, a text area or a select (multiple too)


def error_summary(*forms: Any) -> list[dict[str, str]]:
    """Return the errors of these bound forms as (target, label, message), in field order.

    For `core/_error_summary.html`; errors that belong to no field come first, without a link.
    """
    items: list[dict[str, str]] = []
    for form in forms:
        if form is None or not form.is_bound:
            continue
        for message in form.non_field_errors():
            items.append({"target": "", "label": "", "message": message})
        for name in form.fields:
            for message in form.errors.get(name, []):
                items.append(
                    {
                        "target": error_target(form, name),
                        "label": str(form[name].label),
                        "message": message,
                    }
                )
    return items
