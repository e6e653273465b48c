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
    refusal_to_forms(refusal, (form, field_map))


def refusal_to_forms(refusal: Refused, *targets: tuple[forms.BaseForm, FieldMap | None]) -> None:
    """Put each message beside its field on the first of the (form, field_map) pairs that has it.

    For a page whose one change is entered on several forms. A message whose field no form
    has, or a refusal that names no field, goes to the top of the first form.
    """
    first = targets[0][0]
    for key, message in refusal.errors.items():
        for form, field_map in targets:
            name = _mapped(key, field_map)
            if name is not None and name in form.fields:
                form.add_error(name, message)
                break
        else:
            first.add_error(None, message)
    if not refusal.errors:
        first.add_error(None, refusal.message)


def _mapped(key: str, field_map: FieldMap | None) -> str | None:
    if field_map is None:
        return key
    if callable(field_map):
        return field_map(key)
    return field_map.get(key, key)


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
