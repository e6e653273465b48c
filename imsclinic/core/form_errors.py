"""Errors on forms: a service's refusal put on its form, and the summary at the top of a page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django import forms

from imsclinic.core.errors import Refused

FieldMap = Mapping[str, str | None] | Callable[[str], str | None]


def refusal_to_form(
    form: forms.BaseForm, refusal: Refused, *, field_map: FieldMap | None = None
) -> None:
    """Put each of the refusal's messages beside its field, or at the top if the form has none.

    `field_map` renames the service's field names to the form's (a mapping, or a function of
    the name); a name mapped to None goes to the top. A refusal that names no field puts its
    message at the top.
    """
    for key, message in refusal.errors.items():
        if field_map is None:
            name: str | None = key
        elif callable(field_map):
            name = field_map(key)
        else:
            name = field_map.get(key, key)
        form.add_error(name if name in form.fields else None, message)
    if not refusal.errors:
        form.add_error(None, refusal.message)


def row_refusals(refusal: Refused, name: str) -> dict[int, Refused]:
    """Return the refusal's messages about the numbered rows called `name`, by row index.

    {"rows.2.muscle": m} becomes {2: Refused(errors={"muscle": m})}, which
    `refusal_to_form` puts on that row's form.
    """
    found: dict[int, dict[str, str]] = {}
    for key, message in refusal.errors.items():
        head, _dot, rest = key.partition(".")
        index, _dot, field = rest.partition(".")
        if head == name and index.isdigit() and field:
            found.setdefault(int(index), {})[field] = message
    return {index: Refused(errors=errors) for index, errors in found.items()}


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
