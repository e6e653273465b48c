"""Parse values people can type into a URL's query string without crashing on them."""

from __future__ import annotations

ID_DIGITS_MAX = 9


def id_param(value: str | None) -> int | None:
    """Return a query-string id as an int, or None unless it is 1 to 9 ASCII digits."""
    if not value or not (value.isascii() and value.isdigit() and len(value) <= ID_DIGITS_MAX):
        return None
    return int(value)
