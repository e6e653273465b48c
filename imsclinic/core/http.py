"""The request a signed-in page receives, typed so that `request.user` is a `User`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from imsclinic.accounts.models import User


class SignedInRequest(HttpRequest):
    """A request behind `login_required` (or the API's sign-in): its user is never anonymous.

    Annotate a view's request with it instead of casting `request.user`; it changes nothing
    at run time.
    """

    user: User  # type: ignore[assignment]
