"""Validators shared by models, forms and the API."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Joiners that some scripts need inside a name (Persian, Indic): format characters, but text.
NAME_JOINERS = frozenset({"\u200c", "\u200d"})

SINGLE_LINE_MESSAGE = _(
    "Use letters, numbers, spaces and punctuation only: no line breaks, tabs or other "
    "control characters."
)


def has_control_characters(value: str) -> bool:
    """Say whether the text holds a control or format character (line break, tab, NUL...)."""
    return any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in NAME_JOINERS for ch in value)


@deconstructible
class SingleLineValidator:
    """Refuse line breaks, tabs, NUL and other control or format characters in one-line text.

    Names, phone numbers and addresses end up in emails, PDFs, CSV files and logs, where a
    hidden character can break a line or hide what is really there.
    """

    code = "control_characters"

    def __call__(self, value: object) -> None:
        if isinstance(value, str) and has_control_characters(value):
            raise ValidationError(SINGLE_LINE_MESSAGE, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SingleLineValidator)

    def __hash__(self) -> int:
        return hash(self.code)


validate_single_line = SingleLineValidator()
