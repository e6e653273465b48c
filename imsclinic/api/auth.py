"""Bearer-token authentication for the API, backed by personal API tokens."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer

from imsclinic.accounts.models import User
from imsclinic.accounts.tokens import api_token_authenticate
from imsclinic.core.access import refuse


class ApiTokenAuth(HttpBearer):
    """Accept `Authorization: Bearer <personal API token>` and act as the token's holder.

    The API uses bearer tokens only, never the session cookie, so a browser tab that is
    signed in cannot be used against the API from another site. Because of that, the
    session middleware sees an anonymous user on API requests: the staff MFA requirement
    (which guards session sign-ins) does not apply to tokens, which the owner or the
    holder issued deliberately.
    """

    def __call__(self, request: HttpRequest) -> Any:
        # Our own header parsing: ninja's logs the whole header in DEBUG, and logs must
        # never hold a token.
        scheme, _, token = request.headers.get(self.header, "").partition(" ")
        token = token.strip()
        if scheme.lower() != self.openapi_scheme or not token:
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is None:
            return None
        # Permissions, selectors and the audit log all read request.user.
        request.user = user
        return user


def token_holder(request: HttpRequest) -> User:
    """Return the user whose token signed this request in (`TokenAuth` set `request.user`)."""
    user = request.user
    if not isinstance(user, User):  # an endpoint without auth=TokenAuth() asked
        raise HttpError(401, _("Sign in with an API token."))
    return user


def staff_caller(request: HttpRequest, *, asked_for: str) -> User:
    """Return the token's holder if they may read patient records; else 403, audited."""
    user = token_holder(request)
    if not user.has_perm("patients.list_patients"):
        raise refuse(
            request,
            object_type=asked_for,
            error=HttpError(403, _("Only clinic staff may read patient records through the API.")),
        )
    return user
