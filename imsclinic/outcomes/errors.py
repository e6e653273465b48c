"""Refusals of the outcomes services; str() of each is a sentence for the user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from imsclinic.core.errors import Refused


class OutcomeRefused(Refused):
    """A result or plan that cannot be recorded as given.

    `errors` maps a field name ("answers", "answers.3" for the fourth item, "instrument",
    "psfs_activities" ...) to its message.
    """

    def __init__(
        self, message: str | None = None, *, errors: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message or _("Correct the marked answers."), errors=errors)


class OutcomeDuplicate(OutcomeRefused):
    """The questionnaire is already recorded for this visit (or, on paper, for this day).

    `earlier` is the result that stands; str() says which it is and what to do.
    """

    def __init__(self, message: str, *, earlier: Any) -> None:
        super().__init__(message)
        self.earlier = earlier


class WordingInvalid(Refused):
    """A questionnaire's wording file that does not fit the instrument's structure."""
