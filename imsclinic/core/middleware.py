"""Response headers that keep health information out of caches; calm answers to a busy database."""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers, patch_cache_control

from imsclinic.core.locking import RETRY_AFTER_SECONDS, busy_message, transient_kind

logger = logging.getLogger(__name__)


class NoStoreForHealthInformationMiddleware:
    """Forbid caching of every page served to a signed-in user, and of the API.

    Pages for signed-in people are where health information lives; marking them all
    `no-store` means no view can forget to.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path.startswith("/api/"):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response


class TransientDatabaseErrorMiddleware:
    """Answer 503 with Retry-After, not 500, when the database gave up on a request for now.

    A deadlock PostgreSQL broke, a serialization failure or a lock timeout
    (`core.locking.is_transient`) that the services' own retry did not absorb ends here: a
    calm page, or `{"detail": ...}` under /api/ (the API's own handler answers first). The
    transaction that failed has rolled back by then, with its audit rows and queued emails.
    Last in MIDDLEWARE, so that it sees the view's exception first and every other middleware
    still sees its response.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        kind = transient_kind(exception)
        if kind is None:
            return None
        logger.warning("%s %s: %s, answered 503", request.method, _route(request), kind)
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": busy_message()}, status=503)
        else:
            response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def _route(request: HttpRequest) -> str:
    """Name the URL pattern, not the path: paths carry record ids."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else "?"
