"""The form of a physiotherapy note: its five parts, each with the model's limit."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy

from imsclinic.charting.models import PHYSIO_TEXT_MAX_LENGTH, PhysioNote


def _part(name: str, rows: int = 4) -> forms.CharField:
    field = cast("models.Field[Any, Any]", PhysioNote._meta.get_field(name))
    return forms.CharField(
        label=str(field.verbose_name).capitalize(),
        help_text=field.help_text,
        required=False,
        max_length=PHYSIO_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"max_length": gettext_lazy("Keep this under %(limit_value)d characters.")},
    )


class PhysioNoteForm(forms.Form):
    """Subjective, objective, assessment, plan and the treatment given; all may wait to sign."""

    subjective = _part("subjective")
    objective = _part("objective")
    assessment = _part("assessment", rows=3)
    treatment_given = _part("treatment_given")
    plan = _part("plan", rows=3)
