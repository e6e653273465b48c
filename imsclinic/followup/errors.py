"""Refusals of the follow-up services; str() is for the user."""

from __future__ import annotations

from imsclinic.core.errors import Refused


class CheckInRefused(Refused):
    """A check-in answer or alert action that cannot be taken as given."""
