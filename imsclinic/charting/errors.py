"""Refusals of the charting services; str() of each is a sentence for the user."""

from __future__ import annotations

from django.utils.translation import gettext as _

from imsclinic.core.errors import Refused


class ChartingError(Refused):
    """A note that cannot be saved or signed as given.

    `errors` maps a field of the note to its message; a field of a numbered row is named
    with the row's 0-based index in the order the rows were given: "rows.2.muscle" (a
    needling row), "signs.0.sign" (a sign row of an assessment).
    `core.form_errors.row_refusals` splits those off for the pages' row forms. Errors may
    be empty when the message is about the note as a whole.
    """


class SignedNoteLocked(ChartingError):
    """A signed note (or a part of one) was about to be changed or deleted."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or _("This note is signed: it cannot be changed. Add an addendum instead.")
        )


class CredentialNotCurrent(ChartingError):
    """A licence needling needs (registration, IMS certificate, authorisation) is not current
    on the day of the visit at its location; the message names each one."""


class AssessmentNotOnFile(ChartingError):
    """The first needling of a course has no current signed assessment and no reason why."""

    def __init__(self, months: int) -> None:
        message = no_assessment_message(months)
        super().__init__(message, errors={"reason_no_assessment": message})
        self.months = months


def no_assessment_message(months: int) -> str:
    """Say that the first needling of a course needs a current assessment or a reason."""
    return _(
        "No signed assessment in the last %(months)d months: sign one before the first "
        "needling, or record why."
    ) % {"months": months}
