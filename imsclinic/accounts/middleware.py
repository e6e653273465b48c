"""Session rules: idle time-outs for everyone; for staff, MFA first and an absolute time-out."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

SESSION_STARTED = "imsclinic_session_started"
SESSION_LAST_SEEN = "imsclinic_last_seen"
# Set when this very session set up the staff member's authenticator (proving the code
# as it did); a sign-in with a code is recorded by allauth itself.
SESSION_MFA_PROVEN = "imsclinic_mfa_proven"

# Paths a staff member without MFA may still reach: setting MFA up and saving the recovery
# codes (all under /accounts/2fa/), confirming their password again when allauth asks for
# it before activation, their email address (allauth wants it verified first), signing out
# and static files.
MFA_SETUP_PATHS = (
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
    "/accounts/email/",
    "/accounts/confirm-email/",
    "/accounts/logout/",
    "/static/",
)


# The idle clock is moved on at most once a minute, so that each page opened does not also
# write the session row (three statements on PostgreSQL). The clock can only lag, so an
# idle session ends up to a minute early, never late: against the staff's 15 minutes and
# the patients' 30, a minute is nothing.
LAST_SEEN_RESOLUTION = 60


def user_has_mfa(user: object) -> bool:
    """Say whether the user has an active TOTP authenticator."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect the whole page, also when htmx asked for only a piece of it."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def mark_session_start(request: HttpRequest) -> None:
    """Start the idle and absolute clocks of a freshly signed-in session."""
    now = time.time()
    request.session[SESSION_STARTED] = now
    request.session[SESSION_LAST_SEEN] = now


class SessionTimeoutMiddleware:
    """End a session left idle too long, and a staff session once its lifetime is spent.

    Staff are held to `STAFF_IDLE_TIMEOUT_MINUTES` and `STAFF_SESSION_MAX_HOURS`; patients
    to `PATIENT_IDLE_TIMEOUT_MINUTES` (their portal shows their own health information).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = time.time()
            started = request.session.setdefault(SESSION_STARTED, now)
            last_seen = request.session.get(SESSION_LAST_SEEN, now)
            staff = user.is_clinic_staff  # type: ignore[union-attr]
            if staff:
                idle_limit = settings.STAFF_IDLE_TIMEOUT_MINUTES * 60
                timed_out = (
                    now - last_seen > idle_limit
                    or now - started > settings.STAFF_SESSION_MAX_HOURS * 3600
                )
            else:
                timed_out = now - last_seen > settings.PATIENT_IDLE_TIMEOUT_MINUTES * 60
            if timed_out:
                logout(request)
                messages.info(request, _("For privacy you were signed out. Please sign in again."))
                login_url = reverse("account_login")
                if request.method == "GET":
                    login_url += "?" + urlencode({"next": request.get_full_path()})
                return _redirect(request, login_url)
            if now - last_seen >= LAST_SEEN_RESOLUTION:
                request.session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


def session_proved_mfa(request: HttpRequest) -> bool:
    """Say whether this session was signed in (or set up) with a second factor."""
    from allauth.account.authentication import get_authentication_records

    if request.session.get(SESSION_MFA_PROVEN):
        return True
    records = get_authentication_records(request, request.user)  # type: ignore[arg-type]
    return any(record.get("method") == "mfa" for record in records)


class StaffMFARequiredMiddleware:
    """Hold staff to two-factor authentication.

    Staff without an authenticator are sent to set one up before anything else. Staff
    with one whose session did not prove it (a sign-in that skipped allauth's second
    step, by whatever route) are signed out and asked to sign in again.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_clinic_staff):  # type: ignore[union-attr]
            return self.get_response(request)
        exempt = request.path.startswith(MFA_SETUP_PATHS)
        has_mfa = user_has_mfa(user)
        if not has_mfa and not exempt:
            if request.path.startswith("/api/"):
                return HttpResponse(status=403)
            return _redirect(request, reverse("mfa_activate_totp"))
        if has_mfa and not exempt and not session_proved_mfa(request):
            logout(request)
            messages.info(request, _("Please sign in with your password and authenticator code."))
            return _redirect(request, reverse("account_login"))
        response = self.get_response(request)
        if not has_mfa and request.method == "POST" and user_has_mfa(user):
            # This session just set up the authenticator, entering a valid code to do so.
            request.session[SESSION_MFA_PROVEN] = True
        return response
