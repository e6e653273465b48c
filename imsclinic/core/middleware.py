"""Response headers that keep health information out of caches; calm answers to a busy database;
and the page-only middleware an API request with a bearer token goes straight past."""

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.common import CommonMiddleware
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django_htmx.middleware import HtmxMiddleware

from imsclinic.core.locking import RETRY_AFTER_SECONDS, busy_message, transient_kind

logger = logging.getLogger(__name__)

API_PATH = "/api/"


def answered_by_token(request: HttpRequest) -> bool:
    """Say whether this is an API request that carries a bearer token.

    Its token alone says who is asking (`api.auth.ApiTokenAuth`): the session, the messages
    and the other page machinery have nothing to do with it, and skipping them keeps a
    booking through the API lean. An API request without a token still goes through them
    all, so a browser's session is seen, and refused, as before.
    """
    return request.path_info.startswith(API_PATH) and request.META.get(
        "HTTP_AUTHORIZATION", ""
    ).startswith("Bearer ")


class _PagesOnly:
    """Mixed into a middleware that only pages need: a bearer-token API request goes past it."""

    def __call__(self, request: HttpRequest) -> Any:
        if answered_by_token(request):
            return self.get_response(request)  # type: ignore[attr-defined]
        return super().__call__(request)  # type: ignore[misc]


class PageSessionMiddleware(_PagesOnly, SessionMiddleware):
    """Django's sessions, for pages and for API requests without a token."""


class PageAuthenticationMiddleware(_PagesOnly, AuthenticationMiddleware):
    """The session's user; a token request is anonymous until its token is checked."""

    def __call__(self, request: HttpRequest) -> Any:
        if answered_by_token(request):
            request.user = AnonymousUser()
            return self.get_response(request)
        return super().__call__(request)


class PageMessageMiddleware(_PagesOnly, MessageMiddleware):
    """One-off messages shown on the next page."""


class PageCommonMiddleware(_PagesOnly, CommonMiddleware):
    """Django's common URL handling (the added slash)."""


class PageHtmxMiddleware(_PagesOnly, HtmxMiddleware):
    """`request.htmx` for pages that answer htmx requests."""


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
