"""Refusals of the follow-up services; str() is for the user."""

from __future__ import annotations


class CheckInRefused(Exception):
    """A check-in answer or alert action that cannot be taken as given."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
