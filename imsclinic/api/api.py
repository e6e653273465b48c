"""The JSON API under /api/v1/: personal bearer tokens, OpenAPI at /api/v1/openapi.json.

The interactive docs page ninja offers (/docs) loads Swagger UI from a CDN with an inline
script, which our Content-Security-Policy forbids, so it is switched off; docs/API.md
explains authentication and the endpoints, and the OpenAPI document serves any client.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from imsclinic.api import billing, charting, intake, outcomes, patients, safety, scheduling
from imsclinic.api.auth import ApiTokenAuth
from imsclinic.core.locking import RETRY_AFTER_SECONDS, busy_message, is_transient

DESCRIPTION = """\
The clinic's JSON API. Every call needs a personal API token, sent as
`Authorization: Bearer <token>`. Staff create tokens on their account's API tokens page,
or the owner runs `python manage.py issue_api_token EMAIL`. A token acts with its
holder's permissions: the same people see the same records as in the web pages, and every
read of patient information is written to the audit log. Responses are never cached.
"""

api = NinjaAPI(
    title="imsclinic API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=ApiTokenAuth(),
    docs_url=None,
)
api.add_router("/patients", patients.router)
api.add_router("/patients", safety.router)
api.add_router("/patients", intake.router)
api.add_router("", scheduling.router)
api.add_router("", charting.router)
api.add_router("/patients", outcomes.router)
api.add_router("", billing.router)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """Answer 401 and name the scheme the client should use (RFC 6750)."""
    response = api.create_response(
        request, {"detail": _("Send a valid API token: Authorization: Bearer <token>.")}, status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="imsclinic"'
    return response


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    """Answer 404 with one fixed body, so a hidden record and a missing one look alike."""
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    """Answer 403 as JSON rather than Django's HTML page."""
    return api.create_response(
        request, {"detail": _("You may not do this with this token.")}, status=403
    )


@api.exception_handler(RequestDataTooBig)
def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    """Answer 413 as JSON when the body is over DATA_UPLOAD_MAX_MEMORY_SIZE."""
    limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE).replace("\xa0", " ")
    return api.create_response(
        request,
        {"detail": _("The request body is too large: send at most %(limit)s.") % {"limit": limit}},
        status=413,
    )


@api.exception_handler(OperationalError)
def busy(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    """Answer 503 with Retry-After when the database gave up for now; other failures stay 500."""
    if not is_transient(exc):
        raise exc
    response = api.create_response(request, {"detail": busy_message()}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
