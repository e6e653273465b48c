"""Refusals the safety rules add to booking and to starting treatment."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from imsclinic.core.errors import BookingError, Refused


class OnlineImsBookingStopped(BookingError):
    """The patient's health answers mean a practitioner must speak with them before IMS."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class NeedlingNotAllowed(BookingError):
    """Needling may not start: something it needs is missing (listed in `missing`)."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        super().__init__(
            _("IMS cannot start yet. Missing: %(missing)s")
            % {"missing": " ".join(f"({n}) {item}" for n, item in enumerate(self.missing, 1))}
        )


class ClearanceRefused(Refused):
    """A clearance decision that cannot be recorded as given."""


class AdverseEventRefused(Refused):
    """An adverse event record or acknowledgement that cannot be made as given."""
